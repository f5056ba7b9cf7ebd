"""What ``depup status`` and cron's ``/metrics`` read of the deployment: the queue's gauges (``QueueCollector``),
rq's scheduler, cron, the registry and Redis's epoch (``liveness``), the failed jobs and the workers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import BaseRegistry
from rq.worker import BaseWorker

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


REGISTRIES = ("queued", "started", "scheduled", "deferred", "failed")


def queue_counts(redis: Redis, queue_name: str) -> dict[str, int]:
    """Jobs per rq registry of the app's queue (read only: no registry cleanup)."""
    queue = Queue(queue_name, connection=redis, serializer=JSONSerializer)
    registries: dict[str, BaseRegistry] = {
        "started": queue.started_job_registry,
        "scheduled": queue.scheduled_job_registry,
        "deferred": queue.deferred_job_registry,
        "failed": queue.failed_job_registry,
    }
    return {"queued": queue.count} | {name: r.get_job_count(cleanup=False) for name, r in registries.items()}


@dataclass(frozen=True)
class FailedJob:
    id: str
    function: str
    ended_at: str  # ISO 8601, UTC; empty when unknown
    error: str  # the last line of the exception, redacted


_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def failed_jobs(redis: Redis, queue_name: str, limit: int = 10) -> list[FailedJob]:
    """The latest failed jobs, newest first: what failed and why, never their arguments (webhook payloads)."""
    queue = Queue(queue_name, connection=redis, serializer=JSONSerializer)
    registry: BaseRegistry = queue.failed_job_registry
    ids = registry.get_job_ids(0, max(limit, 1) - 1, desc=True, cleanup=False)
    found: list[FailedJob] = []
    for job_id, job in zip(ids, Job.fetch_many(ids, connection=redis, serializer=JSONSerializer), strict=True):
        if job is None:
            found.append(FailedJob(job_id, "", "", "(job data expired)"))
            continue
        result = job.latest_result()
        text = (result.exc_string if result is not None else None) or ""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        error = _URL_CREDENTIALS.sub("", lines[-1])[:300] if lines else ""
        found.append(FailedJob(job.id, job.func_name or "", _iso(job.ended_at), error))
    return found


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # rq keeps naive UTC times
    return aware.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    hostname: str
    pid: int | None
    state: str  # idle, busy, suspended, started
    current_job: str  # empty when idle
    last_heartbeat: str  # ISO 8601, UTC
    successful_jobs: int
    failed_jobs: int


def workers(redis: Redis, queue_name: str) -> list[WorkerInfo]:
    """The rq workers registered on the app's queue (a worker that stops heartbeating expires from the list)."""
    queue = Queue(queue_name, connection=redis, serializer=JSONSerializer)
    return sorted(
        (
            WorkerInfo(
                name=w.name,
                hostname=w.hostname or "",
                pid=w.pid,
                state=str(w.get_state()),
                current_job=w.get_current_job_id() or _registered_job(redis, w),
                last_heartbeat=_iso(w.last_heartbeat),
                successful_jobs=w.successful_job_count,
                failed_jobs=w.failed_job_count,
            )
            for w in Worker.all(queue=queue)
        ),
        key=lambda w: w.name,
    )


def _registered_job(redis: Redis, worker: BaseWorker) -> str:
    """The job a busy worker said it runs when it registered again in an emptied Redis (``bot.process.worker``):
    rq's own record of it (the worker's executions) went with the data."""
    if str(worker.get_state()) != "busy":
        return ""
    raw = redis.hget(worker.key, "current_job")
    return raw.decode() if isinstance(raw, bytes) else raw or ""
