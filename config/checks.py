"""The checks JSON Schema cannot make: cron expressions, time zones, globs, version ranges, unique names,
core-package removals and the order of the risk thresholds. Each looks only at values of the right type
(the schema reports the others) and points at the value it rejects."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeGuard

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bot.deps.npm import semver
from config.build import removed_by
from config.durations import parse_duration
from config.globs import check_glob
from config.messages import show, suggest
from config.model import ConfigProblem
from config.source import Document, Path, first_at, format_path

_CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or jan-dec"),
    ("day-of-week", "0-6 or sun-sat"),
)
_RANGE_SYNTAX = {"python": "a PEP 440 specifier like '>=2,<3'", "npm": "an npm range like '^2.0.0'"}


@dataclass(frozen=True)
class _Found:
    path: Path
    message: str


def semantic_problems(document: Document, defaults: Mapping[str, Any], file: str) -> list[ConfigProblem]:
    """The problems of ``document`` (a mapping, already read) that only code can see. ``defaults`` are the
    built-in options, for checks that depend on values the file may leave out."""
    problems = []
    for found in _check(document.value, defaults, document):
        if document.is_unread(found.path):
            continue
        where = document.value_at(found.path)
        problems.append(ConfigProblem(file, where.line, where.column, format_path(found.path), found.message))
    return problems


def _check(config: Any, defaults: Mapping[str, Any], document: Document) -> Iterator[_Found]:
    if not isinstance(config, dict):
        return
    schedule = config.get("schedule")
    if isinstance(schedule, dict):
        if isinstance(schedule.get("cron"), str) and schedule["cron"]:
            yield from _cron(schedule["cron"], ("schedule", "cron"))
        if isinstance(schedule.get("timezone"), str) and schedule["timezone"]:
            yield from _timezone(schedule["timezone"], ("schedule", "timezone"))
    for key in ("directories", "ignore_paths"):
        yield from _globs(config.get(key), (key,), paths=True)
    for kind in ("phases", "groups"):
        entries = config.get(kind)
        if isinstance(entries, list):
            yield from _unique_names(entries, kind, document)
            for index, entry in enumerate(entries):
                if isinstance(entry, dict) and isinstance(entry.get("match"), dict):
                    yield from _globs(entry["match"].get("packages"), (kind, index, "match", "packages"), paths=False)
    yield from _core_packages(config.get("core_packages"), defaults.get("core_packages", {}))
    rules = config.get("ignore")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, dict):
                yield from _globs(rule.get("packages"), ("ignore", index, "packages"), paths=False)
                yield from _ignore_versions(rule, ("ignore", index))
    health = config.get("health_check")
    if isinstance(health, dict) and _duration(health.get("interval")) == 0:
        yield _Found(("health_check", "interval"), "the time between probe rounds must be more than 0")
    if isinstance(health, dict):
        yield from _baseline(health.get("baseline"), defaults.get("health_check", {}).get("baseline", {}))
        yield from _prometheus(health.get("prometheus"), document)
    yield from _risk_thresholds(config.get("risk"), defaults.get("risk", {}))


def _cron(expression: str, path: Path) -> Iterator[_Found]:
    fields = expression.split()
    if len(fields) != len(_CRON_FIELDS):
        yield _Found(
            path,
            f"expected a cron expression of 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(fields)} in {show(expression)}",
        )
        return
    for index, (name, allowed) in enumerate(_CRON_FIELDS):
        alone = " ".join(fields[index] if i == index else "*" for i in range(len(_CRON_FIELDS)))
        if not _cron_valid(alone):
            yield _Found(path, f"the {name} field {fields[index]!r} of {show(expression)} is not valid ({allowed})")
            return
    if not _cron_valid(" ".join(fields)):
        yield _Found(path, f"{show(expression)} is not a valid cron expression")


def _cron_valid(expression: str) -> bool:
    from croniter import croniter  # with the first schedule checked: most configurations have none
    from croniter.croniter import CroniterError

    try:
        croniter.expand(expression)
    except (CroniterError, ValueError, TypeError, LookupError):
        return False
    return True


def _timezone(name: str, path: Path) -> Iterator[_Found]:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        close = suggest(name, sorted(_zones()))
        hint = f" (did you mean {close!r}?)" if close else " (an IANA name like 'UTC' or 'Europe/Paris')"
        yield _Found(path, f"unknown time zone {show(name)}{hint}")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _globs(patterns: Any, where: Path, *, paths: bool) -> Iterator[_Found]:
    if not isinstance(patterns, list):
        return
    for index, pattern in enumerate(patterns):
        if isinstance(pattern, str) and pattern:
            why = "nothing follows '!'" if pattern == "!" else check_glob(pattern, path=paths)
            if why is not None:
                yield _Found((*where, index), f"invalid {'path ' if paths else ''}glob {show(pattern)}: {why}")


def _unique_names(entries: list[Any], kind: str, document: Document) -> Iterator[_Found]:
    first: dict[str, int] = {}
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            earlier = document.value_at((kind, first[name], "name"))
            here = document.value_at((kind, index, "name"))
            message = f"duplicate {kind[:-1]} name {name!r}, first at {first_at(earlier, here)} ({kind}[{first[name]}])"
            yield _Found((kind, index, "name"), message)
        else:
            first[name] = index


def _core_packages(core: Any, defaults: Any) -> Iterator[_Found]:
    if not isinstance(core, dict):
        return
    for ecosystem in ("python", "npm"):
        yield from _globs(core.get(ecosystem), ("core_packages", ecosystem), paths=False)
        entries = core.get(ecosystem)
        built_in = [str(name) for name in defaults.get(ecosystem, ())]
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, str) or not entry.startswith("!") or check_glob(entry) is not None:
                continue
            body = entry[1:]
            if not removed_by(body, built_in):
                close = suggest(body, built_in)
                hint = f" (did you mean '!{close}'?)" if close else ""
                message = f"{show(entry)} removes nothing: no built-in {ecosystem} core package matches it{hint}"
                yield _Found(("core_packages", ecosystem, index), message)


def _ignore_versions(rule: dict[str, Any], path: Path) -> Iterator[_Found]:
    versions = rule.get("versions")
    if not isinstance(versions, list):
        return
    declared = rule.get("ecosystems")
    if isinstance(declared, list) and declared and all(name in _RANGE_SYNTAX for name in declared):
        ecosystems = [str(name) for name in declared]
        need_all = True
    else:
        ecosystems, need_all = list(_RANGE_SYNTAX), False
    for index, text in enumerate(versions):
        if not isinstance(text, str) or not text:
            continue
        valid = [ecosystem for ecosystem in ecosystems if _range_valid(ecosystem, text)]
        if need_all and len(valid) < len(ecosystems):
            bad = [ecosystem for ecosystem in ecosystems if ecosystem not in valid]
            expected = " and ".join(_RANGE_SYNTAX[ecosystem] for ecosystem in bad)
            yield _Found((*path, "versions", index), f"expected {expected}, got {show(text)}")
        elif not need_all and not valid:
            message = f"expected a PEP 440 specifier like '>=2,<3' or an npm range like '^2.0.0', got {show(text)}"
            yield _Found((*path, "versions", index), message)


def _range_valid(ecosystem: str, text: str) -> bool:
    if ecosystem == "npm":
        return semver.valid_range(text, loose=True) is not None
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return False
    return True


def _duration(value: Any) -> float | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        return parse_duration(value).total_seconds()
    except ValueError:
        return None


def _risk_thresholds(risk: Any, defaults: Mapping[str, Any]) -> Iterator[_Found]:
    if not isinstance(risk, dict):
        return
    medium, high = risk.get("medium_at", defaults.get("medium_at")), risk.get("high_at", defaults.get("high_at"))
    if not _is_int(medium) or not _is_int(high) or high > medium:
        return
    given = "high_at" if "high_at" in risk else "medium_at"
    yield _Found(("risk", given), f"high_at ({high}) must be greater than medium_at ({medium})")


def _is_int(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()


def _baseline(baseline: Any, defaults: Mapping[str, Any]) -> Iterator[_Found]:
    if not isinstance(baseline, dict):
        return
    samples, least = (
        baseline.get("samples", defaults.get("samples")),
        baseline.get("min_samples", defaults.get("min_samples")),
    )
    if _is_int(samples) and _is_int(least) and least > samples:
        given = "min_samples" if "min_samples" in baseline else "samples"
        message = f"min_samples ({least}) must not be more than samples ({samples}): nothing would be judged"
        yield _Found(("health_check", "baseline", given), message)


def _prometheus(prometheus: Any, document: Document) -> Iterator[_Found]:
    if not isinstance(prometheus, dict):
        return
    if _duration(prometheus.get("step")) == 0:
        yield _Found(("health_check", "prometheus", "step"), "the time between two values must be more than 0")
    if _duration(prometheus.get("window")) == 0:
        yield _Found(("health_check", "prometheus", "window"), "the baseline's window must be more than 0")
    queries = prometheus.get("queries")
    if not isinstance(queries, list):
        return
    first: dict[str, int] = {}
    for index, query in enumerate(queries):
        if not isinstance(query, dict):
            continue
        where: Path = ("health_check", "prometheus", "queries", index)
        name = query.get("name")
        if isinstance(name, str):
            if name in first:
                earlier = document.value_at((*where[:-1], first[name], "name"))
                here = document.value_at((*where, "name"))
                yield _Found((*where, "name"), f"duplicate query name {name!r}, first at {first_at(earlier, here)}")
            else:
                first[name] = index
        if query.get("kind") == "error_rate" and "total" not in query:
            yield _Found((*where, "kind"), "an error_rate query needs 'total': the query of all requests")
        if query.get("kind") == "latency" and "total" in query:
            yield _Found((*where, "total"), "only an error_rate query has a 'total'")
