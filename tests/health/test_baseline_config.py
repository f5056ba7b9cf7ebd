"""The options of judging a deploy against its baseline: valid values land in Config, invalid ones are
reported at their line and column."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import ConfigInvalid
from config.loader import load_config, validate
from config.model import BaselineCheck, Prometheus, PrometheusQuery

F = "f.yml"

PROMETHEUS = """\
health_check:
  prometheus:
    url: https://prom.example.org
    auth: PROM_TOKEN
    window: 15m
    step: 15s
    queries:
      - {name: p95, kind: latency, query: 'histogram_quantile(0.95, x)'}
      - name: errors
        kind: error_rate
        query: sum(increase(errors[$window]))
        total: sum(increase(requests[$window]))
"""


def test_the_defaults() -> None:
    check = load_config("", F).health_check
    assert check.baseline == BaselineCheck(True, 30, 10, 100, 20, 0.01, 1.5, 200)
    assert check.prometheus is None


def test_baseline_options_merge_one_by_one_over_the_defaults() -> None:
    check = load_config("health_check: {baseline: {samples: 40, significance: 0.05}, probes: 3}", F).health_check
    assert check.baseline == BaselineCheck(samples=40, significance=0.05)
    assert check.probes == 3
    off = load_config("health_check: {baseline: {enabled: false, tolerance: 2}}", F).health_check.baseline
    assert off == BaselineCheck(enabled=False, tolerance=2.0)


def test_prometheus_options() -> None:
    assert load_config(PROMETHEUS, F).health_check.prometheus == Prometheus(
        "https://prom.example.org",
        (
            PrometheusQuery("p95", "latency", "histogram_quantile(0.95, x)"),
            PrometheusQuery(
                "errors", "error_rate", "sum(increase(errors[$window]))", "sum(increase(requests[$window]))"
            ),
        ),
        "PROM_TOKEN",
        timedelta(minutes=15),
        timedelta(seconds=15),
    )


INVALID = [
    (
        "health_check:\n  baseline: {significance: 0.9}",
        "f.yml:2:28: health_check.baseline.significance: expected a number from 1e-06 to 0.5, got 0.9",
    ),
    (
        "health_check:\n  baseline: {samples: 10, min_samples: 20}",
        "f.yml:2:40: health_check.baseline.min_samples: min_samples (20) must not be more than samples (10): "
        "nothing would be judged",
    ),
    (
        "health_check:\n  baseline: {tolerance: 0.5}",
        "f.yml:2:25: health_check.baseline.tolerance: expected a number from 1 to 100, got 0.5",
    ),
    (
        "health_check:\n  baseline: {per_round: 0}",
        "f.yml:2:25: health_check.baseline.per_round: expected a whole number from 1 to 100, got 0",
    ),
    (
        "health_check:\n  baseline: {sample: 10}",
        "f.yml:2:14: health_check.baseline: unknown option 'sample' (did you mean 'samples'?)",
    ),
    (
        "health_check:\n  prometheus: {url: 'file:///etc/passwd', queries: [{name: a, kind: latency, query: up}]}",
        "f.yml:2:21: health_check.prometheus.url: expected an http:// or https:// URL, got 'file:///etc/passwd'",
    ),
    (
        "health_check:\n  prometheus: {url: 'https://p', auth: 'Bearer abc',\n"
        "    queries: [{name: a, kind: latency, query: up}]}",
        "f.yml:2:40: health_check.prometheus.auth: expected a secret's name of capital letters, digits and "
        "underscores, like 'PROM_TOKEN', got 'Bearer abc'",
    ),
    (
        "health_check:\n  prometheus: {url: 'https://p'}",
        "f.yml:2:15: health_check.prometheus: missing required option 'queries'",
    ),
    (
        "health_check:\n  prometheus:\n    url: https://p\n    queries:\n      - {name: a, kind: rate, query: up}",
        "f.yml:5:25: health_check.prometheus.queries[0].kind: unknown value 'rate': expected one of latency, "
        "error_rate",
    ),
    (
        "health_check:\n  prometheus:\n    url: https://p\n    queries:\n"
        "      - {name: a, kind: error_rate, query: up}",
        "f.yml:5:25: health_check.prometheus.queries[0].kind: an error_rate query needs 'total': the query of all "
        "requests",
    ),
    (
        "health_check:\n  prometheus:\n    url: https://p\n    queries:\n"
        "      - {name: a, kind: latency, query: up, total: up}",
        "f.yml:5:52: health_check.prometheus.queries[0].total: only an error_rate query has a 'total'",
    ),
    (
        "health_check:\n  prometheus:\n    url: https://p\n    queries:\n      - {name: a, kind: latency, query: up}\n"
        "      - {name: a, kind: latency, query: down}",
        "f.yml:6:16: health_check.prometheus.queries[1].name: duplicate query name 'a', first at line 5",
    ),
    (
        "health_check:\n  prometheus: {url: 'https://p', step: 0, queries: [{name: a, kind: latency, query: up}]}",
        "f.yml:2:40: health_check.prometheus.step: the time between two values must be more than 0",
    ),
]


@pytest.mark.parametrize(("text", "expected"), INVALID, ids=[text[15:60] for text, _ in INVALID])
def test_an_invalid_value_is_reported_where_it_is(text: str, expected: str) -> None:
    assert [str(p) for p in validate(text, F)] == [expected]
    with pytest.raises(ConfigInvalid):
        load_config(text, F)


@pytest.mark.parametrize(
    ("text", "watched"),
    [
        ("", False),  # nothing probed, nothing measured: a deploy is healthy once it succeeds
        ("health_check: {urls: [{url: 'https://app.example.org/health'}]}", True),
        (PROMETHEUS, True),  # Prometheus alone: the next phase waits for the baseline comparison too
        (PROMETHEUS + "  baseline: {enabled: false}\n", False),
    ],
)
def test_a_deploy_is_soaked_with_probes_or_a_prometheus_baseline(text: str, watched: bool) -> None:
    assert load_config(text, F).health_check.watched is watched
