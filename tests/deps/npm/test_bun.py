"""Reading bun.lock: real lockfiles (a single package, a workspace), catalogs, overrides, patches, nested copies,
JSONC syntax, corrupt and malformed files; what the scan makes of them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.deps.model import Dependency
from bot.deps.npm.bun import parse_jsonc, read_bun_lock
from bot.deps.npm.jsonspan import Document, JsonError
from bot.deps.npm.locks import Patch
from bot.deps.scan import scan

FIXTURES = Path(__file__).parents[2] / "fixtures" / "manifests" / "bun"
HONO_MEMBERS = (
    "packages/zod-openapi",
    "packages/zod-validator",
    "packages/eslint-config",
    "packages/node-ws",
    "scripts/what-changed",
)
CATALOGS = "generated-bun-1.3.5__catalogs"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def hono_repository(root: Path) -> Path:
    """The honojs/middleware excerpt laid out as the repository has it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "bun.lock").write_text(fixture("honojs__middleware__bun.lock"))
    for folder in ("", *HONO_MEMBERS):
        name = "__".join(["honojs", "middleware", *(folder.split("/") if folder else []), "package.json"])
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "package.json").write_text(fixture(name))
    return root


def catalogs_repository(root: Path) -> Path:
    (root / "packages" / "a").mkdir(parents=True)
    (root / "bun.lock").write_text(fixture(f"{CATALOGS}__bun.lock"))
    (root / "package.json").write_text(fixture(f"{CATALOGS}__package.json"))
    (root / "packages" / "a" / "package.json").write_text(fixture(f"{CATALOGS}__packages__a__package.json"))
    return root


def by_name(dependencies: tuple[Dependency, ...]) -> dict[str, Dependency]:
    return {d.name: d for d in dependencies}


def test_elysia_real_lockfile_locks_every_dependency_of_the_root() -> None:
    package = json.loads(fixture("elysiajs__elysia__package.json"))
    lock = read_bun_lock("bun.lock", fixture("elysiajs__elysia__bun.lock"), {"package.json": package})
    assert (lock.manager, lock.format, lock.readable, lock.problems) == ("bun", "bun.lock v1", True, ())
    locked = lock.locked_for("package.json")
    assert locked["cookie"] == "1.1.1"  # hoisted; "elysia/cookie" (1.1.0) is the registry elysia's own copy
    assert locked["exact-mirror"] == "0.2.7"  # "elysia/exact-mirror" is 0.2.3
    assert locked["@types/cookie"] == "1.0.0" and locked["typescript"] == "5.9.3"
    assert locked["esbuild"] == "0.25.4"  # overridden in package.json: the lock's version, as for any package
    assert locked["minimatch"] == "3.1.2"  # deeper copies (eslint-plugin-sonarjs/minimatch) are not the root's
    assert locked["elysia"] == "1.4.16"  # the published elysia another package depends on
    written = {n for s in ("dependencies", "devDependencies", "peerDependencies") for n in package.get(s, {})}
    assert written <= set(locked)
    assert lock.local == frozenset() and lock.patches == ()
    assert lock.versions["esbuild"] == ("0.25.4",)  # what the override forces
    assert lock.versions["cookie"] == ("1.1.0", "1.1.1") and lock.versions["minimatch"] == ("3.1.2", "9.0.5")


def test_elysia_scan_current_versions_are_the_locked_ones(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(fixture("elysiajs__elysia__package.json"))
    (tmp_path / "bun.lock").write_text(fixture("elysiajs__elysia__bun.lock"))
    result = scan(tmp_path)
    (manifest,) = result.manifests
    assert manifest.lockfile == "bun.lock" and manifest.problems == () and result.unread == ()
    deps = by_name(manifest.dependencies)
    assert deps["memoirist"].locked == "0.4.0" and deps["zod"].locked == "4.1.13"
    assert (deps["esbuild"].location.section, deps["esbuild"].locked) == ("overrides", "0.25.4")
    assert all(d.locked is not None and d.unknown_current is None for d in manifest.dependencies)


def test_hono_workspace_members_get_their_own_copies(tmp_path: Path) -> None:
    root = hono_repository(tmp_path / "repo")
    manifests = {str(p.relative_to(root)): json.loads(p.read_text()) for p in root.rglob("package.json")}
    lock = read_bun_lock("bun.lock", (root / "bun.lock").read_text(), manifests)
    assert lock.format == "bun.lock v1" and lock.problems == ()
    assert set(lock.importers) == set(manifests)  # workspaces "./packages/*" and "./scripts/*"
    assert lock.locked_for("package.json")["zod"] == "3.25.76"  # hoisted
    assert lock.locked_for("packages/zod-openapi/package.json")["zod"] == "4.1.12"  # "@hono/zod-openapi/zod"
    assert lock.locked_for("packages/zod-validator/package.json")["zod"] == "4.1.12"
    assert lock.locked_for("packages/node-ws/package.json")["zod"] == "3.25.76"  # no copy of its own
    assert lock.locked_for("packages/node-ws/package.json")["ws"] == "8.18.3"
    assert {"@hono/eslint-config", "what-changed", "@hono/zod-openapi"} <= lock.local


def test_hono_scan_skips_workspace_siblings_and_knows_every_version(tmp_path: Path) -> None:
    root = hono_repository(tmp_path / "repo")
    result = scan(root)
    assert result.unread == () and result.problems == ()
    manifests = {m.path: m for m in result.manifests}
    assert set(manifests) == {"package.json", *(f"{m}/package.json" for m in HONO_MEMBERS)}
    assert all(m.lockfile == "bun.lock" for m in manifests.values())
    root_deps = by_name(manifests["package.json"].dependencies)
    assert root_deps["@hono/eslint-config"].skip_reason == "workspace protocol"
    assert root_deps["what-changed"].skip_reason == "workspace package"  # "*": a member, never looked up
    openapi = by_name(manifests["packages/zod-openapi/package.json"].dependencies)
    assert openapi["zod"].locked == "4.1.12" and openapi["zod"].group == "@hono/zod-openapi"
    for manifest in manifests.values():
        for dep in manifest.dependencies:
            if dep.skip_reason is None and dep.role.value != "peer":
                assert dep.locked is not None and dep.unknown_current is None, (manifest.path, dep.name)


def test_catalogs_overrides_and_patches_as_bun_writes_them(tmp_path: Path) -> None:
    root = catalogs_repository(tmp_path)
    manifests = {"package.json": None, "packages/a/package.json": None}
    lock = read_bun_lock("bun.lock", (root / "bun.lock").read_text(), manifests)
    assert lock.problems == ()
    assert lock.locked_for("package.json")["react"] == "18.3.1"  # "catalog:" (^18)
    assert lock.locked_for("packages/a/package.json")["react"] == "17.0.2"  # "catalog:legacy" (^17), "a/react"
    assert lock.locked_for("package.json")["is-number"] == "2.0.0"  # overrides: is-number 2.0.0
    assert lock.versions["is-number"] == ("2.0.0",) and lock.versions["left-pad"] == ("1.2.0", "2.0.0")
    assert lock.patches == (Patch("left-pad", "1.2.0", "patches/left-pad@1.2.0.patch"),)
    assert lock.patch_for("left-pad", "1.2.0") is not None and lock.patch_for("left-pad", "2.0.0") is None
    assert lock.local == frozenset({"a"})

    result = scan(root)
    manifests_found = {m.path: by_name(m.dependencies) for m in result.manifests}
    root_deps, member = manifests_found["package.json"], manifests_found["packages/a/package.json"]
    assert root_deps["left-pad"].patched == "patches/left-pad@1.2.0.patch" and root_deps["left-pad"].locked == "1.2.0"
    assert member["left-pad"].locked == "2.0.0" and member["left-pad"].patched is None
    assert (root_deps["react"].skip_reason, root_deps["react"].locked) == ("catalog", "18.3.1")
    assert member["react"].locked == "17.0.2"


def test_a_lockfile_in_a_subfolder_maps_its_importers_and_patches_there() -> None:
    text = fixture(f"{CATALOGS}__bun.lock")
    lock = read_bun_lock("web/bun.lock", text, {"web/package.json": None, "web/packages/a/package.json": None})
    assert set(lock.importers) == {"web/package.json", "web/packages/a/package.json"}
    assert lock.patches == (Patch("left-pad", "1.2.0", "web/patches/left-pad@1.2.0.patch"),)
    assert lock.locks("package.json") is False


def test_jsonc_comments_and_trailing_commas_keep_positions() -> None:
    text = (
        '{\n  // a comment, with "quotes" and a comma,\n'
        '  "a": ["x//y", "/*z*/", "p,]"], /* block\n  */\n  "b": {"c": 1,},\n}\n'
    )
    loaded = parse_jsonc(text)
    assert isinstance(loaded, Document)
    assert loaded.data == {"a": ["x//y", "/*z*/", "p,]"], "b": {"c": 1}}
    members = {m.key: m for m in loaded.members()}
    assert loaded.position(members["b"].key_start) == (5, 3)
    broken = parse_jsonc('{\n  // fine\n  "a": [1,, 2],\n}')
    assert isinstance(broken, JsonError) and (broken.line, broken.column) == (3, 11)
    unterminated = parse_jsonc('{\n  "a": 1 /* never closed\n}')
    assert isinstance(unterminated, JsonError) and (unterminated.line, unterminated.column) == (2, 10)


def test_lockfile_version_0_lists_workspace_packages_with_their_dependencies() -> None:
    text = """{
  "lockfileVersion": 0,
  "workspaces": {
    "": { "name": "root", "dependencies": { "a": "workspace:*" } },
    "packages/a": { "name": "a", "dependencies": { "left-pad": "^1.0.0", "u": "uNetworking/uWebSockets.js#v20" } },
  },
  "packages": {
    "a": ["a@workspace:packages/a", { "dependencies": { "left-pad": "^1.0.0" } }],
    "left-pad": ["left-pad@1.3.0", "", {}, "sha512-x"],
    "a/u": ["uWebSockets.js@github:uNetworking/uWebSockets.js#6609a88", {}, "uNetworking-uWebSockets.js-6609a88"],
  }
}"""
    lock = read_bun_lock("bun.lock", text, {"package.json": None, "packages/a/package.json": None})
    assert lock.format == "bun.lock v0" and lock.problems == ()
    assert dict(lock.locked_for("packages/a/package.json")) == {"left-pad": "1.3.0"}  # a git copy has no version
    assert lock.local == frozenset({"a"})


def test_corrupt_lockfile_is_reported_with_its_place(tmp_path: Path) -> None:
    lines = fixture("elysiajs__elysia__bun.lock").split("\n")
    number = next(i for i, line in enumerate(lines) if line.startswith('    "cookie": ['))
    lines[number] = lines[number].replace('", {}, "', '" {}, "', 1)  # a missing comma
    lock = read_bun_lock("bun.lock", "\n".join(lines), {"package.json": None})
    assert lock.readable is False and lock.importers == {}
    (problem,) = lock.problems
    assert (problem.file, problem.line) == ("bun.lock", number + 1)
    assert problem.column == lines[number].index('" {}') + 3 and "Expecting ','" in problem.message


def test_corrupt_lockfile_leaves_the_rest_of_the_repository_read(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "package.json").write_text(fixture("elysiajs__elysia__package.json"))
    (tmp_path / "api" / "bun.lock").write_text(fixture("elysiajs__elysia__bun.lock")[:4000])  # cut short
    catalogs_repository(tmp_path / "web")
    result = scan(tmp_path)
    (unread,) = result.unread
    assert unread.path == "api/bun.lock" and "not valid JSON" in unread.reason
    api = next(m for m in result.manifests if m.path == "api/package.json")
    (problem,) = api.problems
    assert problem.file == "api/bun.lock" and problem.line > 1
    assert all(d.unknown_current == "api/bun.lock could not be read" for d in api.dependencies if d.role != "peer")
    web = next(m for m in result.manifests if m.path == "web/package.json")
    assert by_name(web.dependencies)["is-odd"].locked == "2.0.0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "is not a JSON object"),
        ('{"workspaces": {}}', "has no lockfileVersion"),
        ('{"lockfileVersion": "1", "workspaces": {}}', "not a number"),
        ('{"lockfileVersion": 1}', "no `workspaces` object"),
    ],
)
def test_lockfiles_without_their_frame_are_unreadable(text: str, message: str) -> None:
    lock = read_bun_lock("bun.lock", text, {"package.json": None})
    assert lock.readable is False and message in lock.problems[0].message


def test_malformed_entries_are_problems_and_the_rest_is_read() -> None:
    text = """{
  "lockfileVersion": 7,
  "workspaces": {
    "": { "name": "root" },
    "packages/x": { "version": "1.0.0" },
    "packages/y": "nope",
  },
  "patchedDependencies": { "left-pad@1.3.0": 3 },
  "packages": {
    "left-pad": ["left-pad@1.3.0", "", {}, "sha512-x"],
    "broken": "not an array",
    "empty": [],
    "nameless": ["1.0.0"],
    "left-pad": ["left-pad@1.2.0", "", {}, "sha512-y"],
  },
}"""
    lock = read_bun_lock("bun.lock", text, {"package.json": None, "packages/x/package.json": None})
    assert lock.readable and lock.format == "bun.lock v7"
    assert dict(lock.locked_for("package.json")) == {}  # listed twice: bun refuses it, so no version is known
    assert not lock.locks("packages/x/package.json")
    found = [(p.line, p.message.split(" (")[0]) for p in lock.problems]
    assert found == [
        (2, "lockfileVersion 7 is newer than the formats depup knows"),
        (11, 'package "broken" should be ["name@version", ...]'),
        (12, 'package "empty" should be ["name@version", ...]'),
        (13, 'package "nameless" should be ["name@version", ...]'),
        (14, 'package "left-pad" is listed twice'),
        (5, 'workspace "packages/x" has no name'),
        (6, 'workspace "packages/y" should be an object'),
        (8, 'patchedDependencies "left-pad@1.3.0" should name a patch file'),
    ]


def test_bun_lockb_is_reported_unread_and_bun_lock_preferred(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(fixture("elysiajs__elysia__package.json"))
    (tmp_path / "bun.lockb").write_bytes(b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n\x00\x01")
    result = scan(tmp_path)
    assert [u.path for u in result.unread] == ["bun.lockb"]
    shutil.copyfile(FIXTURES / "elysiajs__elysia__bun.lock", tmp_path / "bun.lock")
    result = scan(tmp_path)
    assert result.manifests[0].lockfile == "bun.lock"  # bun prefers its text lockfile: the binary one is not used
    assert [(u.path, u.reason) for u in result.unread] == [
        ("bun.lockb", "not used: bun.lock beside it is the lockfile used")
    ]
