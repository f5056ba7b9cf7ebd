"""npm version and range semantics, exactly as node's ``semver`` package (7.x) decides them.

Everything that reasons about npm versions in depup goes through this module. It is backed by a line-by-line
port of npm/node-semver (``_semver_re``, ``_semver_version``, ``_semver_range``) rather than the
``node-semver`` PyPI package: that package (0.9.1) is a port of semver 5.x and disagrees with node on 5 of
npm's satisfies vectors and 88 of its range-parse vectors (``<2.0.0`` instead of ``<2.0.0-0`` upper bounds,
``1.x.5`` and ``x.1`` accepted, ``1.x+build`` rejected, no 256-character or MAX_SAFE_INTEGER limits, and a
comparison that ignores prerelease tags under ``include_prerelease``). Every vector of npm's own test suite
is checked against this module in ``tests/deps/npm/test_semver_vectors.py``.

Functions never raise for a bad range or version where node's function returns false/null
(``satisfies``, ``max_satisfying``, ``valid``, ``valid_range``); the ones node defines as throwing
(``compare``, ``major``, ``diff_type``...) raise ``InvalidVersion``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cmp_to_key
from typing import Literal

from bot.deps.npm._semver_range import Comparator, Range, parse_range
from bot.deps.npm._semver_version import InvalidRange, InvalidVersion, SemVer, parse_version
from bot.deps.npm._semver_version import compare as _compare
from bot.deps.npm._semver_version import diff as _diff

__all__ = [
    "Comparator",
    "DiffType",
    "InvalidRange",
    "InvalidVersion",
    "Range",
    "SemVer",
    "compare",
    "diff",
    "diff_type",
    "is_prerelease",
    "major",
    "max_satisfying",
    "minor",
    "parse",
    "parse_range",
    "patch",
    "satisfies",
    "sort_versions",
    "valid",
    "valid_range",
]

DiffType = Literal["major", "minor", "patch", "prerelease"]


def parse(version: str, *, loose: bool = False) -> SemVer:
    """The parsed version; raises ``InvalidVersion``."""
    return parse_version(version, loose)


def valid(version: str, *, loose: bool = False) -> str | None:
    """The normalised version (``v1.2.3`` -> ``1.2.3``), or None when node's ``semver.valid`` says null."""
    try:
        return parse_version(version, loose).version
    except InvalidVersion:
        return None


def valid_range(range_: str, *, loose: bool = False, include_prerelease: bool = False) -> str | None:
    """node's ``semver.validRange``: the normalised range (``*`` for any), or None when it is not a range."""
    try:
        return parse_range(range_, loose, include_prerelease).range or "*"
    except InvalidVersion:
        return None


def satisfies(version: str, range_: str, *, loose: bool = False, include_prerelease: bool = False) -> bool:
    """True when ``version`` is in ``range_``; False for an invalid version or range (as node)."""
    try:
        parsed = parse_range(range_, loose, include_prerelease)
    except InvalidVersion:
        return False
    return parsed.test(version)


def max_satisfying(
    versions: Iterable[str], range_: str, *, loose: bool = False, include_prerelease: bool = False
) -> str | None:
    """The highest of ``versions`` in ``range_`` (as written in ``versions``); invalid entries are ignored."""
    try:
        parsed = parse_range(range_, loose, include_prerelease)
    except InvalidVersion:
        return None
    best: str | None = None
    best_parsed: SemVer | None = None
    for version in versions:
        if not parsed.test(version):
            continue
        candidate = parse_version(version, loose)
        if best_parsed is None or _compare(best_parsed, candidate) < 0:
            best, best_parsed = version, candidate
    return best


def compare(a: str, b: str, *, loose: bool = False) -> int:
    """-1, 0 or 1 by precedence; raises ``InvalidVersion``."""
    return _compare(parse_version(a, loose), parse_version(b, loose))


def sort_versions(versions: Iterable[str], *, loose: bool = False, reverse: bool = False) -> list[str]:
    """Valid versions sorted by precedence (invalid ones dropped)."""
    kept = [v for v in versions if valid(v, loose=loose) is not None]

    def order(a: str, b: str) -> int:
        return compare(a, b, loose=loose)

    return sorted(kept, key=cmp_to_key(order), reverse=reverse)


def is_prerelease(version: str, *, loose: bool = False) -> bool:
    return bool(parse_version(version, loose).prerelease)


def major(version: str, *, loose: bool = False) -> int:
    return parse_version(version, loose).major


def minor(version: str, *, loose: bool = False) -> int:
    return parse_version(version, loose).minor


def patch(version: str, *, loose: bool = False) -> int:
    return parse_version(version, loose).patch


def diff(a: str, b: str) -> str | None:
    """node's ``semver.diff`` verbatim: major, premajor, minor, preminor, patch, prepatch, prerelease or None."""
    return _diff(parse_version(a), parse_version(b))


def diff_type(a: str, b: str) -> DiffType | None:
    """The kind of step between two versions, for risk: node's ``diff`` with ``pre*`` folded into its base.

    ``1.2.3`` -> ``2.0.0-rc.1`` is node's ``premajor`` and a major step here; ``1.0.0-rc.1`` ->
    ``1.0.0-rc.2`` stays ``prerelease``. None when both are the same version.
    """
    kind = diff(a, b)
    if kind is None:
        return None
    if kind == "prerelease":
        return "prerelease"
    base = kind.removeprefix("pre")
    if base == "major":
        return "major"
    if base == "minor":
        return "minor"
    return "patch"
