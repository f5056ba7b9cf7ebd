"""pnpm-lock.yaml read into JsLock, and pnpm-workspace.yaml read as a manifest, on real files of every format."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.deps.model import Role
from bot.deps.npm import pnpm
from bot.deps.npm.locks import Patch
from bot.deps.npm.pnpm import PnpmLock, parse_pnpm_workspace, read_pnpm_lock, workspace_document
from bot.deps.scan import scan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests" / "pnpm"
REAL = ["vuejs__core@e2bede9", "vuejs__core@28b95da", "vitejs__vite@a862ecb", "vitejs__vite@a98c8d9"]
GENERATED = sorted(p.name for p in FIXTURES.glob("generated-pnpm-*"))
_LOCAL = ("link:", "file:", "workspace:")


def manifests_of(folder: Path) -> dict[str, object]:
    found: dict[str, object] = {
        p.relative_to(folder).as_posix(): json.loads(p.read_text()) for p in sorted(folder.rglob("package.json"))
    }
    if (folder / "pnpm-workspace.yaml").is_file():
        found["pnpm-workspace.yaml"] = workspace_document((folder / "pnpm-workspace.yaml").read_text())
    return found


def lock_of(name: str) -> PnpmLock:
    folder = FIXTURES / name
    lock = read_pnpm_lock("pnpm-lock.yaml", (folder / "pnpm-lock.yaml").read_text(), manifests_of(folder))
    assert isinstance(lock, PnpmLock)
    return lock


def raw_versions(folder: Path) -> dict[tuple[str, str], str]:
    """(importer folder, dependency) -> the version string the lockfile writes, read with nothing but PyYAML."""
    documents = [d for d in yaml.safe_load_all((folder / "pnpm-lock.yaml").read_text().replace("\t", "  ")) if d]
    document = documents[-1]
    importers = document.get("importers") or document.get("projects")
    found = {}
    for importer, entry in importers.items():
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            for name, value in ((entry or {}).get(section) or {}).items():
                found[(importer, name)] = value["version"] if isinstance(value, dict) else str(value)
    return found


@pytest.mark.parametrize("name", REAL + GENERATED)
def test_every_dependency_is_current_at_its_importers_locked_version(name: str) -> None:
    """depup's current version of each dependency of each package.json is the one its importer locks."""
    folder = FIXTURES / name
    result = scan(folder)
    assert result.problems == () and result.unread == ()
    raw = raw_versions(folder)
    checked = 0
    for manifest in (m for m in result.manifests if m.kind == "package.json"):
        importer = str(Path(manifest.path).parent).replace("\\", "/")
        assert manifest.lockfile == "pnpm-lock.yaml"
        for dep in manifest.dependencies:
            written = raw.get((importer, dep.name))
            if dep.location.section in ("overrides", "pnpm.overrides", "resolutions") or dep.role is Role.PEER:
                continue
            if dep.skip_reason is not None:
                assert dep.skip_reason in ("workspace protocol", "local path", "catalog", "workspace package")
                continue
            assert written is not None, f"{manifest.path}: {dep.name} not in the lockfile"
            assert dep.unknown_current is None
            # the written version up to its peer suffix "(...)", 5.x's "_peer" or an alias's "name@"/"/name/"
            bare = re.split(r"[(_]", written.rsplit("/", 1)[-1] if written.startswith("/") else written)[0]
            assert dep.locked == bare.rsplit("@", 1)[-1], (manifest.path, dep.name, written)
            checked += 1
    assert checked >= 5


def test_vue_core_catalogs_lockfile_9() -> None:
    lock = lock_of("vuejs__core@e2bede9")
    assert lock.format == "pnpm-lock.yaml 9.0" and lock.readable and lock.problems == ()
    assert lock.catalogs["default"]["@babel/parser"] == "7.29.8"
    assert dict(lock.locked_for("packages/compiler-core/package.json")) == {
        "@babel/parser": "7.29.8",
        "entities": "7.0.1",
        "estree-walker": "2.0.2",
        "source-map-js": "1.2.1",
        "@babel/types": "7.29.8",
    }
    # peers left out: "4.1.10(playwright@1.62.1)(vite@8.2.0)(vitest@4.1.10)"
    assert lock.locked_for("package.json")["@vitest/browser-playwright"] == "4.1.10"
    assert {"@vue/shared", "vue", "@vue/reactivity", "dts-built-test"} & lock.local == {
        "@vue/shared",
        "vue",
        "@vue/reactivity",
    }
    assert lock.catalog_uses[("default", "entities")] == {"dependencies"}
    assert lock.versions["vite"] == ("8.2.0",)


def test_vue_core_workspace_manifest_catalog_entries() -> None:
    folder = FIXTURES / "vuejs__core@e2bede9"
    result = scan(folder)
    workspace = next(m for m in result.manifests if m.path == "pnpm-workspace.yaml")
    assert workspace.kind == "pnpm-workspace" and workspace.lockfile == "pnpm-lock.yaml"
    deps = {d.name: d for d in workspace.dependencies}
    assert [d.name for d in workspace.dependencies] == [
        "@babel/parser",
        "@babel/types",
        "entities",
        "estree-walker",
        "magic-string",
        "source-map-js",
        "vite",
        "@vitejs/plugin-vue",
    ]
    text = (folder / "pnpm-workspace.yaml").read_text()
    entities = deps["entities"]  # written "'entities': '^7.0.1'"
    assert (entities.constraint, entities.locked, entities.role) == ("^7.0.1", "7.0.1", Role.RUNTIME)
    assert text[entities.location.start : entities.location.end] == "^7.0.1"
    assert (entities.location.line, entities.location.section) == (8, "catalog")
    assert deps["@babel/types"].role is Role.DEV  # only devDependencies use it
    assert deps["vite"].role is Role.DEV and deps["vite"].locked == "8.2.0"
    assert all(d.skip_reason is None and d.unknown_current is None for d in workspace.dependencies)
    # the package.json side of a catalog dependency is not upgraded itself
    core = next(m for m in result.manifests if m.path == "packages/compiler-core/package.json")
    parser = next(d for d in core.dependencies if d.name == "@babel/parser")
    assert (parser.skip_reason, parser.locked) == ("catalog", "7.29.8")


def test_lockfile_5_4_of_vue_core() -> None:
    lock = lock_of("vuejs__core@28b95da")
    assert lock.format == "pnpm-lock.yaml 5.4" and lock.readable
    playground = lock.locked_for("packages/sfc-playground/package.json")
    # '@vitejs/plugin-vue': 4.0.0_doo4xoh6xruc6b46m5hj3hbaky, '@vue/repl': 1.3.0_vue@packages+vue
    assert playground["@vitejs/plugin-vue"] == "4.0.0" and playground["@vue/repl"] == "1.3.0"
    assert "vue" not in playground and "vue" in lock.local  # vue: link:../vue (the workspace's own)
    assert pnpm.PNPM.default_versions((FIXTURES / "vuejs__core@28b95da" / "pnpm-lock.yaml").read_text()) == "^7"


def test_lockfile_6_of_vite_with_package_json_patches_and_overrides() -> None:
    lock = lock_of("vitejs__vite@a862ecb")
    assert lock.format == "pnpm-lock.yaml 6.0"
    assert set(lock.patches) == {
        Patch("chokidar", "3.6.0", "patches/chokidar@3.6.0.patch"),
        Patch("postcss-import", "16.0.1", "patches/postcss-import@16.0.1.patch"),
        Patch("sirv", "2.0.4", "patches/sirv@2.0.4.patch"),
    }
    assert dict(lock.overrides) == {"vite": "workspace:*"}
    alias = lock.locked_for("playground/alias/package.json")
    assert alias == {"@vue/shared": "3.4.21", "vue": "3.4.21"}  # vue: 3.4.21(typescript@5.2.2)
    assert {"aliased-module", "@vitejs/test-resolve-linked"} <= lock.local  # file: and workspace:* members
    assert lock.versions["chokidar"] == ("3.6.0",)
    assert pnpm.PNPM.default_versions((FIXTURES / "vitejs__vite@a862ecb" / "pnpm-lock.yaml").read_text()) == "^8"


def test_vite_workspace_overrides() -> None:
    folder = FIXTURES / "vitejs__vite@a98c8d9"
    result = scan(folder)
    workspace = next(m for m in result.manifests if m.kind == "pnpm-workspace")
    assert workspace.problems == ()
    deps = {d.name: d for d in workspace.dependencies}
    assert set(deps) == {"rolldown", "vite", "debug"}
    assert deps["rolldown"].skip_reason == "reference to a direct dependency"  # rolldown: $rolldown
    assert deps["vite"].skip_reason in ("workspace protocol", "workspace package")  # vite: 'workspace:*'
    debug = deps["debug"]  # debug: 'npm:obug@^1.0.2'
    assert (debug.key, debug.constraint, debug.locked, debug.role) == ("obug", "^1.0.2", "1.0.2", Role.RUNTIME)
    text = (folder / "pnpm-workspace.yaml").read_text()
    assert text[debug.location.start : debug.location.end] == "^1.0.2"
    lock = lock_of("vitejs__vite@a98c8d9")
    assert {p.package for p in lock.patches} == {"chokidar", "dotenv-expand", "sirv"}


@pytest.mark.parametrize(
    ("name", "style"),
    [
        ("generated-pnpm-7.33.7", "5.4"),
        ("generated-pnpm-8.15.9", "6.0"),
        ("generated-pnpm-9.15.9", "9.0"),
        ("generated-pnpm-10.34.9", "9.0"),
        ("generated-pnpm-12.26.0", "9.0"),
        ("generated-pnpm-12.26.0-packageManager", "9.0"),
        ("generated-pnpm-12.26.0-v13", "13.0"),
    ],
)
def test_every_format_pnpm_writes(name: str, style: str) -> None:
    """Aliases, peers, patch hashes, links and catalogs as each pnpm version writes them."""
    lock = lock_of(name)
    assert lock.format == f"pnpm-lock.yaml {style}" and lock.problems == ()
    root = lock.locked_for("package.json")
    assert root["pad"] == "2.0.0"  # pad: npm:left-pad@^2.0.0 (/left-pad/2.0.0, /left-pad@2.0.0, left-pad@2.0.0)
    assert root["uses-peer"] == "1.1.0"  # 1.1.0_react@18.3.1, 1.1.0(react@18.3.1)
    assert root["react"] == "18.3.1" and root["dep-of"] == "1.0.0"
    member = lock.locked_for("packages/a/package.json")
    assert member == {"left-pad": "1.1.0", "react": "17.0.2"}
    assert lock.locked_for("packages/b/package.json") == {}
    assert {"b", "loc"} <= lock.local
    assert lock.patches == (Patch("left-pad", "1.1.0", "patches/left-pad@1.1.0.patch"),)
    assert lock.patch_for("left-pad", "1.1.0") is not None and lock.patch_for("left-pad", "1.2.0") is None
    assert dict(lock.overrides) == {"is-number": "7.0.0"}
    if not name.startswith(("generated-pnpm-7", "generated-pnpm-8")):
        assert {k: dict(v) for k, v in lock.catalogs.items()} == {
            "default": {"react": "18.3.1"},
            "r17": {"react": "17.0.2"},
        }
    assert lock.versions["left-pad"][-1] == "2.0.0"  # the alias's real package


def test_pnpm_12_first_document_and_hash_only_patches() -> None:
    lock = lock_of("generated-pnpm-12.26.0-packageManager")
    assert lock.pnpm_version == "12.26.0" and lock.patch_hashes_only
    assert "pnpm" not in lock.locked_for("package.json")  # pnpm's own document is not the project's
    # without pnpm-workspace.yaml, a patch locked by hash alone has no file to name
    folder = FIXTURES / "generated-pnpm-12.26.0"
    manifests = {k: v for k, v in manifests_of(folder).items() if k.endswith("package.json")}
    bare = read_pnpm_lock("pnpm-lock.yaml", (folder / "pnpm-lock.yaml").read_text(), manifests)
    assert bare.patches == ()
    text = (FIXTURES / "generated-pnpm-12.26.0-packageManager" / "pnpm-lock.yaml").read_text()
    assert pnpm.PNPM.default_versions(text) == "^12"


def test_lockfile_13_without_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """v13 is tab-indented: the pure-Python YAML reader is given it with the tabs as spaces."""
    monkeypatch.setattr(pnpm, "_LOADER", yaml.SafeLoader)
    lock = lock_of("generated-pnpm-12.26.0-v13")
    assert lock.readable and lock.locked_for("packages/a/package.json") == {"left-pad": "1.1.0", "react": "17.0.2"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("generated-pnpm-7.33.7", "^7"),
        ("generated-pnpm-8.15.9", "^8"),
        ("generated-pnpm-9.15.9", "^9"),
        ("generated-pnpm-10.34.9", "^10"),
        ("generated-pnpm-12.26.0", "^12"),
        ("generated-pnpm-12.26.0-v13", "^12"),
        ("vuejs__core@e2bede9", "^10"),
    ],
)
def test_default_versions_by_what_wrote_the_lockfile(name: str, expected: str) -> None:
    assert pnpm.PNPM.default_versions((FIXTURES / name / "pnpm-lock.yaml").read_text()) == expected


def test_corrupt_lockfile_is_reported_with_line_and_the_rest_proceeds(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "vuejs__core@e2bede9", tmp_path / "repo")
    lock = tmp_path / "repo" / "pnpm-lock.yaml"
    lines = lock.read_text().splitlines(keepends=True)
    lines[39] = "        specifier: }\n"  # line 40, in the root importer
    lock.write_text("".join(lines))
    result = scan(tmp_path / "repo")
    root = next(m for m in result.manifests if m.path == "package.json")
    problem = next(p for p in root.problems if p.file == "pnpm-lock.yaml")
    assert (problem.line, problem.column) == (40, 20) and "invalid YAML" in problem.message
    assert [u.path for u in result.unread] == ["pnpm-lock.yaml"]
    core = next(m for m in result.manifests if m.path == "packages/compiler-core/package.json")
    deps = [d for d in core.dependencies if d.skip_reason is None]
    assert deps == [] or all(d.unknown_current == "pnpm-lock.yaml could not be read" for d in deps)
    workspace = next(m for m in result.manifests if m.kind == "pnpm-workspace")
    catalog = [d for d in workspace.dependencies if d.skip_reason is None]
    assert len(catalog) == 7 and all(d.unknown_current == "pnpm-lock.yaml could not be read" for d in catalog)
    assert any(d.unknown_current == "pnpm-lock.yaml could not be read" for d in root.dependencies)


def test_lockfile_of_the_wrong_shape() -> None:
    lock = read_pnpm_lock("web/pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters:\n  - a\n", {})
    assert not lock.readable
    assert lock.problems[0].file == "web/pnpm-lock.yaml" and lock.problems[0].line == 2
    assert not read_pnpm_lock("pnpm-lock.yaml", "- just\n- a list\n", {}).readable
    nested = read_pnpm_lock("pnpm-lock.yaml", "[" * 5000, {})
    assert not nested.readable and nested.problems[0].line == 1
    missing = read_pnpm_lock("sub/pnpm-lock.yaml", "importers:\n  .:\n    dependencies:\n      a: 1.0.0\n", {})
    assert missing.readable and missing.locked_for("sub/package.json") == {"a": "1.0.0"}
    assert "no lockfileVersion" in missing.problems[0].message


def test_corrupt_workspace_file_is_reported_and_the_packages_still_read(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "vitejs__vite@a98c8d9", tmp_path / "repo")
    workspace = tmp_path / "repo" / "pnpm-workspace.yaml"
    workspace.write_text(workspace.read_text().replace("  vite: 'workspace:*'", "  vite: 'workspace:*"))
    result = scan(tmp_path / "repo")
    manifest = next(m for m in result.manifests if m.kind == "pnpm-workspace")
    assert manifest.dependencies == () and manifest.problems[0].line >= 15
    assert "pnpm-workspace.yaml" in [u.path for u in result.unread]
    root = next(m for m in result.manifests if m.path == "package.json")
    assert any(d.locked is not None for d in root.dependencies)


def test_workspace_file_problems_and_skips() -> None:
    text = (
        "catalog:\n"
        "  react: ^18.0.0\n"
        "  react: ^18.2.0\n"  # duplicate: pnpm (YAML) keeps the later one
        "  left: &v ^1.0.0\n"
        "  right: *v\n"  # an alias: editing it would change both
        '  escaped: "\\u005e1.0.0"\n'
        "  local: link:../x\n"
        "  sibling: ^2.0.0\n"
        "catalogs:\n"
        "  old: [1, 2]\n"
        "overrides:\n"
        "  'foo@1>bar': ^3.0.0\n"
        "  removed: '-'\n"
    )
    uses = {"a/package.json": {"dependencies": {n: "catalog:" for n in ("react", "left", "right", "escaped", "local")}}}
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", text, None, uses)
    deps = {(d.location.section, d.name): d for d in manifest.dependencies}
    assert deps[("catalog", "react")].constraint == "^18.2.0"
    assert deps[("catalog", "left")].skip_reason == deps[("catalog", "right")].skip_reason == "YAML alias"
    assert deps[("catalog", "escaped")].skip_reason == "written with YAML escapes"
    assert deps[("catalog", "local")].skip_reason == "local path"
    assert deps[("catalog", "sibling")].skip_reason == "unused catalog entry"
    assert deps[("overrides", "bar")].constraint == "^3.0.0"
    assert deps[("overrides", "removed")].skip_reason == "removes the dependency"
    messages = [(p.line, p.message) for p in manifest.problems]
    assert messages[0][0] == 2 and "duplicate" in messages[0][1]
    assert any(line == 10 and "`catalogs.old`" in message for line, message in messages)
