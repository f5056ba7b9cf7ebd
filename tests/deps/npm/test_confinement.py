"""npm touches nothing outside the project and never sees depup's secrets, whatever the repository says.

Hostile projects sit next to a directory ``outside`` holding a package whose name is a secret; npm (real, against
a local registry) must never be started for them, so nothing of ``outside`` reaches a lockfile or an answer,
and ``outside`` is unchanged. A control shows a ``file:`` dependency inside the project still works.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from bot.deps.npm import tools
from bot.deps.npm.lockfile import regenerate_lock
from tests.deps.npm.registry import local_registry

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
SECRET = "sentinel-secret-6d1f0c"
DEPUP_SECRETS = {
    "GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretkeybody\n-----END RSA PRIVATE KEY-----",
    "GITHUB_WEBHOOK_SECRET": "webhook-secret-9f8e7d",
    "REDIS_URL": "redis://:redis-password-5a4b@127.0.0.1:6379/0",
}


@pytest.fixture(autouse=True)
def _private_npm_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("npm_config_cache", str(tmp_path_factory.mktemp("npm-cache")))
    monkeypatch.setenv("npm_config_update_notifier", "false")


def state(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def project(repo: Path, package: dict[str, object], lock_packages: dict[str, object] | None = None) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", **package}))
    packages = {"": {"name": "app", "version": "1.0.0"}, **(lock_packages or {})}
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}
    (repo / "package-lock.json").write_text(json.dumps(lock, indent=2))


HOSTILE: dict[str, tuple[dict[str, object], dict[str, object], str]] = {
    "file: dependency by absolute path": ({"dependencies": {"v": "file:{OUT}/pkg"}}, {}, ""),
    "file: dependency climbing out": ({"dependencies": {"v": "file:../outside/pkg"}}, {}, ""),
    "bare path dependency": ({"devDependencies": {"v": "../outside/pkg"}}, {}, ""),
    "home path dependency": ({"optionalDependencies": {"v": "~/pkg"}}, {}, ""),
    "link: dependency": ({"peerDependencies": {"v": "link:{OUT}/pkg"}}, {}, ""),
    "git+file: dependency": ({"dependencies": {"v": "git+file://{OUT}/repo.git"}}, {}, ""),
    "override": ({"dependencies": {"left-pad": "^1.0.0"}, "overrides": {"left-pad": {"x": "file:{OUT}/pkg"}}}, {}, ""),
    "workspace outside": ({"workspaces": ["../outside/*"]}, {}, ""),
    "lockfile entry outside": (
        {"dependencies": {"v": "*"}},
        {"node_modules/v": {"resolved": "../outside/pkg", "link": True}, "../outside/pkg": {"version": "1.0.0"}},
        "",
    ),
    "registry on disk": ({"dependencies": {"left-pad": "^1.0.0"}}, {}, "registry=file://{OUT}/\n"),
}


@needs_npm
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_references_outside_the_project_are_refused(name: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "pkg" / "package.json").write_text(json.dumps({"name": SECRET, "version": "1.0.0"}))
    before = state(outside)
    package, lock_packages, npmrc = HOSTILE[name]
    text = json.dumps(package).replace("{OUT}", str(outside))
    repo = tmp_path / "repo"
    project(repo, json.loads(text), json.loads(json.dumps(lock_packages).replace("{OUT}", str(outside))))
    if npmrc:
        (repo / ".npmrc").write_text(npmrc.replace("{OUT}", str(outside)))
    with local_registry({"left-pad": ["1.0.0", "1.1.0"]}) as registry:
        result = regenerate_lock(repo, "", ["left-pad@1.1.0"], timeout=60, registry=registry)
    assert result.text is None
    assert result.problem is not None and "refers to files outside the repository" in result.problem, result.problem
    assert SECRET not in result.problem
    assert state(outside) == before


@needs_npm
def test_a_file_dependency_inside_the_project_still_works(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    project(repo, {"dependencies": {"local": "file:./vendor/local", "left-pad": "^1.0.0"}})
    (repo / "vendor" / "local").mkdir(parents=True)
    (repo / "vendor" / "local" / "package.json").write_text(json.dumps({"name": "local", "version": "2.0.0"}))
    with local_registry({"left-pad": ["1.0.0", "1.1.0"]}) as registry:
        result = regenerate_lock(repo, "", [], timeout=60, registry=registry)
    assert result.problem is None and result.text is not None
    packages = json.loads(result.text)["packages"]
    assert packages["node_modules/local"] == {"resolved": "vendor/local", "link": True}
    assert packages["node_modules/left-pad"]["version"] == "1.1.0"


def test_npm_environment_holds_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in ``npm`` first on PATH writes the environment it got as the lockfile."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "npm"
    fake.write_text(
        f"#!{sys.executable}\nimport json, os, pathlib, sys\n"
        "if sys.argv[1:] == ['--version']:\n    print('11.0.0')\n"
        "else:\n    pathlib.Path('package-lock.json').write_text(json.dumps(dict(os.environ)))\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name, value in DEPUP_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("npm_config_registry", "https://registry.invalid/")
    tools.system_version.cache_clear()
    repo = tmp_path / "repo"
    project(repo, {"dependencies": {"left-pad": "^1.0.0"}})
    result = regenerate_lock(repo, "", [], timeout=30)
    tools.system_version.cache_clear()
    assert result.problem is None and result.text is not None
    seen = json.loads(result.text)
    assert sorted(set(DEPUP_SECRETS) & set(seen)) == []
    assert not any(value in result.text for value in DEPUP_SECRETS.values())
    assert seen["npm_config_registry"] == "https://registry.invalid/" and seen["npm_config_ignore_scripts"] == "true"
    assert seen["PATH"].startswith(str(bin_dir))
