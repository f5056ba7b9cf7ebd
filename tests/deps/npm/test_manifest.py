"""package.json parsing: every value form, roles, skips, malformed input, locked versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.deps.model import Dependency, Ecosystem, Manifest, Role
from bot.deps.npm.edit import apply_edits
from bot.deps.npm.jsonspan import decode_string
from bot.deps.npm.lockinfo import read_lock
from bot.deps.npm.manifest import parse_package_json, workspace_globs

FIXTURES = Path(__file__).parents[2] / "fixtures" / "manifests" / "npm"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def by_name(manifest: Manifest) -> dict[str, Dependency]:
    return {dep.name: dep for dep in manifest.dependencies}


def check_spans(text: str, manifest: Manifest) -> None:
    for dep in manifest.dependencies:
        assert decode_string(text[dep.location.start : dep.location.end]) == dep.constraint


def test_js_app_sample_exactly() -> None:
    lock = read_lock("package-lock.json", fixture("depup-samples__js-app__package-lock.json"))
    text = fixture("depup-samples__js-app__package.json")
    manifest = parse_package_json("package.json", text, lock)
    assert manifest.ecosystem is Ecosystem.NPM and manifest.kind == "package.json"
    assert manifest.project_name == "sample-js-app"
    assert manifest.engines_node is None
    assert manifest.lockfile == "package-lock.json"
    assert manifest.problems == ()
    got = [(d.name, d.key, d.constraint, d.role, d.locked, d.skip_reason) for d in manifest.dependencies]
    assert got == [
        ("react", "react", "^16.8.0", Role.RUNTIME, "16.14.0", None),
        ("express", "express", "4.17.1", Role.RUNTIME, "4.17.1", None),
        ("lodash", "lodash", "~4.17.15", Role.RUNTIME, "4.17.23", None),
        ("axios", "axios", "0.21.1", Role.RUNTIME, "0.21.1", None),
        ("webpack", "webpack", "^4.46.0", Role.DEV, "4.47.0", None),
        ("jest", "jest", "26.6.3", Role.DEV, "26.6.3", None),
        ("typescript", "typescript", "~4.1.0", Role.DEV, "4.1.6", None),
        ("eslint", "eslint", "^7.0.0", Role.DEV, "7.32.0", None),
    ]
    react = manifest.dependencies[0].location
    assert (react.file, react.line, react.column, react.section) == ("package.json", 7, 5, "dependencies")
    assert text[react.start : react.end] == "^16.8.0"
    check_spans(text, manifest)


SPEC_CASES = [
    ("^1.2.3", None),
    ("~1.2.3", None),
    ("1.2.3", None),
    ("v1.2.3", None),
    ("=1.2.3", None),
    (">=1.2.3 <2", None),
    ("1.2.3 - 2.3.4", None),
    ("1.x", None),
    ("*", None),
    ("", None),
    ("^1.0.0 || ^2.0.0", None),
    ("2.0.0-rc.1", None),
    (" ^1.2.3 ", None),
    ("latest", "dist-tag"),
    ("next", "dist-tag"),
    ("file:../lib", "local path"),
    ("./vendor/pkg", "local path"),
    ("../sibling", "local path"),
    ("~/home-pkg", "local path"),
    ("/abs/path", "local path"),
    ("vendor/pkg.tgz", "git"),  # npm reads any "a/b" as a GitHub shorthand first
    ("vendor/lib/pkg.tgz", "local path"),
    ("@scope/pkg", "local path"),
    ("pkg.tgz", "local path"),
    ("1.2.3.4", "dist-tag"),  # not a range, and a valid tag name: npm asks the registry for that tag
    ("link:../lib", "local path"),
    ("workspace:*", "workspace protocol"),
    ("workspace:^1.0.0", "workspace protocol"),
    ("git+ssh://git@github.com:npm/cli.git#v1.0.27", "git"),
    ("git+https://isaacs@github.com/npm/cli.git", "git"),
    ("git://github.com/npm/cli.git#v1.0.27", "git"),
    ("github:user/repo", "git"),
    ("gitlab:user/repo#main", "git"),
    ("user/repo", "git"),
    ("user/repo#semver:^1.0.0", "git"),
    ("git@github.com:user/repo.git", "git"),
    ("https://github.com/user/repo", "git"),
    ("https://example.com/pkg-1.0.0.tgz", "url"),
    ("http://example.com/pkg.tar.gz", "url"),
    ("ftp://example.com/pkg.tgz", "invalid"),
    ("not a range!", "invalid"),
    ("npm:npm:foo", "invalid"),
]


@pytest.mark.parametrize(("value", "skip"), SPEC_CASES)
def test_value_forms(value: str, skip: str | None) -> None:
    text = json.dumps({"name": "x", "dependencies": {"pkg": value}}, indent=2) + "\n"
    manifest = parse_package_json("package.json", text)
    (dep,) = manifest.dependencies
    assert dep.constraint == value
    assert dep.skip_reason == skip
    assert dep.key == "pkg"
    assert text[dep.location.start : dep.location.end] == value
    invalid = [p for p in manifest.problems if "npm cannot install it" in p.message]
    assert bool(invalid) == (skip == "invalid")


def test_aliases_point_at_their_range() -> None:
    text = (
        '{"dependencies": {\n'
        '  "old-lodash": "npm:lodash@^4.17.0",\n'
        '  "scoped": "npm:@babel/core@~7.8.0",\n'
        '  "bare": "npm:left-pad",\n'
        '  "tagged": "npm:left-pad@latest",\n'
        '  "escaped": "npm:lodash@\\u005e4.0.0",\n'
        '  "broken": "npm:"\n'
        "}}"
    )
    deps = by_name(parse_package_json("package.json", text, {"old-lodash": "4.17.21"}, lockfile="package-lock.json"))
    old = deps["old-lodash"]
    assert (old.key, old.constraint, old.skip_reason, old.locked) == ("lodash", "^4.17.0", None, "4.17.21")
    assert text[old.location.start : old.location.end] == "^4.17.0"
    scoped = deps["scoped"]
    assert (scoped.key, scoped.constraint, scoped.skip_reason) == ("@babel/core", "~7.8.0", None)
    assert text[scoped.location.start : scoped.location.end] == "~7.8.0"
    assert (deps["bare"].key, deps["bare"].skip_reason) == ("left-pad", "alias")
    assert (deps["tagged"].key, deps["tagged"].skip_reason) == ("left-pad", "dist-tag")
    assert (deps["escaped"].key, deps["escaped"].skip_reason, deps["escaped"].constraint) == (
        "lodash",
        "alias",
        "npm:lodash@^4.0.0",
    )
    assert deps["broken"].skip_reason == "invalid"


def test_roles_and_the_same_package_in_several_sections() -> None:
    text = json.dumps(
        {
            "dependencies": {"react": "^18.0.0"},
            "devDependencies": {"react": "18.2.0", "jest": "^29.0.0"},
            "peerDependencies": {"react": ">=17"},
            "optionalDependencies": {"fsevents": "~2.3.2"},
            "bundleDependencies": ["react"],
            "overrides": {"react": "18.2.0"},
        },
        indent=4,
    )
    manifest = parse_package_json("apps/web/package.json", text)
    got = [(d.name, d.constraint, d.role, d.location.section) for d in manifest.dependencies]
    assert got == [
        ("react", "^18.0.0", Role.RUNTIME, "dependencies"),
        ("react", "18.2.0", Role.DEV, "devDependencies"),
        ("jest", "^29.0.0", Role.DEV, "devDependencies"),
        ("react", ">=17", Role.PEER, "peerDependencies"),
        ("fsevents", "~2.3.2", Role.OPTIONAL, "optionalDependencies"),
        ("react", "18.2.0", Role.RUNTIME, "overrides"),
    ]
    assert all(d.location.file == "apps/web/package.json" for d in manifest.dependencies)
    check_spans(text, manifest)


def test_project_fields() -> None:
    text = '{"name": "@scope/app", "engines": {"node": ">=18 <23", "npm": ">=9"}}'
    manifest = parse_package_json("package.json", text)
    assert (manifest.project_name, manifest.engines_node, manifest.dependencies) == ("@scope/app", ">=18 <23", ())
    odd = parse_package_json("package.json", '{"name": 5, "engines": ">=18"}')
    assert (odd.project_name, odd.engines_node, odd.problems) == (None, None, ())


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('{\n  "dependencies": {\n    "a": "1.0.0",\n  }\n}\n', 4, 3, "invalid JSON"),
        ('{\n  "dependencies": {\n    "a": "1.0.0"\n', 4, 1, "invalid JSON"),
        ("", 1, 1, "invalid JSON"),
        ('{"a": NaN}', 1, 1, "invalid JSON"),
        ("// comment\n{}", 1, 1, "invalid JSON"),
        ("[1, 2]", 1, 1, "not a JSON object"),
        ('"just a string"', 1, 1, "not a JSON object"),
    ],
)
def test_malformed_files_are_problems_not_errors(text: str, line: int, column: int, fragment: str) -> None:
    manifest = parse_package_json("pkg/package.json", text, lockfile="pkg/package-lock.json")
    assert manifest.dependencies == ()
    assert manifest.lockfile == "pkg/package-lock.json"
    (problem,) = manifest.problems
    assert (problem.file, problem.line, problem.column) == ("pkg/package.json", line, column)
    assert fragment in problem.message


def test_deeply_nested_json_is_a_problem() -> None:
    text = '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    manifest = parse_package_json("package.json", text)
    assert manifest.dependencies == ()
    assert len(manifest.problems) == 1


def test_wrong_shapes_are_reported_with_their_line() -> None:
    text = (
        "{\n"
        '  "dependencies": ["react"],\n'
        '  "devDependencies": {\n'
        '    "jest": 29,\n'
        '    "ts": null,\n'
        '    "ok": "^1.0.0",\n'
        '    "obj": {"version": "1"}\n'
        "  },\n"
        '  "workspaces": "packages/*"\n'
        "}\n"
    )
    manifest = parse_package_json("package.json", text)
    assert [d.name for d in manifest.dependencies] == ["ok"]
    assert [(p.line, p.column) for p in manifest.problems] == [(2, 3), (4, 5), (5, 5), (7, 5), (9, 3)]
    assert "should be an object" in manifest.problems[0].message
    assert '"jest" should be a string' in manifest.problems[1].message
    assert "workspaces" in manifest.problems[4].message


def test_duplicate_keys_keep_the_last_like_npm() -> None:
    text = '{\n  "dependencies": {"a": "1.0.0"},\n  "dependencies": {\n    "b": "^1.0.0",\n    "b": "^2.0.0"\n  }\n}\n'
    manifest = parse_package_json("package.json", text)
    (dep,) = manifest.dependencies
    assert (dep.name, dep.constraint, dep.location.line) == ("b", "^2.0.0", 5)
    assert [(p.line, p.column) for p in manifest.problems] == [(2, 3), (4, 5)]
    assert all("duplicate key" in p.message and "later one" in p.message for p in manifest.problems)
    assert "(line 3)" in manifest.problems[0].message and "(line 5)" in manifest.problems[1].message


def test_escapes_bom_crlf_and_unicode_keep_offsets_exact() -> None:
    text = (
        "\ufeff{\r\n"
        '\t"name": "caf\\u00e9",\r\n'
        '\t"dependencies": {\r\n'
        '\t\t"\\u0072eact": "\\u005e18.2.0",\r\n'
        '\t\t"quote\\"d": "~1.0.0",\r\n'
        '\t\t"emoji-\U0001f600": ">=1"\r\n'
        "\t}\r\n"
        "}\r\n"
    )
    manifest = parse_package_json("package.json", text)
    assert manifest.problems == ()
    assert manifest.project_name == "café"
    deps = manifest.dependencies
    assert [(d.name, d.constraint, d.location.line, d.location.column) for d in deps] == [
        ("react", "^18.2.0", 4, 3),
        ('quote"d', "~1.0.0", 5, 3),
        ("emoji-\U0001f600", ">=1", 6, 3),
    ]
    assert text[deps[0].location.start : deps[0].location.end] == "\\u005e18.2.0"
    check_spans(text, manifest)


def test_minified_and_empty_sections() -> None:
    text = '{"dependencies":{},"devDependencies":{"a":"1"},"peerDependencies":{ }}'
    manifest = parse_package_json("package.json", text)
    assert [(d.name, d.constraint) for d in manifest.dependencies] == [("a", "1")]
    check_spans(text, manifest)


@pytest.mark.parametrize(
    ("text", "globs"),
    [
        ('{"workspaces": ["packages/*", "apps/web"]}', ["packages/*", "apps/web"]),
        ('{"workspaces": {"packages": ["packages/*"], "nohoist": ["**/x"]}}', ["packages/*"]),
        ('{"name": "x"}', []),
        ('{"workspaces": "packages/*"}', []),
        ('{"workspaces": [1]}', []),
        ("not json", []),
        ("[]", []),
    ],
)
def test_workspace_globs(text: str, globs: list[str]) -> None:
    assert workspace_globs(text) == globs


def test_real_monorepo_roots_expose_their_workspaces() -> None:
    assert workspace_globs(fixture("facebook__react__package.json")) == ["packages/*"]
    assert workspace_globs(fixture("jestjs__jest__package.json")) == ["packages/*", "website", "examples/*"]
    assert workspace_globs(fixture("AmadeusITGroup__AgnosUI__package.json"))[:2] == ["core", "angular"]


def test_real_files_skip_what_is_not_from_a_registry() -> None:
    jest = by_name(parse_package_json("package.json", fixture("jestjs__jest__package.json")))
    assert jest["jest"].skip_reason == "workspace protocol"
    assert jest["eslint-plugin-local"].skip_reason == "local path"
    assert jest["eslint"].skip_reason is None
    react = by_name(parse_package_json("package.json", fixture("facebook__react__package.json")))
    assert react["eslint-plugin-react-internal"].skip_reason == "local path"
    # resolutions force versions anywhere in the tree: an entry of its own; "npm:react-is" names no range to move
    assert react["react-is"].location.section == "resolutions" and react["react-is"].skip_reason == "alias"
    agnos = parse_package_json(
        "angular/bootstrap/package.json", fixture("AmadeusITGroup__AgnosUI__angular__bootstrap__package.json")
    )
    tansu = by_name(agnos)["@amadeus-it-group/tansu"]
    assert (tansu.role, tansu.skip_reason) == (Role.PEER, "git")
    common = [d for d in agnos.dependencies if d.name == "@angular/common"]
    assert [d.role for d in common] == [Role.PEER, Role.DEV]
    rollup = by_name(parse_package_json("package.json", fixture("rollup__rollup__package.json")))
    assert (rollup["fsevents"].role, rollup["fsevents"].constraint) == (Role.OPTIONAL, "~2.3.2")
    plugin = by_name(
        parse_package_json(
            "package.json", fixture("typescript-eslint__typescript-eslint__packages__eslint-plugin__package.json")
        )
    )
    assert plugin["eslint"].constraint == "^5.0.0 || ^6.0.0"
    assert plugin["prettier"].constraint == "*"
    assert plugin["typescript"].constraint == "3.8.0-dev.20200124"


def test_overrides_resolutions_and_pnpm_overrides_are_dependencies_of_their_own() -> None:
    text = json.dumps(
        {
            "dependencies": {"foo": "^1.0.0"},
            "overrides": {"foo": "$foo", "semver": "7.5.4", "glob": {".": "10.3.0", "minimatch": "9.0.3"}},
            "resolutions": {"**/lodash": "4.17.21", "@babel/core/@babel/parser": "7.24.0", "x": "patch:x@1#p"},
            "pnpm": {"overrides": {"qs@<6.10": "6.11.0", "express>cookie": "0.6.0"}},
        },
        indent=2,
    )
    manifest = parse_package_json("package.json", text, {"semver": "7.5.4", "lodash": "4.17.20"})
    got = [(d.name, d.constraint, d.location.section, d.locked, d.skip_reason) for d in manifest.dependencies]
    assert got == [
        ("foo", "^1.0.0", "dependencies", None, None),
        ("foo", "$foo", "overrides", None, "reference to a direct dependency"),
        ("semver", "7.5.4", "overrides", "7.5.4", None),
        ("glob", "10.3.0", "overrides.glob", None, None),
        ("minimatch", "9.0.3", "overrides.glob", None, None),
        ("lodash", "4.17.21", "resolutions", "4.17.20", None),
        ("@babel/parser", "7.24.0", "resolutions", None, None),
        ("x", "patch:x@1#p", "resolutions", None, "patch protocol"),
        ("qs", "6.11.0", "pnpm.overrides", None, None),
        ("cookie", "0.6.0", "pnpm.overrides", None, None),
    ]
    assert all(d.role is Role.RUNTIME for d in manifest.dependencies)
    check_spans(text, manifest)
    edits = [
        (d, "9.9.9") for d in manifest.dependencies if d.skip_reason is None and d.location.section != "dependencies"
    ]
    edited = json.loads(apply_edits(text, edits))
    assert edited["overrides"] == {"foo": "$foo", "semver": "9.9.9", "glob": {".": "9.9.9", "minimatch": "9.9.9"}}
    assert edited["resolutions"]["**/lodash"] == "9.9.9" and edited["pnpm"]["overrides"]["express>cookie"] == "9.9.9"


def test_a_value_with_a_lone_surrogate_is_invalid_not_a_crash() -> None:
    # found by the checkout fuzzer: "\uD8catalog:r17" (a JSON escape of half a UTF-16 pair) broke the tag check
    manifest = parse_package_json("package.json", '{"dependencies": {"react": "\\uD8catalog:r17"}}\n')
    (dep,) = manifest.dependencies
    assert dep.skip_reason == "invalid"
