"""Registry answers cached in Redis, shared by every worker and repository, with a short lock per package.

Every operation works on a batch of packages in one Redis round trip (a pipeline): read the entries, claim the
fetch locks of the ones to fetch, store the answers and release those locks together. A cold lookup of N
packages costs a handful of round trips, not four per package.

One Redis hash per package: ``depup:registry:{FORMAT}:{ecosystem}:{base digest}:{canonical name}``. The registry
base is part of the key as a digest (an index URL may carry credentials, which must not land in key names), so
two registries never share entries. Fields:

- ``type``: ``package`` (``data`` is the reduced package, ``codec.encode_parsed``) or ``failure``;
- ``fresh_until``: epoch seconds until which the entry is used with no request at all;
- ``checked_at``: epoch seconds of the registry's last word on it (a 200 or a 304);
- ``etag`` / ``last_modified``: validators of the last 200, sent back to revalidate.

Project links of a PyPI release (``pypi.parse_links``) are a string key of their own,
``{package key}:links:{version}`` (a release's metadata does not change once uploaded).

Keys expire ``RETENTION`` seconds after their last write, so stale copies stay around for revalidation and for
serving while the registry is down, and are then dropped.

Redis trouble never fails a lookup: every Redis error is logged and treated as a cache miss (one seam, here).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from redis import Redis, RedisError
from redis.lock import Lock
from redis.typing import EncodableT, FieldT

from bot.deps.model import Ecosystem
from bot.deps.registry import codec
from bot.deps.registry.failures import LookupFailure
from bot.deps.registry.fetch import Validators
from bot.deps.registry.parsed import Parsed

log = logging.getLogger(__name__)

RETENTION = 7 * 24 * 3600
NO_VALIDATORS = Validators()
LOCK_POLL = 0.025


@dataclass(frozen=True)
class CacheKey:
    ecosystem: Ecosystem
    base: str
    name: str  # canonical

    @property
    def redis_key(self) -> str:
        digest = hashlib.sha256(self.base.encode()).hexdigest()[:16]
        return f"depup:registry:{codec.FORMAT}:{self.ecosystem.value}:{digest}:{self.name}"

    @property
    def lock_key(self) -> str:
        return self.redis_key + ":lock"

    def links_key(self, version: str) -> str:
        return f"{self.redis_key}:links:{version}"


@dataclass(frozen=True)
class Entry:
    """One cached answer: a package (with validators) or a failure."""

    result: Parsed | LookupFailure
    fresh_until: float
    checked_at: float
    validators: Validators = NO_VALIDATORS

    def fresh(self, now: float) -> bool:
        return now < self.fresh_until


# Deletes each lock key (KEYS) that still holds this batch's token (ARGV[1]): a lock that expired and was taken
# by another worker meanwhile is left alone.
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then released = released + redis.call('del', key) end
end
return released
"""


@dataclass(frozen=True)
class Write:
    """One cache change of a batch: a whole entry (``entry``) or new timestamps only (``touch``)."""

    key: CacheKey
    entry: Entry | None = None
    touch: tuple[float, float] | None = None  # (fresh_until, checked_at)


class RegistryCache:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._token = uuid.uuid4().hex  # this client's lock value: releases only what it claimed

    def read_many(self, keys: Sequence[CacheKey]) -> list[Entry | None]:
        """Every entry in one round trip."""
        return self.read_batch(keys)[0]

    def read_batch(self, keys: Sequence[CacheKey]) -> tuple[list[Entry | None], int]:
        """Every entry in one round trip, and how many bytes of package data were read."""
        if not keys:
            return [], 0
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hgetall(key.redis_key)
                rows = pipe.execute()
        except RedisError as exc:
            log.warning("registry cache read failed: %s", exc)
            return [None] * len(keys), 0
        size = sum(len(row.get(b"data", b"")) for row in rows)
        return [_entry(key, row) for key, row in zip(keys, rows, strict=True)], size

    def claim_many(self, keys: Sequence[CacheKey], ttl: float) -> list[bool]:
        """Take the fetch lock of each package in one round trip: True where this client got it. When Redis
        fails, every lock counts as taken (the caller fetches: the cache never makes a lookup wait on Redis)."""
        if not keys:
            return []
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key.lock_key, self._token, nx=True, px=max(1, int(ttl * 1000)))
                return [bool(taken) for taken in pipe.execute()]
        except RedisError as exc:
            log.warning("registry cache lock failed: %s", exc)
            return [True] * len(keys)

    def wait_unlocked_many(self, keys: Sequence[CacheKey], max_wait: float) -> None:
        """Return once nobody holds any of these packages' locks, or after ``max_wait`` seconds."""
        deadline = time.monotonic() + max_wait
        waiting = list(keys)
        try:
            while waiting and time.monotonic() < deadline:
                with self._redis.pipeline(transaction=False) as pipe:
                    for key in waiting:
                        pipe.exists(key.lock_key)
                    held = pipe.execute()
                waiting = [key for key, locked in zip(waiting, held, strict=True) if locked]
                if waiting:
                    time.sleep(LOCK_POLL)
        except RedisError as exc:
            log.warning("registry cache lock wait failed: %s", exc)

    def write_many(self, writes: Sequence[Write], release: Sequence[CacheKey] = ()) -> None:
        """Apply the writes and release this client's locks of ``release``, in one round trip."""
        if not writes and not release:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for write in writes:
                    if write.entry is not None:
                        pipe.delete(write.key.redis_key)
                        pipe.hset(write.key.redis_key, mapping=_fields(write.entry))
                    elif write.touch is not None:
                        fresh_until, checked_at = write.touch
                        pipe.hset(write.key.redis_key, mapping={"fresh_until": fresh_until, "checked_at": checked_at})
                    pipe.expire(write.key.redis_key, RETENTION)
                if release:
                    pipe.eval(_RELEASE, len(release), *[key.lock_key for key in release], self._token)
                pipe.execute()
        except RedisError as exc:
            log.warning("registry cache write failed: %s", exc)

    def read_links(self, wanted: Sequence[tuple[CacheKey, str]]) -> list[tuple[tuple[str, str], ...] | None]:
        """Cached project links of (package, version) pairs, in one round trip (MGET)."""
        if not wanted:
            return []
        try:
            raw = self._redis.mget([key.links_key(version) for key, version in wanted])
        except RedisError as exc:
            log.warning("registry cache read failed: %s", exc)
            return [None] * len(wanted)
        found: list[tuple[tuple[str, str], ...] | None] = []
        for value in raw:
            try:
                found.append(None if value is None else tuple((str(a), str(b)) for a, b in orjson.loads(value)))
            except (orjson.JSONDecodeError, TypeError, ValueError):
                found.append(None)
        return found

    def store_links(self, found: Sequence[tuple[CacheKey, str, tuple[tuple[str, str], ...]]]) -> None:
        if not found:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for key, version, urls in found:
                    pipe.set(key.links_key(version), orjson.dumps(urls), ex=RETENTION)
                pipe.execute()
        except RedisError as exc:
            log.warning("registry cache write failed: %s", exc)

    def read(self, key: CacheKey) -> Entry | None:
        return self.read_many([key])[0]

    def store(self, key: CacheKey, entry: Entry) -> None:
        self._write(key, _fields(entry), replace=True)

    def touch(self, key: CacheKey, fresh_until: float, checked_at: float) -> None:
        """Extend an entry's freshness without rewriting its data (a 304, or serving it while the registry fails)."""
        self._write(key, {"fresh_until": fresh_until, "checked_at": checked_at}, replace=False)

    def lock(self, key: CacheKey, ttl: float) -> Lock | None:
        """The package's fetch lock when this caller got it; None when another worker holds it."""
        lock = self._redis.lock(key.lock_key, timeout=ttl, blocking=False)
        try:
            return lock if lock.acquire() else None
        except RedisError as exc:
            log.warning("registry cache lock failed: %s", exc)
            return None

    def unlock(self, lock: Lock) -> None:
        try:
            lock.release()
        except RedisError as exc:  # expired meanwhile (LockError is a RedisError) or Redis gone
            log.warning("registry cache unlock: %s", exc)

    def wait_unlocked(self, key: CacheKey, max_wait: float) -> None:
        """Return once nobody holds the package's lock, or after ``max_wait`` seconds."""
        deadline = time.monotonic() + max_wait
        try:
            while self._redis.exists(key.lock_key) and time.monotonic() < deadline:
                time.sleep(LOCK_POLL)
        except RedisError as exc:
            log.warning("registry cache lock wait failed: %s", exc)

    def _write(self, key: CacheKey, fields: dict[FieldT, EncodableT], *, replace: bool) -> None:
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                if replace:
                    pipe.delete(key.redis_key)
                pipe.hset(key.redis_key, mapping=fields)
                pipe.expire(key.redis_key, RETENTION)
                pipe.execute()
        except RedisError as exc:
            log.warning("registry cache write failed: %s", exc)


def _fields(entry: Entry) -> dict[FieldT, EncodableT]:
    result = entry.result
    if isinstance(result, LookupFailure):
        fields: dict[FieldT, EncodableT] = {"type": "failure", "data": codec.encode_failure(result)}
    else:
        fields = {"type": "package", "data": codec.encode_parsed(result)}
    return fields | {
        "fresh_until": entry.fresh_until,
        "checked_at": entry.checked_at,
        "etag": entry.validators.etag or "",
        "last_modified": entry.validators.last_modified or "",
    }


def _entry(key: CacheKey, row: dict[bytes, bytes]) -> Entry | None:
    if not row:
        return None
    try:
        data = row[b"data"]
        checked_at = float(row[b"checked_at"])
        result: Parsed | LookupFailure
        if row[b"type"] == b"failure":
            result = codec.decode_failure(data, key.ecosystem, key.name)
        else:
            result = codec.decode_parsed(data, datetime.fromtimestamp(checked_at, UTC))
        return Entry(
            result=result,
            fresh_until=float(row[b"fresh_until"]),
            checked_at=checked_at,
            validators=Validators(
                row.get(b"etag", b"").decode() or None, row.get(b"last_modified", b"").decode() or None
            ),
        )
    except (KeyError, ValueError, TypeError) as exc:
        log.warning("registry cache entry %s unreadable, ignored: %s", key.redis_key, exc)
        return None
