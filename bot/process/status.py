"""What ``depup status`` and cron's ``/metrics`` read of the deployment: the queue's gauges (``QueueCollector``),
rq's scheduler, cron, the registry and Redis's epoch (``liveness``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from rq import Queue, Worker

from bot.core.metrics import queue_counts
from bot.core.serializer import JSONSerializer
from bot.repos.recovery import epoch
from bot.repos.registry import RepoRegistry


@dataclass(frozen=True)
class Liveness:
    scheduler: str  # the rq scheduler holding the queue's lock ("name on host, pid N"), empty when none
    cron: tuple[str, ...]  # cron processes heartbeating (name and last heartbeat)
    registry_complete_at: str  # when the repository registry was last rebuilt in full; empty: missing
    epoch: str  # since when this Redis holds depup's data; empty: not yet marked (new or emptied Redis)


def liveness(redis: Redis, queue_name: str) -> Liveness:
    from rq import cron_scheduler_registry
    from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

    def text(value: object) -> str:
        return value.decode() if isinstance(value, bytes) else str(value) if value is not None else ""

    holder = text(redis.get(RQScheduler.get_locking_key(queue_name)))
    scheduler = ""
    if holder:
        info = {text(k): text(v) for k, v in redis.hgetall(SCHEDULER_KEY_TEMPLATE % holder).items()}
        scheduler = f"{holder} on {info.get('hostname', '?')}, pid {info.get('pid', '?')}"
    now = time.time()
    beats: list[tuple[bytes, float]] = redis.zrangebyscore(  # type: ignore[assignment]
        cron_scheduler_registry.get_registry_key(), now - 120, "+inf", withscores=True
    )
    crons = tuple(f"{text(name)} (heartbeat {max(0, int(now - score))}s ago)" for name, score in beats)
    return Liveness(scheduler, crons, RepoRegistry(redis).completed_at() or "", epoch(redis) or "")


class QueueCollector(Collector):
    """Gauges read from Redis at scrape time: jobs per registry, workers, repositories. Served by ``depup cron``
    (one per deployment, so the series are not duplicated across processes)."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self._redis = redis
        self._queue = queue_name

    def collect(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily("depup_queue_jobs", "Jobs in the app's queue, by rq registry.", labels=["registry"])
        for registry, count in queue_counts(self._redis, self._queue).items():
            jobs.add_metric([registry], count)
        queue = Queue(self._queue, connection=self._redis, serializer=JSONSerializer)
        workers = GaugeMetricFamily("depup_workers", "rq workers registered on the app's queue.")
        workers.add_metric([], Worker.count(queue=queue))
        repos = RepoRegistry(self._redis)
        known = GaugeMetricFamily("depup_repositories", "Repositories depup is installed on (its registry).")
        known.add_metric([], len(repos.all()))
        installations = GaugeMetricFamily("depup_installations", "Installations of the App (its registry).")
        installations.add_metric([], len(repos.installations()))
        return [jobs, workers, known, installations]


def cron_registry(redis: Redis, queue_name: str) -> CollectorRegistry:
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    registry = CollectorRegistry()
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    registry.register(QueueCollector(redis, queue_name))
    return registry
