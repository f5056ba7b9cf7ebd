"""The ``cron`` process: exactly one per deployment, it enqueues periodic jobs for the workers.

rq's ``CronJob.enqueue`` always uses the default (pickle) serializer, which our JSON workers cannot read,
so jobs are enqueued here through a JSON queue; the schedule bookkeeping is rq's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from redis import Redis
from rq import Queue, cron_job_registry
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL, DEFAULT_RESULT_TTL
from rq.job import Job
from rq.webhook import Webhook

from bot import jobs
from bot.serializer import JSONSerializer
from bot.settings import Settings

RECONCILE_EVERY_SECONDS = 6 * 3600
SCHEDULE_CHECK_SECONDS = 300  # repository schedules are honoured to within five minutes


class JsonCronJob(CronJob):
    def enqueue(self, connection: Redis) -> Job:
        if self.func is None:
            raise ValueError(f"cron job {self.name} has no function")
        queue = Queue(self.queue_name, connection=connection, serializer=JSONSerializer)
        with connection.pipeline() as pipe:
            job = queue.enqueue(self.func, args=self.args, kwargs=self.kwargs, **self.job_options, pipeline=pipe)
            assert job.enqueued_at is not None
            enqueued = job.enqueued_at.timestamp()
            pipe.zadd(self.job_history_key, {job.id: enqueued})
            pipe.zremrangebyrank(self.job_history_key, 0, -(DEFAULT_CRON_JOB_HISTORY_LIMIT + 1))
            pipe.expire(self.job_history_key, DEFAULT_CRON_JOB_HISTORY_TTL)
            cron_job_registry.add(self.name, pipe, enqueue_timestamp=enqueued)
            pipe.execute()
        return job


class JsonCronScheduler(CronScheduler):
    def register(
        self,
        func: Callable[..., Any],
        queue_name: str,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[Any, Any] | None = None,
        interval: int | None = None,
        cron: str | None = None,
        job_timeout: int | None = None,
        result_ttl: int = DEFAULT_RESULT_TTL,
        ttl: int | None = None,
        failure_ttl: int | None = None,
        meta: dict[Any, Any] | None = None,
        webhooks: Sequence[Webhook] | None = None,
        name: str = "",
    ) -> CronJob:
        cron_job = JsonCronJob(
            queue_name=queue_name,
            func=func,
            args=args,
            kwargs=kwargs,
            interval=interval,
            cron=cron,
            job_timeout=job_timeout,
            result_ttl=result_ttl,
            ttl=ttl,
            failure_ttl=failure_ttl,
            meta=meta,
            webhooks=webhooks,
            name=name,
        )
        self._cron_jobs.append(cron_job)
        self.log.info("registered cron job %s (every %s s / cron %s)", cron_job.name, interval, cron)
        return cron_job


def build_scheduler(settings: Settings, redis: Redis) -> JsonCronScheduler:
    scheduler = JsonCronScheduler(connection=redis, logging_level=settings.log_level)
    scheduler.register(
        jobs.reconcile_installations,
        queue_name=settings.queue_name,
        interval=RECONCILE_EVERY_SECONDS,
        job_timeout=settings.job_timeout_seconds,
    )
    scheduler.register(
        jobs.enqueue_due_scans,
        queue_name=settings.queue_name,
        interval=SCHEDULE_CHECK_SECONDS,
        job_timeout=settings.job_timeout_seconds,
    )
    return scheduler
