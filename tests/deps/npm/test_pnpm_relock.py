"""Regenerating pnpm-lock.yaml with the real pnpm 8, 9, 10 (and 12) against a local registry (no network): range
bumps, in-range updates that move only the named package, catalog edits, workspace members, lockfile maintenance,
and confinement (.pnpmfile.cjs and scripts never run, nothing outside the project followed, no secret seen)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pytest
import yaml

from bot.deps.npm import pnpm
from bot.deps.npm.lockfile import regenerate_lock
from bot.deps.npm.pnpm import PNPM, apply_workspace_edits, parse_pnpm_workspace, read_pnpm_lock
from bot.deps.npm.relock import Job, run_relock
from bot.deps.npm.tools import Tool
from tests.deps.npm.registry import Versions, local_registry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests" / "pnpm"
SECRETS = {"GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----secret", "REDIS_URL": "redis://:pw-5a4b@127.0.0.1/0"}
OLD: dict[str, Versions] = {
    "left-pad": ["1.0.0"],
    "dep-a": {"1.0.0": {"dependencies": {"left-pad": "^1.0.0"}}},
    "react": ["17.0.2", "18.0.0"],
}
NEW: dict[str, Versions] = {
    "left-pad": ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"],
    "dep-a": {"1.0.0": {"dependencies": {"left-pad": "^1.0.0"}}, "1.1.0": {"dependencies": {"left-pad": "^1.0.0"}}},
    "react": ["17.0.2", "18.0.0", "18.2.0", "18.3.1"],
}


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))  # no .npmrc of the machine's user is read
    monkeypatch.setenv("npm_config_cache", str(home / "npm-cache"))


def write(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n")


def workspace(repo: Path, version: str, root: dict[str, str], member: dict[str, str], catalog: str = "") -> None:
    write(repo / "package.json", {"name": "app", "private": True, "packageManager": f"pnpm@{version}",
                                  "dependencies": root})  # fmt: skip
    write(repo / "packages" / "a" / "package.json", {"name": "a", "version": "1.0.0", "dependencies": member})
    write(repo / "pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n" + catalog)
    write(repo / "pnpm-lock.yaml", "")  # a new lockfile is written from nothing


def relock(repo: Path, registry: str, member: str = "", packages: tuple[str, ...] = (), **kw: bool) -> str:
    result = regenerate_lock(repo, member, list(packages), timeout=120, registry=registry, **kw)
    assert result.problem is None, result.problem
    assert result.text is not None and result.lockfile == "pnpm-lock.yaml"
    (repo / result.lockfile).write_text(result.text)
    return result.text


def locked(repo: Path, manifest: str = "package.json") -> dict[str, str]:
    paths = [p for p in repo.rglob("package.json") if "node_modules" not in p.parts]
    manifests = {p.relative_to(repo).as_posix(): json.loads(p.read_text()) for p in paths}
    lock = read_pnpm_lock("pnpm-lock.yaml", (repo / "pnpm-lock.yaml").read_text(), manifests)
    assert lock.readable and not lock.problems, lock.problems
    return dict(lock.locked_for(manifest))


def specifiers(repo: Path, importer: str = ".") -> dict[str, str]:
    document = yaml.safe_load((repo / "pnpm-lock.yaml").read_text())
    entries = document["importers"][importer].get("dependencies", {})
    return {name: entry["specifier"] for name, entry in entries.items()}


@pytest.fixture
def pnpm9(js_tool: Callable[[str], Tool]) -> Tool:
    return js_tool("pnpm9")


@pytest.fixture
def started(tmp_path: Path, pnpm9: Tool) -> Iterator[Path]:
    """A pnpm 9 workspace locked when only the 1.0.0 releases existed."""
    repo = tmp_path / "repo"
    workspace(repo, pnpm9.version, {"left-pad": "^1.0.0", "dep-a": "^1.0.0", "pad": "npm:left-pad@^1.0.0"},
              {"left-pad": "^1.0.0"})  # fmt: skip
    with local_registry(OLD) as registry:
        text = relock(repo, registry)
    assert text.startswith("lockfileVersion: '9.0'")
    assert locked(repo) == {"left-pad": "1.0.0", "dep-a": "1.0.0", "pad": "1.0.0"}
    yield repo


def test_in_range_update_moves_only_the_named_package(started: Path) -> None:
    before = {p: p.read_bytes() for p in started.rglob("*") if p.is_file() and p.name != "pnpm-lock.yaml"}
    with local_registry(NEW) as registry:
        relock(started, registry, packages=("left-pad@1.1.0",))
        assert locked(started) == {"left-pad": "1.1.0", "dep-a": "1.0.0", "pad": "1.0.0"}
        relock(started, registry, packages=("pad@npm:left-pad@1.2.0",))  # an alias
    assert locked(started) == {"left-pad": "1.1.0", "dep-a": "1.0.0", "pad": "1.2.0"}
    assert specifiers(started) == {"left-pad": "^1.0.0", "dep-a": "^1.0.0", "pad": "npm:left-pad@^1.0.0"}
    assert locked(started, "packages/a/package.json") == {"left-pad": "1.0.0"}  # another importer's is kept
    after = {p: p.read_bytes() for p in started.rglob("*") if p.is_file() and p.name != "pnpm-lock.yaml"}
    assert after == before  # the checkout is untouched


def test_catalog_edit_and_in_range_catalog_update(tmp_path: Path, js_tool: Callable[[str], Tool]) -> None:
    tool = js_tool("pnpm10")
    repo = tmp_path / "repo"
    workspace(repo, tool.version, {"left-pad": "^1.0.0"}, {"react": "catalog:"}, "catalog:\n  react: ^17.0.0 # LTS\n")
    with local_registry(OLD) as registry:
        relock(repo, registry)
    assert locked(repo, "packages/a/package.json") == {"react": "17.0.2"}
    text = (repo / "pnpm-workspace.yaml").read_text()
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", text, None, {"packages/a/package.json": {
        "dependencies": {"react": "catalog:"}}})  # fmt: skip
    (react,) = manifest.dependencies
    write(repo / "pnpm-workspace.yaml", apply_workspace_edits(text, [(react, "^18.0.0")]))
    with local_registry(OLD) as registry:
        relock(repo, registry)
    lock = yaml.safe_load((repo / "pnpm-lock.yaml").read_text())
    assert lock["catalogs"] == {"default": {"react": {"specifier": "^18.0.0", "version": "18.0.0"}}}
    assert locked(repo, "packages/a/package.json") == {"react": "18.0.0"}
    with local_registry(NEW) as registry:  # in range: the catalog keeps ^18.0.0, the lock moves to 18.2.0
        relock(repo, registry, packages=("react@18.2.0",))
    lock = yaml.safe_load((repo / "pnpm-lock.yaml").read_text())
    assert lock["catalogs"] == {"default": {"react": {"specifier": "^18.0.0", "version": "18.2.0"}}}
    assert locked(repo, "packages/a/package.json") == {"react": "18.2.0"}
    assert locked(repo) == {"left-pad": "1.0.0"}
    assert (
        repo / "pnpm-workspace.yaml"
    ).read_text() == "packages:\n  - 'packages/*'\ncatalog:\n  react: ^18.0.0 # LTS\n"


def test_pnpmfile_and_scripts_never_run(tmp_path: Path, pnpm9: Tool) -> None:
    repo = tmp_path / "repo"
    marker = tmp_path / "ran"
    workspace(repo, pnpm9.version, {"left-pad": "^1.0.0"}, {})
    package = json.loads((repo / "package.json").read_text())
    package["scripts"] = {script: f"node -e \"require('fs').writeFileSync('{marker}', '{script}')\""
                          for script in ("preinstall", "install", "postinstall", "prepare")}  # fmt: skip
    write(repo / "package.json", package)
    hook = f"require('fs').writeFileSync({json.dumps(str(marker))}, 'pnpmfile')\n"
    hook += "module.exports = {hooks: {readPackage(p) {\n"
    hook += "  p.dependencies = {...p.dependencies, 'dep-a': '1.0.0'}; return p }}}\n"
    write(repo / ".pnpmfile.cjs", hook)
    write(repo / "pnpm-workspace.yaml", "packages:\n  - 'packages/*'\npnpmfile: .pnpmfile.cjs\nconfigDependencies:\n"
                                       "  evil: 1.0.0\nscriptShell: /bin/false\n")  # fmt: skip
    with local_registry(NEW) as registry:
        text = relock(repo, registry)
    assert not marker.exists()
    assert "dep-a" not in text  # the readPackage hook did not run
    assert locked(repo) == {"left-pad": "1.2.0"}


def test_a_workspace_file_above_the_copy_is_never_read(
    tmp_path: Path, pnpm9: Tool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy lives in the shared temporary folder: pnpm would take a pnpm-workspace.yaml planted there."""
    planted = tmp_path / "shared-tmp"
    write(planted / "pnpm-workspace.yaml", "packages: ['**']\noverrides:\n  left-pad: 1.0.0\n")
    monkeypatch.setattr(tempfile, "tempdir", str(planted))
    repo = tmp_path / "repo"
    write(repo / "package.json", {"name": "app", "packageManager": f"pnpm@{pnpm9.version}",
                                  "dependencies": {"left-pad": "^1.0.0"}})  # fmt: skip
    write(repo / "pnpm-lock.yaml", "")
    with local_registry(NEW) as registry:
        text = relock(repo, registry)
    assert "overrides" not in text and locked(repo) == {"left-pad": "1.2.0"}
    assert not (planted / "pnpm-lock.yaml").exists()


def test_the_tool_sees_no_secret_and_only_the_filtered_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in for pnpm records what it was given: environment, arguments and the copied files."""
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DEPUP_NPM_REGISTRY", "http://127.0.0.1:9/")
    repo = tmp_path / "repo"
    workspace(repo, "9.15.9", {"left-pad": "^1.0.0"}, {"left-pad": "1.0.0"})
    write(repo / "pnpm-workspace.yaml", "packages: ['packages/*']\ncatalog: {react: ^18.0.0}\nautoInstallPeers: false\n"
          "configDependencies: {evil: 1.0.0}\nstoreDir: /tmp/elsewhere\npatchedDependencies:\n"
          "  left-pad@1.0.0: patches/left-pad.patch\n")  # fmt: skip
    write(repo / "patches" / "left-pad.patch", "diff\n")
    write(repo / ".npmrc", "registry=http://127.0.0.1:9/\nauto-install-peers=false\nscript-shell=/bin/evil\n"
                           "node-options=--require /tmp/x.js\n//127.0.0.1:9/:_authToken=abc\n")  # fmt: skip
    write(repo / ".pnpmfile.cjs", "module.exports = {}\n")
    write(repo / "pnpm-lock.yaml", "lockfileVersion: '9.0'\n")
    script = tmp_path / "fake_pnpm.py"
    script.write_text(
        "import json, os, sys, pathlib\n"
        "files = sorted(str(p) for p in pathlib.Path('.').rglob('*') if p.is_file())\n"
        "seen = {'env': dict(os.environ), 'argv': sys.argv[1:], 'files': files,\n"
        "        'workspace': open('pnpm-workspace.yaml').read(), 'npmrc': open('.npmrc').read()}\n"
        "pathlib.Path('pnpm-lock.yaml').write_text(json.dumps(seen))\n"
    )
    tool = Tool("pnpm", "9.15.9", (sys.executable, str(script)))
    job = Job("pnpm-lock.yaml", None, registry="http://127.0.0.1:9/")
    result = run_relock(PNPM, tool, repo, job, 60, "pnpm-lock.yaml")
    assert result.problem is None and result.text is not None
    seen = json.loads(result.text)
    assert not set(SECRETS) & set(seen["env"]) and "DEPUP_NPM_REGISTRY" not in seen["env"]
    assert seen["argv"][:4] == ["install", "--lockfile-only", "--ignore-scripts", "--ignore-pnpmfile"]
    assert "--registry=http://127.0.0.1:9/" in seen["argv"]
    env = seen["env"]
    assert env["npm_config_manage_package_manager_versions"] == env["pnpm_config_manage_package_manager_versions"]
    assert env["pnpm_config_manage_package_manager_versions"] == "false" and env["pnpm_config_pm_on_fail"] == "ignore"
    assert env["npm_config_ignore_scripts"] == "true" and env["pnpm_config_ignore_pnpmfile"] == "true"
    scratch = Path(env["pnpm_config_store_dir"]).parent
    assert Path(env["XDG_CONFIG_HOME"]).parent == scratch and not str(scratch).startswith(str(repo))
    assert yaml.safe_load(seen["workspace"]) == {
        "packages": ["packages/*"],
        "catalog": {"react": "^18.0.0"},
        "autoInstallPeers": False,
        "patchedDependencies": {"left-pad@1.0.0": "patches/left-pad.patch"},
    }
    assert seen["npmrc"] == "registry=http://127.0.0.1:9/\nauto-install-peers=false\n"
    assert "patches/left-pad.patch" in seen["files"] and ".pnpmfile.cjs" not in seen["files"]


def test_references_outside_the_repository_refuse(tmp_path: Path, pnpm9: Tool) -> None:
    repo = tmp_path / "repo"
    workspace(repo, "9.15.9", {"here": "link:./vendor/here"}, {"there": "link:../../../there"})
    assert [o.written for o in PNPM.outside(repo, "pnpm-lock.yaml")] == ["link:../../../there"]
    package = json.loads((repo / "package.json").read_text())
    package["pnpm"] = {"patchedDependencies": {"a@1.0.0": "../a.patch"}, "overrides": {"b": "file:../../b"}}
    write(repo / "package.json", package)
    write(repo / "pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n  - '../*'\ncatalog:\n  c: file:../c\n")
    lock = (
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      d:\n        specifier: file:./d\n"
        "        version: file:../d\n  ../outside: {}\n  packages/a:\n    dependencies:\n      b:\n"
        "        specifier: link:../b\n        version: link:../b\n      f:\n        specifier: file:../f\n"
        "        version: file:packages/f\npackages:\n  e@file:../../e:\n"
        "    resolution: {directory: ../../e, type: directory}\n"
    )
    write(repo / "pnpm-lock.yaml", lock)
    found = {(o.file, o.written) for o in PNPM.outside(repo, "pnpm-lock.yaml")}
    assert found >= {
        ("packages/a/package.json", "link:../../../there"),
        ("package.json", "../a.patch"),
        ("package.json", "file:../../b"),
        ("pnpm-workspace.yaml", "../*"),
        ("pnpm-workspace.yaml", "file:../c"),
        ("pnpm-lock.yaml", "file:../d"),
        ("pnpm-lock.yaml", "../outside"),
        ("pnpm-lock.yaml", "../../e"),
    }
    inside = {"link:../b", "file:../f", "file:packages/f"}  # relative to packages/a, or to the lockfile
    assert not inside & {o.written for o in PNPM.outside(repo, "pnpm-lock.yaml")}
    result = regenerate_lock(repo, "", [], timeout=30, registry="http://127.0.0.1:9/")
    assert result.text is None and result.problem is not None and "outside the repository" in result.problem
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(12)
    )
    write(repo / "pnpm-workspace.yaml", "packages: ['packages/*']\ncatalogs:\n  " + laughs.replace("\n", "\n  "))
    (refused,) = [o for o in PNPM.outside(repo, "pnpm-lock.yaml") if o.file == "pnpm-workspace.yaml"]
    assert (refused.where, refused.written) == ("4", "a YAML alias: depup does not expand them for pnpm")


def test_a_pnpm_this_node_cannot_run_is_said(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    folder = tmp_path / "pnpm@11.19.0" / "node_modules" / "pnpm"
    write(folder / "package.json", {"name": "pnpm", "version": "11.19.0", "engines": {"node": ">=999"}})
    write(folder / "bin" / "pnpm.cjs", "")
    tool = Tool("pnpm", "11.19.0", (node, str(folder / "bin" / "pnpm.cjs")))
    reason = PNPM.steps(tool, tmp_path, Job("pnpm-lock.yaml", None))
    assert isinstance(reason, str) and "pnpm 11.19.0 needs Node >=999 and this worker runs Node" in reason
    assert reason.endswith("the lockfile is left to CI")
    write(folder / "package.json", {"name": "pnpm", "version": "11.19.0", "engines": {"node": ">=18"}})
    assert isinstance(PNPM.steps(tool, tmp_path, Job("pnpm-lock.yaml", None)), list)


def test_pins_for_in_range_updates(tmp_path: Path) -> None:
    """What the first install of an in-range update is given: exact versions where the ranges are written."""
    work = tmp_path / "work"
    write(work / "package.json", {"dependencies": {"left-pad": "^1.0.0", "pad": "npm:left-pad@^1.0.0"},
                                  "devDependencies": {"react": "catalog:"}})  # fmt: skip
    write(work / "packages/a/package.json", {"dependencies": {"react": "catalog:", "vue": "catalog:v3"}})
    write(work / "packages/b/package.json", {"dependencies": {"react": "catalog:old", "vue": "^3.0.0"}})
    write(work / "pnpm-workspace.yaml", "catalog:\n  react: ^18.0.0\ncatalogs:\n  old:\n    react: ^17.0.0\n"
          "  v3:\n    vue: npm:@vue/core@^3.0.0\n")  # fmt: skip
    assert pnpm._pin(work, None, ["left-pad@1.1.0", "pad@npm:left-pad@1.2.0", "react@18.2.0"]) is None
    root = json.loads((work / "package.json").read_text())
    assert root == {"dependencies": {"left-pad": "1.1.0", "pad": "npm:left-pad@1.2.0"},
                    "devDependencies": {"react": "18.2.0"}}  # fmt: skip
    a = json.loads((work / "packages/a/package.json").read_text())
    b = json.loads((work / "packages/b/package.json").read_text())
    assert a["dependencies"]["react"] == "18.2.0" and b["dependencies"]["react"] == "catalog:old"
    assert pnpm._pin(work, PurePosixPath("packages/a"), ["vue@3.4.0"]) is None  # the member's catalog entry
    a = json.loads((work / "packages/a/package.json").read_text())
    b = json.loads((work / "packages/b/package.json").read_text())
    assert a["dependencies"]["vue"] == "npm:@vue/core@3.4.0" and b["dependencies"]["vue"] == "^3.0.0"
    problem = pnpm._pin(work, PurePosixPath("packages/b"), ["nothing@1.0.0"])
    assert problem is not None and "nothing is neither in packages/b/package.json" in problem


@pytest.mark.slow
def test_lockfile_6_with_pnpm_8_and_a_member_edit(tmp_path: Path, js_tool: Callable[[str], Tool]) -> None:
    tool = js_tool("pnpm8")
    repo = tmp_path / "repo"
    workspace(repo, tool.version, {"dep-a": "^1.0.0"}, {"left-pad": "^1.0.0"})
    with local_registry(OLD) as registry:
        relock(repo, registry, "packages/a")
    assert (repo / "pnpm-lock.yaml").read_text().startswith("lockfileVersion: '6.0'")
    member = json.loads((repo / "packages/a/package.json").read_text())
    member["dependencies"]["left-pad"] = "^2.0.0"
    write(repo / "packages/a/package.json", member)
    with local_registry(NEW) as registry:
        text = relock(repo, registry, "packages/a")
    assert text.startswith("lockfileVersion: '6.0'")
    assert locked(repo, "packages/a/package.json") == {"left-pad": "2.1.0"}
    assert locked(repo) == {"dep-a": "1.0.0"}
    with local_registry(NEW) as registry:
        relock(repo, registry, "packages/a", packages=("left-pad@2.0.0",))
    assert locked(repo, "packages/a/package.json") == {"left-pad": "2.0.0"}
    assert specifiers(repo, "packages/a") == {"left-pad": "^2.0.0"}


@pytest.mark.slow
def test_lockfile_maintenance_moves_every_range_to_its_newest(started: Path) -> None:
    with local_registry(NEW) as registry:
        relock(started, registry, refresh=True)
    assert locked(started) == {"left-pad": "1.2.0", "dep-a": "1.1.0", "pad": "1.2.0"}
    assert locked(started, "packages/a/package.json") == {"left-pad": "1.2.0"}
    assert specifiers(started) == {"left-pad": "^1.0.0", "dep-a": "^1.0.0", "pad": "npm:left-pad@^1.0.0"}


@pytest.mark.slow
def test_a_patched_version_is_not_moved_without_its_patch(tmp_path: Path, pnpm9: Tool) -> None:
    repo = tmp_path / "repo"
    workspace(repo, pnpm9.version, {"left-pad": "^1.0.0"}, {})
    package = json.loads((repo / "package.json").read_text())
    package["pnpm"] = {"patchedDependencies": {"left-pad@1.0.0": "patches/left-pad@1.0.0.patch"}}
    write(repo / "package.json", package)
    write(repo / "patches" / "left-pad@1.0.0.patch", "diff --git a/x.js b/x.js\nnew file mode 100644\n"
          "--- /dev/null\n+++ b/x.js\n@@ -0,0 +1 @@\n+x\n")  # fmt: skip
    with local_registry(OLD) as registry:
        text = relock(repo, registry)
    assert "path: patches/left-pad@1.0.0.patch" in text  # the patch file was copied and hashed
    with local_registry(NEW) as registry:
        result = regenerate_lock(repo, "", ["left-pad@1.1.0"], 120, registry)
    assert result.text is None and result.problem is not None and "left-pad@1.0.0" in result.problem


@pytest.mark.slow
def test_pnpm_12_native_binary_keeps_its_own_lockfile_document(tmp_path: Path, js_tool: Callable[[str], Tool]) -> None:
    tool = js_tool("pnpm12")
    assert len(tool.argv) == 1  # the platform's binary, run without node
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "generated-pnpm-12.26.0-packageManager", repo)
    before = (repo / "pnpm-lock.yaml").read_text()
    # pnpm 12 locks the pnpm packageManager names in a document of its own: the registry serves a stand-in
    packages: dict[str, Versions] = {
        "left-pad": ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"],
        "react": ["17.0.2", "18.2.0", "18.3.1"],
        "uses-peer": {"1.1.0": {"peerDependencies": {"react": "*"}}},
        "is-number": ["7.0.0"],
        "dep-of": {"1.0.0": {"dependencies": {"is-number": "^7.0.0"}}},
        "pnpm": {tool.version: {"optionalDependencies": {"@pnpm/exe.linux-x64": tool.version}}},
        "@pnpm/exe.linux-x64": {tool.version: {"os": ["linux"], "cpu": ["x64"]}},
    }
    with local_registry(packages) as registry:
        # in range, through the catalog: the lock moves to the version asked (here an older one), the ranges stay
        text = relock(repo, registry, packages=("pad@npm:left-pad@2.1.0", "react@18.2.0"))
    assert text.split("\n---\n", 1)[0] == before.split("\n---\n", 1)[0]  # pnpm's own document, unchanged
    root = {"left-pad": "1.2.0", "pad": "2.1.0", "uses-peer": "1.1.0", "react": "18.2.0", "dep-of": "1.0.0"}
    assert locked(repo) == root
    assert locked(repo, "packages/a/package.json") == {"left-pad": "1.1.0", "react": "17.0.2"}
    assert (repo / "pnpm-workspace.yaml").read_text() == (
        FIXTURES / "generated-pnpm-12.26.0-packageManager" / "pnpm-workspace.yaml"
    ).read_text()
    with local_registry(packages) as registry:  # maintenance starts from nothing but pnpm's own document
        text = relock(repo, registry, refresh=True)
    assert text.split("\n---\n", 1)[0] == before.split("\n---\n", 1)[0]
    assert locked(repo)["pad"] == "2.1.0" and locked(repo, "packages/a/package.json")["react"] == "17.0.2"


def test_a_catalog_upgrade_through_the_engine_edits_the_workspace_file_and_relocks(
    tmp_path: Path, js_tool: Callable[[str], Tool]
) -> None:
    from bot.deps.apply import Selected, apply_updates
    from bot.deps.proposals import Update
    from bot.deps.scan import scan

    tool = js_tool("pnpm10")
    repo = tmp_path / "repo"
    workspace(repo, tool.version, {"left-pad": "^1.0.0"}, {"react": "catalog:"}, "catalog:\n  react: ^17.0.0 # LTS\n")
    with local_registry(OLD) as registry:
        relock(repo, registry)
    manifests = {m.path: m for m in scan(repo).manifests}
    catalog = manifests["pnpm-workspace.yaml"]
    (react,) = catalog.dependencies
    assert (react.name, react.locked, react.location.section) == ("react", "17.0.2", "catalog")
    member = {d.name: d for d in manifests["packages/a/package.json"].dependencies}
    assert member["react"].skip_reason == "catalog"
    with local_registry(NEW) as registry:
        changes = apply_updates(
            repo, [Selected(catalog, react, Update("18.3.1", "^18.3.1", "major", True, "bump"))], npm_registry=registry
        )
    assert changes.problems == ()
    assert [c.path for c in changes.changes] == ["pnpm-lock.yaml", "pnpm-workspace.yaml"]
    assert changes.text("pnpm-workspace.yaml") == "packages:\n  - 'packages/*'\ncatalog:\n  react: ^18.3.1 # LTS\n"
    assert locked(repo, "packages/a/package.json") == {"react": "18.3.1"}
    assert locked(repo) == {"left-pad": "1.0.0"}
