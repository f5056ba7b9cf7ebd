"""Run the queue in-process with rq's SimpleWorker and a runtime installed, as `depup worker` would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from rq import SimpleWorker

from bot.core.queue import make_queue
from bot.core.serializer import JSONSerializer
from bot.core.settings import Settings
from bot.events.router import Router
from bot.github.client import GitHubClients
from bot.process import runtime


def build_runtime(settings: Settings, redis: Redis, router: Router | None = None) -> runtime.Runtime:
    if router is None:
        return runtime.build(settings, redis)
    return runtime.Runtime(settings, redis, make_queue(redis, settings), GitHubClients(settings, redis), router)


@contextmanager
def installed(rt: runtime.Runtime) -> Iterator[runtime.Runtime]:
    runtime.install(rt)
    try:
        yield rt
    finally:
        runtime.install(None)


def drain(rt: runtime.Runtime, *, with_scheduler: bool = False) -> SimpleWorker:
    """Work the queue until it is empty (burst), in this process."""
    worker = SimpleWorker([rt.queue], connection=rt.redis, serializer=JSONSerializer)
    worker.work(burst=True, with_scheduler=with_scheduler)
    return worker
