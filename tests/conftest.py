from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from tests.support import redisdb

pytest_plugins = [
    "tests.fakegithub.pytest_plugin",
    "tests.support.registry_server",
    "tests.support.osv_server",
    "tests.support.harness",
    "tests.support.js_tools",
    "tests.support.rewriters",
]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redisdb.claimed_database() as url:
        yield url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    redisdb.reset(client)
    yield client
    redisdb.reset(client)
    client.close()
