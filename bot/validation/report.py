"""The validation of one pull request head: its checks by test layer, its coverage and benchmarks against the
commit the pull request was made on (the head commit's first parent: depup's branches are one commit on the
default branch), what of it blocks automerge, and the risk factors it adds. ``validate`` gathers it (GitHub
calls); ``markdown`` is the part of the results comment it writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

from redis import Redis

from bot.errors import GitHubError, ValidationInputError
from bot.github.client import InstallationClient, json_body
from bot.repos.registry import RepoRecord
from bot.validation import benchmarks, coverage
from bot.validation.artifacts import ArtifactLimits, CommitOutputs, read_commit
from bot.validation.compare import BenchmarkChange, CoverageChange, compare_benchmarks
from bot.validation.layers import Check, Layer, layers, patterns_with
from config.model import Validation as Settings

_ICONS = {"passing": "✅", "failing": "❌", "pending": "⏳", "skipped": "⚪", "missing": "🚫"}
ChecksOf = Callable[[str], Sequence[Any]]  # sha -> the CheckResults of that commit (bot.lifecycle.results)


@dataclass(frozen=True)
class Validation:
    layers: tuple[Layer, ...]
    required: tuple[str, ...]
    coverage: CoverageChange | None = None
    max_drop: float | None = None
    benchmarks: tuple[BenchmarkChange, ...] = ()
    benchmark_formats: tuple[str, ...] = ()
    base: str | None = None
    notes: tuple[str, ...] = ()
    max_regression: float = 0.2

    @property
    def blockers(self) -> tuple[str, ...]:
        """Why automerge must not merge this head, one sentence each."""
        found = []
        by_name = {layer.name: layer for layer in self.layers}
        for name in self.required:
            layer = by_name.get(name)
            if layer is None or layer.verdict == "missing":
                found.append(f"required test layer `{name}` is missing: no check of this commit is in it")
            elif layer.verdict != "passing":
                found.append(f"required test layer `{name}` is {layer.verdict}")
        if self.coverage_drop is not None:
            found.append(self.coverage_drop)
        found.extend(self.regression_reasons)
        return tuple(found)

    @property
    def risk_findings(self) -> tuple[tuple[str, str], ...]:
        """Risk factors (id, reason) of what validation found against the PR."""
        found = []
        if self.coverage_drop is not None:
            found.append(("coverage_drop", self.coverage_drop))
        if self.regression_reasons:
            found.append(("benchmark_regression", "; ".join(self.regression_reasons)))
        return tuple(found)

    @property
    def coverage_drop(self) -> str | None:
        c = self.coverage
        if c is None or c.drop is None or self.max_drop is None or c.drop <= self.max_drop:
            return None
        return (
            f"coverage dropped {c.drop:.2f} points ({c.base:.2f}% → {c.head:.2f}% {c.metric}), "
            f"more than the {self.max_drop:g} allowed"
        )

    @property
    def regression_reasons(self) -> tuple[str, ...]:
        return tuple(
            f"benchmark `{b.name}` is {b.worse:.1%} worse ({_value(b.base, b.unit)} → {_value(b.head, b.unit)}), "
            f"beyond its noise band of ±{b.band:.1%} and the {self.max_regression:.0%} allowed"
            for b in self.benchmarks
            if b.blocking
        )


def validate(
    gh: InstallationClient,
    record: RepoRecord,
    redis: Redis,
    head: str,
    head_checks: Sequence[Any],
    checks_of: ChecksOf,
    settings: Settings,
) -> Validation:
    patterns = patterns_with(dict(settings.layers))
    layered = layers([Check(c.name, c.result, c.started, c.completed) for c in head_checks], patterns)
    result = Validation(
        layered,
        settings.required_layers,
        max_drop=settings.coverage.max_drop,
        max_regression=settings.benchmarks.max_regression_percent / 100,
    )
    if not (settings.coverage.enabled or settings.benchmarks.enabled):
        return result
    limits = ArtifactLimits(settings.max_artifact_mb * 1024 * 1024, settings.max_artifacts)
    head_out = read_commit(gh, record, redis, head, limits)
    head_cov = _coverage(head_out, head_checks) if settings.coverage.enabled else None
    head_bench = head_out.benchmarks() if settings.benchmarks.enabled else {}
    codspeed = _codspeed(head_checks, settings) if settings.benchmarks.enabled else ()
    notes = [n for a in head_out.artifacts for n in a.notes] + list(head_out.notes)
    if head_cov is None and not head_bench and not codspeed:
        return replace(result, notes=tuple(notes))
    base = _parent(gh, record, head)
    cov_change = None
    changes: list[BenchmarkChange] = list(codspeed)
    if base is None:
        notes.append("the commit this pull request was made on is unknown: nothing to compare with")
        if head_cov is not None:
            cov_change = CoverageChange(head_cov.percent, None, head_cov.source, head_cov.metric)
        return replace(result, coverage=cov_change, benchmarks=tuple(changes), notes=tuple(notes))
    base_out = read_commit(gh, record, redis, base, limits)
    notes.extend(n for a in base_out.artifacts for n in a.notes)
    if head_cov is not None:
        base_cov = _coverage(base_out, checks_of(base)) if head_cov.source else None
        base_percent = base_cov.percent if base_cov is not None and base_cov.metric == head_cov.metric else None
        if base_percent is None and head_cov.delta is not None:
            base_percent = head_cov.percent - head_cov.delta  # the service's own comparison with its base
        if base_percent is None:
            notes.append(f"no coverage was published for the base commit {base[:7]}")
        cov_change = CoverageChange(head_cov.percent, base_percent, head_cov.source, head_cov.metric)
    if head_bench:
        base_bench = base_out.benchmarks()
        if not base_bench:
            notes.append(f"no benchmark results were published for the base commit {base[:7]}")
        changes.extend(
            compare_benchmarks(
                base_bench,
                head_bench,
                noise=settings.benchmarks.noise_percent / 100,
                max_regression=settings.benchmarks.max_regression_percent / 100,
            )
        )
    formats = tuple(sorted({*head_out.formats(), *(("codspeed",) if codspeed else ())}))
    return replace(
        result,
        coverage=cov_change,
        benchmarks=tuple(changes),
        benchmark_formats=formats,
        base=base,
        notes=tuple(notes),
    )


def _coverage(outputs: CommitOutputs, checks: Sequence[Any]) -> coverage.Coverage | None:
    """The artifact's report, else the coverage service's status or check (codecov's project, coveralls)."""
    found = outputs.coverage()
    if found is not None:
        return found
    for check in checks:
        reader = coverage.service_reader(check.name)
        if reader is None or check.result == "pending":
            continue
        parse = coverage.codecov if reader == "codecov" else coverage.coveralls
        parsed = parse(check.text, f"{check.name}")
        if parsed is not None:
            return parsed
    return None


def _codspeed(checks: Sequence[Any], settings: Settings) -> tuple[BenchmarkChange, ...]:
    """CodSpeed compares with its own base: its table's BASE and HEAD times, judged with depup's bounds."""
    rows: list[benchmarks.CodSpeedRow] = []
    for check in checks:
        if "codspeed" in check.name.lower() and check.text:
            with suppress(ValidationInputError):  # a report depup cannot read is not compared; others still are
                rows.extend(benchmarks.codspeed(check.text, check.name))
    noise = settings.benchmarks.noise_percent / 100
    bound = settings.benchmarks.max_regression_percent / 100
    base = {r.name: benchmarks.Measurement(r.name, r.base, "s") for r in rows}
    head = {r.name: benchmarks.Measurement(r.name, r.head, "s") for r in rows}
    return compare_benchmarks(base, head, noise=noise, max_regression=bound)


def _parent(gh: InstallationClient, record: RepoRecord, sha: str) -> str | None:
    try:
        commit: dict[str, Any] = json_body(gh.rest.git.get_commit(record.owner, record.name, sha))
    except GitHubError:
        return None
    parents = commit.get("parents") or []
    return str(parents[0]["sha"]) if parents else None


def markdown(v: Validation) -> list[str]:
    """The layers table, then coverage and benchmarks when CI published any, then what could not be read."""
    lines = ["#### Test layers", "", "| Layer | Verdict | Duration | Checks |", "|---|---|---|---|"]
    for layer in v.layers:
        required = " (required)" if layer.name in v.required else ""
        checks = ", ".join(f"`{c}`" for c in layer.checks[:6]) + (" …" if len(layer.checks) > 6 else "")
        shown = f"{_ICONS[layer.verdict]} {layer.verdict}"
        if layer.verdict == "missing" and not required:
            shown = "⚪ no checks"  # only a required layer is missing
        lines.append(f"| {layer.name}{required} | {shown} | {layer.duration} | {checks} |")
    if v.coverage is not None:
        c = v.coverage
        lines.extend(["", "#### Coverage", ""])
        if c.base is None:
            lines.append(f"- head: {c.head:.2f}% {c.metric} ({c.source}); base: not published")
        else:
            icon = "❌" if v.coverage_drop else "✅"
            bound = f"; allowed drop {v.max_drop:g} points" if v.max_drop is not None else ""
            lines.append(
                f"- {icon} {c.head:.2f}% {c.metric} against {c.base:.2f}% on the base "
                f"({c.head - c.base:+.2f} points{bound}); from {c.source}"
            )
    if v.benchmarks:
        listed = [b for b in v.benchmarks if b.verdict != "noise"]
        quiet = len(v.benchmarks) - len(listed)
        formats = ", ".join(v.benchmark_formats) or "benchmarks"
        lines.extend(["", f"#### Benchmarks ({formats})", ""])
        if listed:
            lines.extend(["| Benchmark | Base | Head | Change | Noise band | Verdict |", "|---|---|---|---|---|---|"])
            for b in listed:
                icon = "❌" if b.blocking else "⚠️" if b.verdict == "regression" else "⚡"
                band = f"±{b.band:.1%} ({'repeated runs' if b.band_from == 'spread' else 'configured'})"
                name = b.name.replace("|", "\\|")
                lines.append(
                    f"| `{name}` | {_value(b.base, b.unit)} | {_value(b.head, b.unit)} | {b.change:+.1%} | {band} "
                    f"| {icon} {b.verdict} |"
                )
        if quiet:
            lines.extend(["", f"{quiet} benchmark{'s' if quiet != 1 else ''} within the noise band."])
    if v.notes:
        lines.extend(["", "<details><summary>Not read</summary>", "", *[f"- {n}" for n in v.notes], "", "</details>"])
    return lines


def _value(value: float, unit: str) -> str:
    if unit == "s":
        for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {name}"
        return f"{value / 1e-9:.3g} ns"
    return f"{value:.4g} {unit}".strip()
