"""The statistics of judging a deploy against its baseline (see docs/health.md, "Against a baseline").

- ``mann_whitney_greater(canary, baseline)``: the one-sided Mann-Whitney U test that the canary's values are
  stochastically greater than the baseline's (Kayenta's test per metric). Exact (the null distribution of U,
  counted) when neither sample has ties and ``n1 * n2 <= EXACT_LIMIT``; otherwise the normal approximation with
  the tie correction of the variance and a continuity correction of 0.5, as ``scipy.stats.mannwhitneyu`` does.
- ``proportion_greater(canary_events, canary_n, baseline_events, baseline_n)``: the one-sided test that the
  canary's error proportion is greater: Fisher's exact test (hypergeometric tail) when an expected cell count
  is below 5, else the pooled two-proportion z test.
- ``quantile``: linear interpolation between order statistics (numpy's default, "type 7").

Pure functions of their arguments; no dependency beyond the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EXACT_LIMIT = 400  # n1 * n2 up to which U's null distribution is counted exactly (when there are no ties)


@dataclass(frozen=True)
class TestResult:
    """A one-sided test's outcome: its statistic (U, or z), its p-value and the method that computed it."""

    statistic: float
    p_value: float
    method: str  # "exact" | "normal" | "fisher" | "z"


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 <= q <= 1) of ``values`` by linear interpolation; ``ValueError`` when empty."""
    if not values:
        raise ValueError("the quantile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ranks(values: Sequence[float]) -> list[float]:
    """The ranks (1-based) of ``values``, tied values getting the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def u_statistic(x: Sequence[float], y: Sequence[float]) -> float:
    """Mann-Whitney's U of ``x``: the number of pairs (xi, yj) with xi > yj, ties counting one half."""
    r = ranks([*x, *y])
    return sum(r[: len(x)]) - len(x) * (len(x) + 1) / 2


def mann_whitney_greater(x: Sequence[float], y: Sequence[float]) -> TestResult:
    """One-sided Mann-Whitney U test of "``x`` is stochastically greater than ``y``": P(U >= u) under the null
    hypothesis that both samples come from one distribution. ``ValueError`` when a sample is empty."""
    n1, n2 = len(x), len(y)
    if not n1 or not n2:
        raise ValueError("Mann-Whitney needs two non-empty samples")
    u = u_statistic(x, y)
    pooled = [*x, *y]
    tied = len(set(pooled)) < len(pooled)
    if not tied and n1 * n2 <= EXACT_LIMIT:
        counts = _u_counts(n1, n2)
        at_least = sum(counts[math.ceil(u - 1e-9) :])
        return TestResult(u, at_least / math.comb(n1 + n2, n1), "exact")
    n = n1 + n2
    ties = _tie_sizes(pooled)
    variance = n1 * n2 / 12 * ((n + 1) - sum(t**3 - t for t in ties) / (n * (n - 1)))
    if variance <= 0:  # every value equal: no evidence either way
        return TestResult(u, 1.0, "normal")
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    return TestResult(u, _upper_tail(z), "normal")


def proportion_greater(a: int, n_a: int, b: int, n_b: int) -> TestResult:
    """One-sided test of "the proportion ``a / n_a`` is greater than ``b / n_b``" (events among trials).

    Fisher's exact test when an expected count of the 2x2 table is below 5 (its statistic: ``a``); else the
    pooled two-proportion z test (its statistic: z). ``ValueError`` for counts out of range."""
    if n_a <= 0 or n_b <= 0 or not (0 <= a <= n_a) or not (0 <= b <= n_b):
        raise ValueError(f"not proportions: {a}/{n_a}, {b}/{n_b}")
    events, total = a + b, n_a + n_b
    expected = (n_a * events / total, n_a * (total - events) / total, n_b * events / total,
                n_b * (total - events) / total)  # fmt: skip
    if min(expected) < 5:
        return TestResult(float(a), _fisher_upper(a, n_a, events, total), "fisher")
    pooled = events / total
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (a / n_a - b / n_b) / se
    return TestResult(z, _upper_tail(z), "z")


def _upper_tail(z: float) -> float:
    """P(Z >= z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _tie_sizes(values: Sequence[float]) -> list[int]:
    seen: dict[float, int] = {}
    for v in values:
        seen[v] = seen.get(v, 0) + 1
    return [t for t in seen.values() if t > 1]


def _u_counts(n1: int, n2: int) -> list[int]:
    """How many of the C(n1+n2, n1) orderings give each U = 0 .. n1*n2 (no ties), by the recurrence
    c(m, n; u) = c(m-1, n; u-n) + c(m, n-1; u): the largest value belongs to the first sample or not."""
    table: list[list[list[int]]] = [[[1] for _ in range(n2 + 1)] for _ in range(n1 + 1)]
    for m in range(1, n1 + 1):
        for n in range(1, n2 + 1):
            row = [0] * (m * n + 1)
            for u, c in enumerate(table[m - 1][n]):  # the largest is x's: it beats all n y's
                row[u + n] += c
            for u, c in enumerate(table[m][n - 1]):
                row[u] += c
            table[m][n] = row
    return table[n1][n2]


def _fisher_upper(a: int, n_a: int, events: int, total: int) -> float:
    """P(X >= a) for X hypergeometric: ``n_a`` draws from ``total`` with ``events`` marked."""
    high = min(n_a, events)
    if a > high:
        return 0.0
    denominator = _log_comb(total, n_a)
    p = sum(
        math.exp(_log_comb(events, k) + _log_comb(total - events, n_a - k) - denominator)
        for k in range(a, high + 1)
        if n_a - k <= total - events
    )
    return min(1.0, p)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
