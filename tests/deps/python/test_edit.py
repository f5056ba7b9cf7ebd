from __future__ import annotations

import dataclasses

import pytest

from bot.deps.model import Dependency
from bot.deps.python import ManifestEditError, apply_edits, parse_python_manifest
from bot.errors import DepupError

from .helpers import by_name


def deps(path: str, text: str) -> dict[str, Dependency]:
    return by_name(parse_python_manifest(path, text))


def test_requirements_edit_changes_only_the_token() -> None:
    text = "# pinned\nflask==1.1.2  # web\nrequests[socks] >= 2.0 ; python_version > '3'\nclick\n"
    d = deps("requirements.txt", text)
    out = apply_edits(text, [(d["flask"], "==3.1.3"), (d["requests"], ">= 2.31"), (d["click"], ">=8")])
    assert out == "# pinned\nflask==3.1.3  # web\nrequests[socks] >= 2.31 ; python_version > '3'\nclick>=8\n"


def test_no_edits_returns_identical_text() -> None:
    text = "a==1\r\nb>=2\n"
    assert apply_edits(text, []) == text


def test_pyproject_edit_keeps_quotes_comments_and_spacing() -> None:
    text = (
        "[project]\n"
        "dependencies = [\n"
        "    'flask>=1.1,<2.0',  # keep me\n"
        "    \"httpx[http2] (==0.18.2) ; python_version >= '3.8'\",\n"
        '    "rich",\n'
        "]\n"
        "[tool.poetry.dependencies]\n"
        'table = { version = "^1.2", extras = ["x"] }  # inline\n'
    )
    d = deps("pyproject.toml", text)
    out = apply_edits(
        text, [(d["flask"], ">=1.1,<4"), (d["httpx"], "==0.28.1"), (d["rich"], ">=13"), (d["table"], "^2.0")]
    )
    assert out == text.replace(">=1.1,<2.0", ">=1.1,<4").replace("==0.18.2", "==0.28.1").replace(
        '"rich"', '"rich>=13"'
    ).replace('"^1.2"', '"^2.0"')


def test_setup_cfg_edit() -> None:
    text = "[options]\ninstall_requires =\n    requests >= 2.0\n    attrs\n"
    d = deps("setup.cfg", text)
    assert apply_edits(text, [(d["requests"], ">= 2.31"), (d["attrs"], ">=23")]) == (
        "[options]\ninstall_requires =\n    requests >= 2.31\n    attrs>=23\n"
    )


def test_refuses_when_the_file_changed_since_parsing() -> None:
    text = "flask==1.1.2\n"
    dep = deps("requirements.txt", text)["flask"]
    with pytest.raises(ManifestEditError, match="changed since it was parsed") as info:
        apply_edits("flask==1.1.3\n", [(dep, "==3.0")])
    assert isinstance(info.value, DepupError) and isinstance(info.value, ValueError)


def test_refuses_overlapping_or_duplicate_edits() -> None:
    text = "flask==1.1.2\n"
    dep = deps("requirements.txt", text)["flask"]
    with pytest.raises(ManifestEditError, match="overlap"):
        apply_edits(text, [(dep, "==2"), (dep, "==3")])
    wider = dataclasses.replace(dep, location=dataclasses.replace(dep.location, start=0), constraint="flask==1.1.2")
    with pytest.raises(ManifestEditError):
        apply_edits(text, [(dep, "==2"), (wider, "x==1")])


def test_refuses_skipped_entries_and_mixed_files() -> None:
    text = "-e git+https://g.invalid/x.git#egg=x\ny==1\n"
    d = deps("requirements.txt", text)
    with pytest.raises(ManifestEditError, match="kept untouched"):
        apply_edits(text, [(d["x"], "==2")])
    other = dataclasses.replace(d["y"], location=dataclasses.replace(d["y"].location, file="other.txt"))
    with pytest.raises(ManifestEditError, match="several files"):
        apply_edits(text, [(d["y"], "==2"), (other, "==3")])


def test_refuses_an_edit_that_does_not_read_back() -> None:
    text = "flask==1.0\n"
    dep = deps("requirements.txt", text)["flask"]
    with pytest.raises(ManifestEditError, match="read back"):
        apply_edits(text, [(dep, "==2 ; bad marker")])
    with pytest.raises(ManifestEditError, match="reads back"):
        apply_edits(text, [(dep, "==2 ; python_version > '3'")])
    with pytest.raises(ManifestEditError, match="spans lines"):
        apply_edits(text, [(dep, "==2\nother")])


def test_refuses_toml_edits_that_break_the_string() -> None:
    text = '[project]\ndependencies = ["flask==1.0"]\n'
    dep = deps("pyproject.toml", text)["flask"]
    with pytest.raises(ManifestEditError):
        apply_edits(text, [(dep, '==2", "evil==1')])
