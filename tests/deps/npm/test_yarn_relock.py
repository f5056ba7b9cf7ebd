"""Regenerating yarn.lock with the real yarn 1.22.22 and 4.18.1 against a local registry (no network): range bumps,
in-range updates that move only the named package, workspace members, lockfile maintenance, and confinement
(yarnPath, plugins and scripts never run, nothing outside the project is followed, no secret in the environment)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.deps.model import Problem
from bot.deps.npm.lockfile import LockResult, regenerate_lock
from bot.deps.npm.relock import Job
from bot.deps.npm.tools import TOOLS_ENV, Tool
from bot.deps.npm.yarn import YARN, parse_berry, parse_v1, read_yarn_lock
from tests.deps.npm.registry import Versions, local_registry

YARNS = {"yarn1": "1.22.22", "yarn4": "4.18.1"}
SECRETS = {"GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----secret", "REDIS_URL": "redis://:pw-5a4b@127.0.0.1/0"}


@pytest.fixture(autouse=True)
def _private_caches(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))  # no yarnrc of the machine's user is read
    monkeypatch.setenv("npm_config_cache", str(home / "npm-cache"))


def write(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n")


def app(repo: Path, yarn: str, dependencies: dict[str, str], **extra: object) -> None:
    write(repo / "package.json", {"name": "app", "private": True, "packageManager": f"yarn@{yarn}", **extra,
                                  "dependencies": dependencies})  # fmt: skip
    write(repo / "yarn.lock", "")


def relock(repo: Path, registry: str, member: str = "", packages: tuple[str, ...] = (), **kw: bool) -> str:
    result = regenerate_lock(repo, member, list(packages), timeout=120, registry=registry, **kw)
    assert result.problem is None, result.problem
    assert result.text is not None and result.lockfile is not None
    (repo / result.lockfile).write_text(result.text)
    return result.text


def locked(repo: Path, manifest: str = "package.json") -> dict[str, str]:
    paths = [p for p in repo.rglob("package.json") if "node_modules" not in p.parts]
    manifests = {p.relative_to(repo).as_posix(): json.loads(p.read_text()) for p in paths}
    lock = read_yarn_lock("yarn.lock", (repo / "yarn.lock").read_text(), manifests)
    assert lock.readable and not lock.problems, lock.problems
    return dict(lock.locked_for(manifest))


OLD: dict[str, Versions] = {"left-pad": ["1.0.0"], "dep-a": {"1.0.0": {"dependencies": {"left-pad": "^1.0.0"}}}}
NEW: dict[str, Versions] = {
    "left-pad": ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"],
    "dep-a": {"1.0.0": {"dependencies": {"left-pad": "^1.0.0"}}, "1.1.0": {}},
}


@pytest.fixture(params=sorted(YARNS))
def yarn(request: pytest.FixtureRequest, js_tool: Callable[[str], Tool]) -> str:
    js_tool(request.param)
    return YARNS[request.param]


@pytest.fixture
def started(tmp_path: Path, yarn: str) -> Iterator[Path]:
    """A project locked when only the 1.0.0 releases existed."""
    repo = tmp_path / "repo"
    app(repo, yarn, {"left-pad": "^1.0.0", "dep-a": "^1.0.0", "pad": "npm:left-pad@^1.0.0"})
    with local_registry(OLD) as registry:
        relock(repo, registry)
    assert locked(repo) == {"left-pad": "1.0.0", "dep-a": "1.0.0", "pad": "1.0.0"}
    yield repo


def test_a_range_bump_relocks_that_dependency_only(started: Path, yarn: str) -> None:
    document = json.loads((started / "package.json").read_text())
    document["dependencies"]["left-pad"] = "^2.0.0"
    write(started / "package.json", document)
    with local_registry(NEW) as registry:
        text = relock(started, registry)
    assert locked(started) == {"left-pad": "2.1.0", "dep-a": "1.0.0", "pad": "1.0.0"}  # dep-a 1.1.0 not taken
    assert ("left-pad@npm:^1.0.0" if yarn.startswith("4") else "left-pad@^1.0.0") in text  # dep-a's still there


def test_an_in_range_update_moves_only_the_named_package_to_that_version(started: Path, yarn: str) -> None:
    before = (started / "package.json").read_bytes()
    with local_registry(NEW) as registry:
        text = relock(started, registry, packages=("left-pad@1.1.0", "pad@npm:left-pad@1.2.0"))
    # 1.1.0 as asked although ^1.0.0 allows 1.2.0; dep-a's left-pad@^1.0.0 is the same descriptor, so it moves too.
    assert locked(started) == {"left-pad": "1.1.0", "dep-a": "1.0.0", "pad": "1.2.0"}
    assert (started / "package.json").read_bytes() == before
    parsed = parse_berry(text) if yarn.startswith("4") else parse_v1(text)
    assert not isinstance(parsed, Problem)
    keys = {k for key in parsed[0] for k in key.split(", ")}
    assert not {k for k in keys if k.endswith(("@1.1.0", "@1.2.0"))}, keys  # the exact descriptors were dropped


def test_a_workspace_member_edit_relocks_the_root_lockfile(tmp_path: Path, yarn: str) -> None:
    repo = tmp_path / "repo"
    app(repo, yarn, {"dep-a": "^1.0.0"}, workspaces=["packages/*"])
    write(repo / "packages/a/package.json", {"name": "a", "version": "1.0.0", "dependencies": {"left-pad": "^1.0.0"}})
    write(repo / "packages/b/package.json", {"name": "b", "version": "1.0.0", "dependencies": {"a": "1.0.0"}})
    with local_registry(OLD) as registry:
        relock(repo, registry)
    with local_registry(NEW) as registry:
        relock(repo, registry, member="packages/a", packages=("left-pad@1.1.0",))
        assert locked(repo, "packages/a/package.json") == {"left-pad": "1.1.0"}
        assert locked(repo) == {"dep-a": "1.0.0"}
        document = json.loads((repo / "packages/a/package.json").read_text())
        document["dependencies"]["left-pad"] = "^2.0.0"
        write(repo / "packages/a/package.json", document)
        relock(repo, registry, member="packages/a")
    assert locked(repo, "packages/a/package.json") == {"left-pad": "2.1.0"}
    assert "a" not in locked(repo, "packages/b/package.json")  # the sibling is never a registry package


@pytest.mark.slow
def test_lockfile_maintenance_takes_the_newest_each_range_allows(started: Path) -> None:
    with local_registry(NEW) as registry:
        relock(started, registry, refresh=True)
    assert locked(started) == {"left-pad": "1.2.0", "dep-a": "1.1.0", "pad": "1.2.0"}


def test_yarn_path_plugins_and_scripts_never_run(tmp_path: Path, yarn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "ran"
    evil = f"require('fs').appendFileSync({json.dumps(str(marker))}, __filename + '\\n');\n"
    repo = tmp_path / "repo"
    script = f"node -e \"require('fs').appendFileSync({json.dumps(str(marker))}, 'script')\""
    app(repo, yarn, {"left-pad": "^1.0.0", "builds": "^1.0.0"}, scripts={"postinstall": script, "preinstall": script})
    write(repo / ".yarn/releases/yarn-evil.cjs", evil)
    write(repo / ".yarn/plugins/plugin-evil.cjs", f"module.exports = {{name: 'evil', factory: () => {{ {evil} }}}};\n")
    write(repo / ".yarnrc.yml", "yarnPath: .yarn/releases/yarn-evil.cjs\nplugins:\n  - .yarn/plugins/plugin-evil.cjs\n")
    write(repo / ".yarnrc", 'yarn-path ".yarn/releases/yarn-evil.cjs"\n')
    # Settings files above the scratch copy (a shared temporary folder) and in the home folder are not read.
    planted = f"plugins:\n  - {repo}/.yarn/plugins/plugin-evil.cjs\nyarnPath: {repo}/.yarn/releases/yarn-evil.cjs\n"
    scratch = tmp_path / "tmp"
    write(scratch / ".yarnrc.yml", planted)
    write(Path(os.environ["HOME"]) / ".yarnrc.yml", planted)
    write(scratch / ".yarnrc", f'yarn-path "{repo}/.yarn/releases/yarn-evil.cjs"\n')
    monkeypatch.setenv("TMPDIR", str(scratch))
    tempfile.tempdir = None
    builds = {"1.0.0": {"scripts": {"install": script, "postinstall": script}}}
    with local_registry({"left-pad": ["1.0.0"], "builds": builds}) as registry:
        relock(repo, registry)
    assert locked(repo) == {"left-pad": "1.0.0", "builds": "1.0.0"}
    tempfile.tempdir = None
    assert not marker.exists(), marker.read_text()


OUTSIDE_LOCK = """\
__metadata:
  version: 8

"v@file:../outside/pkg::locator=app%40workspace%3A.":
  version: 1.0.0
  resolution: "v@file:../outside/pkg#../outside/pkg::hash=1&locator=app%40workspace%3A."
"""


def test_references_outside_the_project_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "pkg/package.json", {"name": "secret", "version": "1.0.0"})
    out = str(outside)
    cases: dict[str, tuple[str, dict[str, str], dict[str, object], dict[str, str]]] = {
        "portal: dependency": ("4.18.1", {"v": f"portal:{out}/pkg"}, {}, {}),
        "patch file climbing out": ("4.18.1", {"v": "patch:v@npm%3A1.0.0#../outside/v.patch"}, {}, {}),
        "resolution to a folder outside": (
            "4.18.1",
            {"v": "^1.0.0"},
            {"resolutions": {"v": "link:../outside/pkg"}},
            {},
        ),
        "lock entry outside": ("4.18.1", {"v": "^1.0.0"}, {}, {"yarn.lock": OUTSIDE_LOCK}),
        "yarn 1 lock entry outside": (
            "1.22.22",
            {"v": "^1.0.0"},
            {},
            {"yarn.lock": f'# yarn lockfile v1\n\n"v@file:{out}/pkg":\n  version "1.0.0"\n'},
        ),
        "yarnPath outside": ("4.18.1", {}, {}, {".yarnrc.yml": "yarnPath: /etc/passwd\n"}),
        "registry on disk": (
            "4.18.1",
            {},
            {},
            {".yarnrc.yml": f"npmScopes:\n  s:\n    npmRegistryServer: file://{out}\n"},
        ),
        "yarn 1 cache folder outside": ("1.22.22", {}, {}, {".yarnrc": "cache-folder ../x\n"}),
    }
    for name, (version, dependencies, extra, files) in cases.items():
        repo = tmp_path / name.replace(" ", "-")
        app(repo, version, dependencies, **extra)
        for path, content in files.items():
            write(repo / path, content)
        assert YARN.outside(repo, "yarn.lock"), name
    inside = tmp_path / "inside"
    app(inside, "4.18.1", {"v": "patch:v@npm%3A1.0.0#~/.yarn/patches/v.patch", "w": "portal:./w"})
    write(inside / ".yarnrc.yml", "yarnPath: .yarn/releases/yarn-4.18.1.cjs\ncompressionLevel: mixed\n")
    assert YARN.outside(inside, "yarn.lock") == []


def test_exec_dependencies_are_not_run(tmp_path: Path) -> None:
    work = tmp_path / "project"
    app(work, "4.18.1", {"gen": "exec:./generate.js"})
    tool = Tool("yarn", "4.18.1", ("node", "yarn.js"))
    steps = YARN.steps(tool, work, Job("yarn.lock", None))
    assert isinstance(steps, str) and "exec:" in steps
    app(work, "4.2.0", {"g": "github:user/repo"})
    steps = YARN.steps(Tool("yarn", "4.2.0", ("node", "yarn.js")), work, Job("yarn.lock", None))
    assert isinstance(steps, str) and "git dependency" in steps


@pytest.mark.parametrize("version", sorted(YARNS.values()))
def test_yarn_environment_holds_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    """A stand-in yarn, installed where depup looks for it, writes the environment it got as the lockfile."""
    tools = tmp_path / "tools"
    package = "yarn" if version.startswith("1.") else "@yarnpkg/cli-dist"
    script = tools / f"yarn@{version}" / "node_modules" / package / "bin" / "yarn.js"
    write(script, "require('fs').writeFileSync('yarn.lock', JSON.stringify({env: process.env, argv: process.argv}));\n")
    write(script.parents[1] / "package.json", {"name": package, "version": version})
    monkeypatch.setenv(TOOLS_ENV, str(tools))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    repo = tmp_path / "repo"
    app(repo, version, {"left-pad": "^1.0.0"})
    result: LockResult = regenerate_lock(repo, "", [], timeout=60, registry="http://127.0.0.1:9/")
    assert result.problem is None and result.text is not None
    seen = json.loads(result.text)
    assert not set(SECRETS) & set(seen["env"]) and not any(v in result.text for v in SECRETS.values())
    assert seen["env"]["YARN_IGNORE_PATH"] == "1"
    if version.startswith("1."):
        assert "--ignore-scripts" in seen["argv"] and "--no-default-rc" in seen["argv"]
        assert seen["argv"][seen["argv"].index("--registry") + 1] == "http://127.0.0.1:9/"
    else:
        assert seen["env"]["YARN_ENABLE_SCRIPTS"] == "0" and seen["env"]["YARN_ENABLE_GLOBAL_CACHE"] == "0"
        assert seen["env"]["YARN_NPM_REGISTRY_SERVER"] == "http://127.0.0.1:9"
        assert "--mode=update-lockfile" in seen["argv"] and seen["env"]["YARN_RC_FILENAME"] == ".depup-yarnrc.yml"
        assert "depup-yarn-" in seen["env"]["YARN_CACHE_FOLDER"] and str(repo) not in seen["env"]["YARN_CACHE_FOLDER"]


def test_settings_files_with_values_python_cannot_build_are_read_as_invalid(tmp_path: Path) -> None:
    from bot.deps.npm.bun import bunfig_install
    from bot.deps.npm.yarn import _berry_settings, _rc_outside
    from bot.deps.python.confine import _toml

    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: 2001-13-01\n")  # a date that does not exist
    (tmp_path / "bunfig.toml").write_text("[install]\nx = " + "9" * 5000 + "\n")  # past Python's digit limit
    assert _berry_settings(tmp_path) == {} and _rc_outside(tmp_path) == []
    assert bunfig_install(tmp_path) == {} and _toml(tmp_path / "bunfig.toml") is None
