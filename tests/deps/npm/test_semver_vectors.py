"""npm's own semver test vectors (npm/node-semver 7.8.5, ISC), checked through depup's wrapper.

Every vector must agree with node: these are the cases where the node-semver PyPI package does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.deps.npm import semver

FIXTURES = json.loads((Path(__file__).parents[2] / "fixtures" / "npm-semver" / "semver-fixtures.json").read_text())


def _options(case: dict[str, Any]) -> dict[str, bool]:
    return {"loose": case["options"]["loose"], "include_prerelease": case["options"]["includePrerelease"]}


def _id(case: dict[str, Any]) -> str:
    return json.dumps(case, sort_keys=True)[:120]


def test_fixture_file_is_complete() -> None:
    counts = {key: len(value) for key, value in FIXTURES.items() if isinstance(value, list)}
    assert counts == {
        "range-include": 126,
        "range-exclude": 98,
        "comparisons": 31,
        "equality": 37,
        "range-parse": 131,
        "invalid-versions": 7,
    }


@pytest.mark.parametrize("case", FIXTURES["range-include"], ids=_id)
def test_range_include(case: dict[str, Any]) -> None:
    assert semver.satisfies(case["version"], case["range"], **_options(case)) is True


@pytest.mark.parametrize("case", FIXTURES["range-exclude"], ids=_id)
def test_range_exclude(case: dict[str, Any]) -> None:
    assert semver.satisfies(case["version"], case["range"], **_options(case)) is False


@pytest.mark.parametrize("case", FIXTURES["range-parse"], ids=_id)
def test_range_parse(case: dict[str, Any]) -> None:
    assert semver.valid_range(case["range"], **_options(case)) == case["expected"]


@pytest.mark.parametrize("case", FIXTURES["comparisons"], ids=_id)
def test_comparisons(case: dict[str, Any]) -> None:
    greater, lesser, loose = case["greater"], case["lesser"], case["loose"]
    assert semver.compare(greater, lesser, loose=loose) == 1
    assert semver.compare(lesser, greater, loose=loose) == -1
    assert semver.compare(greater, greater, loose=loose) == 0
    assert semver.sort_versions([greater, lesser], loose=loose) == [lesser, greater]


@pytest.mark.parametrize("case", FIXTURES["equality"], ids=_id)
def test_equality(case: dict[str, Any]) -> None:
    assert semver.compare(case["a"], case["b"], loose=case["loose"]) == 0
    assert semver.compare(case["b"], case["a"], loose=case["loose"]) == 0


@pytest.mark.parametrize("case", FIXTURES["invalid-versions"], ids=_id)
def test_invalid_versions(case: dict[str, Any]) -> None:
    assert semver.valid(case["version"], loose=case["options"]["loose"]) is None
    with pytest.raises(semver.InvalidVersion):
        semver.parse(case["version"], loose=case["options"]["loose"])
    # Not matching (rather than raising) is what node's satisfies does for an invalid version.
    assert semver.satisfies(case["version"], "*", loose=case["options"]["loose"]) is False


# The five vectors the node-semver PyPI package (0.9.1) gets wrong, named so a regression is obvious.
@pytest.mark.parametrize(
    ("version", "range_", "include_prerelease"),
    [
        ("not a version", "*", False),  # nodesemver raises
        ("glorp", ">=2", False),  # nodesemver raises
        ("0.0.3-alpha", "^0.0.3", True),  # nodesemver ignores the prerelease when comparing
        ("0.2.3-alpha", "^0.2.3", True),
        ("1.0.0-rc1", "^1.0.0", True),
    ],
)
def test_known_nodesemver_misses(version: str, range_: str, include_prerelease: bool) -> None:
    assert semver.satisfies(version, range_, include_prerelease=include_prerelease) is False


def test_include_prerelease_upper_bound_is_exclusive_of_next_prereleases() -> None:
    # ^1.2.3 is <2.0.0-0 in node: 2.0.0-alpha is outside even with include_prerelease.
    assert semver.satisfies("2.0.0-alpha", "^1.2.3", include_prerelease=True) is False
    assert semver.satisfies("1.9.0-alpha", "^1.2.3", include_prerelease=True) is True
    assert semver.satisfies("1.9.0-alpha", "^1.2.3") is False


def test_max_satisfying_ignores_invalid_versions_and_prereleases() -> None:
    versions = ["1.2.3", "1.2.4", "1.3.0-beta.1", "junk", "2.0.0", "v1.2.9"]
    assert semver.max_satisfying(versions, "^1.2.0") == "v1.2.9"
    assert semver.max_satisfying(versions, "^1.2.0", include_prerelease=True) == "1.3.0-beta.1"
    assert semver.max_satisfying(versions, "not a range") is None
    assert semver.max_satisfying([], "*") is None


def test_valid_normalises_and_rejects() -> None:
    assert semver.valid("v1.2.3") == "1.2.3"
    assert semver.valid(" =1.2.3 ", loose=True) == "1.2.3"
    assert semver.valid("1.2") is None
    assert semver.valid("1.2.3.4") is None
    assert semver.valid_range("latest") is None
    assert semver.valid_range("") == "*"


def test_accessors() -> None:
    assert (semver.major("4.17.21"), semver.minor("4.17.21"), semver.patch("4.17.21")) == (4, 17, 21)
    assert semver.is_prerelease("2.0.0-rc.1") and not semver.is_prerelease("2.0.0")
    with pytest.raises(semver.InvalidVersion):
        semver.major("latest")


@pytest.mark.parametrize(
    ("a", "b", "node_diff", "kind"),
    [
        ("1.2.3", "1.2.3", None, None),
        ("1.2.3", "1.2.4", "patch", "patch"),
        ("1.2.3", "1.3.0", "minor", "minor"),
        ("1.2.3", "2.0.0", "major", "major"),
        ("2.0.0", "1.2.3", "major", "major"),
        ("1.2.3", "2.0.0-rc.1", "premajor", "major"),
        ("1.2.3", "1.3.0-rc.1", "preminor", "minor"),
        ("1.2.3", "1.2.4-rc.1", "prepatch", "patch"),
        ("1.0.0-rc.1", "1.0.0-rc.2", "prerelease", "prerelease"),
        ("1.0.0-rc.1", "1.0.0", "major", "major"),
        ("1.1.0-rc.1", "1.1.0", "minor", "minor"),
        ("1.1.1-rc.1", "1.1.1", "patch", "patch"),
        ("0.21.1", "0.27.2", "minor", "minor"),
    ],
)
def test_diff(a: str, b: str, node_diff: str | None, kind: str | None) -> None:
    assert semver.diff(a, b) == node_diff
    assert semver.diff_type(a, b) == kind
