"""A local OSV server answering from the real advisories of ``tests/fixtures/osv`` over real HTTP.

It speaks the part of OSV's API (https://google.github.io/osv.dev/api/) depup and pip-audit use:

- ``POST /v1/query`` ``{"package": {"name", "ecosystem"}, "version"}`` -> ``{"vulns": [full records]}``, or ``{}``
  when none (as OSV answers, also for a package it does not know);
- ``POST /v1/querybatch`` ``{"queries": [...]}`` (at most 1000) -> ``{"results": [{"vulns": [{"id", "modified"}]}
  | {}]}`` in the order asked;
- ``GET /v1/vulns/{id}`` -> the record, or 404.

A version is affected when an ``affected`` entry of its package (PyPI names compared canonically) lists it in
``versions`` or one of its ECOSYSTEM/SEMVER ranges covers it: events sorted by version (``introduced: "0"``
first), ``introduced`` opening, ``fixed`` closing before, ``last_affected`` closing after the version named.
PyPI versions are ordered by ``packaging``, npm versions by ``bot.deps.npm.semver``; GIT ranges are ignored.

Requests are counted per endpoint (``query``, ``querybatch``, ``vulns``); ``inject`` makes an endpoint (or all)
answer an error or wait. Pytest fixtures: ``osv_server`` (shared by the session, reset around each test).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from bot.security.records import version_key
from tests.support.http import LiveServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "osv"
ENDPOINTS = ("query", "querybatch", "vulns")
_ECOSYSTEMS = {"PyPI": "python", "npm": "npm"}
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class Fault:
    """Instead of answering: wait ``delay`` seconds, then answer ``status`` with ``body`` when a status is set."""

    status: int | None = 500
    body: bytes = b'{"code":13,"message":"injected fault"}'
    delay: float = 0.0


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    endpoint: str | None
    status: int
    body: Any  # the request's JSON body, None for GET


class OsvServer:
    """The OSV server on 127.0.0.1 (random port) in a daemon thread; use as a context manager."""

    def __init__(self, fixtures: Path = FIXTURES) -> None:
        self.records: dict[str, dict[str, Any]] = {
            path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(fixtures.glob("*.json"))
        }
        self._live = LiveServer(self._app, quiet=True)
        self._lock = threading.Lock()
        self._faults: dict[str | None, Fault] = {}
        self._counts: Counter[str] = Counter()
        self.served: list[Served] = []

    @property
    def url(self) -> str:
        return self._live.url

    def __enter__(self) -> OsvServer:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)

    # -- test controls --------------------------------------------------------------------------------------

    def inject(self, fault: Fault, endpoint: str | None = None) -> None:
        """Make ``endpoint`` (one of ``ENDPOINTS``; None: every one) answer ``fault`` until ``reset``."""
        assert endpoint is None or endpoint in ENDPOINTS, endpoint
        with self._lock:
            self._faults[endpoint] = fault

    def count(self, endpoint: str | None = None) -> int:
        """Requests received at ``endpoint`` (None: all)."""
        with self._lock:
            return sum(self._counts.values()) if endpoint is None else self._counts[endpoint]

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._counts.clear()
            self.served = []

    # -- matching -------------------------------------------------------------------------------------------

    def affecting(self, ecosystem: str, name: str, version: str) -> list[dict[str, Any]]:
        """The records affecting ``version`` of the package (``ecosystem`` as OSV names it: PyPI, npm)."""
        return [r for r in self.records.values() if any(_affects(a, ecosystem, name, version) for a in r["affected"])]

    # -- serving --------------------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        endpoint = _endpoint(method, path)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            if endpoint is not None:
                self._counts[endpoint] += 1
            fault = self._faults.get(endpoint, self._faults.get(None))
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        request: Any = None
        if fault is not None and fault.status is not None:
            status, body = fault.status, fault.body
        else:
            try:
                request = json.loads(raw) if raw else None
                status, answer = self._answer(endpoint, path, request)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                status, answer = 400, {"code": 3, "message": f"invalid request: {exc}"}
            body = json.dumps(answer).encode()
        with self._lock:
            self.served.append(Served(method, path, endpoint, status, request))
        start_response(
            f"{status} {_REASONS.get(status, 'Status')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _answer(self, endpoint: str | None, path: str, request: Any) -> tuple[int, Any]:
        if endpoint == "query":
            found = self._query(request)
            return 200, ({"vulns": found} if found else {})
        if endpoint == "querybatch":
            queries = request["queries"]
            if not isinstance(queries, list) or len(queries) > 1000:
                return 400, {"code": 3, "message": "Too many queries."}
            results = []
            for query in queries:
                found = self._query(query)
                results.append({"vulns": [{"id": r["id"], "modified": r["modified"]} for r in found]} if found else {})
            return 200, {"results": results}
        if endpoint == "vulns":
            record = self.records.get(path.removeprefix("/v1/vulns/"))
            return (200, record) if record is not None else (404, {"code": 5, "message": "Bug not found."})
        return 404, {"code": 5, "message": "Not Found"}

    def _query(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        package = query["package"]
        return self.affecting(str(package["ecosystem"]), str(package["name"]), str(query["version"]))


def _endpoint(method: str, path: str) -> str | None:
    if method == "POST" and path == "/v1/query":
        return "query"
    if method == "POST" and path == "/v1/querybatch":
        return "querybatch"
    if method == "GET" and path.startswith("/v1/vulns/") and len(path) > len("/v1/vulns/"):
        return "vulns"
    return None


def _affects(affected: Mapping[str, Any], ecosystem: str, name: str, version: str) -> bool:
    package = affected["package"]
    if package["ecosystem"] != ecosystem or ecosystem not in _ECOSYSTEMS:
        return False
    if ecosystem == "PyPI" and canonicalize_name(package["name"]) != canonicalize_name(name):
        return False
    if ecosystem != "PyPI" and package["name"] != name:
        return False
    if version in affected.get("versions", ()):
        return True
    kind = _ECOSYSTEMS[ecosystem]
    return any(
        _in_range(r["events"], kind, version)
        for r in affected.get("ranges", ())
        if r["type"] in ("ECOSYSTEM", "SEMVER")
    )


def _in_range(events: list[Mapping[str, str]], kind: str, version: str) -> bool:
    """OSV's evaluation of one range: walk the events in version order, opening and closing the affected state."""
    key = version_key(kind, version)
    if key is None:
        return False
    ordered = []
    for event in events:
        (what, at), *_ = event.items()
        if what == "introduced" and at == "0":
            ordered.append((0, None, what))
            continue
        at_key = version_key(kind, at)
        if at_key is not None:
            ordered.append((1, at_key, what))
    ordered.sort(key=lambda e: (e[0], e[1]) if e[1] is not None else (e[0],))
    affected = False
    for _, at_key, what in ordered:
        if what == "introduced":
            affected = affected or at_key is None or key >= at_key
        elif (what == "fixed" and key >= at_key) or (what == "last_affected" and key > at_key):
            affected = False
    return affected


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


@pytest.fixture(scope="session")
def osv_server_session() -> Iterator[OsvServer]:
    with OsvServer() as server:
        yield server


@pytest.fixture
def osv_server(osv_server_session: OsvServer) -> Iterator[OsvServer]:
    server = osv_server_session
    server.reset()
    yield server
    server.reset()
