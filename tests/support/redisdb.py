"""A Redis database of its own for each test session, emptied around every test.

DEPUP_TEST_REDIS_URL names the server: `scripts/test` starts a private redis-server for the run when one is
installed, else uses the machine's Redis on 127.0.0.1:6379 (the default here too). On a Redis the session did not
start, it only ever deletes what it wrote: it claims a database (1-15) with a marker key only when the database is
empty, and empties it again (around every test, and at the end) only while the marker is still its own, checked and
done in one Lua script. A database holding anything else is never claimed, whoever wrote it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

CLAIM_KEY = "depup:test:claim"
CLAIM_TTL = 3600

# Empties the database only if this session's claim still holds it (a claim that expired and was taken by another
# session, or data someone else wrote under our number after a lost claim, is left alone); keeps the claim.
_RESET = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('FLUSHDB')
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
# Gives a claim back without touching anything else (a database found not empty).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_markers: dict[tuple[str, int, int], str] = {}  # (host, port, db) -> this process's claim marker


def server_url() -> str:
    return os.environ.get("DEPUP_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


def _where(client: Redis) -> tuple[str, int, int]:
    kwargs = client.connection_pool.connection_kwargs
    return str(kwargs.get("host", "")), int(kwargs.get("port", 0)), int(kwargs.get("db", 0))


class ClaimLost(RuntimeError):
    """The session's database is no longer marked as its own: nothing was deleted."""


@contextmanager
def claimed_database() -> Iterator[str]:
    """Yield the URL of an empty database this session claimed, and empty it again afterwards (only if still its
    own)."""
    base = server_url()
    marker = f"{os.getpid()}-{uuid.uuid4().hex}"
    for db in range(15, 0, -1):
        client = Redis.from_url(f"{base}/{db}")
        try:
            if not client.set(CLAIM_KEY, marker, nx=True, ex=CLAIM_TTL):
                continue  # another session's
            if client.dbsize() != 1:  # not empty: someone's data, never ours to delete
                client.eval(_RELEASE, 1, CLAIM_KEY, marker)
                continue
            _markers[_where(client)] = marker
            try:
                yield f"{base}/{db}"
            finally:
                client.eval(_RESET, 1, CLAIM_KEY, marker, CLAIM_TTL)
                client.eval(_RELEASE, 1, CLAIM_KEY, marker)
                _markers.pop(_where(client), None)
            return
        finally:
            client.close()
    raise RuntimeError(f"no free empty Redis database on {base}: every db 1-15 is claimed or holds data")


def reset(client: Redis) -> None:
    """Empty the claimed database, keeping (and refreshing) the claim; refuse if the claim is not this session's."""
    marker = _markers.get(_where(client))
    if marker is None or not client.eval(_RESET, 1, CLAIM_KEY, marker, CLAIM_TTL):
        raise ClaimLost(f"database {_where(client)} is not (or no longer) claimed by this test session")
