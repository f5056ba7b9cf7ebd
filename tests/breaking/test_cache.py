"""The API diff cache on a real Redis: round trips, TTLs by outcome, the size bound, registries kept apart, and
Redis trouble as a miss."""

from __future__ import annotations

import dataclasses

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.breaking.cache import MAX_ENTRY_BYTES, NOT_ANALYSED_TTL, TTL, DiffCache, DiffKey, decode, encode
from bot.breaking.model import ApiChange, ApiDiff

FLASK = ApiDiff(
    "python",
    "flask",
    "2.3.3",
    "3.0.0",
    analysed=True,
    changes=(
        ApiChange("removed", "flask.Markup", "removed"),
        ApiChange("removed", "flask.escape", "removed", ("flask.helpers.escape",)),
        ApiChange("changed", "flask.Flask.run", "parameter 'load_dotenv' default changed from True to False"),
        ApiChange("deprecated", "flask.__version__", "deprecated: use importlib.metadata.version('flask')"),
    ),
    source="wheels",
)
MISSING = ApiDiff("npm", "left-pad", "1.0.0", "2.0.0", analysed=False, why_not="no type declarations in 2.0.0")


def calls(redis: Redis, command: str) -> int:
    stats = redis.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def test_encode_and_decode_give_the_same_diff() -> None:
    assert decode(encode(FLASK)) == FLASK
    assert decode(encode(MISSING)) == MISSING
    express = ApiDiff(
        "npm", "express", "4.21.2", "5.1.0", analysed=True,
        changes=(ApiChange("removed", "express.Request.param", "removed"),),
        returns=(("express", "express.Express"),),  # how js_uses follows ``app = express()``: kept by the cache
    )  # fmt: skip
    assert decode(encode(express)) == express


def test_every_field_of_a_diff_and_of_its_changes_survives_the_cache() -> None:
    """A field the cache forgets is lost for 30 days (``ApiDiff.returns`` once was): each field of both values is
    given a value other than its default here, and must come back."""
    change = ApiChange("changed", "urllib3.Retry", "parameter 'method_whitelist' removed", ("urllib3.util.Retry",))
    diff = ApiDiff(
        "python", "urllib3", "1.26.18", "2.2.1", analysed=False, changes=(change,), why_not="partial",
        source="wheels", returns=(("urllib3.PoolManager", "urllib3.PoolManager"),),
    )  # fmt: skip
    for value in (diff, change):
        for field in dataclasses.fields(value):
            if field.default is not dataclasses.MISSING:
                assert getattr(value, field.name) != field.default, f"{type(value).__name__}.{field.name}"
    assert decode(encode(diff)) == diff


def test_many_diffs_are_read_in_one_round_trip(redis_client: Redis) -> None:
    cache = DiffCache(redis_client)
    assert cache.store(FLASK) and cache.store(MISSING)
    keys = [
        DiffKey("python", "flask", "2.3.3", "3.0.0"),
        DiffKey("python", "django", "3.2.25", "4.2.16"),
        DiffKey("npm", "left-pad", "1.0.0", "2.0.0"),
    ]
    before = calls(redis_client, "mget"), calls(redis_client, "get")
    assert cache.read_many(keys) == [FLASK, None, MISSING]
    assert (calls(redis_client, "mget"), calls(redis_client, "get")) == (before[0] + 1, before[1])


def test_an_analysed_diff_is_kept_long_a_failure_briefly(redis_client: Redis) -> None:
    cache = DiffCache(redis_client)
    cache.store(FLASK)
    cache.store(MISSING)
    keys = sorted(k.decode() for k in redis_client.keys("depup:apidiff:*"))
    assert len(keys) == 2
    ttls = {key.split(":")[3]: redis_client.ttl(key) for key in keys}
    assert TTL - 5 <= ttls["python"] <= TTL
    assert NOT_ANALYSED_TTL - 5 <= ttls["npm"] <= NOT_ANALYSED_TTL
    assert all(":flask:2.3.3:3.0.0" in k or ":left-pad:1.0.0:2.0.0" in k for k in keys)


def test_an_entry_over_the_size_bound_is_not_stored(redis_client: Redis) -> None:
    many = tuple(ApiChange("removed", f"huge.module.name_{i:06d}", "removed" + " " * 40) for i in range(12000))
    huge = ApiDiff("python", "huge", "1.0", "2.0", analysed=True, changes=many)
    assert len(encode(huge)) > MAX_ENTRY_BYTES
    cache = DiffCache(redis_client)
    assert cache.store(huge) is False
    assert cache.read(DiffKey("python", "huge", "1.0", "2.0")) is None


def test_another_registry_does_not_share_entries(redis_client: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = DiffCache(redis_client)
    monkeypatch.setenv("DEPUP_PYPI_URL", "https://one.invalid/pypi/")
    cache.store(FLASK)
    assert cache.read(DiffKey("python", "flask", "2.3.3", "3.0.0")) == FLASK
    monkeypatch.setenv("DEPUP_PYPI_URL", "https://two.invalid/pypi/")
    assert cache.read(DiffKey("python", "flask", "2.3.3", "3.0.0")) is None


def test_an_unreadable_entry_is_a_miss(redis_client: Redis) -> None:
    cache = DiffCache(redis_client)
    cache.store(FLASK)
    (key,) = redis_client.keys("depup:apidiff:*")
    redis_client.set(key, b'{"ecosystem": "python"}')
    assert cache.read(DiffKey("python", "flask", "2.3.3", "3.0.0")) is None


def test_redis_down_is_a_miss_and_a_failed_store() -> None:
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    cache = DiffCache(down)
    assert cache.read_many([DiffKey("python", "flask", "2.3.3", "3.0.0")]) == [None]
    assert cache.store(FLASK) is False
