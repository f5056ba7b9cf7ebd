"""Baseline comparison benchmark (simulated): how often a healthy deploy is rolled back, how often a slower one
is caught, and how long that takes, with depup's own test (``bot.health.baseline.compare``) and the default
``health_check`` options (30 baseline probes, 10 per soak round every 2 minutes, significance 0.01 for all
metrics, tolerance x1.5).

Each simulated deploy has one probed URL and two Prometheus queries (a p95 latency series, an error rate), so
K = 4 metrics, each tested at 0.01 / 4. Probe latencies are lognormal (median 20 ms, sigma 0.5: p95 = 2.3 x
median, p99 = 3.2 x median); the Prometheus p95 is a series, one value per 30 s step, lognormal around 120 ms
(sigma 0.15); requests: 50 per second with 1% errors. Healthy deploys also drift: the new version's median is
the old one's times lognormal(0, 0.05) (a different host, a warmer cache). Scenarios:

- healthy: nothing else changes;
- 2x: every latency doubles (median and p95 of probes and of the Prometheus series);
- 2x p95 only: the tail doubles (the slowest 10% of probe answers take 2.6 x longer, which doubles p95) while the
  median is unchanged, and the Prometheus p95 doubles;
- errors 2x: the error rate goes from 1% to 2%, latencies unchanged.

A metric is judged once, as in ``bot.health.baseline.judge``: probes when the deploy has as many as the
baseline (after round ``ceil(samples / per_round) - 1``), Prometheus queries when the deploy has been live as
long as the baseline window (10 min). The time to detection is the deploy's age at the round that rolled it
back (rounds every ``interval``, the first right after the deploy went live).

    python -m bench.baseline            # 100 deploys per scenario
    python -m bench.baseline --deploys 1000 --seed 3
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from dataclasses import dataclass
from datetime import timedelta

from bot.health.baseline import Comparison, Metric, Side, compare
from config.model import BaselineCheck, HealthCheck

CHECK = HealthCheck(interval=timedelta(minutes=2), soak=timedelta(minutes=30))
WINDOW = timedelta(minutes=10)
STEP = timedelta(seconds=30)
PROBE_MEDIAN_MS, PROBE_SIGMA = 20.0, 0.5
PROM_P95_S, PROM_SIGMA = 0.120, 0.15
RPS, ERROR_RATE = 50.0, 0.01
DRIFT_SIGMA = 0.05
METRICS = (
    Metric("probe:https://app/healthz", "latency of https://app/healthz", "latency", "ms"),
    Metric("probe-errors:https://app/healthz", "failed probes of https://app/healthz", "error_rate"),
    Metric("prom:p95", "Prometheus p95", "latency"),
    Metric("prom:errors", "Prometheus errors (error rate)", "error_rate"),
)


@dataclass(frozen=True)
class Scenario:
    name: str
    scale: float = 1.0  # every latency times this
    tail: float = 1.0  # the slowest 10% of probe latencies times this
    prom_p95: float = 1.0
    errors: float = 1.0  # the error rate times this


SCENARIOS = (
    Scenario("healthy"),
    Scenario("2x latency", scale=2.0, prom_p95=2.0),
    Scenario("2x p95 only", tail=2.6, prom_p95=2.0),
    Scenario("2x error rate", errors=2.0),
)


@dataclass(frozen=True)
class Outcome:
    rolled_back: bool
    at: timedelta | None  # the deploy's age when it was rolled back
    by: tuple[str, ...]  # the metrics that regressed
    samples: int  # probe samples of the deploy when it was rolled back (or at the end)


def probe_latencies(rng: random.Random, n: int, median: float, tail: float) -> list[float]:
    values = [median * math.exp(rng.gauss(0, PROBE_SIGMA)) for _ in range(n)]
    if tail != 1.0:
        cut = median * math.exp(1.2816 * PROBE_SIGMA)  # the 90th percentile
        values = [v * tail if v > cut else v for v in values]
    return [float(round(v)) for v in values]  # probes measure whole milliseconds


def prom_series(rng: random.Random, n: int, p95: float) -> list[float]:
    return [p95 * math.exp(rng.gauss(0, PROM_SIGMA)) for _ in range(n)]


def errors(rng: random.Random, seconds: float, rate: float) -> tuple[int, int]:
    total = round(RPS * seconds)
    # normal approximation of the binomial count (exact enough for thousands of requests)
    failed = round(rng.gauss(total * rate, math.sqrt(total * rate * (1 - rate))))
    return min(max(failed, 0), total), total


def simulate(scenario: Scenario, rng: random.Random, options: BaselineCheck = CHECK.baseline) -> Outcome:
    drift = math.exp(rng.gauss(0, DRIFT_SIGMA))
    steps = int(WINDOW / STEP)
    before = {
        METRICS[0].id: Side(tuple(probe_latencies(rng, options.samples, PROBE_MEDIAN_MS, 1.0))),
        METRICS[1].id: Side(events=0, total=options.samples),
        METRICS[2].id: Side(tuple(prom_series(rng, steps + 1, PROM_P95_S))),
    }
    failed, total = errors(rng, WINDOW.total_seconds(), ERROR_RATE)
    before[METRICS[3].id] = Side(events=failed, total=total)
    alpha = options.significance / len(METRICS)
    probes: list[float] = []
    judged: dict[str, Comparison] = {}
    rounds = max(CHECK.probes, math.ceil(CHECK.soak / CHECK.interval) + 1)
    median = PROBE_MEDIAN_MS * scenario.scale * drift
    for number in range(rounds):
        age = CHECK.interval * number
        final = number == rounds - 1
        probes += probe_latencies(rng, options.per_round, median, scenario.tail)
        after = {
            METRICS[0].id: Side(tuple(probes)),
            METRICS[1].id: Side(events=0, total=len(probes)),
        }
        live_steps = int(age / STEP) + 1
        after[METRICS[2].id] = Side(tuple(prom_series(rng, live_steps, PROM_P95_S * scenario.prom_p95 * drift)))
        failed, total = errors(rng, max(age.total_seconds(), 1.0), ERROR_RATE * scenario.errors)
        after[METRICS[3].id] = Side(events=failed, total=total)
        for metric in METRICS:
            if metric.id in judged:
                continue
            ready = age >= WINDOW if metric.id.startswith("prom:") else len(probes) >= options.samples
            if ready or final:
                judged[metric.id] = compare(metric, before[metric.id], after[metric.id], options, alpha)
        regressed = tuple(c.metric.label for c in judged.values() if c.outcome == "regressed")
        if regressed:
            return Outcome(True, age, regressed, len(probes))
    return Outcome(False, None, (), len(probes))


def run(deploys: int, seed: int) -> dict[str, list[Outcome]]:
    rng = random.Random(seed)
    return {s.name: [simulate(s, rng) for _ in range(deploys)] for s in SCENARIOS}


def report(results: dict[str, list[Outcome]]) -> list[str]:
    lines = [
        f"{'scenario':<15} {'rolled back':>12} {'median time':>12} {'max time':>9} {'probe samples':>14}  caught by",
    ]
    for name, outcomes in results.items():
        back = [o for o in outcomes if o.rolled_back]
        times = [o.at.total_seconds() / 60 for o in back if o.at is not None]
        by: dict[str, int] = {}
        for o in back:
            for label in o.by:
                short = label.replace(" of https://app/healthz", " (probes)")
                by[short] = by.get(short, 0) + 1
        rate = f"{len(back)}/{len(outcomes)}"
        median = f"{statistics.median(times):.0f} min" if times else "-"
        longest = f"{max(times):.0f} min" if times else "-"
        samples = f"{statistics.median([o.samples for o in back]):.0f}" if back else "-"
        caught = ", ".join(f"{k} {v}" for k, v in sorted(by.items(), key=lambda kv: -kv[1]))
        lines.append(f"{name:<15} {rate:>12} {median:>12} {longest:>9} {samples:>14}  {caught}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deploys", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    options = CHECK.baseline
    print(
        f"{args.deploys} simulated deploys per scenario; baseline {options.samples} probes, {options.per_round} per "
        f"round every {CHECK.interval.total_seconds() / 60:g} min, significance {options.significance:g} / "
        f"{len(METRICS)} metrics, tolerance x{options.tolerance:g}, Prometheus window {WINDOW.total_seconds() / 60:g} "
        f"min step {STEP.total_seconds():g} s"
    )
    print("\n".join(report(run(args.deploys, args.seed))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
