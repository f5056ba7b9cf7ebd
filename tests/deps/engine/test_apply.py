from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.deps.apply import Selected, apply_updates
from bot.deps.proposals import Update
from bot.deps.scan import scan
from tests.support.registry_server import RegistryServer

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "peers" / "samples"


def select(root: Path, picks: dict[str, Update]) -> list[Selected]:
    chosen = []
    for manifest in scan(root).manifests:
        for dep in manifest.dependencies:
            if dep.name in picks:
                chosen.append(Selected(manifest, dep, picks[dep.name]))
    return chosen


def test_requirements_edit_changes_only_the_version_tokens(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES / "py-req", tmp_path / "repo")
    before = (tmp_path / "repo" / "requirements.txt").read_text()
    picks = {
        "flask": Update("1.1.4", "==1.1.4", "patch", False, "pin"),
        "importlib-metadata": Update("6.7.0", "==6.7.0", "major", True, "pin"),
    }
    changes = apply_updates(tmp_path / "repo", select(tmp_path / "repo", picks))
    assert changes.problems == ()
    after = before.replace("flask==1.1.2", "flask==1.1.4").replace(
        "importlib-metadata==1.7.0", "importlib-metadata==6.7.0"
    )
    assert [(c.path, c.before, c.after) for c in changes.changes] == [("requirements.txt", before, after)]
    assert (tmp_path / "repo" / "requirements.txt").read_text() == after


def test_npm_manifest_and_lockfile_are_updated_together(tmp_path: Path, registry_server: RegistryServer) -> None:
    shutil.copytree(SAMPLES / "js-app", tmp_path / "repo")
    picks = {"lodash": Update("4.18.1", "~4.18.1", "minor", False, "bump")}
    changes = apply_updates(tmp_path / "repo", select(tmp_path / "repo", picks), npm_registry=registry_server.url)
    assert changes.problems == ()
    assert [c.path for c in changes.changes] == ["package-lock.json", "package.json"]
    assert '"lodash": "~4.18.1"' in changes.text("package.json")  # type: ignore[operator]
    lock = json.loads(changes.text("package-lock.json"))  # type: ignore[arg-type]
    assert lock["packages"]["node_modules/lodash"]["version"] == "4.18.1"
    assert lock["packages"][""]["dependencies"]["lodash"] == "~4.18.1"
    assert lock["packages"]["node_modules/react"]["version"] == "16.14.0"  # the rest is untouched


def test_a_lockfile_that_cannot_be_regenerated_is_reported_and_the_edit_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["alpha==1.0"]\n')
    (repo / "uv.lock").write_text('version = 1\n[[package]]\nname = "alpha"\nversion = "1.0"\n')
    monkeypatch.setenv("UV_NO_INDEX", "1")  # nowhere to resolve from: uv must fail
    monkeypatch.setenv("UV_OFFLINE", "1")
    picks = {"alpha": Update("2.0", "==2.0", "major", True, "pin")}
    changes = apply_updates(repo, select(repo, picks), lock_timeout=60)
    assert [c.path for c in changes.changes] == ["pyproject.toml"]
    assert '"alpha==2.0"' in (repo / "pyproject.toml").read_text()
    [problem] = changes.problems
    assert problem.startswith("uv.lock: not regenerated, the manifest edit is kept:")
    assert (repo / "uv.lock").read_text().endswith('version = "1.0"\n')


def test_lockfile_maintenance_moves_locked_versions_within_the_ranges(
    tmp_path: Path, registry_server: RegistryServer
) -> None:
    from bot.deps.apply import refresh_lockfiles
    from bot.deps.scan import scan

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "package.json").write_text(
        '{\n  "name": "x",\n  "version": "1.0.0",\n  "dependencies": {"lodash": "^4.17.0"}\n}\n'
    )
    lock = {
        "name": "x",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": "x", "version": "1.0.0", "dependencies": {"lodash": "^4.17.0"}},
            "node_modules/lodash": {"version": "4.17.15"},
        },
    }
    (repo / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    manifest = scan(repo).manifests[0]
    changes = refresh_lockfiles(repo, [manifest], npm_registry=registry_server.url)
    assert changes.problems == ()
    assert [c.path for c in changes.changes] == ["package-lock.json"]
    refreshed = json.loads(changes.changes[0].after)
    assert refreshed["packages"]["node_modules/lodash"]["version"] == "4.18.1"
    assert (repo / "package.json").read_text().count("^4.17.0") == 1  # the manifest keeps its range


def test_rechoose_lifts_min_release_age_for_the_packages_named(tmp_path: Path, registry_server: RegistryServer) -> None:
    from datetime import timedelta

    from bot.deps.model import Ecosystem
    from bot.deps.registry.client import RegistryClient
    from bot.deps.survey import rechoose, survey
    from bot.deps.versions import Policy

    (tmp_path / "requirements.txt").write_text("requests==2.22.0\nclick==7.0\n")
    with RegistryClient(None) as registry:
        probe = survey(tmp_path, registry, Policy())
        info = probe.packages[(Ecosystem.PYTHON, "requests")]
        newest = max((r for r in info.releases if r.published), key=lambda r: r.published)  # type: ignore[union-attr, arg-type, return-value]
        held = Policy(min_release_age=timedelta(days=3), now=newest.published + timedelta(days=1))  # type: ignore[operator]
        result = survey(tmp_path, registry, held)
    targets = {p.dependency.key: [u.version for u in p.updates] for p in result.proposals}
    assert newest.version not in targets["requests"]
    again = rechoose(result, {(Ecosystem.PYTHON, "requests")}, Policy(min_release_age=timedelta(0), now=held.now))
    after = {p.dependency.key: [u.version for u in p.updates] for p in again.proposals}
    assert newest.version in after["requests"]
    assert after["click"] == targets["click"]  # others untouched
