from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from bot.cli import main
from tests.support.registry_server import RegistryServer

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text())
SAMPLES = ROOT / "tests" / "fixtures" / "peers" / "samples"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLES, tmp_path / "repo")
    (tmp_path / "repo" / "broken").mkdir()
    (tmp_path / "repo" / "broken" / "requirements.txt").write_text(
        "flask[>=1\n-e ./local#egg=mylocal\nno-such-package-xyz==1\n"
    )
    return tmp_path / "repo"


def test_json_output_follows_the_documented_schema(
    checkout: Path, registry_server: RegistryServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["plan", str(checkout), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    jsonschema.validate(out, SCHEMA)
    assert out["schema"] == "depup.plan/1"
    assert [m["path"] for m in out["manifests"]] == [
        "broken/requirements.txt",
        "js-app/package.json",
        "py-pyproject/pyproject.toml",
        "py-req/requirements.txt",
    ]
    deps = {(d["file"], d["name"]): d for d in out["dependencies"]}
    flask = deps[("py-req/requirements.txt", "flask")]
    assert [(u["version"], u["constraint"], u["update_type"], u["major"]) for u in flask["updates"]] == [
        ("1.1.4", "==1.1.4", "patch", False),
        ("3.1.3", "==3.1.3", "major", True),
    ]
    missing = deps[("broken/requirements.txt", "no-such-package-xyz")]
    assert missing["updates"] == [] and missing["reason"].startswith("lookup failed (not_found)")
    broken = next(m for m in out["manifests"] if m["path"] == "broken/requirements.txt")
    assert [p["line"] for p in broken["problems"]] == [1]  # the malformed line, reported, not fatal
    # One registry request per distinct package, however many manifests use it.
    packages = {
        (d["ecosystem"], d["package"]) for d in out["dependencies"] if not d["reason"] or "skipped" not in d["reason"]
    }
    assert out["registry"]["requests"] == out["registry"]["packages"] == registry_server.total_requests == len(packages)


def test_text_output_lists_every_manifest_and_dependency(
    checkout: Path, registry_server: RegistryServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["plan", str(checkout)]) == 0
    out = capsys.readouterr().out
    assert "py-req/requirements.txt (python requirements)" in out
    assert "js-app/package.json (npm package.json, lockfile js-app/package-lock.json)" in out
    assert "importlib-metadata  runtime  1.7.0    6.7.0 (major, ==6.7.0)" in out
    assert "skipped: editable" in out
    assert out.rstrip().splitlines()[-1].startswith("33 dependencies in 4 manifests")


def test_plan_of_a_missing_directory_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(tmp_path / "nope")]) == 1
    assert "is not a directory" in capsys.readouterr().err
