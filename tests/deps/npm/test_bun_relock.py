"""Regenerating bun.lock with the real bun against the local registry: range bumps, a member's edit, in-range
updates of one package, lockfile maintenance, scripts off, the tool's environment, confinement and what is
refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

import pytest

from bot.deps.npm.bun import BUN, bunfig_install, parse_jsonc, read_bun_lock, refresh_seed
from bot.deps.npm.jsonspan import Document
from bot.deps.npm.lockfile import LockResult, regenerate_lock
from bot.deps.npm.relock import Job
from bot.deps.npm.tools import Tool
from tests.deps.npm.registry import Served, local_registry

PACKAGES = {
    "left-pad": ["1.0.0", "1.1.0", "1.2.0", "2.0.0"],
    "is-number": ["1.0.0", "1.1.0", "2.0.0", "2.1.0"],
    "is-odd": {"2.0.0": {"dependencies": {"is-number": "^2.0.0"}}},
}
BunTool = Callable[[], Tool]


@pytest.fixture
def bun_tool(js_tool: Callable[[str], Tool]) -> BunTool:
    return lambda: js_tool("bun")


def write(path: Path, document: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def bun(tool: Tool, cwd: Path, registry: str, *args: str) -> None:
    """Run bun to set a project up (the lockfile a repository would have committed)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "BUN_INSTALL_CACHE_DIR": str(cwd.parent / "setup-cache")}
    command = [*tool.argv, *args, "--lockfile-only", "--ignore-scripts", f"--registry={registry}"]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def locked(
    tool: Tool, repo: Path, registry: str, pinned: Mapping[str, Mapping[str, object]], ranges: Mapping[str, object]
) -> None:
    """A lockfile made with the ``pinned`` package.json files, then the ``ranges`` ones written (and locked
    again, as bun keeps a locked version its new range allows): a lock behind what the ranges allow."""
    for folder, document in pinned.items():
        write(repo / folder / "package.json", document)
    bun(tool, repo, registry, "install")
    for folder, document in ranges.items():
        write(repo / folder / "package.json", document)  # type: ignore[arg-type]
    bun(tool, repo, registry, "install")


def versions(result: LockResult, importer: str, manifests: tuple[str, ...] = ("package.json",)) -> dict[str, str]:
    assert result.text is not None, result.problem
    lock = read_bun_lock(result.lockfile or "bun.lock", result.text, dict.fromkeys(manifests))
    assert lock.problems == ()
    return dict(lock.locked_for(importer))


def test_range_bump_in_a_member_relocks_the_root_with_scripts_off(tmp_path: Path, bun_tool: BunTool) -> None:
    tool, repo, marker = bun_tool(), tmp_path / "repo", tmp_path / "MARKER"
    writes_marker = f"node -e \"require('fs').writeFileSync({str(marker)!r}, '')\""
    root = {
        "name": "root",
        "private": True,
        "workspaces": ["packages/*"],
        "scripts": {"preinstall": writes_marker, "postinstall": writes_marker},
        "trustedDependencies": ["noisy"],
        "dependencies": {"noisy": "1.0.0"},
    }
    member = {"name": "a", "version": "1.0.0", "dependencies": {"left-pad": "^1.0.0"}}
    served = Served()
    noisy = {"noisy": {"1.0.0": {"scripts": {"install": writes_marker, "postinstall": writes_marker}}}}
    with local_registry({**PACKAGES, **noisy}, served=served) as registry:
        locked(tool, repo, registry, {"": root, "packages/a": member}, {})
        member["dependencies"] = {"left-pad": "^2.0.0", "is-odd": "^2.0.0"}
        write(repo / "packages" / "a" / "package.json", member)
        before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
        served.requests.clear()
        result = regenerate_lock(repo, "packages/a", [], timeout=60, registry=registry)
    assert (result.problem, result.lockfile, result.tool) == (None, "bun.lock", "bun 1.3.5")
    importers = ("package.json", "packages/a/package.json")
    assert versions(result, "packages/a/package.json", importers) == {
        "left-pad": "2.0.0",
        "is-odd": "2.0.0",
        "is-number": "2.1.0",
        "noisy": "1.0.0",  # hoisted, visible from the member too
    }
    assert '"left-pad": "^2.0.0"' in (result.text or "")
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before  # the checkout is untouched
    assert not marker.exists()  # no script ran, the project's or a (trusted) package's
    assert served.tarballs() == []  # --lockfile-only: packuments only


def test_in_range_update_of_one_package_in_a_member_keeps_the_others(tmp_path: Path, bun_tool: BunTool) -> None:
    tool, repo = bun_tool(), tmp_path / "repo"
    root = {"name": "root", "private": True, "workspaces": ["packages/*"], "devDependencies": {"is-number": "1.0.0"}}
    member = {"name": "a", "version": "1.0.0", "devDependencies": {"left-pad": "1.0.0"}}
    with local_registry(PACKAGES) as registry:
        ranges = {"": {**root, "devDependencies": {"is-number": "^1.0.0"}}, "packages/a": {**member}}
        ranges["packages/a"]["devDependencies"] = {"left-pad": "^1.0.0"}
        locked(tool, repo, registry, {"": root, "packages/a": member}, ranges)
        result = regenerate_lock(repo, "packages/a", ["left-pad@1.1.0"], timeout=60, registry=registry)
    importers = ("package.json", "packages/a/package.json")
    assert versions(result, "packages/a/package.json", importers)["left-pad"] == "1.1.0"  # not 1.2.0
    assert versions(result, "package.json", importers)["is-number"] == "1.0.0"  # 1.1.0 exists: not moved
    text = result.text or ""
    assert '"left-pad": "^1.0.0"' in text and '"is-number": "^1.0.0"' in text  # the ranges as written
    assert json.loads((repo / "packages" / "a" / "package.json").read_text())["devDependencies"] == {
        "left-pad": "^1.0.0"
    }


@pytest.mark.parametrize("config_version", [0, 1])
def test_maintenance_moves_everything_to_the_newest_in_range_and_keeps_the_config_version(
    tmp_path: Path, bun_tool: BunTool, config_version: int
) -> None:
    tool, repo = bun_tool(), tmp_path / "repo"
    root = {"name": "root", "private": True, "workspaces": ["packages/*"], "dependencies": {"is-number": "2.0.0"}}
    member = {"name": "a", "version": "1.0.0", "dependencies": {"left-pad": "1.0.0", "is-odd": "2.0.0"}}
    with local_registry(PACKAGES) as registry:
        ranges = {"": {**root, "dependencies": {}}, "packages/a": {**member}}
        ranges["packages/a"]["dependencies"] = {"left-pad": "^1.0.0", "is-odd": "^2.0.0"}
        locked(tool, repo, registry, {"": root, "packages/a": member}, ranges)
        lock = repo / "bun.lock"
        # 0: a project from before bun 1.3.2, hoisted; deleting its lockfile would make bun write 1 (isolated).
        lock.write_text(lock.read_text().replace('"configVersion": 1,', f'"configVersion": {config_version},'))
        assert '"is-number": ["is-number@2.0.0"' in lock.read_text()  # is-odd's, left behind
        result = regenerate_lock(repo, "", [], timeout=60, registry=registry, refresh=True)
    member_versions = versions(result, "packages/a/package.json", ("packages/a/package.json",))
    assert member_versions == {"left-pad": "1.2.0", "is-odd": "2.0.0", "is-number": "2.1.0"}  # transitive too
    assert f'"configVersion": {config_version},' in (result.text or "")


def test_the_tool_sees_no_secrets_and_caches_inside_the_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GITHUB_PRIVATE_KEY", "REDIS_URL", "DEPUP_WEBHOOK_SECRET", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "secret-value")
    seen = tmp_path / "seen.json"
    fake = tmp_path / "fake-bun.py"
    fake.write_text(
        "import json, os, sys\n"
        f"open({str(seen)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], 'env': dict(os.environ)}}) + '\\n')\n"
        "open('bun.lock', 'w').write('{}')\n"
    )
    write(tmp_path / "repo" / "package.json", {"name": "app", "dependencies": {"left-pad": "^1.0.0"}})
    (tmp_path / "repo" / "bun.lock").write_text('{"lockfileVersion": 1, "workspaces": {"": {}}}')
    job = Job("bun.lock", None, ("left-pad@1.1.0",), registry="http://127.0.0.1:9/")
    from bot.deps.npm.relock import run_relock

    result = run_relock(BUN, Tool("bun", "1.3.5", (sys.executable, str(fake))), tmp_path / "repo", job, 30, "bun.lock")
    assert result.problem is None
    calls = [json.loads(line) for line in seen.read_text().splitlines()]
    assert [call["argv"][0] for call in calls] == ["add", "install"]
    assert "left-pad@1.1.0" in calls[0]["argv"] and "--ignore-scripts" in calls[0]["argv"]
    for call in calls:
        env = call["env"]
        assert "secret-value" not in json.dumps(env)
        assert env["BUN_CONFIG_REGISTRY"] == "http://127.0.0.1:9/" and env["npm_config_ignore_scripts"] == "true"
        cache = Path(env["BUN_INSTALL_CACHE_DIR"])
        assert cache.name == "bun-cache" and not cache.parent.exists()  # inside the removed scratch folder


def test_references_outside_the_project_stop_bun(tmp_path: Path, bun_tool: BunTool) -> None:
    bun_tool()
    repo = tmp_path / "repo"
    write(repo / "package.json", {"name": "app", "patchedDependencies": {"left-pad@1.0.0": "../../x.patch"}})
    (repo / "bun.lock").write_text(
        '{\n  "lockfileVersion": 1,\n  "workspaces": {"": {"name": "app"},},\n'
        '  "packages": {\n    "evil": ["evil@file:../../../etc", {}],\n  },\n}\n'
    )
    (repo / "bunfig.toml").write_text('[install]\nregistry = "file:///etc/"\npreload = ["x"]\n')
    result = regenerate_lock(repo, "", [], timeout=30)
    assert result.text is None and result.problem is not None
    assert "outside the repository" in result.problem
    for written in ("../../x.patch", "file:../../../etc", "file:///etc/"):
        assert written in result.problem


def test_bunfig_keeps_only_where_packages_come_from(tmp_path: Path) -> None:
    (tmp_path / "bunfig.toml").write_text(
        'preload = ["./setup.ts"]\n[install]\nregistry = { url = "https://r.invalid/", token = "$TOKEN" }\n'
        'linker = "hoisted"\nglobalDir = "/elsewhere"\ncafile = "/etc/passwd"\n'
        '[install.scopes]\nacme = "https://acme.invalid/"\n[install.cache]\ndir = "/tmp/c"\n'
        '[install.security]\nscanner = "@acme/scanner"\n[run]\nshell = "bun"\n'
    )
    expected = {
        "registry": {"url": "https://r.invalid/", "token": "$TOKEN"},
        "linker": "hoisted",
        "scopes": {"acme": "https://acme.invalid/"},
    }
    assert bunfig_install(tmp_path) == expected
    work = tmp_path / "work"
    work.mkdir()
    (work / "bun.lock").write_text('{\n  "lockfileVersion": 1,\n  "configVersion": 0,\n  "workspaces": {}\n}\n')
    BUN.prepare(tmp_path, work, Job("bun.lock", None, refresh=True))
    import tomllib

    assert tomllib.loads((work / "bunfig.toml").read_text()) == {"install": expected}
    seed = parse_jsonc((work / "bun.lock").read_text())
    assert isinstance(seed, Document) and seed.data == {
        "lockfileVersion": 1,
        "configVersion": 0,
        "workspaces": {"": {}},
        "packages": {},
    }
    (tmp_path / "bunfig.toml").write_text("[install\nregistry =")
    assert bunfig_install(tmp_path) == {}


def test_what_bun_cannot_regenerate_is_said(tmp_path: Path) -> None:
    write(tmp_path / "package.json", {"name": "app", "dependencies": {"left-pad": "^1.0.0"}})
    tool = Tool("bun", "1.3.5", ("bun",))
    binary = BUN.steps(tool, tmp_path, Job("bun.lockb", None))
    assert isinstance(binary, str) and "binary" in binary
    old = BUN.steps(Tool("bun", "1.1.38", ("bun",)), tmp_path, Job("bun.lock", None))
    assert isinstance(old, str) and "--lockfile-only" in old and "1.1.43" in old
    transitive = BUN.steps(tool, tmp_path, Job("bun.lock", None, ("is-number@2.1.0", "left-pad@1.1.0")))
    assert isinstance(transitive, str) and "is-number@2.1.0" in transitive and "left-pad" not in transitive
    member = BUN.steps(tool, tmp_path, Job("bun.lock", PurePosixPath("packages/a"), ("left-pad@1.1.0",)))
    assert isinstance(member, str) and "packages/a/package.json" in member
    steps = BUN.steps(tool, tmp_path, Job("bun.lock", None, ("left-pad@1.1.0",)))
    assert not isinstance(steps, str) and [s.restore_manifests for s in steps] == [False, True]


@pytest.mark.parametrize(
    ("lock_text", "versions_wanted"),
    [
        ('{\n  "lockfileVersion": 0,\n', ">=1.1.43 <1.2.0"),
        ('{\n  "lockfileVersion": 1,\n  "configVersion": 1,\n', ">=1.2.0 <1.4.0"),
        ('{\n  "lockfileVersion": 2,\n', ">=1.4.0 <2.0.0"),
        ('{\n  "lockfileVersion": 3,\n', ">=1.4.0 <2.0.0"),
    ],
)
def test_the_bun_that_keeps_the_lockfile_format(lock_text: str, versions_wanted: str) -> None:
    assert BUN.default_versions(lock_text) == versions_wanted
    assert refresh_seed(lock_text).startswith(lock_text.rstrip("\n"))
