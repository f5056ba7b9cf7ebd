"""Regenerating package-lock.json with npm in a throw-away copy."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from bot.deps.model import Dependency, Ecosystem, Location, Role
from bot.deps.npm.lockfile import LockResult, install_spec, regenerate_lock
from bot.deps.npm.lockinfo import read_lock
from tests.deps.npm.registry import local_registry

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture(autouse=True)
def _private_npm_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("npm_config_cache", str(tmp_path_factory.mktemp("npm-cache")))
    monkeypatch.setenv("npm_config_update_notifier", "false")


def write_project(root: Path, dependencies: dict[str, str], locked: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "dependencies": dependencies}))
    packages: dict[str, object] = {"": {"name": "app", "version": "1.0.0", "dependencies": dependencies}}
    packages.update({f"node_modules/{name}": {"version": version} for name, version in locked.items()})
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}
    (root / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")


def locked_version(result: LockResult, manifest: str, name: str) -> str | None:
    assert result.text is not None, result.problem
    assert result.lockfile is not None
    return read_lock(result.lockfile, result.text).version_for(manifest, name)


@needs_npm
def test_edited_manifest_gets_a_new_lockfile_offline(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_project(repo, {"left-pad": "^1.0.0"}, {"left-pad": "1.0.0"})
    (repo / "package.json").write_text(
        json.dumps({"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^2.0.0"}})
    )
    before = {p: p.read_bytes() for p in repo.rglob("*")}
    with local_registry({"left-pad": ["1.0.0", "1.1.0", "2.0.0", "2.1.0"]}) as registry:
        result = regenerate_lock(repo, "", [], timeout=60, registry=registry)
    assert result.problem is None
    assert result.tool.startswith("npm ")
    assert result.lockfile == "package-lock.json"
    assert locked_version(result, "package.json", "left-pad") == "2.1.0"
    assert json.loads(result.text or "")["packages"][""]["dependencies"] == {"left-pad": "^2.0.0"}
    assert {p: p.read_bytes() for p in repo.rglob("*")} == before  # the checkout is untouched


@needs_npm
def test_lockfile_only_update_keeps_the_manifest_range(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_project(repo, {"left-pad": "^1.0.0"}, {"left-pad": "1.0.0"})
    with local_registry({"left-pad": ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]}) as registry:
        result = regenerate_lock(repo, "", ["left-pad@1.1.0"], timeout=60, registry=registry)
    assert result.problem is None
    assert locked_version(result, "package.json", "left-pad") == "1.1.0"
    assert json.loads(result.text or "")["packages"][""]["dependencies"] == {"left-pad": "^1.0.0"}


@needs_npm
def test_workspace_member_regenerates_the_root_lockfile(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    root = repo / "web"
    root.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]}))
    member = root / "packages" / "a"
    member.mkdir(parents=True)
    (member / "package.json").write_text(
        json.dumps({"name": "a", "version": "1.0.0", "dependencies": {"left-pad": "^1.0.0"}})
    )
    lock = {
        "name": "root",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": "root", "workspaces": ["packages/*"]},
            "node_modules/a": {"resolved": "packages/a", "link": True},
            "node_modules/left-pad": {"version": "1.0.0"},
            "packages/a": {"name": "a", "version": "1.0.0", "dependencies": {"left-pad": "^1.0.0"}},
        },
    }
    (root / "package-lock.json").write_text(json.dumps(lock, indent=2))
    (root / ".npmrc").write_text("registry=http://127.0.0.1:9/\ngit=/bin/false\n")
    with local_registry({"left-pad": ["1.0.0", "1.1.0"]}) as registry:
        result = regenerate_lock(repo, "web/packages/a", ["left-pad@1.1.0"], timeout=60, registry=registry)
    assert result.problem is None
    assert result.lockfile == "web/package-lock.json"
    assert locked_version(result, "web/packages/a/package.json", "left-pad") == "1.1.0"
    packages = json.loads(result.text or "")["packages"]
    assert packages["packages/a"]["dependencies"] == {"left-pad": "^1.0.0"}


@needs_npm
def test_registry_failure_is_reported_with_npm_output(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_project(repo, {"no-such-package": "^1.0.0"}, {})
    with local_registry({}) as registry:
        result = regenerate_lock(repo, "", [], timeout=60, registry=registry)
    assert result.text is None
    assert result.problem is not None and "exited with status" in result.problem
    assert "404" in result.problem or "no-such-package" in result.problem


@needs_npm
def test_timeout_kills_npm_and_reports(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_project(repo, {"left-pad": "^2.0.0"}, {"left-pad": "1.0.0"})
    started = time.monotonic()
    with local_registry({"left-pad": ["2.0.0"]}, delay=30) as registry:
        result = regenerate_lock(repo, "", [], timeout=1.5, registry=registry)
    assert time.monotonic() - started < 20
    assert result.text is None
    assert result.problem is not None and "timed out" in result.problem


def test_missing_node_is_a_problem_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"left-pad": "^1.0.0"}, {"left-pad": "1.0.0"})
    monkeypatch.setattr("bot.deps.npm.tools.shutil.which", lambda name: None)
    result = regenerate_lock(tmp_path, "", [], timeout=5)
    assert result == LockResult(
        None, "npm", "node is not installed on this worker, so npm cannot run", "package-lock.json"
    )


@needs_npm
def test_no_lockfile_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    result = regenerate_lock(tmp_path, "", [], timeout=5)
    assert result.text is None and result.problem is not None and "no lockfile" in result.problem


def test_install_spec() -> None:
    location = Location("package.json", 1, 1, 0, 0, "dependencies")
    plain = Dependency(Ecosystem.NPM, "lodash", "lodash", "^4.0.0", Role.RUNTIME, location)
    alias = Dependency(Ecosystem.NPM, "old", "left-pad", "^1.0.0", Role.RUNTIME, location)
    assert install_spec(plain, "4.17.21") == "lodash@4.17.21"
    assert install_spec(alias, "1.3.0") == "old@npm:left-pad@1.3.0"


@pytest.mark.live
@needs_npm
def test_live_registry(tmp_path: Path) -> None:
    write_project(tmp_path, {"is-number": "^7.0.0"}, {"is-number": "7.0.0"})
    result = regenerate_lock(tmp_path, "", ["is-number@7.0.0"], timeout=120)
    assert result.problem is None
    assert locked_version(result, "package.json", "is-number") == "7.0.0"


def test_a_binary_bun_lockfile_is_left_to_ci_without_installing_bun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"a": "^1.0.0"}}')
    (tmp_path / "bun.lockb").write_bytes(b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n\x00\x01")
    monkeypatch.setattr("bot.deps.npm.lockfile.tool_for", lambda *a: pytest.fail("no tool may be installed"))
    result = regenerate_lock(tmp_path, "", [], timeout=5)
    assert result.text is None and result.lockfile == "bun.lockb"
    assert result.problem is not None and "left to CI" in result.problem
