"""Probe rounds in Redis (the test session's own database, emptied around each test) and the soak verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis import Redis

from bot.health import store
from bot.health.probe import ProbeResult
from bot.health.store import (
    KEY_PREFIX,
    TTL_SECONDS,
    Round,
    record_round,
    round_key,
    rounds,
    soak_verdict,
)
from config.model import HealthCheck, HealthUrl

REPO = "octo/shop"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CHECK = HealthCheck(urls=(HealthUrl("https://shop.example.test/health"), HealthUrl("https://api.example.test/")))


def good(url: str = "https://shop.example.test/health") -> ProbeResult:
    return ProbeResult(url, True, 200, 85, "93.184.216.34", None, "200 in 85 ms")


def bad(url: str = "https://api.example.test/") -> ProbeResult:
    return ProbeResult(url, False, 502, 12, "93.184.216.34", "status", "502 in 12 ms, expected 200")


def round_(minute: int, *results: ProbeResult) -> Round:
    return Round(T0 + timedelta(minutes=minute), results)


def test_rounds_are_stored_per_deployment_and_read_back_in_time_order(redis_client: Redis) -> None:
    timeout = ProbeResult("https://api.example.test/", False, None, None, None, "timeout", "timed out after 10 s")
    record_round(redis_client, REPO, 7, [good(), timeout], T0 + timedelta(minutes=2))
    record_round(redis_client, REPO, 7, [good(), good("https://api.example.test/")], T0)
    record_round(redis_client, REPO, 8, [bad()], T0)
    record_round(redis_client, "octo/other", 7, [bad()], T0)
    stored = rounds(redis_client, REPO, 7)
    assert stored == [
        Round(T0, (good(), good("https://api.example.test/"))),
        Round(T0 + timedelta(minutes=2), (good(), timeout)),
    ]
    assert [r.passed for r in stored] == [True, False]
    assert stored[1].failures == (timeout,)
    assert rounds(redis_client, REPO, 8) == [Round(T0, (bad(),))]
    assert rounds(redis_client, REPO, 9) == []


def test_keys_are_prefixed_and_expire(redis_client: Redis) -> None:
    record_round(redis_client, REPO, 7, [good()], T0)
    assert round_key(REPO, 7) == f"{KEY_PREFIX}{REPO}:7" == "depup:health:octo/shop:7"
    assert TTL_SECONDS == 14 * 24 * 3600
    assert TTL_SECONDS - 60 < redis_client.ttl(round_key(REPO, 7)) <= TTL_SECONDS


def test_a_prefix_isolates_the_rounds(redis_client: Redis) -> None:
    record_round(redis_client, REPO, 7, [good()], T0, prefix="test-a:")
    record_round(redis_client, REPO, 7, [bad()], T0, prefix="test-b:")
    assert rounds(redis_client, REPO, 7, prefix="test-a:") == [Round(T0, (good(),))]
    assert rounds(redis_client, REPO, 7, prefix="test-b:") == [Round(T0, (bad(),))]
    assert rounds(redis_client, REPO, 7) == []
    assert sorted(redis_client.keys("*health*")) == []
    assert redis_client.exists("test-a:octo/shop:7", "test-b:octo/shop:7") == 2


def test_recording_the_same_time_again_replaces_the_round(redis_client: Redis) -> None:
    record_round(redis_client, REPO, 7, [bad()], T0)
    record_round(redis_client, REPO, 7, [good()], T0)  # a retried job
    assert rounds(redis_client, REPO, 7) == [Round(T0, (good(),))]


def test_times_are_kept_in_utc(redis_client: Redis) -> None:
    paris = T0.astimezone(ZoneInfo("Europe/Paris"))
    record_round(redis_client, REPO, 7, [good()], paris)
    record_round(redis_client, REPO, 7, [bad()], datetime(2025, 3, 1, 13, 0))  # naive: taken as UTC
    assert [r.at for r in rounds(redis_client, REPO, 7)] == [T0, T0 + timedelta(hours=1)]


def test_an_unreadable_entry_is_left_out(redis_client: Redis, caplog: pytest.LogCaptureFixture) -> None:
    record_round(redis_client, REPO, 7, [good()], T0)
    redis_client.hset(round_key(REPO, 7), "not a time", b"[]")
    redis_client.hset(round_key(REPO, 7), (T0 + timedelta(minutes=1)).isoformat(), b'[{"url": 1}]')
    redis_client.hset(round_key(REPO, 7), (T0 + timedelta(minutes=2)).isoformat(), b"{nope")
    assert rounds(redis_client, REPO, 7) == [Round(T0, (good(),))]
    assert caplog.text.count("unreadable") == 3


def test_only_the_newest_rounds_are_kept(redis_client: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MAX_ROUNDS", 3)
    for minute in (8, 0, 2, 6, 4):
        record_round(redis_client, REPO, 7, [good()], T0 + timedelta(minutes=minute))
    assert [r.at.minute for r in rounds(redis_client, REPO, 7)] == [4, 6, 8]


def test_an_empty_round_is_stored(redis_client: Redis) -> None:
    record_round(redis_client, REPO, 7, [], T0)
    assert rounds(redis_client, REPO, 7) == [Round(T0, ())]


# The verdict.


def test_pending_until_enough_rounds_passed() -> None:
    check = HealthCheck(urls=CHECK.urls, probes=3)
    assert soak_verdict([], check) == "pending"
    assert soak_verdict([round_(0, good(), good())], check) == "pending"
    assert soak_verdict([round_(0, good()), round_(2, good())], check) == "pending"
    assert soak_verdict([round_(0, good()), round_(2, good()), round_(4, good())], check) == "healthy"


def test_a_round_fails_when_any_url_fails() -> None:
    assert round_(0, good(), bad()).passed is False
    assert round_(0, good(), good()).passed is True


def test_one_failed_round_is_tolerated_two_in_a_row_fail() -> None:
    check = HealthCheck(urls=CHECK.urls, probes=3)
    assert soak_verdict([round_(0, good(), bad())], check) == "pending"
    assert soak_verdict([round_(0, good(), bad()), round_(2, bad())], check) == "failing"
    blip = [round_(0, good()), round_(2, bad()), round_(4, good()), round_(6, good())]
    assert soak_verdict(blip, check) == "healthy"
    alternating = [round_(0, bad()), round_(2, good()), round_(4, bad()), round_(6, good())]
    assert soak_verdict(alternating, check) == "pending"


def test_a_single_probe_round_decides_on_its_own() -> None:
    check = HealthCheck(urls=CHECK.urls, probes=1)
    assert soak_verdict([round_(0, bad())], check) == "failing"
    assert soak_verdict([round_(0, good())], check) == "healthy"


def test_rounds_count_in_time_order_and_the_first_decision_stands() -> None:
    check = HealthCheck(urls=CHECK.urls, probes=2)
    failed_first = [round_(4, good()), round_(6, good()), round_(0, bad()), round_(2, bad())]
    assert soak_verdict(failed_first, check) == "failing"
    healthy_first = [round_(0, good()), round_(2, good()), round_(4, bad()), round_(6, bad())]
    assert soak_verdict(healthy_first, check) == "healthy"


def test_rounds_without_results_do_not_count() -> None:
    check = HealthCheck(urls=CHECK.urls, probes=2)
    assert soak_verdict([round_(0), round_(2), round_(4, good())], check) == "pending"
    assert soak_verdict([round_(0, bad()), round_(2), round_(4, bad())], check) == "failing"


def test_nothing_to_probe_is_healthy() -> None:
    assert soak_verdict([], HealthCheck(urls=())) == "healthy"
