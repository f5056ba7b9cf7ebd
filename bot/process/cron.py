"""The ``cron`` process: exactly one per deployment, it enqueues periodic jobs for the workers.

rq's ``CronJob.enqueue`` always uses the default (pickle) serializer, which our JSON workers cannot read,
so jobs are enqueued here through a JSON queue; the schedule bookkeeping is rq's own.

The loop is depup's (``JsonCronScheduler.start``): rq's ends the process on the first Redis error. Here a Redis
error is logged in one line and retried with backoff (1 s doubling to 30 s); every ``CHECK_SECONDS`` the loop also
looks for the epoch mark (``bot.repos.recovery.check_epoch``), so an emptied Redis is noticed within that time and the
recovery job enqueued; rq's heartbeat registers the scheduler again in an emptied Redis.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, cron_job_registry
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL, DEFAULT_RESULT_TTL
from rq.exceptions import StopRequested
from rq.job import Job
from rq.webhook import Webhook

from bot import jobs
from bot.core.queue import make_queue
from bot.core.serializer import JSONSerializer
from bot.core.settings import Settings
from bot.process.runtime import BACKOFF_MAX_SECONDS, BACKOFF_START_SECONDS, redis_unavailable
from bot.repos.recovery import CHECK_SECONDS, check_epoch

log = logging.getLogger(__name__)

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
    def __init__(self, connection: Redis, settings: Settings, **options: Any) -> None:
        super().__init__(connection=connection, **options)
        self._settings = settings

    def start(self) -> None:
        """rq's loop, outliving Redis errors, with the epoch check (see the module's docstring)."""
        self.log.info("CronScheduler %s: starting...", self.name)
        registered = False
        delay = BACKOFF_START_SECONDS
        try:
            self._install_signal_handlers()  # type: ignore[no-untyped-call]
            while True:
                try:
                    if not registered:
                        self.register_birth()
                        registered = True
                    check_epoch(self.connection, make_queue(self.connection, self._settings), self._settings)
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                except RedisError as e:
                    log.error(f"cron: {redis_unavailable(e, self._settings.redis_url)}; retrying in {delay:g} s")
                    time.sleep(delay)
                    delay = min(delay * 2, BACKOFF_MAX_SECONDS)
                    continue
                delay = BACKOFF_START_SECONDS
                time.sleep(max(0.0, min(self.calculate_sleep_interval(), CHECK_SECONDS)))
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            with contextlib.suppress(RedisError):  # else its registry entry expires by itself
                self.register_death()
            self.log.info("CronScheduler %s: shutdown complete", self.name)

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
    scheduler = JsonCronScheduler(redis, settings, logging_level=settings.log_level)
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
