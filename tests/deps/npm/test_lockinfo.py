"""Locked versions from package-lock.json v1, v2 and v3, including workspaces."""

from __future__ import annotations

import json
from pathlib import Path

from bot.deps.npm.lockinfo import read_lock
from bot.deps.npm.manifest import parse_package_json

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
