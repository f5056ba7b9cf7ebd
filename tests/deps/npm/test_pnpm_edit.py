"""Byte-exact edits of pnpm-workspace.yaml catalog entries and overrides."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.deps.model import Dependency
from bot.deps.npm.edit import ManifestEditError
from bot.deps.npm.pnpm import apply_workspace_edits, parse_pnpm_workspace

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests" / "pnpm"
VUE = (FIXTURES / "vuejs__core@e2bede9" / "pnpm-workspace.yaml").read_text()
VITE = (FIXTURES / "vitejs__vite@a98c8d9" / "pnpm-workspace.yaml").read_text()
USES = {"package.json": {"dependencies": {n: "catalog:" for n in ("@babel/parser", "entities", "vite", "react")}}}


def dependency(text: str, name: str, section: str = "catalog") -> Dependency:
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", text, None, USES)
    return next(d for d in manifest.dependencies if d.name == name and d.location.section == section)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_catalog_entries_keep_their_quotes_and_every_other_byte() -> None:
    edits = [(dependency(VUE, "entities"), "^7.1.0"), (dependency(VUE, "@babel/parser"), "^7.30.0")]
    after = apply_workspace_edits(VUE, edits)
    assert changed_lines(VUE, after) == [
        ("  '@babel/parser': ^7.29.8\n", "  '@babel/parser': ^7.30.0\n"),
        ("  'entities': '^7.0.1'\n", "  'entities': '^7.1.0'\n"),
    ]
    again = dependency(after, "entities")
    assert (again.constraint, again.location.line) == ("^7.1.0", dependency(VUE, "entities").location.line)


def test_override_alias_range_in_a_file_with_comments() -> None:
    debug = dependency(VITE, "debug", "overrides")  # debug: 'npm:obug@^1.0.2'
    after = apply_workspace_edits(VITE, [(debug, "^1.1.0")])
    assert changed_lines(VITE, after) == [("  debug: 'npm:obug@^1.0.2'\n", "  debug: 'npm:obug@^1.1.0'\n")]
    assert "  - postcss # package/vite\n" in after


def test_a_plain_value_that_would_not_read_back_is_quoted() -> None:
    vite = dependency(VUE, "vite")  # 'vite': ^8.2.0
    after = apply_workspace_edits(VUE, [(vite, ">=8.2.0 <10")])
    assert changed_lines(VUE, after) == [("  'vite': ^8.2.0\n", "  'vite': '>=8.2.0 <10'\n")]
    assert dependency(after, "vite").constraint == ">=8.2.0 <10"


def test_double_quotes_and_flow_mappings() -> None:
    text = 'catalog: {react: "^18.2.0", vite: ^5.0.0}  # flow\n'
    after = apply_workspace_edits(text, [(dependency(text, "react"), "^18.3.1"), (dependency(text, "vite"), "^5.4.0")])
    assert after == 'catalog: {react: "^18.3.1", vite: ^5.4.0}  # flow\n'


def test_named_catalogs() -> None:
    text = "catalogs:\n  react17:\n    react: ^17.0.2 # old\n  react18:\n    react: ^18.2.0\n"
    uses = {"a/package.json": {"dependencies": {"react": "catalog:react17"}}}
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", text, None, uses)
    old = next(d for d in manifest.dependencies if d.location.section == "catalogs.react17")
    unused = next(d for d in manifest.dependencies if d.location.section == "catalogs.react18")
    assert unused.skip_reason == "unused catalog entry" and old.skip_reason is None
    after = apply_workspace_edits(text, [(old, "^17.0.3")])
    assert after == text.replace("^17.0.2 # old", "^17.0.3 # old")


def test_stale_or_overlapping_edits_change_nothing() -> None:
    entities = dependency(VUE, "entities")
    with pytest.raises(ManifestEditError, match=r"where '\^7.0.0' was read"):
        apply_workspace_edits(VUE, [(replace(entities, constraint="^7.0.0"), "^7.1.0")])
    moved = replace(entities, location=replace(entities.location, start=0, end=8))
    with pytest.raises(ManifestEditError, match="not where it was read"):
        apply_workspace_edits(VUE, [(moved, "^7.1.0")])
    with pytest.raises(ManifestEditError, match="overlap"):
        apply_workspace_edits(VUE, [(entities, "^7.1.0"), (entities, "^7.2.0")])
    other = replace(entities, location=replace(entities.location, section="packages"))
    with pytest.raises(ManifestEditError, match="not a section"):
        apply_workspace_edits(VUE, [(other, "^7.1.0")])
    wrong_key = replace(entities, name="vite")
    with pytest.raises(ManifestEditError, match="not where it was read"):
        apply_workspace_edits(VUE, [(wrong_key, "^7.1.0")])
    assert apply_workspace_edits(VUE, []) == VUE


def test_an_aliased_node_is_never_edited() -> None:
    text = "catalog:\n  a: &range ^1.0.0\n  b: *range\n"
    uses = {"package.json": {"dependencies": {"a": "catalog:", "b": "catalog:"}}}
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", text, None, uses)
    a = next(d for d in manifest.dependencies if d.name == "a")
    assert a.skip_reason == "YAML alias"
    with pytest.raises(ManifestEditError):
        apply_workspace_edits(text, [(a, "^1.1.0")])
