"""A deploy judged against the version it replaces (docs/health.md, "Against a baseline").

1. When the deployment of a commit carrying depup merges is created, the running (old) version is sampled:
   ``health_check.baseline.samples`` probes of each URL, ``spacing_ms`` apart (latency of the answered ones, and
   how many failed), and each Prometheus query of ``health_check.prometheus``: a latency query as the series of
   its values over ``window`` before the deploy (``/api/v1/query_range``, one value every ``step``), an error
   rate as two instant counts over that window (``/api/v1/query`` with ``$window``). Stored in Redis with the
   deployment (``sample_baseline``).
2. Every soak round after the deploy adds ``per_round`` probes of each URL and measures the Prometheus queries
   again since the deploy went live (``sample_round``).
3. Each metric is judged ONCE (``judge``): as soon as the deploy has as many measurements as the baseline (or
   a window as long), else at the end of the soak with what there is. Fewer than ``min_samples`` (or
   ``min_requests``) on a side: "not judged", and only the absolute limits of the probes decide.

The test of a metric: latency, the one-sided Mann-Whitney U test (the deploy is slower) at ``significance / K``
for K metrics, AND a slowdown of at least ``tolerance`` in the median or the p95; error rate, the one-sided test
of proportions (``stats.proportion_greater``) at ``significance / K`` AND a ratio of error rates of at least
``tolerance``. A metric passing both is a regression, and a regression rolls the deploy back.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
from redis import Redis

from bot.core.netguard import NetPolicy
from bot.core.settings import Settings
from bot.health import prometheus, stats
from bot.health.probe import ProbeResult, probe
from config.model import BaselineCheck, HealthCheck, HealthUrl

log = logging.getLogger(__name__)

KEY_PREFIX = "depup:baseline:"
TTL_SECONDS = 14 * 24 * 3600
PROBE_TIMEOUT_SECONDS = 10.0
BURST_SECONDS = 120.0  # the longest one URL's burst of probes may take
HISTOGRAM_BINS = 8
HISTOGRAM_WIDTH = 20

Kind = Literal["latency", "error_rate"]
Outcome = Literal["regressed", "within", "not_judged", "pending"]  # pending: not ready yet (never stored)


@dataclass(frozen=True)
class Side:
    """One side (the baseline, or the deploy) of one metric: latency values, or error events among a total."""

    values: tuple[float, ...] = ()
    events: int = 0
    total: int = 0
    problem: str = ""  # why it could not be measured (a Prometheus error), empty when it was

    @property
    def count(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Metric:
    id: str  # "probe:<url>", "probe-errors:<url>", "prom:<name>"
    label: str  # for people: "latency of https://app/healthz"
    kind: Kind
    unit: str = ""  # "ms" for probe latencies


@dataclass(frozen=True)
class Measured:
    """What was measured of a deployment, one side: every metric's values, and when."""

    at: datetime
    metrics: tuple[Metric, ...]
    sides: dict[str, Side] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """The verdict of one metric, with both distributions and the test that decided."""

    metric: Metric
    outcome: Outcome
    reason: str  # one line: "not judged: 12 samples, need 20", "p = 3e-06 < 0.005 and p95 x2.1 >= x1.5"
    baseline: Side
    canary: Side
    statistic: float | None = None
    p_value: float | None = None
    method: str = ""
    alpha: float | None = None
    ratios: tuple[tuple[str, float], ...] = ()  # ("median", 2.03), ("p95", 1.98) or ("error rate", 2.4)


# -- sampling ---------------------------------------------------------------------------------------------------


def enabled(check: HealthCheck) -> bool:
    return check.baseline.enabled and bool(check.urls or check.prometheus)


def sample_baseline(settings: Settings, redis: Redis, repo: str, deployment_id: int, check: HealthCheck, *,
                    now: datetime | None = None) -> Measured:  # fmt: skip
    """Measure the running version before ``deployment_id`` goes live and store it; returns it. A baseline
    already stored for the deployment (a repeated event) is returned as it is, not measured again."""
    stored = read_baseline(redis, repo, deployment_id)
    if stored is not None:
        return stored
    at = now or datetime.now(UTC)
    policy = NetPolicy.parse(settings.probe_allow)
    sides: dict[str, Side] = {}
    for url in check.urls:
        results = _burst(url, policy, check.baseline.samples, check.baseline.spacing_ms)
        sides.update(_probe_sides(url, results))
    sides.update(_prometheus_sides(settings, check, policy, start=at - _window(check), end=at))
    # stamped when sampling ENDED: a baseline still being taken when the deploy went live is not one
    measured = Measured(now or datetime.now(UTC), metrics_of(check), sides)
    _write(redis, _key(repo, deployment_id, "before"), measured)
    return measured


def sample_round(settings: Settings, redis: Redis, repo: str, deployment_id: int, check: HealthCheck,
                 round_results: Sequence[ProbeResult], *, live_at: datetime, now: datetime) -> Measured:  # fmt: skip
    """Add one soak round's measurements of the deploy: the round's own probe of each URL and ``per_round - 1``
    more, and the Prometheus queries from ``live_at`` (when the deploy went live) to ``now``."""
    policy = NetPolicy.parse(settings.probe_allow)
    before = read_canary(redis, repo, deployment_id)
    sides = dict(before.sides) if before else {}
    for url in check.urls:
        first = [r for r in round_results if r.url == url.url][:1]
        more = _burst(url, policy, max(check.baseline.per_round - len(first), 0), check.baseline.spacing_ms)
        for metric_id, side in _probe_sides(url, [*first, *more]).items():
            old = sides.get(metric_id, Side())
            sides[metric_id] = Side(old.values + side.values, old.events + side.events, old.total + side.total)
    sides.update(_prometheus_sides(settings, check, policy, start=live_at, end=now))
    measured = Measured(live_at, metrics_of(check), sides)
    _write(redis, _key(repo, deployment_id, "after"), measured)
    return measured


def metrics_of(check: HealthCheck) -> tuple[Metric, ...]:
    metrics: list[Metric] = []
    for url in check.urls:
        metrics.append(Metric(f"probe:{url.url}", f"latency of {url.url}", "latency", "ms"))
        metrics.append(Metric(f"probe-errors:{url.url}", f"failed probes of {url.url}", "error_rate"))
    if check.prometheus is not None:
        for q in check.prometheus.queries:
            label = f"Prometheus {q.name}" + (" (error rate)" if q.kind == "error_rate" else "")
            metrics.append(Metric(f"prom:{q.name}", label, q.kind))
    return tuple(metrics)


def _burst(url: HealthUrl, policy: NetPolicy, count: int, spacing_ms: int) -> list[ProbeResult]:
    """``count`` probes of ``url``, ``spacing_ms`` apart; cut short after ``BURST_SECONDS`` (a URL that times
    out must not hold a worker for ``count`` timeouts): the samples it has are what the comparison gets."""
    results: list[ProbeResult] = []
    deadline = time.monotonic() + BURST_SECONDS
    for i in range(count):
        if i and spacing_ms:
            time.sleep(spacing_ms / 1000)
        left = deadline - time.monotonic()
        if left <= 0:
            break
        results.append(probe(url, policy, timeout=min(PROBE_TIMEOUT_SECONDS, left)))
    return results


def _probe_sides(url: HealthUrl, results: Sequence[ProbeResult]) -> dict[str, Side]:
    latencies = tuple(float(r.latency_ms) for r in results if r.latency_ms is not None and r.status is not None)
    failed = sum(1 for r in results if not r.ok)
    return {f"probe:{url.url}": Side(latencies), f"probe-errors:{url.url}": Side(events=failed, total=len(results))}


def _window(check: HealthCheck) -> timedelta:
    return check.prometheus.window if check.prometheus is not None else timedelta(0)


def _prometheus_sides(settings: Settings, check: HealthCheck, policy: NetPolicy, *, start: datetime,
                      end: datetime) -> dict[str, Side]:  # fmt: skip
    target = check.prometheus
    if target is None:
        return {}
    sides: dict[str, Side] = {}
    try:
        headers = prometheus.auth_header(settings, target)
    except prometheus.PrometheusError as e:
        return {f"prom:{q.name}": Side(problem=str(e)) for q in target.queries}
    span = prometheus.window((end - start).total_seconds())
    for q in target.queries:
        try:
            if q.kind == "latency":
                values = prometheus.series(target, q.query, start, end, policy, headers=headers)
                sides[f"prom:{q.name}"] = Side(tuple(values))
            else:
                events = prometheus.instant(target, q.query.replace("$window", span), end, policy, headers=headers)
                total = prometheus.instant(target, (q.total or "").replace("$window", span), end, policy,
                                           headers=headers)  # fmt: skip
                n = max(round(total or 0), 0)
                sides[f"prom:{q.name}"] = Side(events=min(max(round(events or 0), 0), n), total=n)
        except prometheus.PrometheusError as e:
            log.info("prometheus query failed: %s", e)
            sides[f"prom:{q.name}"] = Side(problem=str(e))
    return sides


# -- judging ----------------------------------------------------------------------------------------------------


def judge(redis: Redis, repo: str, deployment_id: int, check: HealthCheck, *, live_at: datetime, now: datetime,
          final: bool) -> list[Comparison]:  # fmt: skip
    """Judge every metric that is ready (or all of them when ``final``: the soak is over) and not judged yet;
    returns the verdicts so far, one per metric of the baseline (none without a baseline). A verdict, once
    stored, stands: each metric is tested once, so the chance of a false rollback stays what is stated."""
    before = read_baseline(redis, repo, deployment_id)
    if before is None:
        return []
    if before.at > live_at:
        late = "not judged: the baseline was taken after the deploy went live"
        return [_unjudged(m, before.sides.get(m.id, Side()), None, late) for m in before.metrics]
    after = read_canary(redis, repo, deployment_id)
    done = read_verdicts(redis, repo, deployment_id)
    judged = {c.metric.id: c for c in done}
    alpha = check.baseline.significance / max(len(before.metrics), 1)
    fresh: list[Comparison] = []
    waiting: dict[str, Comparison] = {}
    for metric in before.metrics:
        if metric.id in judged:
            continue
        base = before.sides.get(metric.id, Side())
        canary = after.sides.get(metric.id, Side()) if after else Side()
        if not final and not _ready(metric, base, canary, check, now - live_at):
            progress = "not judged yet: " + _progress(metric, canary, check)
            waiting[metric.id] = Comparison(metric, "pending", progress, base, canary)
            continue
        verdict = compare(metric, base, canary, check.baseline, alpha)
        judged[metric.id] = verdict
        fresh.append(verdict)
    if fresh:
        _write_verdicts(redis, repo, deployment_id, [judged[m.id] for m in before.metrics if m.id in judged])
    return [judged.get(m.id) or waiting[m.id] for m in before.metrics]


def _progress(metric: Metric, canary: Side, check: HealthCheck) -> str:
    if metric.id.startswith("prom:"):
        return f"{canary.count} values" if metric.kind == "latency" else f"{canary.total} requests so far"
    if metric.kind == "error_rate":
        return f"{canary.total} of {check.baseline.samples} probes"
    return f"{canary.count} of {check.baseline.samples} samples"


def _ready(metric: Metric, base: Side, canary: Side, check: HealthCheck, since: timedelta) -> bool:
    if metric.id.startswith("prom:"):
        if metric.kind == "error_rate":
            return since >= _window(check)
        return canary.count >= max(base.count, check.baseline.min_samples)
    if metric.kind == "error_rate":
        return canary.total >= check.baseline.samples
    return canary.count >= check.baseline.samples


def compare(metric: Metric, base: Side, canary: Side, options: BaselineCheck, alpha: float) -> Comparison:
    """The verdict of one metric: the deploy's side against the baseline's, tested at ``alpha``."""
    for side, name in ((base, "baseline"), (canary, "deploy")):
        if side.problem:
            return _unjudged(metric, base, canary, f"not judged: the {name} could not be measured ({side.problem})")
    if metric.kind == "latency":
        least = min(base.count, canary.count)
        if least < options.min_samples:
            return _unjudged(metric, base, canary, f"not judged: {least} samples, need {options.min_samples}")
        test = stats.mann_whitney_greater(canary.values, base.values)
        ratios = tuple(
            (name, _ratio(stats.quantile(canary.values, q), stats.quantile(base.values, q)))
            for name, q in (("median", 0.5), ("p95", 0.95))
        )
        slower = max(r for _, r in ratios) >= options.tolerance
        if metric.unit == "ms" and slower:  # probe latencies: a few milliseconds more is host noise
            added = max(stats.quantile(canary.values, q) - stats.quantile(base.values, q) for q in (0.5, 0.95))
            if added < options.min_slowdown_ms:
                reason = f"within tolerance: at most {_num(added)} ms slower, under {options.min_slowdown_ms} ms"
                return Comparison(
                    metric, "within", reason, base, canary, test.statistic, test.p_value, test.method, alpha, ratios
                )
    else:
        least = min(base.total, canary.total)
        need = options.min_requests if metric.id.startswith("prom:") else options.min_samples
        if least < need:
            noun = "requests" if metric.id.startswith("prom:") else "samples"
            return _unjudged(metric, base, canary, f"not judged: {least} {noun}, need {need}")
        test = stats.proportion_greater(canary.events, canary.total, base.events, base.total)
        ratios = (("error rate", _ratio(canary.events / canary.total, base.events / base.total)),)
        slower = ratios[0][1] >= options.tolerance
    significant = test.p_value < alpha
    shown = ", ".join(f"{name} x{_num(r)}" for name, r in ratios)
    if significant and slower:
        reason = f"regressed: p = {_num(test.p_value)} < {_num(alpha)} and {shown} >= x{_num(options.tolerance)}"
        outcome: Outcome = "regressed"
    elif significant:
        reason = f"within tolerance: p = {_num(test.p_value)} < {_num(alpha)}, but {shown} < x{_num(options.tolerance)}"
        outcome = "within"
    else:
        reason = f"within noise: p = {_num(test.p_value)} >= {_num(alpha)} ({shown})"
        outcome = "within"
    return Comparison(metric, outcome, reason, base, canary, test.statistic, test.p_value, test.method, alpha, ratios)


def _unjudged(metric: Metric, base: Side, canary: Side | None, reason: str) -> Comparison:
    return Comparison(metric, "not_judged", reason, base, canary or Side())


def _ratio(new: float, old: float) -> float:
    if old > 0:
        return new / old
    return 1.0 if new <= 0 else math.inf


# -- evidence ---------------------------------------------------------------------------------------------------


def summary(comparison: Comparison) -> str:
    """One line: the metric and its verdict."""
    return f"{comparison.metric.label}: {comparison.reason}"


def evidence_lines(comparisons: Sequence[Comparison]) -> tuple[str, ...]:
    """Markdown for the revert PR: per metric its verdict, the test, both distributions (n, median, p95, p99 or
    the error counts) and, for latencies, a text histogram of both on the same bins."""
    lines: list[str] = []
    for c in comparisons:
        test = ""
        if c.p_value is not None:
            statistic = _num(c.statistic or 0.0)
            test = {
                "exact": f" (Mann-Whitney U = {statistic}, exact, one-sided)",
                "normal": f" (Mann-Whitney U = {statistic}, normal approximation with tie correction, one-sided)",
                "fisher": " (Fisher's exact test, one-sided)",
                "z": f" (two-proportion z = {statistic}, one-sided)",
            }.get(c.method, "")
        lines.append(f"- **{c.metric.label}**: {c.reason}{test}")
        if c.metric.kind == "latency" and (c.baseline.values or c.canary.values):
            unit = f" ({c.metric.unit})" if c.metric.unit else ""
            lines.extend(
                [
                    "",
                    f"  | {'latency' + unit if unit else 'value'} | n | median | p95 | p99 |",
                    "  |---|---|---|---|---|",
                ]
            )
            for name, side in (("before", c.baseline), ("after", c.canary)):
                if side.values:
                    q = [_num(stats.quantile(side.values, p)) for p in (0.5, 0.95, 0.99)]
                    lines.append(f"  | {name} | {side.count} | {q[0]} | {q[1]} | {q[2]} |")
                else:
                    lines.append(f"  | {name} | 0 | - | - | - |")
            lines.extend(["", "  ```", *("  " + row for row in histogram(c.baseline.values, c.canary.values)), "  ```"])
        elif c.metric.kind == "error_rate":
            for name, side in (("before", c.baseline), ("after", c.canary)):
                rate = f"{side.events / side.total:.2%}" if side.total else "-"
                lines.append(f"  - {name}: {side.events} of {side.total} ({rate})")
        lines.append("")
    return tuple(lines)


def histogram(before: Sequence[float], after: Sequence[float], bins: int = HISTOGRAM_BINS) -> list[str]:
    """Both samples counted on the same bins, one row per bin: ``[20, 25)  before ####....  after #...``."""
    pooled = [*before, *after]
    if not pooled:
        return []
    low, high = min(pooled), max(pooled)
    width = (high - low) / bins if high > low else 1.0
    counts = [[0] * bins, [0] * bins]
    for i, sample in enumerate((before, after)):
        for v in sample:
            counts[i][min(int((v - low) / width), bins - 1)] += 1
    most = max(max(row) for row in counts) or 1
    rows = [f"{'bin':>19}  {'before':<{HISTOGRAM_WIDTH + 5}}  after"]
    for b in range(bins if high > low else 1):
        edge = f"[{_num(low + b * width)}, {_num(low + (b + 1) * width)})"
        bars = [("#" * round(counts[i][b] * HISTOGRAM_WIDTH / most)).ljust(HISTOGRAM_WIDTH) + f" {counts[i][b]:>3}"
                for i in (0, 1)]  # fmt: skip
        rows.append(f"{edge:>19}  {bars[0]}  {bars[1]}")
    return rows


def _num(value: float) -> str:
    if math.isinf(value):
        return "inf"
    if value != 0 and (abs(value) < 0.001 or abs(value) >= 1e6):
        return f"{value:.2g}"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


# -- storage ----------------------------------------------------------------------------------------------------


def _key(repo: str, deployment_id: int, which: str) -> str:
    return f"{KEY_PREFIX}{repo}:{deployment_id}:{which}"


def read_baseline(redis: Redis, repo: str, deployment_id: int) -> Measured | None:
    return _read(redis, _key(repo, deployment_id, "before"))


def read_canary(redis: Redis, repo: str, deployment_id: int) -> Measured | None:
    return _read(redis, _key(repo, deployment_id, "after"))


def read_verdicts(redis: Redis, repo: str, deployment_id: int) -> list[Comparison]:
    raw: Any = redis.get(_key(repo, deployment_id, "verdicts"))
    if raw is None:
        return []
    try:
        return [_comparison(row) for row in orjson.loads(raw)]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        log.warning("baseline verdicts of %s#%s unreadable, ignored", repo, deployment_id)
        return []


def _write(redis: Redis, key: str, measured: Measured) -> None:
    value = {
        "at": measured.at.astimezone(UTC).isoformat(),
        "metrics": [asdict(m) for m in measured.metrics],
        "sides": {k: asdict(v) for k, v in measured.sides.items()},
    }
    redis.set(key, orjson.dumps(value), ex=TTL_SECONDS)


def _read(redis: Redis, key: str) -> Measured | None:
    raw: Any = redis.get(key)
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)
        metrics = tuple(Metric(**m) for m in doc["metrics"])
        sides = {k: _side(v) for k, v in doc["sides"].items()}
        return Measured(datetime.fromisoformat(doc["at"]), metrics, sides)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        log.warning("baseline %s unreadable, ignored", key)
        return None


def _side(row: dict[str, Any]) -> Side:
    return Side(tuple(float(v) for v in row["values"]), int(row["events"]), int(row["total"]), str(row["problem"]))


def _write_verdicts(redis: Redis, repo: str, deployment_id: int, comparisons: Sequence[Comparison]) -> None:
    # ratios as text: an error rate up from 0 is an infinite ratio, which JSON has no number for
    rows = [{**asdict(replace(c, ratios=())), "ratios": [[n, repr(r)] for n, r in c.ratios]} for c in comparisons]
    redis.set(_key(repo, deployment_id, "verdicts"), orjson.dumps(rows), ex=TTL_SECONDS)


def _comparison(row: dict[str, Any]) -> Comparison:
    return Comparison(
        Metric(**row["metric"]),
        row["outcome"],
        str(row["reason"]),
        _side(row["baseline"]),
        _side(row["canary"]),
        row["statistic"],
        row["p_value"],
        str(row["method"]),
        row["alpha"],
        tuple((str(n), float(r)) for n, r in row["ratios"]),
    )
