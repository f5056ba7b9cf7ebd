"""Reading yarn.lock: real files of real projects (jest: yarn 4 Berry workspaces; mobx: yarn 1 workspaces), the
version locked per workspace importer, resolutions, patches, aliases, local packages, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.deps.npm.locks import JsLock, Patch
from bot.deps.npm.yarn import YARN, parse_v1, read_yarn_lock, relabel
from bot.deps.scan import scan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests" / "yarn"


def fixture(owner_repo: str, path: str) -> str:
    return (FIXTURES / f"{owner_repo}__{path.replace('/', '__')}").read_text(encoding="utf-8")


def project(owner_repo: str, paths: list[str]) -> tuple[str, dict[str, object]]:
    manifests: dict[str, object] = {p: json.loads(fixture(owner_repo, p)) for p in paths}
    return fixture(owner_repo, "yarn.lock"), manifests


JEST = ["package.json", "packages/jest/package.json", "packages/jest-util/package.json"]
MOBX = [
    "package.json",
    "packages/mobx/package.json",
    "packages/mobx-react/package.json",
    "packages/mobx-react-lite/package.json",
]


def registry_dependencies(document: object) -> dict[str, str]:
    assert isinstance(document, dict)
    found: dict[str, str] = {}
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        for name, raw in document.get(section, {}).items():
            if not raw.startswith(("workspace:", "link:", "file:", "portal:")):
                found[name] = raw
    return found


def test_berry_workspaces_lock_every_registry_dependency_of_every_importer() -> None:
    text, manifests = project("jestjs__jest", JEST)
    lock = read_yarn_lock("yarn.lock", text, manifests)
    assert isinstance(lock, JsLock)
    assert (lock.manager, lock.format, lock.readable, lock.problems) == (
        "yarn",
        "yarn.lock (Berry, metadata v10)",
        True,
        (),
    )
    assert sorted(lock.importers) == sorted(JEST)
    for path in JEST:
        assert set(lock.locked_for(path)) == set(registry_dependencies(manifests[path])), path
    root, util = lock.locked_for("package.json"), lock.locked_for("packages/jest-util/package.json")
    # "@types/node": "^18.14" and "*" are both locked as "@types/node@npm:18.x" (resolutions "@types/node": "18.x").
    assert root["@types/node"] == util["@types/node"] == "18.19.130"
    assert root["ts-node"] == "10.9.2"  # through its patch: resolution
    assert root["typescript"] == "5.9.3"  # yarn's builtin compat patch: the registry version
    assert (root["@babel/core"], util["chalk"], util["picomatch"]) == ("7.29.7", "4.1.2", "4.0.5")
    assert lock.locked_for("packages/jest/package.json") == {"import-local": "3.2.0"}


def test_berry_resolutions_patches_and_local_packages() -> None:
    text, manifests = project("jestjs__jest", JEST)
    lock = read_yarn_lock("yarn.lock", text, manifests)
    assert isinstance(lock, JsLock)
    assert lock.patches == (Patch("ts-node", "10.9.2", ".yarn/patches/ts-node-npm-10.9.1-6c268be7f4.patch"),)
    assert lock.patch_for("ts-node", "10.9.2") is not None and lock.patch_for("typescript", "5.9.3") is None
    assert dict(lock.forced_for("package.json")) == {
        "@types/node": '`resolutions` "@types/node": "18.x" in package.json',
        "ts-node": '`resolutions` "ts-node@^10.5.0": "patch:ts-node@npm:^10.5.0#./.yarn/patches/'
        'ts-node-npm-10.9.1-6c268be7f4.patch" in package.json',
    }
    assert set(lock.forced_for("packages/jest-util/package.json")) == {"@types/node"}
    assert {"jest", "jest-util", "@jest/types", "@jest/core", "@jest/monorepo"} <= lock.local
    assert "chalk" not in lock.local
    # What a resolutions entry forces today: the versions locked for that package anywhere (by its real name).
    assert (lock.versions["@types/node"], lock.versions["ts-node"]) == (("18.19.130",), ("10.9.2",))
    assert lock.versions["lodash"] == ("4.18.1",) and "jest" not in lock.versions


def test_berry_lock_in_a_subfolder_and_a_member_it_does_not_list() -> None:
    text, manifests = project("jestjs__jest", JEST)
    moved = {f"web/{path}": document for path, document in manifests.items()}
    moved["web/packages/new/package.json"] = {"name": "new", "dependencies": {"chalk": "^4.1.2"}}
    lock = read_yarn_lock("web/yarn.lock", text, moved)
    assert lock.locked_for("web/packages/jest-util/package.json")["chalk"] == "4.1.2"
    assert not lock.locks("web/packages/new/package.json")  # not installed since it was added: no entry
    assert lock.patches[0].file == "web/.yarn/patches/ts-node-npm-10.9.1-6c268be7f4.patch"


def test_v1_workspaces_lock_every_registry_dependency_and_resolutions_force_versions() -> None:
    text, manifests = project("mobxjs__mobx", MOBX)
    lock = read_yarn_lock("yarn.lock", text, manifests)
    assert isinstance(lock, JsLock)
    assert (lock.format, lock.readable, lock.problems, lock.patches) == ("yarn.lock v1", True, (), ())
    siblings = {"mobx", "mobx-react-lite"}
    for path in MOBX:
        expected = set(registry_dependencies(manifests[path])) - siblings
        assert set(lock.locked_for(path)) == expected, path
    root = lock.locked_for("package.json")
    assert (root["jest"], root["typescript"], root["lodash"], root["eslint"]) == ("30.3.0", "5.9.2", "4.17.21", "6.8.0")
    react = lock.locked_for("packages/mobx-react/package.json")
    assert dict(react) == {"expose-gc": "1.0.0"}  # mobx and mobx-react-lite are workspace siblings
    assert (lock.versions["jest"], lock.versions["typescript"]) == (("30.3.0",), ("5.9.2",))
    assert dict(lock.forced_for("package.json")) == {
        "jest": '`resolutions` "jest": "^30.3.0" in package.json',
        "typescript": '`resolutions` "typescript": "^5.9.2" in package.json',
    }


ALIASES_V1 = """\
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"al@npm:left-pad@^1.0.0":
  version "1.2.0"
  resolved "https://registry.invalid/left-pad/-/left-pad-1.2.0.tgz#a9d5285b99b556672399cf6f19065aa02f3efff5"

left-pad@^1.0.0:
  version "1.1.0"
  resolved "https://registry.invalid/left-pad/-/left-pad-1.1.0.tgz#a9d5285b99b556672399cf6f19065aa02f3efff5"

"vendored@file:./vendor/vendored":
  version "0.1.0"
"""

ALIASES_BERRY = """\
__metadata:
  version: 8
  cacheKey: 10c0

"al@npm:left-pad@^1.0.0, left-pad@npm:^1.0.0":
  version: 1.2.0
  resolution: "left-pad@npm:1.2.0"
  checksum: 10c0/194f
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    al: "npm:left-pad@^1.0.0"
    left-pad: "npm:^1.0.0"
    near: "portal:./near"
    theme: "catalog:"
  languageName: unknown
  linkType: soft

"near@portal:./near::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
  resolution: "near@portal:./near::locator=app%40workspace%3A."
  languageName: node
  linkType: soft

"theme@npm:^3.0.0":
  version: 3.4.0
  resolution: "theme@npm:3.4.0"
  languageName: node
  linkType: hard

"lodash@npm:4.17.21":
  version: 4.17.21
  resolution: "lodash@npm:4.17.21"
  languageName: node
  linkType: hard

"lodash@patch:lodash@npm%3A4.17.21#~/.yarn/patches/lodash-npm-4.17.21-6382451519.patch":
  version: 4.17.21
  resolution: "lodash@patch:lodash@npm%3A4.17.21#~/.yarn/patches/lodash-npm-4.17.21-6382451519.patch::version=4.17.21"
  languageName: node
  linkType: hard
"""


def test_aliases_local_protocols_and_catalogs() -> None:
    manifest = {
        "dependencies": {"al": "npm:left-pad@^1.0.0", "left-pad": "^1.0.0", "vendored": "file:./vendor/vendored"}
    }
    v1 = read_yarn_lock("yarn.lock", ALIASES_V1, {"package.json": manifest})
    assert dict(v1.locked_for("package.json")) == {"al": "1.2.0", "left-pad": "1.1.0", "vendored": "0.1.0"}
    assert v1.local == {"vendored"}
    assert dict(v1.versions) == {"left-pad": ("1.1.0", "1.2.0")}
    berry_manifest = {
        "name": "app",
        "dependencies": {
            "al": "npm:left-pad@^1.0.0",
            "left-pad": "^1.0.0",
            "near": "portal:./near",
            "theme": "catalog:",
        },
        "devDependencies": {"lodash": "patch:lodash@npm%3A4.17.21#~/.yarn/patches/lodash-npm-4.17.21-6382451519.patch"},
    }
    berry = read_yarn_lock("yarn.lock", ALIASES_BERRY, {"package.json": berry_manifest})
    assert berry.format == "yarn.lock (Berry, metadata v8)"
    # catalog: (its range is in .yarnrc.yml) is the one version the lock has for it; a portal is no release.
    assert dict(berry.locked_for("package.json")) == {
        "al": "1.2.0",
        "left-pad": "1.2.0",
        "theme": "3.4.0",
        "lodash": "4.17.21",
    }
    assert berry.local == {"app", "near"}
    assert dict(berry.versions) == {"left-pad": ("1.2.0",), "theme": ("3.4.0",), "lodash": ("4.17.21",)}
    assert berry.patches == (Patch("lodash", "4.17.21", ".yarn/patches/lodash-npm-4.17.21-6382451519.patch"),)


def test_a_range_the_lock_does_not_have_is_not_guessed() -> None:
    manifest = {"name": "app", "dependencies": {"left-pad": "^2.0.0", "al": "npm:left-pad@^1.0.0"}}
    berry = read_yarn_lock("yarn.lock", ALIASES_BERRY, {"package.json": manifest})
    assert dict(berry.locked_for("package.json")) == {"al": "1.2.0"}  # the workspace entry's npm:^1.0.0 is stale
    v1 = read_yarn_lock("yarn.lock", ALIASES_V1, {"package.json": manifest})
    assert dict(v1.locked_for("package.json")) == {"al": "1.2.0"}


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('# yarn lockfile v1\n\n"a@^1":\n   version "1.0.0"\n', 4, 1, "invalid number of spaces"),
        ('# yarn lockfile v1\n\na@^1:\n  version "1.0.0\n', 4, 11, "unterminated or invalid string"),
        ("# yarn lockfile v1\n\na@^1:\n  version: [1]\n", 4, 12, "unexpected character '['"),
        ('__metadata:\n  version: 8\n\n"a@npm:^1":\n  version: 1.0.0\n   bad: [\n', 6, 7, "invalid YAML"),
        ('# yarn lockfile v1\n\n<<<<<<< HEAD\na@^1:\n  version "1.0.0"\n=======\n>>>>>>> b\n', 3, 1, "merge conflict"),
    ],
)
def test_corrupt_lockfiles_are_problems_with_their_place(text: str, line: int, column: int, message: str) -> None:
    lock = read_yarn_lock("web/yarn.lock", text, {"web/package.json": {"dependencies": {"a": "^1"}}})
    assert not lock.readable and lock.importers == {}
    (problem,) = lock.problems
    assert (problem.file, problem.line, problem.column) == ("web/yarn.lock", line, column), problem
    assert message in problem.message


def test_truncated_and_mangled_lockfiles_never_raise() -> None:
    for name in ("mobxjs__mobx", "jestjs__jest"):
        text, manifests = project(name, ["package.json"])
        for cut in range(0, len(text), 997):
            for mangled in (text[:cut], text[:cut] + "\t" + text[cut:], text[:cut] + '"' + text[cut + 1 :]):
                lock = read_yarn_lock("yarn.lock", mangled, manifests)
                assert lock.readable or lock.problems


def test_v1_parser_keeps_yarn_semantics() -> None:
    data, lines = parse_v1('# yarn lockfile v1\n\n"a@^1", a@~1.2:\n  version "1.2.3"\n  dependencies:\n    b "^2"\n\n'
                           "b@^2:\n  version \"2.0.0\"\n  optional true\n")  # fmt: skip
    assert data["a@^1"] is data["a@~1.2"]
    assert data["a@^1"] == {"version": "1.2.3", "dependencies": {"b": "^2"}}
    assert data["b@^2"] == {"version": "2.0.0", "optional": True}
    assert lines == {"a@^1": 3, "a@~1.2": 3, "b@^2": 8}


def test_a_corrupt_lockfile_is_listed_and_the_rest_of_the_repository_proceeds(tmp_path: Path) -> None:
    broken = tmp_path / "web"
    broken.mkdir()
    (broken / "package.json").write_text(json.dumps({"name": "web", "dependencies": {"a": "^1.0.0"}}))
    (broken / "yarn.lock").write_text('# yarn lockfile v1\n\na@^1.0.0:\n   version "1.0.0"\n')
    fine = tmp_path / "api"
    fine.mkdir()
    (fine / "package.json").write_text(json.dumps({"name": "api", "dependencies": {"al": "npm:left-pad@^1.0.0"}}))
    (fine / "yarn.lock").write_text(ALIASES_V1)
    result = scan(tmp_path)
    (unread,) = result.unread
    assert unread.path == "web/yarn.lock" and "invalid number of spaces" in unread.reason
    deps = {d.location.file: d for d in result.dependencies}
    assert deps["api/package.json"].locked == "1.2.0"
    assert deps["web/package.json"].unknown_current == "web/yarn.lock could not be read"
    web = next(m for m in result.manifests if m.path == "web/package.json")
    assert [(p.file, p.line, p.column) for p in web.problems] == [("web/yarn.lock", 4, 1)]


def test_relabel_moves_a_descriptor_to_the_entry_of_another_version() -> None:
    text = ALIASES_V1.replace("left-pad@^1.0.0:", '"left-pad@^1.0.0", left-pad@1.1.0:')
    moved = relabel(text + '\nleft-pad@1.3.0:\n  version "1.3.0"\n', [("left-pad@^1.0.0", "left-pad@1.3.0")])
    data, _ = parse_v1(moved)
    assert data["left-pad@^1.0.0"] == {"version": "1.3.0"}
    assert data["left-pad@1.1.0"] == {"version": "1.1.0", "resolved": data["left-pad@1.1.0"]["resolved"]}  # type: ignore[index]
    berry = relabel(ALIASES_BERRY, [("left-pad@npm:^1.0.0", "lodash@npm:4.17.21")])
    assert '"al@npm:left-pad@^1.0.0":' in berry and '"left-pad@npm:^1.0.0, lodash@npm:4.17.21":' in berry
    with pytest.raises(LookupError):
        relabel(ALIASES_BERRY, [("left-pad@npm:^1.0.0", "left-pad@npm:9.9.9")])


@pytest.mark.parametrize(
    ("metadata", "versions"),
    [(4, ">=2.4.1 <3.1.0"), (5, "~3.1.0"), (6, ">=3.2.0 <4.0.0"), (8, ">=4.0.0 <4.14.0"), (9, "~4.14.0"),
     (10, ">=4.15.0 <5.0.0"), (12, ">=4.15.0")],
)  # fmt: skip
def test_default_yarn_versions_follow_the_lockfile_format(metadata: int, versions: str) -> None:
    assert YARN.default_versions(f"__metadata:\n  version: {metadata}\n  cacheKey: 10c0\n") == versions
    assert YARN.default_versions(ALIASES_V1) == YARN.default_versions("") == "^1.22.0"
