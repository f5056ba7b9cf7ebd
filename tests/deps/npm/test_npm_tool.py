"""The npm that regenerates package-lock.json is the one the project names (packageManager, engines.npm), not
the npm on PATH: npm 10 is installed for the tests (tests.support.js_tools) while the system npm is another."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.deps.npm.lockfile import NPM, _wanted, regenerate_lock
from bot.deps.npm.lockinfo import read_lock
from bot.deps.npm.tools import Tool, system_version, tool_for
from tests.deps.npm.registry import local_registry

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture
def npm10(
    js_tool: Callable[[str], Tool], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Tool:
    tool = js_tool("npm10")
    npm = shutil.which("npm")
    assert npm is not None
    if system_version(npm) == tool.version:
        pytest.skip(f"the npm on PATH is {tool.version} itself")
    monkeypatch.setenv("npm_config_cache", str(tmp_path_factory.mktemp("npm-cache")))
    return tool


def project(root: Path, extra: dict[str, object]) -> Path:
    root.mkdir(parents=True)
    package = {"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^1.0.0"}, **extra}
    (root / "package.json").write_text(json.dumps(package))
    lock = {"name": "app", "lockfileVersion": 3, "requires": True, "packages": {"": package}}
    (root / "package-lock.json").write_text(json.dumps(lock))
    return root


def test_package_manager_names_the_npm_that_relocks(tmp_path: Path, npm10: Tool) -> None:
    repo = project(tmp_path / "repo", {"packageManager": f"npm@{npm10.version}+sha512.abc"})
    with local_registry({"left-pad": ["1.0.0", "1.3.0"]}) as registry:
        result = regenerate_lock(repo, "", [], timeout=120, registry=registry)
    assert (result.problem, result.tool) == (None, f"npm {npm10.version}")
    assert read_lock("package-lock.json", result.text or "").version_for("package.json", "left-pad") == "1.3.0"


@pytest.mark.parametrize(
    ("extra", "because"),
    [({"engines": {"npm": "^10.0.0"}}, "engines.npm: ^10.0.0"), ({"packageManager": "npm@10.9.9"}, None)],
)
def test_engines_npm_picks_an_installed_npm_that_satisfies_it(
    tmp_path: Path, npm10: Tool, extra: dict[str, object], because: str | None
) -> None:
    repo = project(tmp_path / "repo", extra)
    wanted = _wanted(repo, "npm", NPM, (repo / "package-lock.json").read_text(), "package-lock.json")
    assert wanted.because == (because or "packageManager: npm@10.9.9")
    assert tool_for(wanted, None) == npm10  # installed already: nothing is downloaded


def test_without_either_the_npm_on_path_relocks(tmp_path: Path, npm10: Tool) -> None:
    repo = project(tmp_path / "repo", {})
    wanted = _wanted(repo, "npm", NPM, (repo / "package-lock.json").read_text(), "package-lock.json")
    tool = tool_for(wanted, None)
    assert isinstance(tool, Tool) and tool.argv == (shutil.which("npm"),) and tool.version != npm10.version
