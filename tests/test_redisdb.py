"""The test sessions' Redis databases (tests/support/redisdb.py) on a Redis this test starts: a database holding
someone else's data is never claimed nor emptied, and a session whose claim is gone deletes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from redis import Redis

from tests.support import redisdb
from tests.support.redis_restart import RedisServer


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RedisServer:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    started = RedisServer(tmp_path, appendonly=False)
    started.start()
    monkeypatch.setenv("DEPUP_TEST_REDIS_URL", started.url.rsplit("/", 1)[0])
    yield started  # type: ignore[misc]
    started.kill()


def test_a_database_with_data_is_never_claimed_nor_emptied(server: RedisServer) -> None:
    base = server.url.rsplit("/", 1)[0]
    theirs = Redis.from_url(f"{base}/15")
    theirs.set("someone:else", "keep me")
    with redisdb.claimed_database() as url:
        assert url == f"{base}/14"
        ours = Redis.from_url(url)
        ours.set("ours", "1")
        redisdb.reset(ours)
        assert ours.get("ours") is None and ours.get(redisdb.CLAIM_KEY) is not None
        ours.set("ours", "2")
    assert theirs.get("someone:else") == b"keep me" and theirs.get(redisdb.CLAIM_KEY) is None
    assert Redis.from_url(f"{base}/14").dbsize() == 0  # our own keys and claim are gone


def test_a_session_whose_claim_is_gone_deletes_nothing(server: RedisServer) -> None:
    with redisdb.claimed_database() as url:
        ours = Redis.from_url(url)
        ours.delete(redisdb.CLAIM_KEY)  # the claim expired...
        ours.set(redisdb.CLAIM_KEY, "another-session")  # ...and another session took the database
        ours.set("their:key", "1")
        with pytest.raises(redisdb.ClaimLost):
            redisdb.reset(ours)
        assert ours.get("their:key") == b"1"
    assert ours.get("their:key") == b"1" and ours.get(redisdb.CLAIM_KEY) == b"another-session"
