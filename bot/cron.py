"""The ``cron`` process: exactly one per deployment, it enqueues periodic jobs for the workers.

rq's ``CronJob.enqueue`` always uses the default (pickle) serializer, which our JSON workers cannot read,
so jobs are enqueued here through a JSON queue; the schedule bookkeeping is rq's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import Queue, cron_job_registry
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL
from rq.job import Job
from rq.serializers import JSONSerializer

from bot import jobs
from bot.settings import Settings

RECONCILE_EVERY_SECONDS = 6 * 3600


class JsonCronJob(CronJob):  # type: ignore[misc]
    def enqueue(self, connection: Redis) -> Job:
        if self.func is None:
            raise ValueError(f"cron job {self.name} has no function")
        queue = Queue(self.queue_name, connection=connection, serializer=JSONSerializer)
        with connection.pipeline() as pipe:
            job = queue.enqueue(self.func, args=self.args, kwargs=self.kwargs, **self.job_options, pipeline=pipe)
            enqueued = job.enqueued_at.timestamp()
            pipe.zadd(self.job_history_key, {job.id: enqueued})
            pipe.zremrangebyrank(self.job_history_key, 0, -(DEFAULT_CRON_JOB_HISTORY_LIMIT + 1))
            pipe.expire(self.job_history_key, DEFAULT_CRON_JOB_HISTORY_TTL)
            cron_job_registry.add(self.name, pipe, enqueue_timestamp=enqueued)
            pipe.execute()
        return job


class JsonCronScheduler(CronScheduler):  # type: ignore[misc]
    def register(self, func: Callable[..., Any], queue_name: str, **options: Any) -> CronJob:
        cron_job = JsonCronJob(queue_name=queue_name, func=func, **options)
        self._cron_jobs.append(cron_job)
        self.log.info("registered cron job %s (%s)", cron_job.name, options.get("cron") or options.get("interval"))
        return cron_job


def build_scheduler(settings: Settings, redis: Redis) -> JsonCronScheduler:
    scheduler = JsonCronScheduler(connection=redis, logging_level=settings.log_level)
    scheduler.register(
        jobs.reconcile_installations,
        queue_name=settings.queue_name,
        interval=RECONCILE_EVERY_SECONDS,
        job_timeout=settings.job_timeout_seconds,
    )
    return scheduler
