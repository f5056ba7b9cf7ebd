"""Raising the Python floor (``bot.deps.floor``): the specifier rewrite, and which floor unlocks what."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.deps.floor import dropped_pythons, lowest_python, propose_floors, raise_spec
from bot.deps.model import Ecosystem, Manifest, PackageInfo, Release
from bot.deps.python import apply_edits, parse_pyproject
from bot.deps.versions import Chooser, Policy, Project

NOW = datetime(2026, 11, 24, tzinfo=UTC)
POLICY = Policy(now=NOW)


@pytest.mark.parametrize(
    ("spec", "style", "expected"),
    [
        (">=3.8", "pep440", ">=3.10"),
        (">=3.8,<4", "pep440", ">=3.10,<4"),
        (">= 3.8, < 4.0", "pep440", ">= 3.10, < 4.0"),
        (">=3.8.1", "pep440", ">=3.10"),
        (">3.7", "pep440", ">=3.10"),
        ("~=3.8", "pep440", "~=3.10"),
        ("~=3.8.1", "pep440", "~=3.10.0"),  # pinned to one minor line: stays so
        (">=3.8,!=3.9.1", "pep440", ">=3.10,!=3.9.1"),
        ("<4", "pep440", ">=3.10, <4"),  # no lower bound: one is added
        ("^3.8", "poetry", "^3.10"),
        ("~3.8", "poetry", "~3.10"),
        (">=3.8,<4.0", "poetry", ">=3.10,<4.0"),
        ("==3.8.*", "pep440", None),  # one Python line, not a floor
        (">=3.8,<3.10", "pep440", None),  # the upper bound excludes the new floor
        ("^3.8 || ^4", "poetry", None),
        ("3.8", "poetry", None),
    ],
)
def test_raise_spec_keeps_the_shape(spec: str, style: str, expected: str | None) -> None:
    assert raise_spec(spec, "3.10", style) == expected


def test_lowest_python_and_dropped_pythons() -> None:
    assert lowest_python(">=3.8") == "3.8"
    assert lowest_python(">=3.8.1,<4") == "3.8"
    assert lowest_python("<3.13,>=3.10") == "3.10"
    assert lowest_python("^3.9", "poetry") == "3.9"
    assert lowest_python("not a specifier") is None
    assert lowest_python("") is None
    assert dropped_pythons(">=3.8", ">=3.11") == ("3.8", "3.9", "3.10")
    assert dropped_pythons(">=3.8,<4", ">=3.8,<4") == ()


PYPROJECT = """\
[project]
name = "lab"
requires-python = ">=3.8"
dependencies = ["numpy==1.24.4", "requests==2.31.0"]

[tool.poetry.dependencies]
python = "^3.8"
"""


def numpy() -> PackageInfo:
    old = NOW - timedelta(days=400)
    return PackageInfo(
        Ecosystem.PYTHON,
        "numpy",
        (
            Release("1.24.4", old, requires_python=">=3.8"),
            Release("1.26.4", old, requires_python=">=3.9"),
            Release("2.2.6", old, requires_python=">=3.10"),
            Release("2.3.5", old, requires_python=">=3.11"),
        ),
    )


def requests() -> PackageInfo:
    old = NOW - timedelta(days=400)
    return PackageInfo(
        Ecosystem.PYTHON,
        "requests",
        (Release("2.31.0", old, requires_python=">=3.7"), Release("2.32.3", old, requires_python=">=3.8")),
    )


def floors(manifest: Manifest, policy: Policy = POLICY):  # type: ignore[no-untyped-def]
    packages = {(Ecosystem.PYTHON, "numpy"): numpy(), (Ecosystem.PYTHON, "requests"): requests()}
    chooser = Chooser(policy)
    project = Project(manifest.requires_python, None, False)
    proposals = [chooser.choose(d, packages[(d.ecosystem, d.key)], project) for d in manifest.dependencies]
    return propose_floors([manifest], proposals, packages, policy)


def test_the_floor_is_the_highest_python_the_held_back_releases_need() -> None:
    manifest = parse_pyproject("pyproject.toml", PYPROJECT)
    [floor] = floors(manifest)
    assert (floor.current, floor.target) == ("3.8", "3.11")
    assert floor.constraints == (">=3.11", "^3.11")  # requires-python and Poetry's python, each in its style
    assert [e.location.section for e in floor.entries] == ["project.requires-python", "tool.poetry.dependencies.python"]
    assert floor.dropped == ("3.8", "3.9", "3.10")
    assert floor.unlocks == (("numpy", "2.3.5"),)  # requests is not held back by the floor
    assert floor.capped is None and floor.still_held == ()


def test_the_floor_stops_at_the_python_the_project_runs() -> None:
    manifest = parse_pyproject("pyproject.toml", PYPROJECT)
    [from_files] = floors(replace(manifest, runtime_python=("3.10", ".python-version: 3.10")))
    assert from_files.target == "3.10" and from_files.unlocks == (("numpy", "2.2.6"),)
    assert from_files.capped == ".python-version: 3.10" and from_files.still_held == (("numpy", "2.3.5"),)
    # config runtime.python already lets through what its Python supports: a raise up to it unlocks nothing more
    assert floors(manifest, replace(POLICY, python_runtime="3.10.4")) == ()


def test_no_proposal_when_nothing_is_held_back_or_the_floor_cannot_move() -> None:
    manifest = parse_pyproject("pyproject.toml", PYPROJECT)
    assert floors(replace(manifest, dependencies=manifest.dependencies[1:])) == ()  # only requests
    assert floors(replace(manifest, runtime_python=("3.8", "Dockerfile: FROM python:3.8-slim"))) == ()
    pinned = parse_pyproject("pyproject.toml", PYPROJECT.replace('">=3.8"', '"==3.8.*"').replace('"^3.8"', '"3.8"'))
    assert floors(pinned) == ()
    # Poetry's python alone (the chooser does not read it) or a [project] requires-python written with escapes
    poetry_only = parse_pyproject(
        "pyproject.toml", PYPROJECT.replace('requires-python = ">=3.8"', 'requires-python = "\\u003e=3.8"')
    )
    assert [e.location.section for e in poetry_only.python_floor] == ["tool.poetry.dependencies.python"]
    assert floors(poetry_only) == ()
    # requires-python taken from elsewhere (runtime evidence of a requirements file) is not the manifest's to raise
    assert floors(replace(manifest, runtime_evidence=".python-version: 3.8")) == ()


def test_the_entries_point_at_the_specifiers_and_edit_byte_exactly() -> None:
    manifest = parse_pyproject("pyproject.toml", PYPROJECT)
    [floor] = floors(manifest)
    edited = apply_edits(PYPROJECT, list(zip(floor.entries, floor.constraints, strict=True)))
    assert edited == PYPROJECT.replace('">=3.8"', '">=3.11"').replace('"^3.8"', '"^3.11"')
    assert parse_pyproject("pyproject.toml", edited).requires_python == ">=3.11"


def test_a_requires_python_with_escapes_is_not_located() -> None:
    manifest = parse_pyproject("pyproject.toml", '[project]\nname = "x"\nrequires-python = "\\u003e=3.8"\n')
    assert manifest.requires_python == ">=3.8" and manifest.python_floor == ()
