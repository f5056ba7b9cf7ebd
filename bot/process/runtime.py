"""The per-process runtime of a worker: settings, Redis, queue, GitHub clients and the handler router.

rq job functions receive only JSON values, so they find everything else here. The worker entry point
(``depup worker``) installs a runtime before it starts working; forked job processes inherit it; tests
install one for their in-process ``SimpleWorker``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from redis.sentinel import Sentinel
from rq import Queue

from bot.core.queue import make_queue
from bot.core.settings import Settings, parse_sentinel_url, redact_url
from bot.errors import DepupError, RedisUnavailable
from bot.events.router import Router
from bot.github.client import GitHubClients

log = logging.getLogger(__name__)
BACKOFF_START_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    redis: Redis
    queue: Queue
    clients: GitHubClients
    router: Router


_current: Runtime | None = None


def connect(url: str, **options: Any) -> Redis:
    """A Redis client for REDIS_URL, with redis-py's connection ``options`` (timeouts, health checks).

    ``redis://``, ``rediss://`` and ``unix://`` URLs are redis-py's own; a ``redis+sentinel://`` URL gives a
    client of the master the Sentinels name for the service, which finds the new master after a failover
    (bot.core.settings.parse_sentinel_url reads the URL).
    """
    target = parse_sentinel_url(url)
    if target is None:
        return Redis.from_url(url, **options)
    timeouts = {k: v for k, v in options.items() if k in ("socket_connect_timeout", "socket_timeout")}
    sentinel = Sentinel(  # type: ignore[no-untyped-call,unused-ignore]  # untyped in some redis-py versions
        list(target.sentinels),
        sentinel_kwargs={**timeouts, "password": target.sentinel_password, "ssl": target.ssl},
    )
    master: Redis = sentinel.master_for(  # type: ignore[no-untyped-call,unused-ignore]
        target.service,
        db=target.db,
        username=target.username,
        password=target.password,
        ssl=target.ssl,
        **options,
    )
    return master


def redis_unavailable(error: RedisError, url: str) -> RedisUnavailable:
    """The seam where redis-py's errors become depup's: one line naming the server (without credentials)."""
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    return RedisUnavailable(
        f"Redis unreachable at {redact_url(url)}: {type(error).__name__}" + (f": {detail}" if detail else "")
    )


def wait_for_redis(
    redis: Redis, url: str, who: str, stopping: Callable[[], bool], sleep: Callable[[float], None]
) -> Redis | None:
    """``redis`` once it answers a PING; until then one log line per attempt, with backoff (1 s doubling to 30 s).
    None when ``stopping()`` says so first. For long-running processes, which should outlive a Redis restart rather
    than exit (under honcho one exit stops every process; a platform throttles restart loops)."""
    delay = BACKOFF_START_SECONDS
    while not stopping():
        try:
            redis.ping()
            return redis
        except RedisError as e:
            log.error(f"{who}: {redis_unavailable(e, url)}; retrying in {delay:g} s")
        sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX_SECONDS)
    return None


def redis_for_worker(settings: Settings) -> Redis:
    return connect(settings.redis_url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30)


def load_router(module_name: str) -> Router:
    """The root router of the handlers package, imported by name (bot never imports handlers statically)."""
    module = importlib.import_module(module_name)
    router = getattr(module, "router", None)
    if not isinstance(router, Router):
        raise DepupError(f"{module_name}.router must be a bot.events.router.Router")
    return router


def build(settings: Settings, redis: Redis | None = None) -> Runtime:
    redis = redis or redis_for_worker(settings)
    return Runtime(
        settings=settings,
        redis=redis,
        queue=make_queue(redis, settings),
        clients=GitHubClients(settings, redis),
        router=load_router(settings.handlers_module),
    )


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise DepupError("no depup runtime installed in this process (start workers with `depup worker`)")
    return _current
