"""setup.py read from its syntax tree (never run): literals, module-level names, what cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.deps.model import Role
from bot.deps.python import apply_edits, parse_python_manifest
from bot.deps.python.errors import ManifestEditError
from bot.deps.python.setuppy import read_setup_py
from bot.deps.scan import scan

from .helpers import MANIFESTS, by_name, summary

SETUP_PY = MANIFESTS / "setup.py"


def real(name: str) -> str:
    return (SETUP_PY / name).read_text(encoding="utf-8")


def test_requests_lists_through_module_level_names_and_extras_with_markers() -> None:
    read = read_setup_py("setup.py", real("psf__requests__setup.py"))
    manifest = read.manifest
    assert read.unread == () and manifest.problems == ()
    assert manifest.requires_python == ">=2.6, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*"
    assert summary(manifest)[:4] == [
        ("chardet", ">=3.0.2,<3.1.0", "runtime", None, (), None, None),
        ("idna", ">=2.5,<2.7", "runtime", None, (), None, None),
        ("urllib3", ">=1.21.1,<1.23", "runtime", None, (), None, None),
        ("certifi", ">=2017.4.17", "runtime", None, (), None, None),
    ]
    tests = [d for d in manifest.dependencies if d.location.section == "tests_require"]
    assert [(d.name, d.role) for d in tests][:2] == [("pytest-httpbin", Role.DEV), ("pytest-cov", Role.DEV)]
    extras = [(d.name, d.group, d.marker) for d in manifest.dependencies if d.location.section == "extras_require"]
    assert extras == [
        ("pyOpenSSL", "security", None),
        ("cryptography", "security", None),
        ("idna", "security", None),
        ("PySocks", "socks", None),
        ("win_inet_pton", "socks", 'sys_platform == "win32" and (python_version == "2.7" or python_version == "2.6")'),
    ]
    chardet = by_name(manifest)["chardet"]
    assert (chardet.location.line, chardet.location.column) == (46, 6)


def test_celery_calls_are_reported_with_their_place_and_nothing_is_guessed() -> None:
    read = read_setup_py("setup.py", real("celery__celery__setup.py"))
    assert read.manifest.dependencies == ()
    assert read.manifest.project_name == "celery"  # NAME = 'celery', a literal assigned once
    assert [(p.line, p.column) for p in read.manifest.problems] == [(165, 22), (166, 19), (167, 20)]
    assert read.unread == (
        "install_requires: install_requires is a call to reqs()",
        "tests_require: a call to reqs()",
        "extras_require: a call to dict()",
    )


def test_click_markers_without_constraints() -> None:
    manifest = parse_python_manifest("setup.py", real("pallets__click__setup.py"))
    assert summary(manifest) == [
        ("colorama", "", "runtime", None, (), "platform_system == 'Windows'", None),
        ("importlib-metadata", "", "runtime", None, (), "python_version < '3.8'", None),
    ]


def test_literal_parts_are_read_when_others_are_not() -> None:
    text = (
        "import setuptools\n"
        "base = ['attrs>=20', 'click']\n"
        "extra = ['rich']\n"
        "extra.append('typer')\n"
        "def reqs(name):\n    return open(name).read().splitlines()\n"
        "setuptools.setup(\n"
        "    name='demo',\n"
        "    install_requires=base,\n"
        '    setup_requires=["setuptools_scm>=6"],\n'
        "    extras_require={'cli': extra, 'docs': reqs('docs.txt'), 'all': ['demo[cli]', f'x=={1}', r'six~=1.16']},\n"
        "    python_requires='>=3.8',\n"
        ")\n"
    )
    read = read_setup_py("setup.py", text)
    assert summary(read.manifest) == [
        ("attrs", ">=20", "runtime", None, (), None, None),
        ("click", "", "runtime", None, (), None, None),
        ("setuptools_scm", ">=6", "build", None, (), None, None),
        ("demo", "", "optional", "all", ("cli",), None, "self"),
        ("six", "~=1.16", "optional", "all", (), None, None),
    ]
    assert read.unread == (
        "extras_require['cli']: extra is changed on line 4",
        "extras_require['docs']: a call to reqs()",
        "an entry of extras_require['all']: an f-string",
    )
    assert [(p.line, p.message.split(" (")[0]) for p in read.manifest.problems] == [
        (11, "extras_require['cli'] is not a literal"),
        (11, "extras_require['docs'] is not a literal"),
        (11, "an entry of extras_require['all'] is not a literal"),
    ]
    assert read.manifest.requires_python == ">=3.8"


def test_edit_replaces_the_constraint_inside_the_quotes_only() -> None:
    text = real("psf__requests__setup.py")
    manifest = parse_python_manifest("setup.py", text)
    idna = next(d for d in manifest.dependencies if d.name == "idna" and d.role is Role.RUNTIME)
    certifi = by_name(manifest)["certifi"]
    out = apply_edits(text, [(idna, ">=2.5,<4"), (certifi, ">=2024.2.2")])
    assert out == text.replace("'idna>=2.5,<2.7'", "'idna>=2.5,<4'").replace(
        "'certifi>=2017.4.17'", "'certifi>=2024.2.2'"
    )
    bare = by_name(parse_python_manifest("setup.py", out))["pytest-cov"]
    assert apply_edits(out, [(bare, ">=5")]).count("'pytest-cov>=5'") == 1


def test_a_string_with_escapes_or_concatenation_is_read_but_not_edited() -> None:
    text = "from setuptools import setup\nsetup(install_requires=['a' 'lpha>=1', \"beta\\x3e=2\", 'gamma>=3'])\n"
    manifest = parse_python_manifest("setup.py", text)
    assert [(d.name, d.constraint, d.skip_reason) for d in manifest.dependencies] == [
        ("alpha", ">=1", "unusual-string"),
        ("beta", ">=2", "unusual-string"),
        ("gamma", ">=3", None),
    ]
    with pytest.raises(ManifestEditError):
        apply_edits(text, [(manifest.dependencies[0], ">=2")])


@pytest.mark.parametrize(
    ("text", "where"),
    [("from setuptools import setup\nsetup(install_requires=['a',\n", (2, 6)), ("setup(\x00)", (1, 1))],
)
def test_a_setup_py_that_does_not_parse_is_one_problem(text: str, where: tuple[int, int]) -> None:
    read = read_setup_py("setup.py", text)
    assert read.manifest.dependencies == ()
    assert len(read.manifest.problems) == 1 and read.unread
    assert (read.manifest.problems[0].line, read.manifest.problems[0].column)[0] == where[0]


def test_scan_lists_what_setup_py_could_not_give_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text(real("celery__celery__setup.py"), encoding="utf-8")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "setup.py").write_text("setup(install_requires=[\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("flask==3.0.0\n", encoding="utf-8")
    found = scan(tmp_path)
    assert {m.path for m in found.manifests} == {"setup.py", "broken/setup.py", "requirements.txt"}
    unread = {u.path: u.reason for u in found.unread}
    assert unread["setup.py"].startswith("not read statically: install_requires: install_requires is a call")
    assert unread["broken/setup.py"].startswith("not read statically: not valid Python (line 1)")
    broken = next(m for m in found.manifests if m.path == "broken/setup.py")
    assert broken.problems[0].line == 1
    assert [d.locked or d.constraint for d in found.dependencies] == ["==3.0.0"]
