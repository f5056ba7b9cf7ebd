"""A Redis database of its own for each test session, emptied around every test.

DEPUP_TEST_REDIS_URL names the server (default: the machine's Redis on 127.0.0.1:6379; `.ci/run` starts
one on a free port when none answers). The session claims a free database number (1-15) with a marker key,
so two test runs on one machine do not empty each other's database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

CLAIM_KEY = "depup:test:claim"
CLAIM_TTL = 3600


def server_url() -> str:
    return os.environ.get("DEPUP_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


@contextmanager
def claimed_database() -> Iterator[str]:
    """Yield the URL of a database no other test session is using, and release it afterwards."""
    base = server_url()
    marker = f"pid-{os.getpid()}"
    for db in range(15, 0, -1):
        client = Redis.from_url(f"{base}/{db}")
        if client.set(CLAIM_KEY, marker, nx=True, ex=CLAIM_TTL):
            try:
                client.flushdb()
                client.set(CLAIM_KEY, marker, ex=CLAIM_TTL)
                yield f"{base}/{db}"
            finally:
                client.flushdb()
                client.close()
            return
        client.close()
    raise RuntimeError(f"no free Redis database on {base}: every db 1-15 is claimed by another test run")


def reset(client: Redis) -> None:
    """Empty the claimed database, keeping (and refreshing) the claim."""
    marker = client.get(CLAIM_KEY)
    client.flushdb()
    if marker:
        client.set(CLAIM_KEY, marker, ex=CLAIM_TTL)
