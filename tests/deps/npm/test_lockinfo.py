"""Locked versions from package-lock.json v1, v2 and v3 and npm-shrinkwrap.json: workspaces (real lit/lit
files), nested copies, aliases, overrides, file: links of v1, corrupt files."""

from __future__ import annotations

import json
from pathlib import Path

from bot.deps.model import Role
from bot.deps.npm.lockinfo import read_lock, read_npm_lock
from bot.deps.npm.manifest import parse_package_json
from bot.deps.scan import scan

FIXTURES = Path(__file__).parents[2] / "fixtures" / "manifests" / "npm"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def test_v3_real_lockfile_with_nested_copies() -> None:
    lock = read_lock(
        "examples/hello-world/package-lock.json",
        fixture("expressjs__express__examples__hello-world__package-lock.json"),
    )
    assert (lock.lockfile_version, lock.problems) == (3, ())
    assert lock.directory == "examples/hello-world"
    assert lock.version_for("examples/hello-world/package.json", "express") == "5.1.0"
    assert dict(lock.locked_for("examples/hello-world/package.json")) == {"accepts": "2.0.0", "express": "5.1.0"}
    manifest = parse_package_json(
        "examples/hello-world/package.json", fixture("expressjs__express__examples__hello-world__package.json"), lock
    )
    assert [(d.name, d.locked) for d in manifest.dependencies] == [("express", "5.1.0")]
    assert manifest.lockfile == "examples/hello-world/package-lock.json"
    assert lock.locked_for("package.json") == {}
    assert lock.version_for("other/package.json", "express") is None


def test_v2_real_lockfile_with_a_file_link() -> None:
    lock = read_lock(
        "package-lock.json", fixture("expressjs__express__examples__ecma-module-simple__package-lock.json")
    )
    assert (lock.lockfile_version, lock.problems) == (2, ())
    manifest = parse_package_json(
        "package.json", fixture("expressjs__express__examples__ecma-module-simple__package.json"), lock
    )
    (express,) = manifest.dependencies
    assert (express.constraint, express.skip_reason, express.locked) == ("file:../..", "local path", "5.0.0-alpha.6")


def test_v1_real_lockfile_is_read_and_reported_old() -> None:
    lock = read_lock("package-lock.json", fixture("expressjs__express__examples__redis-todo__package-lock.json"))
    assert lock.lockfile_version == 1
    (problem,) = lock.problems
    assert "lockfileVersion 1" in problem.message and problem.file == "package-lock.json"
    assert lock.version_for("package.json", "bcryptjs") == "2.4.3"
    assert lock.installed["node_modules/concat-stream/node_modules/readable-stream"] == "2.3.6"
    manifest = parse_package_json(
        "package.json", fixture("expressjs__express__examples__redis-todo__package.json"), lock
    )
    assert {d.name: d.locked for d in manifest.dependencies}["bcryptjs"] == "2.4.3"
    assert {d.name: d.locked for d in manifest.dependencies}["express"] is None  # trimmed out of the fixture
    assert problem in manifest.problems


def test_v1_aliases_report_the_real_version() -> None:
    text = json.dumps({"lockfileVersion": 1, "dependencies": {"old": {"version": "npm:left-pad@1.3.0"}}})
    assert read_lock("package-lock.json", text).version_for("package.json", "old") == "1.3.0"


WORKSPACE_LOCK = {
    "name": "root",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "root", "workspaces": ["packages/*"], "devDependencies": {"typescript": "^5.0.0"}},
        "node_modules/@acme/a": {"resolved": "packages/a", "link": True},
        "node_modules/@acme/b": {"resolved": "packages/b", "link": True},
        "node_modules/typescript": {"version": "5.4.5", "dev": True},
        "node_modules/react": {"version": "18.3.1"},
        "node_modules/old-alias": {"name": "left-pad", "version": "1.3.0"},
        "packages/a": {"name": "@acme/a", "version": "1.2.0", "dependencies": {"react": "^18.0.0", "@acme/b": "*"}},
        "packages/b": {"name": "@acme/b", "version": "0.4.0", "dependencies": {"react": "^17.0.0"}},
        "packages/b/node_modules/react": {"version": "17.0.2"},
        "packages/b/node_modules/@types/react": {"version": "17.0.80"},
        "broken": "not an object",
    },
}


def test_workspace_members_resolve_nearest_first() -> None:
    lock = read_lock("package-lock.json", json.dumps(WORKSPACE_LOCK))
    assert lock.version_for("packages/a/package.json", "react") == "18.3.1"  # hoisted
    assert lock.version_for("packages/b/package.json", "react") == "17.0.2"  # nested copy wins
    assert lock.version_for("packages/a/package.json", "@acme/b") == "0.4.0"  # link to a workspace member
    assert lock.version_for("package.json", "old-alias") == "1.3.0"
    member_b = lock.locked_for("packages/b/package.json")
    assert member_b["react"] == "17.0.2" and member_b["@types/react"] == "17.0.80"
    assert member_b["typescript"] == "5.4.5"
    assert "@types/react" not in lock.locked_for("package.json")
    text = json.dumps({"name": "@acme/b", "dependencies": {"react": "^17.0.0"}})
    manifest = parse_package_json("packages/b/package.json", text, lock)
    assert [(d.name, d.locked) for d in manifest.dependencies] == [("react", "17.0.2")]
    assert manifest.lockfile == "package-lock.json"
    assert manifest.problems == ()


def test_unreadable_lockfiles_are_problems() -> None:
    bad = read_lock("package-lock.json", "{ nope")
    assert bad.lockfile_version is None and bad.problems[0].line == 1 and bad.installed == {}
    assert "not a JSON object" in read_lock("package-lock.json", "[]").problems[0].message
    empty = read_lock("package-lock.json", '{"lockfileVersion": 3}')
    assert empty.lockfile_version == 3 and "neither" in empty.problems[0].message
    assert read_lock("package-lock.json", '{"lockfileVersion": true, "packages": {}}').lockfile_version is None


LIT_MEMBERS = ("examples/nextjs-v14", "packages/tests-typescript")


def lit_repository(root: Path, lock_name: str = "package-lock.json") -> Path:
    """The lit/lit excerpt (npm workspaces, lockfileVersion 3) laid out as the repository has it."""
    (root / lock_name).parent.mkdir(parents=True, exist_ok=True)
    (root / lock_name).write_text(fixture("lit__lit__package-lock.json"))
    for folder in ("", *LIT_MEMBERS):
        name = "__".join(["lit", "lit", *(folder.split("/") if folder else []), "package.json"])
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "package.json").write_text(fixture(name))
    return root


def test_real_workspace_lockfile_per_importer(tmp_path: Path) -> None:
    # Every value below is what `npm ls --package-lock-only --workspaces` says for lit/lit's whole lockfile.
    root = lit_repository(tmp_path)
    manifests = {"package.json": None, **{f"{m}/package.json": None for m in LIT_MEMBERS}}
    lock = read_npm_lock("package-lock.json", (root / "package-lock.json").read_text(), manifests)
    assert (lock.format, lock.problems, set(lock.importers)) == ("package-lock.json v3", (), set(manifests))
    top, next14 = lock.locked_for("package.json"), lock.locked_for("examples/nextjs-v14/package.json")
    assert (top["typescript"], top["next"]) == ("5.9.2", "13.5.11")  # hoisted
    assert (next14["typescript"], next14["next"]) == ("5.3.3", "14.2.32")  # the member's own nested copies
    assert next14["react"] == "18.3.1"  # hoisted, seen from the member
    typescripts = lock.locked_for("packages/tests-typescript/package.json")
    assert (typescripts["typescript5_5"], typescripts["typescript5_8"]) == ("5.5.4", "5.8.3")  # npm: aliases
    assert lock.versions["typescript"] == ("5.3.3", "5.5.4", "5.6.3", "5.7.3", "5.8.3", "5.9.2")  # aliases: real name
    assert "typescript5_5" not in lock.versions
    assert lock.versions["@rollup/pluginutils"] == ("5.2.0",)  # what the root's override forces
    assert {"lit", "@lit-examples/nextjs-v14", "@lit-internal/tests-typescript"} <= lock.local


def test_real_workspace_scan_reads_every_member_and_skips_siblings(tmp_path: Path) -> None:
    result = scan(lit_repository(tmp_path))
    assert result.unread == () and result.problems == ()
    manifests = {m.path: {d.name: d for d in m.dependencies} for m in result.manifests}
    next14 = manifests["examples/nextjs-v14/package.json"]
    assert next14["next"].locked == "14.2.32" and next14["next"].group == "@lit-examples/nextjs-v14"
    assert next14["lit"].skip_reason == "workspace package"  # "^3.0.0", but the workspace's own lit
    assert manifests["packages/tests-typescript/package.json"]["typescript5_6"].locked == "5.6.3"
    override = manifests["package.json"]["@rollup/pluginutils"]
    assert (override.location.section, override.locked) == ("overrides", "5.2.0")
    for path, deps in manifests.items():
        for dep in deps.values():
            if dep.skip_reason is None and dep.role is not Role.PEER and "." not in dep.location.section:
                assert dep.locked is not None and dep.unknown_current is None, (path, dep.name)


def test_a_member_the_lockfile_does_not_list_is_not_locked(tmp_path: Path) -> None:
    root = lit_repository(tmp_path)
    (root / "examples" / "new").mkdir()
    (root / "examples" / "new" / "package.json").write_text('{"name": "new", "dependencies": {"react": "^18"}}')
    result = scan(root)
    new = next(m for m in result.manifests if m.path == "examples/new/package.json")
    (react,) = new.dependencies
    assert react.locked is None and react.unknown_current == "package-lock.json does not lock examples/new/package.json"


def test_shrinkwrap_is_read_like_the_lockfile_and_preferred(tmp_path: Path) -> None:
    root = lit_repository(tmp_path, "npm-shrinkwrap.json")
    (root / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"": {}}}')
    result = scan(root)
    member = next(m for m in result.manifests if m.path == "examples/nextjs-v14/package.json")
    assert member.lockfile == "npm-shrinkwrap.json"
    assert {d.name: d.locked for d in member.dependencies}["typescript"] == "5.3.3"


def test_corrupt_real_lockfile_has_its_place_and_the_members_are_unknown(tmp_path: Path) -> None:
    root = lit_repository(tmp_path)
    lines = (root / "package-lock.json").read_text().split("\n")
    number = next(i for i, line in enumerate(lines) if line == '    "node_modules/typescript": {')
    lines[number] = '    "node_modules/typescript" {'
    (root / "package-lock.json").write_text("\n".join(lines))
    result = scan(root)
    assert [u.path for u in result.unread] == ["package-lock.json"]
    top = next(m for m in result.manifests if m.path == "package.json")
    problem = next(p for p in top.problems if p.file == "package-lock.json")
    assert (problem.line, problem.column) == (number + 1, 31) and "':' delimiter" in problem.message
    member = next(m for m in result.manifests if m.path == "examples/nextjs-v14/package.json")
    assert {d.unknown_current for d in member.dependencies if d.skip_reason is None} == {
        "package-lock.json could not be read"
    }


V1_WITH_LINK = {
    "name": "root",
    "lockfileVersion": 1,
    "requires": True,
    "dependencies": {
        "a": {
            "version": "file:packages/a",
            "requires": {"left-pad": "^1.3.0"},
            "dependencies": {
                "left-pad": {"version": "1.3.0"},
            },
        },
        "left-pad": {"version": "1.1.0"},
        "react": {"version": "17.0.2"},
        "old": {"version": "npm:left-pad@1.2.0"},
    },
}


def test_v1_locks_the_folders_it_links_with_their_nested_dependencies() -> None:
    text = json.dumps(V1_WITH_LINK)
    manifests = {"package.json": None, "packages/a/package.json": None, "packages/b/package.json": None}
    lock = read_npm_lock("package-lock.json", text, manifests)
    assert lock.format == "package-lock.json v1" and "lockfileVersion 1" in lock.problems[0].message
    assert set(lock.importers) == {"package.json", "packages/a/package.json"}  # npm 6 had no workspaces
    assert dict(lock.locked_for("packages/a/package.json")) == {"left-pad": "1.3.0", "react": "17.0.2", "old": "1.2.0"}
    assert lock.locked_for("package.json")["left-pad"] == "1.1.0" and "a" not in lock.locked_for("package.json")
    assert lock.local == frozenset({"a"})
    assert lock.versions["left-pad"] == ("1.1.0", "1.2.0", "1.3.0")  # the alias counted as left-pad
