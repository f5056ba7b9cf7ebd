"""Coverage reports CI publishes, read as one percentage each: Cobertura XML (coverage.py, istanbul's cobertura
reporter, ...), lcov's ``lcov.info``, istanbul's ``coverage-summary.json`` and ``coverage-final.json``, and the
descriptions Codecov and Coveralls give their commit statuses and check runs. Pure functions of text; a malformed
report is a ``ValidationInputError``. XML is read without entities or DTDs (defusedxml is not needed: the
standard parser expands no external entities, and a document declaring any entity is refused)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from bot.errors import ValidationInputError

# Artifact member names (case-insensitive basenames) and their format.
COVERAGE_FILES: dict[str, str] = {
    "coverage.xml": "cobertura",
    "cobertura.xml": "cobertura",
    "cobertura-coverage.xml": "cobertura",
    "coverage.cobertura.xml": "cobertura",
    "lcov.info": "lcov",
    "coverage-summary.json": "istanbul-summary",
    "coverage-final.json": "istanbul-final",
}
_PERCENT = r"(\d+(?:\.\d+)?)%"
_CODECOV = re.compile(rf"^\s*{_PERCENT}\s*(?:\(([+-]?\d+(?:\.\d+)?)%\))?")
_COVERALLS = re.compile(rf"(?:\(([+-]?\d+(?:\.\d+)?)%\)\s*)?(?:to|at)\s+{_PERCENT}")


@dataclass(frozen=True)
class Coverage:
    percent: float  # 0..100
    metric: str  # "lines", "statements"
    source: str  # where it came from: "coverage.xml in artifact coverage", "status codecov/project"
    delta: float | None = None  # the change the service itself reported against its base, in points


def parse(kind: str, text: str, source: str) -> Coverage:
    readers = {
        "cobertura": cobertura,
        "lcov": lcov,
        "istanbul-summary": istanbul_summary,
        "istanbul-final": istanbul_final,
    }
    return readers[kind](text, source)


def cobertura(text: str, source: str) -> Coverage:
    if "<!ENTITY" in text:
        raise ValidationInputError(f"{source}: entity declarations are not read")
    try:
        root = ET.fromstring(text)  # noqa: S314 - entities refused above; expat fetches nothing external
    except ET.ParseError as e:
        raise ValidationInputError(f"{source}: not well-formed XML ({e})") from None
    if root.tag != "coverage":
        raise ValidationInputError(f"{source}: the root element is <{root.tag}>, not Cobertura's <coverage>")
    valid, covered = root.get("lines-valid"), root.get("lines-covered")
    try:
        if valid is not None and covered is not None and int(valid) > 0:
            return Coverage(100.0 * int(covered) / int(valid), "lines", source)
        rate = root.get("line-rate")
        if rate is None:
            raise ValidationInputError(f"{source}: <coverage> has neither lines-valid/lines-covered nor line-rate")
        return Coverage(100.0 * float(rate), "lines", source)
    except ValueError:
        raise ValidationInputError(f"{source}: line counts or rate are not numbers") from None


def lcov(text: str, source: str) -> Coverage:
    found = hit = 0
    records = 0
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        try:
            if key == "LF":
                found += int(value)
            elif key == "LH":
                hit += int(value)
            elif key == "end_of_record":
                records += 1
        except ValueError:
            raise ValidationInputError(f"{source}: {key} is not a number: {value!r}") from None
    if not records or not found:
        raise ValidationInputError(f"{source}: no lcov record with lines (LF) found")
    return Coverage(100.0 * hit / found, "lines", source)


def istanbul_summary(text: str, source: str) -> Coverage:
    data = _json(text, source)
    lines = data.get("total", {}).get("lines") if isinstance(data.get("total"), dict) else None
    if not isinstance(lines, dict):
        raise ValidationInputError(f"{source}: no total.lines in this coverage summary")
    total, covered = lines.get("total"), lines.get("covered")
    if isinstance(total, int) and isinstance(covered, int) and total > 0:
        return Coverage(100.0 * covered / total, "lines", source)
    pct = lines.get("pct")
    if isinstance(pct, int | float):
        return Coverage(float(pct), "lines", source)
    raise ValidationInputError(f"{source}: total.lines has no counts or pct")


def istanbul_final(text: str, source: str) -> Coverage:
    """Statement coverage of istanbul's per-file coverage objects (``s`` counts by statement id)."""
    data = _json(text, source)
    total = covered = 0
    for entry in data.values():
        counts = entry.get("s") if isinstance(entry, dict) else None
        if not isinstance(counts, dict):
            raise ValidationInputError(f"{source}: a file entry has no statement counts ('s')")
        total += len(counts)
        covered += sum(1 for n in counts.values() if isinstance(n, int) and n > 0)
    if not total:
        raise ValidationInputError(f"{source}: no statements in this coverage object")
    return Coverage(100.0 * covered / total, "statements", source)


def codecov(description: str, source: str) -> Coverage | None:
    """Codecov's project status: "86.36% (+0.12%) compared to 8a8f5f1"; None when it states no percentage."""
    match = _CODECOV.match(description or "")
    if match is None:
        return None
    delta = float(match.group(2)) if match.group(2) is not None else None
    return Coverage(float(match.group(1)), "lines", source, delta)


def coveralls(description: str, source: str) -> Coverage | None:
    """Coveralls: "Coverage increased (+0.1%) to 95.432%", "Coverage remained the same at 98.4%"."""
    match = _COVERALLS.search(description or "")
    if match is None:
        return None
    delta = float(match.group(1)) if match.group(1) is not None else None
    return Coverage(float(match.group(2)), "lines", source, delta)


def service_reader(name: str) -> str | None:
    """Which coverage service a check or status name belongs to (codecov's project check, not its patch check)."""
    lowered = name.lower()
    if lowered.startswith("codecov/project"):
        return "codecov"
    if "coveralls" in lowered:
        return "coveralls"
    return None


def _json(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValidationInputError(f"{source}: not JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValidationInputError(f"{source}: expected a JSON object")
    return data
