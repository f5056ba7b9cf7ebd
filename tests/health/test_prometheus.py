"""bot.health.prometheus against a Prometheus-compatible endpoint (tests/support/prometheus_server.py): the
documented JSON answers, errors as PrometheusError, the SSRF guard, and the Authorization secret."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.netguard import NetPolicy
from bot.core.settings import Settings
from bot.errors import SettingsError
from bot.health import prometheus
from bot.health.prometheus import PrometheusError
from config.model import Prometheus, PrometheusQuery
from tests.support.prometheus_server import PrometheusServer

LOCAL = NetPolicy.parse("http,loopback")
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def prom() -> Iterator[PrometheusServer]:
    with PrometheusServer() as server:
        yield server


def target(server: PrometheusServer, **changes: object) -> Prometheus:
    values: dict[str, object] = {
        "url": server.url,
        "queries": (PrometheusQuery("p95", "latency", "p95"),),
        "step": timedelta(seconds=30),
    }
    values.update(changes)
    return Prometheus(**values)  # type: ignore[arg-type]


def test_a_range_query_gives_the_values_every_step(prom: PrometheusServer) -> None:
    prom.define("p95", lambda t: 0.1 if t < T0.timestamp() else 0.2)
    values = prometheus.series(target(prom), "p95", T0 - timedelta(minutes=5), T0 + timedelta(minutes=1), LOCAL)
    assert values == [0.1] * 10 + [0.2] * 3
    [seen] = prom.seen
    assert seen.path == "/api/v1/query_range" and seen.params["step"] == "30" and seen.authorization is None


def test_values_that_are_not_finite_are_left_out(prom: PrometheusServer) -> None:
    prom.define("p95", lambda t: math.nan if int(t) % 60 == 0 else math.inf if int(t) % 90 == 0 else 0.3)
    values = prometheus.series(target(prom), "p95", T0, T0 + timedelta(minutes=3), LOCAL)
    assert values and set(values) == {0.3} and len(values) < 7


def test_an_instant_query_sums_the_vector_and_fills_the_window(prom: PrometheusServer) -> None:
    prom.define("sum(increase(errors[$window]))", lambda t, window: window / 10)
    assert prometheus.instant(target(prom), "sum(increase(errors[600s]))", T0, LOCAL) == 60.0
    assert prometheus.instant(target(prom), "missing_metric", T0, LOCAL) is None  # an empty vector
    assert prom.seen[0].params == {"query": "sum(increase(errors[600s]))", "time": f"{T0.timestamp():.3f}"}
    assert prometheus.window(599.6) == "600s" and prometheus.window(0) == "1s"


def test_an_error_document_is_a_prometheus_error(prom: PrometheusServer) -> None:
    prom.fail("broken", 422, "execution", "query processing would load too many samples into memory")
    with pytest.raises(PrometheusError, match="HTTP 422, execution: query processing would load too many"):
        prometheus.instant(target(prom), "broken", T0, LOCAL)
    with pytest.raises(PrometheusError, match="bad_data: end timestamp must not be before start time"):
        prometheus.series(target(prom), "p95", T0, T0 - timedelta(minutes=1), LOCAL)


def test_the_ssrf_guard_applies(prom: PrometheusServer) -> None:
    with pytest.raises(PrometheusError, match="refused: http URLs are not allowed"):
        prometheus.instant(target(prom), "p95", T0, NetPolicy())
    with pytest.raises(PrometheusError, match=r"127\.0\.0\.1 is a loopback address"):
        prometheus.instant(target(prom), "p95", T0, NetPolicy.parse("http"))
    metadata = target(prom, url="http://169.254.169.254/latest")
    with pytest.raises(PrometheusError, match="a cloud metadata address"):
        prometheus.instant(metadata, "p95", T0, NetPolicy.parse("http,link-local,loopback"))
    assert prom.seen == []


def test_the_authorization_secret_goes_to_its_origin_only(prom: PrometheusServer) -> None:
    env = {"REDIS_URL": "redis://localhost", "DEPUP_PROMETHEUS_AUTH_PROM": f"{prom.url} Bearer s3cret"}
    settings = Settings.from_env(env)
    assert "s3cret" not in repr(settings)
    headers = prometheus.auth_header(settings, target(prom, auth="PROM"))
    prom.define("p95", lambda t: 1.0)
    prometheus.instant(target(prom, auth="PROM"), "p95", T0, LOCAL, headers=headers)
    assert prom.seen[-1].authorization == "Bearer s3cret"
    with pytest.raises(PrometheusError, match=r"is for http://127\.0\.0\.1:\d+, not for https://elsewhere\.example"):
        prometheus.auth_header(settings, target(prom, auth="PROM", url="https://elsewhere.example"))
    with pytest.raises(PrometheusError, match="no secret OTHER: the operator sets DEPUP_PROMETHEUS_AUTH_OTHER"):
        prometheus.auth_header(settings, target(prom, auth="OTHER"))
    with pytest.raises(SettingsError, match="DEPUP_PROMETHEUS_AUTH_X must be"):
        Settings.from_env({"REDIS_URL": "redis://localhost", "DEPUP_PROMETHEUS_AUTH_X": "Bearer abc"})


def test_an_answer_that_is_not_prometheus_json_is_an_error(prom: PrometheusServer) -> None:
    with pytest.raises(PrometheusError, match="HTTP 404"):
        prometheus.instant(target(prom, url=prom.url + "/nothing-here"), "p95", T0, LOCAL)
