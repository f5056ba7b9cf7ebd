"""A Prometheus-compatible HTTP endpoint for tests: ``/api/v1/query`` and ``/api/v1/query_range`` answered in
Prometheus' documented JSON format, from series the test defines as functions of time.

    with PrometheusServer() as prom:
        prom.define("p95", lambda t: 0.120 if t < deployed_at else 0.240)  # seconds, per evaluation time
        prom.define("errors", lambda t: ...)                                 # an instant count
        ... config: health_check.prometheus.url = prom.url

A query matches a defined series when its text equals the name, or, for queries with a range such as
``sum(increase(x[600s]))``, when the text with ``[<duration>]`` replaced by ``[$window]`` equals the name; the
function then gets ``(t, window_seconds)`` if it takes two arguments. Unknown queries answer an empty result
(as Prometheus does for a series that does not exist); ``fail(name, status, error_type, message)`` makes one
answer an error document. Every request is recorded (path, parameters, Authorization header).

Like Prometheus: GET or POST (form-encoded) parameters; ``time``/``start``/``end`` as Unix seconds (floats) or
RFC 3339; ``step`` as seconds or a duration; range results aligned on ``start + k * step``; values as strings,
NaN as "NaN"; an error as ``{"status": "error", "errorType": "bad_data", "error": "..."}`` with HTTP 400
(422 for execution errors, 503 for unavailable).
"""

from __future__ import annotations

import inspect
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Series = Callable[..., float | None]
_RANGE = re.compile(r"\[(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)\]")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
MAX_POINTS = 11_000


@dataclass(frozen=True)
class Seen:
    path: str
    params: dict[str, str]
    authorization: str | None


class PrometheusServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.series: dict[str, Series] = {}
        self.failures: dict[str, tuple[int, str, str]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def define(self, name: str, series: Series) -> None:
        with self.lock:
            self.series[name] = series

    def fail(self, name: str, status: int, error_type: str, message: str) -> None:
        with self.lock:
            self.failures[name] = (status, error_type, message)

    def lookup(self, query: str) -> tuple[Series | None, float | None, str]:
        """The series a query names, the window (seconds) of its range selector if any, and the key."""
        with self.lock:
            if query in self.series:
                return self.series[query], None, query
            found = _RANGE.search(query)
            window = float(found.group(1)) * _UNIT_SECONDS[found.group(2)] if found else None
            key = _RANGE.sub("[$window]", query)
            return self.series.get(key), window, key

    def __enter__(self) -> PrometheusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _BadData(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    server: PrometheusServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(urlsplit(self.path).query)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length).decode())

    def _answer(self, query_string: str) -> None:
        path = urlsplit(self.path).path
        params = {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        self.server.seen.append(Seen(path, params, self.headers.get("Authorization")))
        try:
            if path == "/api/v1/query":
                body = self._instant(params)
            elif path == "/api/v1/query_range":
                body = self._range(params)
            else:
                self._send(404, {"status": "error", "errorType": "not_found", "error": f"no endpoint {path}"})
                return
        except _BadData as e:
            self._send(400, {"status": "error", "errorType": "bad_data", "error": str(e)})
            return
        if body is None:
            return
        self._send(200, {"status": "success", "data": body})

    def _failure(self, key: str) -> bool:
        failure = self.server.failures.get(key)
        if failure is None:
            return False
        status, kind, message = failure
        self._send(status, {"status": "error", "errorType": kind, "error": message})
        return True

    def _instant(self, params: dict[str, str]) -> dict[str, Any] | None:
        query = _required(params, "query")
        at = _time(params["time"]) if "time" in params else time.time()
        series, window, key = self.server.lookup(query)
        if self._failure(key):
            return None
        value = _evaluate(series, at, window) if series else None
        result = [] if value is None else [{"metric": {}, "value": [round(at, 3), _format(value)]}]
        return {"resultType": "vector", "result": result}

    def _range(self, params: dict[str, str]) -> dict[str, Any] | None:
        query = _required(params, "query")
        start, end = _time(_required(params, "start")), _time(_required(params, "end"))
        step = _duration(_required(params, "step"))
        if end < start:
            raise _BadData("end timestamp must not be before start time")
        if step <= 0:
            raise _BadData("zero or negative query resolution step widths are not accepted. Try a positive integer")
        if (end - start) / step > MAX_POINTS:
            raise _BadData(
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        series, window, key = self.server.lookup(query)
        if self._failure(key):
            return None
        values: list[list[Any]] = []
        t = start
        while t <= end + 1e-9 and series is not None:
            value = _evaluate(series, t, window)
            if value is not None:
                values.append([round(t, 3), _format(value)])
            t += step
        result = [{"metric": {}, "values": values}] if values else []
        return {"resultType": "matrix", "result": result}

    def _send(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _evaluate(series: Series, t: float, window: float | None) -> float | None:
    if len(inspect.signature(series).parameters) == 2:
        return series(t, window)
    return series(t)


def _format(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _required(params: dict[str, str], name: str) -> str:
    if name not in params or params[name] == "":
        raise _BadData(f'invalid parameter "{name}": missing')
    return params[name]


def _time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise _BadData(f'invalid parameter "time": cannot parse "{text}" to a valid timestamp') from None


def _duration(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        found = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text)
        if not found:
            raise _BadData(f'invalid parameter "step": cannot parse "{text}" to a valid duration') from None
        return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
