"""bot.health.baseline: the verdict of one metric, judging each metric once, and the evidence it renders."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from redis import Redis

from bot.health import baseline
from bot.health.baseline import Measured, Metric, Side, compare
from config.model import BaselineCheck, HealthCheck, HealthUrl

OPTIONS = BaselineCheck()
LATENCY = Metric("probe:https://app.example/healthz", "latency of https://app.example/healthz", "latency", "ms")
ERRORS = Metric("prom:errors", "Prometheus errors (error rate)", "error_rate")
REPO = "octo-org/app"
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def lognormal(n: int, median: float, seed: int, sigma: float = 0.3) -> tuple[float, ...]:
    rng = random.Random(seed)
    return tuple(float(round(median * math.exp(rng.gauss(0, sigma)))) for _ in range(n))


def test_doubled_latency_regresses_and_noise_does_not() -> None:
    before = Side(lognormal(30, 20, 1))
    slower = compare(LATENCY, before, Side(lognormal(30, 40, 2)), OPTIONS, 0.005)
    assert slower.outcome == "regressed" and slower.p_value is not None and slower.p_value < 1e-6
    assert dict(slower.ratios)["median"] > 1.5 and slower.reason.startswith("regressed: p = ")
    same = compare(LATENCY, before, Side(lognormal(30, 20, 3)), OPTIONS, 0.005)
    assert same.outcome == "within" and same.reason.startswith("within noise: p = ")


def test_a_significant_but_small_slowdown_is_within_tolerance() -> None:
    before = Side(tuple(float(v) for v in range(100, 160)))
    after = Side(tuple(float(v) * 1.2 for v in range(100, 160)))  # 20% slower, everywhere
    verdict = compare(LATENCY, before, after, OPTIONS, 0.005)
    assert verdict.outcome == "within" and verdict.reason.startswith("within tolerance: p = ")


def test_too_few_samples_are_not_judged() -> None:
    verdict = compare(LATENCY, Side(lognormal(30, 20, 1)), Side(lognormal(12, 80, 2)), OPTIONS, 0.005)
    assert verdict.outcome == "not_judged" and verdict.reason == "not judged: 12 samples, need 20"
    few = compare(ERRORS, Side(events=1, total=150), Side(events=90, total=180), OPTIONS, 0.005)
    assert few.reason == "not judged: 150 requests, need 200"
    broken = compare(ERRORS, Side(events=1, total=500), Side(problem="query 'x': HTTP 503"), OPTIONS, 0.005)
    assert broken.reason == "not judged: the deploy could not be measured (query 'x': HTTP 503)"


def test_error_rates_are_compared_as_proportions() -> None:
    doubled = compare(ERRORS, Side(events=100, total=10_000), Side(events=200, total=10_000), OPTIONS, 0.005)
    assert doubled.outcome == "regressed" and doubled.method == "z" and dict(doubled.ratios)["error rate"] == 2.0
    from_zero = compare(ERRORS, Side(events=0, total=1000), Side(events=9, total=1000), OPTIONS, 0.005)
    assert from_zero.outcome == "regressed" and from_zero.method == "fisher"
    assert math.isinf(dict(from_zero.ratios)["error rate"]) and "error rate xinf" in from_zero.reason
    noise = compare(ERRORS, Side(events=100, total=10_000), Side(events=110, total=10_000), OPTIONS, 0.005)
    assert noise.outcome == "within"


def test_each_metric_is_judged_once_and_pending_ones_are_shown(redis_client: Redis) -> None:
    check = HealthCheck(urls=(HealthUrl("https://app.example/healthz"),))
    metrics = baseline.metrics_of(check)
    before = Measured(T0, metrics, {LATENCY.id: Side(lognormal(30, 20, 1)), f"probe-errors:{check.urls[0].url}":
                                    Side(events=0, total=30)})  # fmt: skip
    baseline._write(redis_client, baseline._key(REPO, 5, "before"), before)
    live = T0 + timedelta(minutes=1)

    def canary(values: tuple[float, ...]) -> None:
        sides = {LATENCY.id: Side(values), f"probe-errors:{check.urls[0].url}": Side(events=0, total=len(values))}
        baseline._write(redis_client, baseline._key(REPO, 5, "after"), Measured(live, metrics, sides))

    canary(lognormal(10, 40, 2))
    waiting = baseline.judge(redis_client, REPO, 5, check, live_at=live, now=live, final=False)
    assert [c.outcome for c in waiting] == ["pending", "pending"]
    assert waiting[0].reason == "not judged yet: 10 of 30 samples"
    canary(lognormal(30, 20, 3))  # healthy once judged...
    [latency, errors] = baseline.judge(redis_client, REPO, 5, check, live_at=live, now=live, final=False)
    assert latency.outcome == "within" and errors.outcome == "within"
    canary(lognormal(60, 80, 4))  # ...and a later, slower measurement does not test again
    again = baseline.judge(redis_client, REPO, 5, check, live_at=live, now=live, final=True)
    assert again[0] == latency and baseline.read_verdicts(redis_client, REPO, 5)[0] == latency


def test_a_baseline_taken_after_the_deploy_went_live_is_not_used(redis_client: Redis) -> None:
    check = HealthCheck(urls=(HealthUrl("https://app.example/healthz"),))
    late = Measured(T0 + timedelta(minutes=5), baseline.metrics_of(check), {LATENCY.id: Side(lognormal(30, 20, 1))})
    baseline._write(redis_client, baseline._key(REPO, 6, "before"), late)
    verdicts = baseline.judge(redis_client, REPO, 6, check, live_at=T0, now=T0, final=True)
    assert {c.reason for c in verdicts} == {"not judged: the baseline was taken after the deploy went live"}
    assert baseline.judge(redis_client, REPO, 7, check, live_at=T0, now=T0, final=True) == []  # no baseline


def test_the_evidence_shows_both_distributions() -> None:
    verdict = compare(LATENCY, Side(lognormal(30, 20, 1)), Side(lognormal(30, 40, 2)), OPTIONS, 0.005)
    errors = compare(ERRORS, Side(events=100, total=10_000), Side(events=200, total=10_000), OPTIONS, 0.005)
    text = "\n".join(baseline.evidence_lines([verdict, errors]))
    assert "Mann-Whitney U = " in text and "normal approximation with tie correction" in text
    assert (
        "| latency (ms) | n | median | p95 | p99 |" in text and "| before | 30 |" in text and "| after | 30 |" in text
    )
    assert "two-proportion z = " in text and "- before: 100 of 10000 (1.00%)" in text
    rows = baseline.histogram([1.0, 2.0, 2.0, 9.0], [8.0, 9.0, 9.0, 9.0], bins=4)
    assert len(rows) == 5 and rows[1].strip().startswith("[1, 3)")
    # bars scale to the fullest bin (4 after in the last): 3 before in the first is 15 of 20 marks
    assert rows[1].count("#") == 15 and rows[4].count("#") == 5 + 20


def test_a_few_milliseconds_more_on_a_fast_endpoint_is_not_a_regression() -> None:
    # 3 ms -> 7 ms is "doubled" and significant, but it is a busy host, not a slower release
    verdict = compare(LATENCY, Side(lognormal(30, 3, 1)), Side(lognormal(30, 7, 2)), OPTIONS, 0.005)
    assert verdict.outcome == "within" and "under 10 ms" in verdict.reason
    assert verdict.p_value is not None and verdict.p_value < 0.005
