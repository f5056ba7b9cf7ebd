"""npm's ``SemVer`` class (``classes/semver.js`` of npm/node-semver 7.x): parsing and precedence.

Ported from npm/node-semver, Copyright (c) Isaac Z. Schlueter and Contributors, ISC license (see
``NOTICE-node-semver``). Only the parts depup uses: parse, compare, format, and ``diff``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.deps.npm._semver_re import MAX_LENGTH, MAX_SAFE_INTEGER, NUMERIC, js_trim, safe_re
from bot.errors import DepupError

Identifier = int | str


class InvalidVersion(DepupError, ValueError):
    """Text that npm's semver does not accept as a version (or a range, for ``InvalidRange``)."""


class InvalidRange(InvalidVersion):
    """Text that npm's semver does not accept as a range."""


@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: tuple[Identifier, ...] = ()
    build: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(part) for part in self.prerelease)
        return text

    def __str__(self) -> str:
        return self.version


@lru_cache(maxsize=4096)
def parse_version(text: str, loose: bool = False) -> SemVer:
    """``new SemVer(text, {loose})``; raises ``InvalidVersion`` where node throws."""
    if len(text) > MAX_LENGTH:
        raise InvalidVersion(f"version is longer than {MAX_LENGTH} characters")
    match = safe_re["LOOSE" if loose else "FULL"].match(js_trim(text))
    if match is None:
        raise InvalidVersion(f"Invalid Version: {text}")
    numbers = [int(match.group(i)) for i in (1, 2, 3)]
    for name, value in zip(("major", "minor", "patch"), numbers, strict=True):
        if value > MAX_SAFE_INTEGER:
            raise InvalidVersion(f"Invalid {name} version")
    pre = match.group(4)
    build = match.group(5)
    return SemVer(
        numbers[0],
        numbers[1],
        numbers[2],
        tuple(_numberify(part) for part in pre.split(".")) if pre else (),
        tuple(build.split(".")) if build else (),
    )


def _numberify(identifier: str) -> Identifier:
    if NUMERIC.match(identifier):
        number = int(identifier)
        if number < MAX_SAFE_INTEGER:
            return number
    return identifier


def compare_identifiers(a: Identifier, b: Identifier) -> int:
    a_numeric = isinstance(a, int) or NUMERIC.match(a) is not None
    b_numeric = isinstance(b, int) or NUMERIC.match(b) is not None
    if a_numeric and b_numeric:
        a_num, b_num = int(a), int(b)
        return 0 if a_num == b_num else (-1 if a_num < b_num else 1)
    if a_numeric:
        return -1
    if b_numeric:
        return 1
    a_text, b_text = str(a), str(b)
    return 0 if a_text == b_text else (-1 if a_text < b_text else 1)


def compare_main(a: SemVer, b: SemVer) -> int:
    left, right = (a.major, a.minor, a.patch), (b.major, b.minor, b.patch)
    return 0 if left == right else (-1 if left < right else 1)


def compare_pre(a: SemVer, b: SemVer) -> int:
    if a.prerelease and not b.prerelease:
        return -1
    if b.prerelease and not a.prerelease:
        return 1
    for left, right in zip(a.prerelease, b.prerelease, strict=False):
        if left != right:
            return compare_identifiers(left, right)
    return (len(a.prerelease) > len(b.prerelease)) - (len(a.prerelease) < len(b.prerelease))


def compare(a: SemVer, b: SemVer) -> int:
    """-1, 0 or 1 by semver precedence (build metadata ignored), as ``SemVer.compare``."""
    if a.version == b.version:
        return 0
    return compare_main(a, b) or compare_pre(a, b)


def diff(a: SemVer, b: SemVer) -> str | None:
    """``semver.diff``: major, premajor, minor, preminor, patch, prepatch, prerelease or None."""
    comparison = compare(a, b)
    if comparison == 0:
        return None
    high, low = (a, b) if comparison > 0 else (b, a)
    if low.prerelease and not high.prerelease:
        if not low.patch and not low.minor:
            return "major"
        if compare_main(low, high) == 0:
            return "minor" if low.minor and not low.patch else "patch"
    prefix = "pre" if high.prerelease else ""
    if a.major != b.major:
        return prefix + "major"
    if a.minor != b.minor:
        return prefix + "minor"
    if a.patch != b.patch:
        return prefix + "patch"
    return "prerelease"
