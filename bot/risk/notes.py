"""Breaking-change markers in release notes: the sections of a changelog between two versions, and the lines
in them that announce breaking changes.

A changelog is split at headings that name a version (Markdown ``## 3.0.0``, ``## [3.0.0] - 2023-09-30``,
``## v3.0.0``, ``Version 3.0.0``, reStructuredText titles underlined with ``-``/``=``/``~``). Sections newer
than the version in use and not newer than the target are read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from packaging.version import InvalidVersion, Version

from bot.deps.npm import semver
from bot.risk.model import BreakingNotes

MAX_NOTES_CHARS = 2_000_000
MAX_MARKERS = 3
_VERSION = r"v?(\d+(?:\.\d+){1,3}(?:[-.]?(?:a|b|rc|alpha|beta|dev|post|pre)[.-]?\d*)?)"
_DASHES = "\u2014\u2013-"  # em dash, en dash, hyphen
_PREFIX = r"(?:(?:version|release)\s+)?"
_MD_HEADING = re.compile(rf"^#{{1,4}}\s*\[?{_PREFIX}{_VERSION}\]?(?:[\s(:{_DASHES}].*)?$", re.IGNORECASE)
_PLAIN_HEADING = re.compile(rf"^{_PREFIX}\[?{_VERSION}\]?(?:\s*[(:{_DASHES}].*)?\s*$", re.IGNORECASE)
_UNDERLINE = re.compile(r"^([-=~^*+#])\1{2,}\s*$")
_MARKER = re.compile(
    r"\b(?:breaking[ _-]?changes?|breaking|backwards?[- ]incompatible|incompatible changes?|"
    r"no longer supported|removed support|drop(?:ped|s)? support|not backward[s]? compatible)\b",
    re.IGNORECASE,
)


def sections(text: str) -> list[tuple[str, str]]:
    """(version, section text) pairs in document order."""
    lines = text[:MAX_NOTES_CHARS].splitlines()
    found: list[tuple[str, int]] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        match = _MD_HEADING.match(stripped)
        if match is None and i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1].strip()):
            match = _PLAIN_HEADING.match(stripped)
        if match is not None:
            found.append((match.group(1), i))
    out = []
    for n, (version, start) in enumerate(found):
        end = found[n + 1][1] if n + 1 < len(found) else len(lines)
        out.append((version, "\n".join(lines[start + 1 : end])))
    return out


def breaking_notes(text: str, source: str, ecosystem: str, current: str, target: str) -> BreakingNotes:
    newer = _newer(ecosystem)
    read = 0
    markers: list[str] = []
    for version, body in sections(text):
        if not (newer(version, current) and not newer(version, target)):
            continue
        read += 1
        for line in body.splitlines():
            if _MARKER.search(line) and len(markers) < MAX_MARKERS:
                markers.append(f"{version}: {_excerpt(line)}")
    return BreakingNotes(source=source, versions=read, markers=tuple(markers))


def _excerpt(line: str, limit: int = 120) -> str:
    text = re.sub(r"\s+", " ", line.strip().lstrip("-*+#> ").strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _newer(ecosystem: str) -> Callable[[str, str], bool]:
    if ecosystem == "npm":

        def npm_newer(a: str, b: str) -> bool:
            left, right = semver.valid(a, loose=True), semver.valid(b, loose=True)
            if left is None or right is None:
                left, right = _coerce(a), _coerce(b)
            return left is not None and right is not None and semver.compare(left, right) > 0

        return npm_newer

    def pep440_newer(a: str, b: str) -> bool:
        try:
            return Version(a) > Version(b)
        except InvalidVersion:
            return False

    return pep440_newer


def _coerce(version: str) -> str | None:
    """``3.1`` as ``3.1.0`` (changelogs often shorten versions)."""
    parts = version.split("-", 1)[0].split(".")
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3:
        return None
    return ".".join([*parts, "0", "0"][:3])
