"""The ``depup worker`` process: rq's forking worker with the scheduler, made to outlive Redis restarts.

rq alone, after Redis restarted (empty or not), leaves a worker half alive: its scheduler process died on the
connection error and is only restarted by rq's maintenance every 10 minutes; an emptied Redis forgot the worker
(``rq:workers``), so ``depup status`` and the ``depup_workers`` gauge said 0 while it worked; a connection error
outside rq's dequeue loop (a heartbeat during a job, the suspension check) made ``work()`` quit. ``DepupWorker``
checks every ``CHECK_SECONDS`` (idle: rq's dequeue wait is ``WORKER_TTL`` - 15 s; busy: every job-monitoring
round) that it is registered and that a scheduler runs (its own, or another worker's holding the lock), and
``run`` starts the work loop again, with backoff, when it ends on a Redis error.

Failed jobs are logged with their ids and the size of their arguments, never the arguments (webhook payloads).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import orjson
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker, worker_registration
from rq.exceptions import DeserializationError
from rq.job import Job
from rq.job_lifecycle import call_exception_handlers, format_exc_info

from bot.core import logs
from bot.core.metrics import fold_dead
from bot.core.serializer import JSONSerializer
from bot.process.runtime import redis_unavailable, wait_for_redis

log = logging.getLogger(__name__)


class MeteredWorker(Worker):
    """rq's forking worker, folding the metric files of each finished job process."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            fold_dead()


WORKER_TTL = 35  # rq's worker_ttl: an idle worker wakes from its dequeue wait every 20 s
JOB_MONITORING_SECONDS = 10  # how often a busy worker heartbeats (and checks itself)
CHECK_SECONDS = 10  # at most this often: am I registered, does a scheduler run?


class DepupWorker(MeteredWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        kwargs.setdefault("job_monitoring_interval", JOB_MONITORING_SECONDS)
        super().__init__(*args, **kwargs)
        self._checked_at = time.monotonic()  # rq has just started the scheduler: the first check is due later
        self._burst = False
        self.stop_signalled = False
        self.stopped_before_start: Callable[[], bool] = lambda: False

    def _install_signal_handlers(self) -> None:
        """rq installs its handlers after registering the worker and starting the scheduler; ``run``'s own handler
        covers that time, and a stop it caught ends the loop at once."""
        super()._install_signal_handlers()  # type: ignore[no-untyped-call]
        if self.stopped_before_start():
            self.stop_signalled = self._stop_requested = True

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signalled = True  # rq's own flag is only set when the signal comes during a job
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def work(self, burst: bool = False, *args: Any, **kwargs: Any) -> bool:
        self._burst = burst  # a burst worker runs the scheduler once, in its own process: nothing to restart
        return bool(super().work(burst, *args, **kwargs))

    # -- staying known after Redis restarted --------------------------------------------------------------------

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        super().heartbeat(timeout, pipeline)
        if pipeline is None:
            self.check_presence()

    def maintain_heartbeats(self, job: Job, execution: Any) -> None:
        """A busy worker's heartbeat: a Redis error here must not end the worker while its job runs."""
        try:
            super().maintain_heartbeats(job, execution)
        except RedisError as e:
            logs.throttled(log, "heartbeat", "Redis unreachable during a job; the job goes on",
                           extra={"error": type(e).__name__})  # fmt: skip
            return
        self.check_presence()

    def check_presence(self, *, force: bool = False) -> None:
        """Register again if Redis forgot this worker; start the scheduler if none holds the lock. Redis errors are
        left for the next check."""
        now = time.monotonic()
        if not force and now - self._checked_at < CHECK_SECONDS:
            return
        self._checked_at = now
        try:
            if not self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
                self._register_again()
            stopping = self.stop_signalled or self._stop_requested
            scheduler = None if self._burst or stopping else self.scheduler
            stopped = scheduler is not None and (scheduler._process is None or not scheduler._process.is_alive())
            if stopped and scheduler is not None and scheduler.acquire_locks(auto_start=True):  # type: ignore[no-untyped-call]
                log.warning("rq scheduler restarted by this worker (it had stopped: Redis unreachable?)")
        except RedisError as e:
            log.debug("presence check failed", extra={"error": type(e).__name__})

    def _register_again(self) -> None:
        if self.birth_date is None or self.last_heartbeat is None:
            return
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping=self.serialize())
            pipe.hset(self.key, "state", str(self.get_state()))
            current = self.get_current_job_id()
            if current:
                pipe.hset(self.key, "current_job", current)
            worker_registration.register(self, pipe)
            pipe.expire(self.key, self.worker_ttl + 60)
            pipe.execute()
        log.warning("Redis had forgotten this worker (restarted empty?): registered again", extra={"worker": self.name})

    # -- failures: ids and sizes, never payloads ---------------------------------------------------------------

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        extra: dict[str, Any] = {"job": job.id, "queue": job.origin}
        try:
            extra["func"] = job.func_name
            kwargs = job.kwargs or {}
            extra["arguments_bytes"] = len(orjson.dumps([job.args, kwargs], default=str))
            for key in ("delivery_id", "event", "action", "installation_id", "full_name"):
                if isinstance(kwargs.get(key), str | int) and not isinstance(kwargs.get(key), bool):
                    extra[key.removesuffix("_id") if key != "full_name" else "repo"] = kwargs[key]
        except (DeserializationError, TypeError, ValueError):  # an unreadable job: say so, run the handlers below
            extra["func"] = "<unreadable job>"
        self.log.error(
            "job %s raised while executing %s\n%s", job.id, extra.get("func"), format_exc_info(exc_info), extra=extra
        )
        call_exception_handlers(self._exc_handlers, job, *exc_info)


def run(
    make: Callable[[], DepupWorker], url: str, *, burst: bool, logging_level: str, sleep: Callable[[float], None]
) -> int:
    """Work until asked to stop. Redis unreachable at the start, or a work loop that ended on a Redis error: wait
    for Redis with backoff (one line per attempt) and start a fresh worker (a new name: the old one may still be
    registered until its key expires)."""
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    while True:
        # Until rq installs its own handlers (after registering the worker), a stop is caught here: a SIGTERM in
        # between must not kill the process with the default action.
        previous = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop)
        worker: DepupWorker | None = None
        try:
            connection = wait_for_redis(make_probe(url), url, "worker", lambda: stopping, sleep)
            if stopping or connection is None:
                return 0
            worker = make()
            worker.stopped_before_start = lambda: stopping
            worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
        except RedisError as e:  # rq's start-up (registering the worker) met the error
            log.error(str(redis_unavailable(e, url)))
        finally:
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])
        if stopping or burst or (worker is not None and worker.stop_signalled):
            return 0
        log.warning("the worker's loop ended (Redis unreachable?); starting it again")


def make_probe(url: str) -> Redis:
    from bot.process.runtime import connect

    return connect(url, socket_connect_timeout=2, socket_timeout=2)


def build(queue: Queue, connection: Redis) -> DepupWorker:
    return DepupWorker([queue], connection=connection, serializer=JSONSerializer)
