"""RegistryClient against the replay registry: one request per distinct package, concurrently; failures per package."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis import Redis

from bot.deps.registry import urls
from bot.deps.registry.client import RegistryClient
from tests.deps.registry.helpers import NPM, PY, client_for, closed_port_url, failure, package
from tests.support.registry_server import Fault, RegistryServer, recorded_names


def test_each_distinct_package_is_requested_exactly_once(registry_server: RegistryServer, redis_client: Redis) -> None:
    wanted = [(PY, n) for n in recorded_names("python")[:30]] + [(NPM, n) for n in recorded_names("npm")[:30]]
    with client_for(registry_server, redis_client) as client:
        results = client.lookup_many(wanted)
        assert client.stats.requests == 60
        assert client.stats.cache_hits == 0
    assert list(results) == wanted
    assert all(package(result).releases for result in results.values())
    assert registry_server.total_requests == 60
    assert all(registry_server.count(eco.value, name) == 1 for eco, name in wanted)


def test_duplicates_and_name_spellings_share_one_request(registry_server: RegistryServer) -> None:
    wanted = [(PY, "Flask"), (PY, "flask"), (PY, "FLASK"), (PY, "typing_extensions"), (PY, "Typing.Extensions")]
    wanted += [(NPM, "express"), (NPM, "@types/node"), (NPM, "express"), (NPM, "@types/node")]
    with client_for(registry_server, None) as client:
        results = client.lookup_many(wanted)
        assert client.stats.requests == 4
    assert registry_server.total_requests == 4
    assert set(results) == set(wanted)
    assert package(results[(PY, "FLASK")]) is package(results[(PY, "flask")])
    assert package(results[(PY, "Typing.Extensions")]) is package(results[(PY, "typing_extensions")])
    assert package(results[(NPM, "@types/node")]).name == "@types/node"


def test_requests_run_concurrently(registry_server: RegistryServer) -> None:
    names = recorded_names("npm")[:8]
    for name in names:
        registry_server.inject("npm", name, Fault(delay=0.5))
    with RegistryClient(None, max_concurrency=4, npm_base=registry_server.url) as client:
        results = client.lookup_many((NPM, name) for name in names)
    assert all(package(result).releases for result in results.values())
    assert registry_server.peak_in_flight == 4  # as many at once as allowed, and no more


def test_bases_come_from_the_environment(registry_server: RegistryServer) -> None:
    with RegistryClient(None) as client:  # DEPUP_PYPI_URL / DEPUP_NPM_REGISTRY set by the fixture
        results = client.lookup_many([(PY, "attrs"), (NPM, "ms")])
    assert package(results[(PY, "attrs")]).name == "attrs"
    assert package(results[(NPM, "ms")]).name == "ms"


def test_unreachable_registry_fails_its_packages_only(registry_server: RegistryServer) -> None:
    with RegistryClient(None, pypi_base=closed_port_url(), npm_base=registry_server.url) as client:
        results = client.lookup_many([(PY, "flask"), (PY, "requests"), (NPM, "express")])
        assert client.stats.failures == 2
    flask = failure(results[(PY, "flask")])
    assert (flask.ecosystem, flask.name, flask.kind) == (PY, "flask", "unreachable")
    assert "/simple/flask/ is unreachable (ConnectError" in flask.reason
    assert failure(results[(PY, "requests")]).kind == "unreachable"
    assert package(results[(NPM, "express")]).name == "express"


def test_unknown_package_is_not_found(registry_server: RegistryServer, redis_client: Redis) -> None:
    with client_for(registry_server, redis_client) as client:
        results = client.lookup_many([(PY, "depup-no-such-package"), (NPM, "@depup/no-such-package"), (NPM, "ms")])
    missing = failure(results[(PY, "depup-no-such-package")])
    assert missing.kind == "not_found"
    assert missing.reason.startswith("depup-no-such-package is not on the registry (")
    assert missing.reason.endswith("/simple/depup-no-such-package/ answered 404)")
    assert failure(results[(NPM, "@depup/no-such-package")]).kind == "not_found"
    assert package(results[(NPM, "ms")]).name == "ms"


@pytest.mark.parametrize(
    ("fault", "kind", "reason"),
    [
        (Fault(status=500), "unreachable", "answered HTTP 500"),
        (Fault(status=503), "unreachable", "answered HTTP 503"),
        (Fault(status=403), "unreachable", "answered HTTP 403"),
        (Fault(body=b"<html>Service down</html>", content_type="text/html"), "malformed", "did not answer JSON"),
        (Fault(body=b'{"info": []}'), "malformed", "info is not a JSON object"),
        (Fault(body=b"[1, 2]"), "malformed", "the answer is not a JSON object"),
    ],
)
def test_registry_faults_fail_that_package_only(
    registry_server: RegistryServer, redis_client: Redis, fault: Fault, kind: str, reason: str
) -> None:
    registry_server.inject("python", "click", fault)
    with client_for(registry_server, redis_client) as client:
        results = client.lookup_many([(PY, "click"), (PY, "attrs"), (NPM, "ms")])
        assert client.stats.failures == 1
    broken = failure(results[(PY, "click")])
    assert broken.kind == kind
    assert reason in broken.reason
    assert package(results[(PY, "attrs")]).name == "attrs"
    assert package(results[(NPM, "ms")]).name == "ms"


def test_npm_faults_fail_that_package_only(registry_server: RegistryServer) -> None:
    registry_server.inject("npm", "@babel/core", Fault(body=b'{"name": "@babel/core", "versions": "1.0.0"}'))
    with client_for(registry_server, None) as client:
        results = client.lookup_many([(NPM, "@babel/core"), (NPM, "@babel/parser")])
    broken = failure(results[(NPM, "@babel/core")])
    assert (broken.kind, broken.name) == ("malformed", "@babel/core")
    assert broken.reason.endswith("/@babel%2fcore: versions is not a JSON object")
    assert package(results[(NPM, "@babel/parser")]).name == "@babel/parser"


def test_slow_registry_answer_times_out(registry_server: RegistryServer) -> None:
    registry_server.inject("python", "tomli", Fault(delay=3.0))
    with client_for(registry_server, None, timeout=0.3) as client:
        started = time.monotonic()
        results = client.lookup_many([(PY, "tomli"), (PY, "idna")])
        assert time.monotonic() - started < 2.5  # did not wait for the answer
    slow = failure(results[(PY, "tomli")])
    assert slow.kind == "timeout"
    assert "timed out (ReadTimeout)" in slow.reason
    assert package(results[(PY, "idna")]).name == "idna"


def test_whole_batch_is_bounded(registry_server: RegistryServer) -> None:
    registry_server.inject("python", "tzdata", Fault(delay=3.0))
    with client_for(registry_server, None, timeout=5, total_timeout=0.4) as client:
        started = time.monotonic()
        results = client.lookup_many([(PY, "tzdata"), (PY, "six")])
        assert time.monotonic() - started < 2.5  # did not wait for the answer
    late = failure(results[(PY, "tzdata")])
    assert late.kind == "timeout"
    assert "no answer within the 0.4 s" in late.reason
    assert package(results[(PY, "six")]).name == "six"


def test_missing_npm_configuration_names_the_variable(
    registry_server: RegistryServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in ("DEPUP_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm to ask
    urls.reset_cache()
    try:
        with RegistryClient(None) as client:
            results = client.lookup_many([(NPM, "ms"), (PY, "six")])
    finally:
        urls.reset_cache()
    missing = failure(results[(NPM, "ms")])
    assert missing.kind == "unreachable"
    assert "DEPUP_NPM_REGISTRY" in missing.reason
    assert package(results[(PY, "six")]).name == "six"


def test_peer_dependencies_come_from_the_same_lookup(registry_server: RegistryServer, redis_client: Redis) -> None:
    with client_for(registry_server, redis_client) as client:
        assert package(client.lookup_many([(NPM, "ws")])[(NPM, "ws")]).name == "ws"
        peers = client.peer_dependencies("ws")
        assert client.stats.requests == 1
    assert isinstance(peers, dict)
    assert [p.name for p in peers["8.18.0"]] == ["bufferutil", "utf-8-validate"]
