"""How often the benchmark comparison of bot/validation cries wolf and how often it catches a real regression:
Monte Carlo over simulated head/base pairs of one benchmark, with the defaults (noise_percent 10,
max_regression_percent 20).

Each measurement is the true value times (1 + run-to-run noise, normal with sd ``runner``) and reports a spread
of ``spread`` (the sd of its repeated rounds, as pytest-benchmark's IQR gives it), or none. Printed per scenario:
the share of unchanged benchmarks flagged as a regression and blocked (false alarms), and the share of 30 %
regressions blocked (detection).

    python -m bench.validation_noise
"""

from __future__ import annotations

import random
import sys

from bot.validation.benchmarks import Measurement
from bot.validation.compare import compare_benchmarks

TRIALS = 10_000
SCENARIOS = (  # name, run-to-run sd, reported spread (None: the format has none)
    ("quiet runner, spread reported", 0.03, 0.02),
    ("noisy runner (8%), spread reported", 0.08, 0.02),
    ("noisy runner (8%), wide spread (6%)", 0.08, 0.06),
    ("no spread (benchmark-action without range)", 0.05, None),
)


def rates(runner: float, spread: float | None, factor: float, rng: random.Random) -> tuple[float, float]:
    flagged = blocked = 0
    for _ in range(TRIALS):
        base = 1.0 * (1 + rng.gauss(0, runner))
        head = factor * (1 + rng.gauss(0, runner))
        sb = spread * base if spread is not None else None
        sh = spread * head if spread is not None else None
        [change] = compare_benchmarks(
            {"b": Measurement("b", base, "s", sb)},
            {"b": Measurement("b", head, "s", sh)},
            noise=0.10,
            max_regression=0.20,
        )
        flagged += change.verdict == "regression"
        blocked += change.blocking
    return flagged / TRIALS, blocked / TRIALS


def main() -> int:
    rng = random.Random(19)
    print(f"{'scenario':45} {'no change: flagged':>19} {'blocked':>8} {'30% slower: blocked':>20}")
    for name, runner, spread in SCENARIOS:
        flagged, blocked = rates(runner, spread, 1.0, rng)
        _, caught = rates(runner, spread, 1.3, rng)
        print(f"{name:45} {flagged:>19.2%} {blocked:>8.2%} {caught:>20.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
