"""Benchmark results CI publishes, read as measurements: pytest-benchmark's ``--benchmark-json``, asv's result
files (format 1 and 2), github-action-benchmark's custom JSON (``customSmallerIsBetter``/``customBiggerIsBetter``),
Bencher's Metric Format (BMF), and CodSpeed's report in its check run. Pure functions of text; nothing is run.
A format is recognised by its shape, so any JSON member of an artifact can be offered to ``detect``."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from bot.errors import ValidationInputError

IQR_TO_SIGMA = 1.349  # the interquartile range of a normal distribution, in standard deviations
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_BIGGER_UNITS = re.compile(r"(/\s*s(ec)?\b|per\s+sec|ops|iter/|throughput|req/)", re.IGNORECASE)
_CODSPEED_ROW = re.compile(
    r"^\|\s*(\S*)\s*\|\s*`+\s*(.+?)\s*`+\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$"
)
_TIME_UNITS = {"ns": 1e-9, "µs": 1e-6, "μs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    unit: str
    spread: float | None = None  # one standard deviation of repeated runs, in the value's unit, when known
    bigger_is_better: bool = False


@dataclass(frozen=True)
class Results:
    format: str  # pytest-benchmark | asv | benchmark-action | bmf | codspeed
    measurements: tuple[Measurement, ...]


def detect(text: str, source: str) -> Results | None:
    """The benchmark results in a JSON document, or None when it is none of the known formats."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("benchmarks"), list) and "machine_info" in data:
        return pytest_benchmark(data, source)
    if isinstance(data, dict) and isinstance(data.get("results"), dict) and "commit_hash" in data:
        return asv(data, source)
    if isinstance(data, list) and data and all(isinstance(d, dict) and "name" in d and "value" in d for d in data):
        return benchmark_action(data, source)
    if isinstance(data, dict) and data and all(_is_bmf_entry(v) for v in data.values()):
        return bmf(data, source)
    return None


def pytest_benchmark(data: dict[str, Any], source: str) -> Results:
    """The median of each benchmark (seconds), its spread from the IQR (robust to outliers), else the stddev."""
    found = []
    for bench in data["benchmarks"]:
        stats = bench.get("stats") if isinstance(bench, dict) else None
        if not isinstance(stats, dict):
            raise ValidationInputError(f"{source}: a benchmark without stats")
        name = str(bench.get("fullname") or bench.get("name"))
        median, iqr, mean, stddev = (stats.get(k) for k in ("median", "iqr", "mean", "stddev"))
        if _num(median) and _num(iqr):
            found.append(Measurement(name, float(median), "s", float(iqr) / IQR_TO_SIGMA))
        elif _num(mean):
            found.append(Measurement(name, float(mean), "s", float(stddev) if _num(stddev) else None))
        else:
            raise ValidationInputError(f"{source}: benchmark {name} has no median or mean")
    return Results("pytest-benchmark", tuple(found))


def asv(data: dict[str, Any], source: str) -> Results:
    """asv results: format 1 maps a benchmark to its value; format 2 to positional columns (``result_columns``)
    with one result per parameter combination and the quartiles of its samples."""
    columns = data.get("result_columns")
    found = []
    for name, entry in sorted(data["results"].items()):
        unit = "bytes" if name.split(".")[-1].startswith(("mem_", "peakmem_")) else "s"
        if not isinstance(columns, list):  # format 1
            value = entry.get("result") if isinstance(entry, dict) else entry
            if _num(value):
                found.append(Measurement(name, float(value), unit))
            continue
        if not isinstance(entry, list):
            raise ValidationInputError(f"{source}: asv result {name} is not a list of columns")
        row = dict(zip(columns, entry, strict=False))
        results = row.get("result")
        values = results if isinstance(results, list) else [results]
        q25s, q75s = row.get("stats_q_25") or [], row.get("stats_q_75") or []
        for i, value in enumerate(values):
            if not _num(value):
                continue  # failed or skipped combination
            spread = None
            if i < len(q25s) and i < len(q75s) and _num(q25s[i]) and _num(q75s[i]):
                spread = (float(q75s[i]) - float(q25s[i])) / IQR_TO_SIGMA
            label = name if len(values) == 1 else f"{name}[{i}]"
            found.append(Measurement(label, float(value), unit, spread))
    return Results("asv", tuple(found))


def benchmark_action(data: list[dict[str, Any]], source: str) -> Results:
    """github-action-benchmark's custom tools: ``range`` is the ± spread ("± 0.5", "stddev: 0.002", "3"); units
    that are rates (ops/s, req/s, iter/sec) are bigger-is-better, others smaller-is-better."""
    found = []
    for entry in data:
        value = _to_float(entry.get("value"))
        if value is None:
            raise ValidationInputError(f"{source}: benchmark {entry.get('name')!r} has no numeric value")
        unit = str(entry.get("unit") or "")
        spread = None
        if entry.get("range") not in (None, ""):
            number = _NUMBER.search(str(entry["range"]))
            spread = abs(float(number.group())) if number else None
        found.append(Measurement(str(entry["name"]), value, unit, spread, bool(_BIGGER_UNITS.search(unit))))
    return Results("benchmark-action", tuple(found))


def bmf(data: dict[str, Any], source: str) -> Results:
    """Bencher Metric Format: benchmark -> measure -> {value, lower_value, upper_value}. Throughput measures are
    bigger-is-better; the spread is half the lower..upper interval when it contains the value."""
    found = []
    for name, measures in sorted(data.items()):
        for measure, metric in sorted(measures.items()):
            value = _to_float(metric.get("value"))
            if value is None:
                raise ValidationInputError(f"{source}: {name} {measure} has no numeric value")
            lower, upper = _to_float(metric.get("lower_value")), _to_float(metric.get("upper_value"))
            spread = (
                (upper - lower) / 2 if lower is not None and upper is not None and lower <= value <= upper else None
            )
            found.append(Measurement(f"{name} · {measure}", value, measure, spread or None, "throughput" in measure))
    return Results("bmf", tuple(found))


@dataclass(frozen=True)
class CodSpeedRow:
    name: str
    base: float  # seconds
    head: float


def codspeed(summary: str, source: str) -> tuple[CodSpeedRow, ...]:
    """The "Benchmarks breakdown" table of CodSpeed's report (BASE and HEAD times per benchmark)."""
    rows = []
    for line in summary.splitlines():
        match = _CODSPEED_ROW.match(line.strip())
        if match is None or match.group(2) in ("Benchmark", "-" * len(match.group(2))):
            continue
        base, head = _seconds(match.group(3)), _seconds(match.group(4))
        if base is not None and head is not None:
            rows.append(CodSpeedRow(match.group(2).strip("` "), base, head))
    if not rows and "Benchmarks breakdown" in summary:
        raise ValidationInputError(f"{source}: CodSpeed's breakdown table has no readable row")
    return tuple(rows)


def _seconds(text: str) -> float | None:
    parts = text.strip().split()
    if len(parts) != 2 or parts[1] not in _TIME_UNITS:
        return None
    value = _to_float(parts[0])
    return value * _TIME_UNITS[parts[1]] if value is not None else None


def _is_bmf_entry(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(m, dict) and "value" in m and len(m) <= 3 for m in value.values())
    )


def _num(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _to_float(value: object) -> float | None:
    if _num(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None
