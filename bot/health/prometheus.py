"""Prometheus' HTTP query API, read through the health probes' SSRF guard (``bot.health.probe.guarded_get``).

- ``instant(...)``: ``GET {url}/api/v1/query?query=...&time=...``, the sum of the vector (or the scalar) answered;
- ``series(...)``: ``GET {url}/api/v1/query_range?query=...&start=...&end=...&step=...``, every value of every
  series answered (a query should aggregate to one series; several are pooled).

Answers are parsed as Prometheus documents them: ``{"status": "success", "data": {"resultType": "vector" |
"matrix" | "scalar", "result": ...}}`` with sample values as strings (``"NaN"``, ``"+Inf"`` included: values that
are not finite are left out), and ``{"status": "error", "errorType": ..., "error": ...}`` on failure. Every
problem (refused address, no answer, an HTTP error, a body that is not such a document) is one
``PrometheusError`` naming the query, so callers catch one domain error.

The ``Authorization`` header comes from the operator (``Settings.prometheus_auth``: the secret the repository
config names in ``health_check.prometheus.auth``) and is sent only when the URL's origin is the one the operator
gave with it; redirects are not followed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from bot.core.netguard import NetPolicy
from bot.core.settings import Settings
from bot.errors import DepupError
from bot.health.probe import GuardedGetFailed, Resolver, guarded_get
from config.model import Prometheus

BODY_LIMIT = 4 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
MAX_POINTS = 11_000  # Prometheus' own limit of points per series of a range query


class PrometheusError(DepupError):
    """A query could not be answered; the message says which and why, in one line."""


def window(seconds: float) -> str:
    """The value of ``$window`` in queries: whole seconds, at least 1 (``600s``)."""
    return f"{max(1, round(seconds))}s"


def auth_header(settings: Settings, target: Prometheus) -> tuple[tuple[str, str], ...]:
    """The headers for ``target``: ``Authorization`` from the operator's secret the config names, when that
    secret was given for the URL's origin. ``PrometheusError`` when the named secret is missing or is for
    another origin (the query is not sent without the authorization the repository expects)."""
    if target.auth is None:
        return ()
    origin = _origin(target.url)
    for name, allowed, header in settings.prometheus_auth:
        if name == target.auth:
            if allowed != origin:
                raise PrometheusError(
                    f"the secret {target.auth} is for {allowed}, not for {origin}: the query was not sent"
                )
            return (("Authorization", header),)
    raise PrometheusError(f"no secret {target.auth}: the operator sets DEPUP_PROMETHEUS_AUTH_{target.auth}")


def instant(
    target: Prometheus,
    query: str,
    at: datetime,
    policy: NetPolicy,
    *,
    headers: Sequence[tuple[str, str]] = (),
    resolver: Resolver | None = None,
) -> float | None:
    """The value of ``query`` at ``at``: the sum of the vector's samples, or the scalar; None when empty."""
    data = _get(target, "query", {"query": query, "time": f"{at.timestamp():.3f}"}, policy, headers, resolver, query)
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        values = [_sample(result, query)]
    elif kind == "vector" and isinstance(result, list):
        values = [_sample(_field(item, "value", query), query) for item in result]
    else:
        raise PrometheusError(f"{_short(query)}: expected a vector or a scalar, got {kind!r}")
    finite = [v for v in values if v is not None]
    return sum(finite) if finite else None


def series(
    target: Prometheus,
    query: str,
    start: datetime,
    end: datetime,
    policy: NetPolicy,
    *,
    headers: Sequence[tuple[str, str]] = (),
    resolver: Resolver | None = None,
) -> list[float]:
    """The finite values of ``query`` from ``start`` to ``end`` every ``target.step``, oldest first."""
    step = max(target.step.total_seconds(), 0.001)
    if (end - start).total_seconds() / step > MAX_POINTS:
        step = (end - start).total_seconds() / MAX_POINTS
    params = {"query": query, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}", "step": f"{step:g}"}
    data = _get(target, "query_range", params, policy, headers, resolver, query)
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise PrometheusError(f"{_short(query)}: expected a matrix, got {data.get('resultType')!r}")
    points: list[tuple[float, float]] = []
    for item in data["result"]:
        values = _field(item, "values", query)
        if not isinstance(values, list):
            raise PrometheusError(f"{_short(query)}: a series without a list of values")
        for pair in values:
            value = _sample(pair, query)
            if value is not None:
                points.append((float(pair[0]), value))
    return [value for _, value in sorted(points, key=lambda p: p[0])]


def _get(
    target: Prometheus,
    endpoint: str,
    params: dict[str, str],
    policy: NetPolicy,
    headers: Sequence[tuple[str, str]],
    resolver: Resolver | None,
    query: str,
) -> dict[str, Any]:
    url = f"{target.url.rstrip('/')}/api/v1/{endpoint}?{urlencode(params)}"
    try:
        answer = guarded_get(
            url, policy, timeout=TIMEOUT_SECONDS, headers=(("Accept", "application/json"), *headers),
            body_limit=BODY_LIMIT, resolver=resolver,
        )  # fmt: skip
    except GuardedGetFailed as e:
        raise PrometheusError(f"{_short(query)}: {e.detail}") from None
    if answer.truncated:
        raise PrometheusError(f"{_short(query)}: the answer is larger than {BODY_LIMIT // (1024 * 1024)} MiB")
    try:
        document: Any = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        raise PrometheusError(f"{_short(query)}: HTTP {answer.status}, not a JSON answer") from None
    if not isinstance(document, dict):
        raise PrometheusError(f"{_short(query)}: HTTP {answer.status}, not a Prometheus answer")
    if document.get("status") != "success":
        why = f"{document.get('errorType', 'error')}: {document.get('error', 'no reason given')}"
        raise PrometheusError(f"{_short(query)}: HTTP {answer.status}, {str(why)[:200]}")
    data = document.get("data")
    if answer.status != 200 or not isinstance(data, dict):
        raise PrometheusError(f"{_short(query)}: HTTP {answer.status}, no data")
    return data


def _field(item: Any, name: str, query: str) -> Any:
    if not isinstance(item, dict) or name not in item:
        raise PrometheusError(f"{_short(query)}: a result without {name!r}")
    return item[name]


def _sample(pair: Any, query: str) -> float | None:
    """A ``[unix time, "value"]`` pair's value; None when it is not finite (NaN, +Inf, -Inf)."""
    if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[1], str):
        raise PrometheusError(f'{_short(query)}: a sample that is not [time, "value"]: {str(pair)[:60]}')
    try:
        value = float(pair[1])
        float(pair[0])
    except (TypeError, ValueError):
        raise PrometheusError(f"{_short(query)}: a sample value that is not a number: {pair[1][:30]!r}") from None
    return value if math.isfinite(value) else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _short(query: str) -> str:
    return f"query {query[:80]!r}" + ("..." if len(query) > 80 else "")
