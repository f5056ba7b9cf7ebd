"""The registry helper process: a big batch is shared with it, answers are the client's own, and a helper that
fails costs only its share of the speed."""

from __future__ import annotations

import io
import sys
import time
from dataclasses import replace

import pytest
from redis import Redis

from bot.deps.model import PackageInfo
from bot.deps.registry import helper
from bot.deps.registry.client import RegistryClient, Request, Result
from tests.deps.registry.helpers import NPM, PY, failure
from tests.support.registry_server import Fault, RegistryServer, recorded_names

WANTED = [(PY, n) for n in recorded_names("python")] + [(NPM, n) for n in recorded_names("npm")]


def lookup(
    server: RegistryServer, redis: Redis | None = None, *, helper_min: int = 1, **options: float
) -> tuple[dict[Request, Result], RegistryClient]:
    with RegistryClient(redis, pypi_base=server.url, npm_base=server.url, helper_min=helper_min, **options) as client:
        return client.lookup_many(WANTED), client


def comparable(results: dict[Request, Result]) -> dict[Request, Result]:
    return {r: replace(v, fetched_at=None) if isinstance(v, PackageInfo) else v for r, v in results.items()}


def test_a_big_batch_is_shared_with_the_helper_and_answers_as_the_client_does(
    registry_server: RegistryServer, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry_server.inject("python", "flask", Fault(status=500))
    registry_server.inject("npm", "express", Fault(status=404))
    shared, client = lookup(registry_server, redis_client)
    assert 0 < client.stats.helped < len(WANTED)  # both sides took packages from the one queue
    assert client.stats.requests == registry_server.total_requests == len(WANTED)  # the helper's requests counted
    assert client.stats.bytes > 0 and client.stats.failures == 2
    assert all(registry_server.count(eco.value, name) == 1 for eco, name in WANTED)
    assert failure(shared[(PY, "flask")]).kind == "unreachable"
    assert failure(shared[(NPM, "express")]).kind == "not_found"

    registry_server.reset()
    registry_server.inject("python", "flask", Fault(status=500))
    registry_server.inject("npm", "express", Fault(status=404))
    monkeypatch.setenv("DEPUP_REGISTRY_HELPER", "0")
    alone, client = lookup(registry_server)
    assert client.stats.helped == 0 and client.stats.requests == len(WANTED)
    assert comparable(shared) == comparable(alone)

    # What the helper answered was cached like the rest: a second lookup asks nothing.
    again, client = lookup(registry_server, redis_client)
    assert client.stats.cache_hits == len(WANTED) and client.stats.requests == 0
    assert comparable(again) == comparable(shared)


def test_the_helper_revalidates_with_the_cached_validators(
    registry_server: RegistryServer, redis_client: Redis
) -> None:
    first, _ = lookup(registry_server, redis_client, ttl=0.001)
    time.sleep(0.01)
    registry_server.reset()
    registry_server.bump("python", "flask")  # a new release: a full answer, the others 304
    second, client = lookup(registry_server, redis_client, ttl=0.001)
    assert client.stats.helped > 0
    assert client.stats.revalidated == len(WANTED) - 1
    assert client.stats.requests == len(WANTED) and client.stats.failures == 0
    assert comparable(second) == comparable(first)


@pytest.mark.parametrize("mode", ["exit", "garbage", "stranger", "silent"])
def test_a_broken_helper_leaves_its_packages_to_the_client(
    registry_server: RegistryServer, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(helper, "COMMAND", (sys.executable, "-m", "tests.support.broken_helper", mode))
    results, client = lookup(registry_server)
    assert all(isinstance(result, PackageInfo) for result in results.values())
    assert client.stats.helped == 0 and client.stats.failures == 0
    assert all(registry_server.count(eco.value, name) == 1 for eco, name in WANTED)


def test_a_helper_that_cannot_start_costs_nothing(
    registry_server: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helper, "COMMAND", ("/nonexistent/depup-python",))
    results, client = lookup(registry_server)
    assert all(isinstance(result, PackageInfo) for result in results.values())
    assert client.stats.helped == 0


def test_a_hung_helper_is_bounded_by_the_batch_deadline(
    registry_server: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helper, "COMMAND", (sys.executable, "-m", "tests.support.broken_helper", "hang"))
    started = time.monotonic()
    results, _ = lookup(registry_server, total_timeout=3)
    assert time.monotonic() - started < 3 + 2 + 3  # the deadline, the helper's grace to end, slack
    timed_out = [r for r in results.values() if not isinstance(r, PackageInfo)]
    assert 0 < len(timed_out) <= 8  # what the helper held (half of 16 connections) times out, nothing else
    assert all(failure(r).kind == "timeout" for r in timed_out)


def test_small_batches_need_no_helper(registry_server: RegistryServer) -> None:
    with RegistryClient(None, pypi_base=registry_server.url, npm_base=registry_server.url) as client:
        client.lookup_many(WANTED[: helper.HELPER_MIN - 1])
        assert client.stats.helped == 0


def test_frames_round_trip_and_refuse_what_is_not_theirs() -> None:
    stream = io.BytesIO()
    job = helper.Job(7, "python", "Flask", "http://registry", "flask", "http://registry/simple/flask/", None, None)
    helper.write_frame(stream, job)
    helper.write_frame(stream, helper.Ready())
    stream.seek(0)
    assert helper.read_frame(stream, helper.Job) == job
    with pytest.raises(helper.HelperError, match="expected Job, got Ready"):
        helper.read_frame(stream, helper.Job)
    assert helper.read_frame(stream, helper.Job) is None  # the end of the stream
    with pytest.raises(helper.HelperError, match="inside a frame"):
        helper.read_frame(io.BytesIO(b"\x00\x00\x01\x00abc"), helper.Job)
    with pytest.raises(helper.HelperError, match="unreadable frame"):
        helper.read_frame(io.BytesIO(b"\x00\x00\x00\x03abc"), helper.Job)
