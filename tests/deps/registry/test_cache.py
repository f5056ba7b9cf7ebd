"""The Redis cache: no request within ttl, revalidation after it, shared by workers, failures kept briefly."""

from __future__ import annotations

import threading
import time

import msgspec
from redis import Redis

from bot.deps.model import PackageInfo
from bot.deps.registry import LookupFailure, codec
from bot.deps.registry.cache import CacheKey
from tests.deps.registry.helpers import NPM, PY, client_for, closed_port_url, failure, package
from tests.support.registry_server import Fault, RegistryServer

WANTED = [(PY, "flask"), (NPM, "express"), (NPM, "@types/node")]


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_second_lookup_within_ttl_makes_no_request(registry_server: RegistryServer, redis_client: Redis) -> None:
    with client_for(registry_server, redis_client) as first:
        cold = first.lookup_many(WANTED)
        assert first.stats.requests == 3
    with client_for(registry_server, redis_client) as second:  # another worker, another repository
        warm = second.lookup_many(WANTED)
        assert second.stats.requests == 0
        assert second.stats.cache_hits == 3
    assert registry_server.total_requests == 3
    for request in WANTED:
        assert package(warm[request]).releases == package(cold[request]).releases
        assert package(warm[request]).urls == package(cold[request]).urls
        assert package(warm[request]).fetched_at == package(cold[request]).fetched_at


def test_after_ttl_a_conditional_request_answered_304_revalidates(
    registry_server: RegistryServer, redis_client: Redis
) -> None:
    with client_for(registry_server, redis_client, ttl=0.8) as client:
        cold = client.lookup_many(WANTED)
        time.sleep(0.85)
        again = client.lookup_many(WANTED)
        assert client.stats.requests == 6
        assert client.stats.revalidated == 3
        assert client.stats.cache_hits == 0
        immediately = client.lookup_many(WANTED)
        assert client.stats.requests == 6
        assert client.stats.cache_hits == 3
    conditional = [s for s in registry_server.served if "if-none-match" in s.headers]
    assert [s.status for s in conditional] == [304, 304, 304]
    assert {s.headers["if-none-match"] for s in conditional} == {
        registry_server.etag(eco.value, name) for eco, name in WANTED
    }
    for request in WANTED:
        assert package(again[request]).releases == package(cold[request]).releases
        assert package(immediately[request]).fetched_at == package(again[request]).fetched_at
        assert package(again[request]).fetched_at > package(cold[request]).fetched_at  # type: ignore[operator]


def test_changed_etag_refetches(registry_server: RegistryServer, redis_client: Redis) -> None:
    with client_for(registry_server, redis_client, ttl=0.2) as client:
        client.lookup_many([(PY, "flask")])
        old_etag = registry_server.etag("python", "flask")
        registry_server.bump("python", "flask")
        time.sleep(0.25)
        client.lookup_many([(PY, "flask")])
        assert (client.stats.requests, client.stats.revalidated) == (2, 0)
        time.sleep(0.25)
        client.lookup_many([(PY, "flask")])
        assert (client.stats.requests, client.stats.revalidated) == (3, 1)
    served = [s for s in registry_server.served if s.key == ("python", "flask")]
    assert [s.status for s in served] == [200, 200, 304]
    assert served[1].headers["if-none-match"] == old_etag
    assert served[2].headers["if-none-match"] == registry_server.etag("python", "flask")


def test_cache_holds_the_reduced_package_under_a_key_without_the_base_url(
    registry_server: RegistryServer, redis_client: Redis
) -> None:
    with client_for(registry_server, redis_client) as client:
        client.lookup_many([(PY, "Typing_Extensions"), (NPM, "react")])
    keys = sorted(as_text(k) for k in redis_client.keys("depup:registry:*"))
    assert len(keys) == 2
    assert all(registry_server.url not in key and "127.0.0.1" not in key for key in keys)
    assert keys[0].startswith(f"depup:registry:{codec.FORMAT}:npm:") and keys[0].endswith(":react")
    assert keys[1].startswith(f"depup:registry:{codec.FORMAT}:python:") and keys[1].endswith(":typing-extensions")
    react = redis_client.hgetall(keys[0])
    assert react[b"type"] == b"package"
    assert as_text(react[b"etag"]) == registry_server.etag("npm", "react")
    stored = msgspec.msgpack.decode(react[b"data"])
    assert stored[1] == "react" and len(stored[2]) > 2000  # name, releases (rows)
    assert b"tarball" not in react[b"data"] and b"integrity" not in react[b"data"]
    assert 0 < redis_client.ttl(keys[0]) <= 7 * 24 * 3600


def test_keys_separate_registries(registry_server: RegistryServer) -> None:
    one = CacheKey(PY, "http://mirror-a/pypi", "flask").redis_key
    two = CacheKey(PY, "http://mirror-b/pypi", "flask").redis_key
    assert one != two
    assert CacheKey(NPM, "http://mirror-a", "flask").redis_key != one


def test_without_redis_every_call_fetches(registry_server: RegistryServer) -> None:
    with client_for(registry_server, None) as client:
        client.lookup_many(WANTED)
        client.lookup_many(WANTED)
        assert client.stats.requests == 6
    assert registry_server.total_requests == 6


def test_concurrent_workers_fetch_a_package_once(registry_server: RegistryServer, redis_client: Redis) -> None:
    registry_server.inject("python", "django", Fault(delay=0.5))
    clients = [client_for(registry_server, redis_client) for _ in range(4)]
    results: list[PackageInfo | LookupFailure] = []
    threads = [
        threading.Thread(target=lambda c=c: results.append(c.lookup_many([(PY, "django")])[(PY, "django")]))
        for c in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert registry_server.count("python", "django") == 1
    assert sum(c.stats.requests for c in clients) == 1
    assert sum(c.stats.cache_hits for c in clients) == 3
    assert len({len(package(r).releases) for r in results}) == 1
    for client in clients:
        client.close()


def test_stale_copy_is_served_while_the_registry_fails(registry_server: RegistryServer, redis_client: Redis) -> None:
    with client_for(registry_server, redis_client, ttl=0.6) as client:
        fresh = package(client.lookup_many([(PY, "pluggy")])[(PY, "pluggy")])
        registry_server.inject("python", "pluggy", Fault(status=503))
        time.sleep(0.65)
        stale = package(client.lookup_many([(PY, "pluggy")])[(PY, "pluggy")])
        assert (client.stats.requests, client.stats.failures, client.stats.stale) == (2, 1, 1)
        assert stale.releases == fresh.releases
        assert stale.fetched_at == fresh.fetched_at  # says how old the copy is
        client.lookup_many([(PY, "pluggy")])
        assert client.stats.requests == 2  # the failure is not retried at once
        registry_server.reset()
        time.sleep(0.65)
        client.lookup_many([(PY, "pluggy")])
        assert (client.stats.requests, client.stats.revalidated) == (3, 1)


def test_failures_are_cached(registry_server: RegistryServer, redis_client: Redis) -> None:
    with client_for(registry_server, redis_client) as client:
        client.lookup_many([(PY, "depup-no-such-package"), (NPM, "depup-no-such-package")])
        again = client.lookup_many([(PY, "depup-no-such-package"), (NPM, "depup-no-such-package")])
        assert client.stats.requests == 2
        assert client.stats.cache_hits == 2
    assert failure(again[(PY, "depup-no-such-package")]).kind == "not_found"
    assert failure(again[(PY, "depup-no-such-package")]).name == "depup-no-such-package"
    key = next(k for k in redis_client.keys(f"depup:registry:{codec.FORMAT}:python:*"))
    assert redis_client.hget(key, "type") == b"failure"
    remaining = float(redis_client.hget(key, "fresh_until") or 0) - time.time()
    assert 3500 < remaining <= 3600  # not_found: the normal ttl


def test_unreachable_failure_is_kept_for_a_minute(registry_server: RegistryServer, redis_client: Redis) -> None:
    from bot.deps.registry.client import RegistryClient

    with RegistryClient(redis_client, pypi_base=closed_port_url()) as client:
        assert failure(client.lookup_many([(PY, "six")])[(PY, "six")]).kind == "unreachable"
        assert failure(client.lookup_many([(PY, "six")])[(PY, "six")]).kind == "unreachable"
        assert (client.stats.requests, client.stats.cache_hits) == (1, 1)
    key = next(k for k in redis_client.keys(f"depup:registry:{codec.FORMAT}:python:*"))
    remaining = float(redis_client.hget(key, "fresh_until") or 0) - time.time()
    assert 55 < remaining <= 60


def test_redis_down_still_answers(registry_server: RegistryServer) -> None:
    broken = Redis.from_url(closed_port_url().replace("http", "redis"), socket_connect_timeout=0.2)
    with client_for(registry_server, broken) as client:
        results = client.lookup_many([(PY, "flask"), (NPM, "ms")])
        assert client.stats.requests == 2
    assert all(package(result).releases for result in results.values())
