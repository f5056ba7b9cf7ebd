from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.serializers import JSONSerializer

from bot.core import logs
from bot.core.delivery import Delivery
from bot.core.queue import enqueue_delivery
from bot.core.settings import Settings
from bot.errors import RateLimited
from bot.events.context import Context
from bot.events.router import Router
from bot.process import runtime
from tests.support.worker import build_runtime, drain, installed

calls: list[tuple[str, str]] = []


class Boom(RuntimeError):
    pass


def make_router(fail_times: dict[str, int]) -> Router:
    router = Router()

    @router.on("push")
    def first(delivery: Delivery, ctx: Context) -> None:
        calls.append(("first", delivery.delivery_id))

    @router.on("push")
    @router.on("issues", "opened")
    def flaky(delivery: Delivery, ctx: Context) -> None:
        calls.append(("flaky", delivery.delivery_id))
        if fail_times.get("flaky", 0) > 0:
            fail_times["flaky"] -= 1
            raise Boom("flaky handler broke")

    @router.on("check_run", "completed")
    def limited(delivery: Delivery, ctx: Context) -> None:
        calls.append(("limited", delivery.delivery_id))
        if fail_times.get("limited", 0) > 0:
            fail_times["limited"] -= 1
            raise RateLimited("slow down", retry_after=0, secondary=True)

    @router.on("check_run", "completed")
    def after_limited(delivery: Delivery, ctx: Context) -> None:
        calls.append(("after_limited", delivery.delivery_id))

    @router.on("deployment_status")
    def reads_a_number(delivery: Delivery, ctx: Context) -> None:
        calls.append(("reads_a_number", delivery.delivery_id))
        delivery.fields.obj("deployment").number("id")

    @router.on("deployment_status")
    def fails_once(delivery: Delivery, ctx: Context) -> None:
        calls.append(("fails_once", delivery.delivery_id))
        if fail_times.get("fails_once", 0) > 0:
            fail_times["fails_once"] -= 1
            raise Boom("broke once")

    return router


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, app_id="1", retry_intervals=(0, 0))


@pytest.fixture
def failures() -> dict[str, int]:
    calls.clear()
    return {}


@pytest.fixture
def rt(settings: Settings, redis_client: Redis, failures: dict[str, int]) -> Iterator[runtime.Runtime]:
    with installed(build_runtime(settings, redis_client, make_router(failures))) as live:
        yield live


def deliver(rt: runtime.Runtime, event: str, action: str | None, delivery_id: str) -> str:
    return enqueue_delivery(rt.queue, rt.settings, Delivery(event, action, delivery_id, 5, {"action": action})).job_id


def test_every_matching_handler_runs_once(rt: runtime.Runtime) -> None:
    job_id = deliver(rt, "push", None, "p1")
    drain(rt)
    assert calls == [("first", "p1"), ("flaky", "p1")]
    job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == {
        "handled": ["tests.test_jobs.make_router.<locals>.first", "tests.test_jobs.make_router.<locals>.flaky"],
        "skipped": [],
    }


def test_a_malformed_payload_is_acknowledged_for_its_handler_and_never_retried(
    rt: runtime.Runtime, failures: dict[str, int]
) -> None:
    failures["fails_once"] = 1
    payload = {"action": "created", "deployment": {"id": "not a number"}}
    job_id = enqueue_delivery(rt.queue, rt.settings, Delivery("deployment_status", "created", "m1", 5, payload)).job_id
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    try:
        drain(rt, with_scheduler=True)
        time.sleep(0.2)
        drain(rt, with_scheduler=True)
    finally:
        logs.remove_handlers()
    # The other handler failed once and was retried; the one that met the malformed payload ran only once.
    assert calls == [("reads_a_number", "m1"), ("fails_once", "m1"), ("fails_once", "m1")]
    job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    [line] = [x for x in lines if x["message"] == "payload malformed; delivery ignored by this handler"]
    assert line["why"] == "payload.deployment.id is a string, not a positive 64-bit integer"
    assert line["delivery"] == "m1" and line["level"] == "WARNING"


def test_unknown_event_is_acknowledged_and_logged_as_json(rt: runtime.Runtime) -> None:
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    try:
        job_id = deliver(rt, "sponsorship", "created", "u1")
        drain(rt)
    finally:
        logs.remove_handlers()
    assert calls == []
    assert Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer).get_status() == JobStatus.FINISHED
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    [line] = [x for x in lines if x["message"] == "no handler for this event; acknowledged"]
    assert line["delivery"] == "u1"
    assert line["event"] == "sponsorship"
    assert line["action"] == "created"
    assert line["installation"] == 5
    assert line["job"] == job_id
    assert line["level"] == "INFO"


def test_a_failing_handler_is_retried_alone_then_fails_with_its_traceback(
    rt: runtime.Runtime, failures: dict[str, int]
) -> None:
    failures["flaky"] = 10  # never recovers
    job_id = deliver(rt, "push", None, "f1")
    worker = drain(rt)
    # Three attempts (first try + 2 retries); the healthy handler ran only on the first.
    assert calls == [("first", "f1"), ("flaky", "f1"), ("flaky", "f1"), ("flaky", "f1")]
    job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FAILED
    assert job_id in FailedJobRegistry(queue=rt.queue)
    trace = job.latest_result().exc_string  # type: ignore[union-attr]
    assert "Boom: flaky handler broke" in trace
    assert "HandlersFailed: handler(s) failed: tests.test_jobs.make_router.<locals>.flaky" in trace
    # The worker is still alive and takes the next job.
    deliver(rt, "issues", "opened", "f2")
    worker.work(burst=True)
    assert calls[-1] == ("flaky", "f2")


def test_a_handler_that_recovers_on_retry_finishes_the_job(rt: runtime.Runtime, failures: dict[str, int]) -> None:
    failures["flaky"] = 1
    job_id = deliver(rt, "push", None, "r1")
    drain(rt)
    assert calls == [("first", "r1"), ("flaky", "r1"), ("flaky", "r1")]
    assert Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer).get_status() == JobStatus.FINISHED


def test_rate_limit_postpones_the_delivery_instead_of_sleeping(rt: runtime.Runtime, failures: dict[str, int]) -> None:
    failures["limited"] = 1
    job_id = deliver(rt, "check_run", "completed", "rl1")
    drain(rt)
    job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value()["reschedules"] == 1  # type: ignore[index]
    scheduled = ScheduledJobRegistry(queue=rt.queue)
    assert scheduled.get_job_ids() == [f"{job_id}-r1"]
    assert calls == [("limited", "rl1")]
    # When the scheduler releases it, the rest of the delivery runs, and the postponed handler again.
    time.sleep(max(0.0, scheduled.get_scheduled_time(f"{job_id}-r1").timestamp() - time.time()) + 0.1)
    drain(rt, with_scheduler=True)
    assert calls == [("limited", "rl1"), ("limited", "rl1"), ("after_limited", "rl1")]


def test_endless_rate_limits_end_as_a_failure(
    rt: runtime.Runtime, failures: dict[str, int], settings: Settings
) -> None:
    failures["limited"] = 100
    small = build_runtime(
        Settings(redis_url=settings.redis_url, app_id="1", retry_intervals=(), max_reschedules=0), rt.redis, rt.router
    )
    with installed(small):
        job_id = deliver(small, "check_run", "completed", "rl2")
        drain(small)
    assert Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer).get_status() == JobStatus.FAILED
