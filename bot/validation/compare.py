"""Head against base: per benchmark, the change and whether it is beyond the noise band; for coverage, the drop
in percentage points.

The noise band of a benchmark is two standard deviations of the difference of two measurements,
``2 * sqrt(sigma_base^2 + sigma_head^2)`` relative to the base value, from the spread the results carry (repeated
runs' IQR or stddev); never narrower than the configured ``noise_percent``, which is also the band of results
without spread (a CI runner's run-to-run noise is usually larger than one run's spread). A change inside the band
is noise; outside it, a regression or an improvement; a regression larger than ``max_regression_percent`` blocks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.validation.benchmarks import Measurement


@dataclass(frozen=True)
class BenchmarkChange:
    name: str
    base: float
    head: float
    unit: str
    change: float  # relative change of the value, head/base - 1 (+0.30: 30 % larger)
    worse: float  # relative change in the bad direction (positive: slower, or less throughput)
    band: float  # the noise band, relative
    band_from: str  # "spread" (the results' own repeated runs) or "configured"
    verdict: str  # regression | improvement | noise
    blocking: bool


def compare_benchmarks(
    base: Mapping[str, Measurement], head: Mapping[str, Measurement], *, noise: float, max_regression: float
) -> tuple[BenchmarkChange, ...]:
    """Benchmarks present on both sides, by name; ``noise`` and ``max_regression`` are ratios (0.1 = 10 %)."""
    changes = []
    for name in sorted(base.keys() & head.keys()):
        b, h = base[name], head[name]
        if b.value == 0:
            continue
        change = h.value / b.value - 1
        worse = -change if h.bigger_is_better else change
        band, band_from = noise, "configured"
        if b.spread is not None and h.spread is not None:
            measured = 2 * math.sqrt(b.spread**2 + h.spread**2) / abs(b.value)
            if measured > noise:
                band, band_from = measured, "spread"
        verdict = "noise" if abs(change) <= band else "regression" if worse > 0 else "improvement"
        blocking = verdict == "regression" and worse > max_regression
        changes.append(
            BenchmarkChange(name, b.value, h.value, h.unit, change, worse, band, band_from, verdict, blocking)
        )
    return tuple(changes)


@dataclass(frozen=True)
class CoverageChange:
    head: float
    base: float | None  # None: the base commit published none
    source: str
    metric: str

    @property
    def drop(self) -> float | None:
        return None if self.base is None else self.base - self.head
