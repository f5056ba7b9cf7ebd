"""The tests of bot.health.stats against published values (scipy's documentation examples, R's wilcox.test)
and against brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.health import stats

MALES, FEMALES = [19, 22, 16, 29, 24], [20, 11, 17, 12]  # scipy.stats.mannwhitneyu's example (Conover)


def test_u_of_the_scipy_example() -> None:
    assert stats.u_statistic(MALES, FEMALES) == 17.0
    assert stats.u_statistic(FEMALES, MALES) == 3.0


def test_exact_p_values_of_the_scipy_example() -> None:
    # scipy: mannwhitneyu(males, females, method="exact") -> p = 0.1111111111111111 (two-sided), so one-sided
    # "greater" is half of it; alternative="less" -> 0.9682539682539683.
    greater = stats.mann_whitney_greater(MALES, FEMALES)
    assert greater.method == "exact" and greater.p_value == pytest.approx(0.1111111111111111 / 2, abs=1e-15)
    assert stats.mann_whitney_greater(FEMALES, MALES).p_value == pytest.approx(0.9682539682539683, abs=1e-15)


def test_normal_approximation_of_the_scipy_example(monkeypatch: pytest.MonkeyPatch) -> None:
    # scipy: method="asymptotic" (continuity correction on) -> p = 0.11134688653314041 two-sided.
    monkeypatch.setattr(stats, "EXACT_LIMIT", 0)
    result = stats.mann_whitney_greater(MALES, FEMALES)
    assert result.method == "normal" and result.p_value == pytest.approx(0.11134688653314041 / 2, abs=1e-12)


def test_normal_approximation_matches_r(monkeypatch: pytest.MonkeyPatch) -> None:
    # R: wilcox.test(c(1,2,3), c(4,5,6)) -> p-value = 0.1 (exact: 2 of 20 orderings are as extreme, two-sided);
    # exact=FALSE -> 0.08086 (two-sided, corrected). With ties the normal approximation is used whatever the size.
    assert stats.mann_whitney_greater([4, 5, 6], [1, 2, 3]).p_value == pytest.approx(0.1 / 2, abs=1e-15)
    with monkeypatch.context() as patch:
        patch.setattr(stats, "EXACT_LIMIT", 0)
        assert stats.mann_whitney_greater([4, 5, 6], [1, 2, 3]).p_value == pytest.approx(0.0808556 / 2, abs=1e-6)
    tied = stats.mann_whitney_greater([2, 3, 4], [1, 2, 2])  # U = 8, tie-corrected variance 4.65
    assert tied.method == "normal" and tied.statistic == 8.0
    assert tied.p_value == pytest.approx(0.1641597 / 2, abs=1e-6)


def test_exact_p_values_equal_brute_force_over_all_orderings() -> None:
    rng = random.Random(7)
    for n1, n2 in ((3, 4), (5, 5), (6, 4)):
        values = rng.sample(range(1000), n1 + n2)
        x, y = values[:n1], values[n1:]
        u = stats.u_statistic(x, y)
        orderings = list(itertools.combinations(values, n1))
        at_least = sum(1 for pick in orderings if stats.u_statistic(pick, [v for v in values if v not in pick]) >= u)
        assert stats.mann_whitney_greater(x, y).p_value == pytest.approx(at_least / len(orderings), abs=1e-12)


def test_identical_samples_are_no_evidence() -> None:
    assert stats.mann_whitney_greater([5.0] * 30, [5.0] * 30).p_value == 1.0
    shifted = stats.mann_whitney_greater([float(v) for v in range(30, 60)], [float(v) for v in range(30)])
    assert shifted.method == "normal" and shifted.p_value < 1e-9


def test_fisher_exact_matches_scipy() -> None:
    # scipy.stats.fisher_exact([[6, 2], [1, 4]], alternative="greater") -> 0.08624708624708627
    result = stats.proportion_greater(6, 8, 1, 5)
    assert result.method == "fisher" and result.p_value == pytest.approx(0.08624708624708627, abs=1e-12)
    # alternative="less" of the same table: 0.9953379953379957, the "greater" tail of the swapped rows
    assert stats.proportion_greater(1, 5, 6, 8).p_value == pytest.approx(0.9953379953379957, abs=1e-12)


def test_two_proportion_z_test() -> None:
    # 2% against 1% of 10 000 requests each: pooled p = 0.015, se = sqrt(.015 * .985 * 2e-4) = 0.0017190,
    # z = 0.01 / se = 5.8173
    result = stats.proportion_greater(200, 10_000, 100, 10_000)
    assert result.method == "z" and result.statistic == pytest.approx(5.8173, abs=1e-3)
    assert result.p_value < 1e-8
    assert stats.proportion_greater(100, 10_000, 100, 10_000).p_value == pytest.approx(0.5)


def test_quantiles_interpolate_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert stats.quantile(values, 0.5) == 3.0
    assert stats.quantile(values, 0.95) == pytest.approx(8.8)  # numpy.quantile(values, 0.95)
    with pytest.raises(ValueError):
        stats.quantile([], 0.5)
