"""Shared test helpers for the Python manifest tests."""

from __future__ import annotations

from pathlib import Path

from bot.deps.model import Dependency, Manifest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests" / "python"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def original_path(fixture_name: str) -> str:
    """``owner__repo__a__b.txt`` -> ``a/b.txt`` (the path the file has in its repository)."""
    parts = fixture_name.split("__")
    return "/".join(parts[2:])


def by_name(manifest: Manifest) -> dict[str, Dependency]:
    return {d.name: d for d in manifest.dependencies}


def summary(manifest: Manifest) -> list[tuple[str, str, str, str | None, tuple[str, ...], str | None, str | None]]:
    return [
        (d.name, d.constraint, d.role.value, d.group, d.extras, d.marker, d.skip_reason) for d in manifest.dependencies
    ]


def spans_hold_constraints(text: str, manifest: Manifest) -> bool:
    return all(
        text[d.location.start : d.location.end] == d.constraint for d in manifest.dependencies if d.skip_reason is None
    )


MANIFESTS = FIXTURES.parent  # tests/fixtures/manifests: one folder per format beside python/


def copy_tree(source: Path, dest: Path) -> Path:
    """A copy of a fixture folder (a small repository) to scan or edit."""
    import shutil

    shutil.copytree(source, dest)
    return dest
