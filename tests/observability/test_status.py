"""`depup status` (text and --json): queues per rq registry, the latest failed jobs without their payloads, the
rate-limit state per installation, known repositories and live workers, from Redis alone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis import Redis
from rq import Worker

from bot.core.delivery import Delivery
from bot.core.queue import enqueue_delivery
from bot.core.serializer import JSONSerializer
from bot.core.settings import Settings
from bot.events.context import Context
from bot.events.router import Router
from bot.github.client import Metered
from bot.process import cli
from bot.repos.registry import RepoRecord, RepoRegistry
from tests.support.worker import build_runtime, drain, installed

SECRET = "payload-marker-8c1f"  # stands for anything a payload carries: it must never be printed


def broken_router() -> Router:
    router = Router()

    @router.on("issues", "opened")
    def broken(delivery: Delivery, ctx: Context) -> None:
        raise RuntimeError("the dashboard template is missing")

    return router


def rate_limit(redis: Redis, installation: int, remaining: int, reset: int) -> None:
    headers = {"x-ratelimit-remaining": str(remaining), "x-ratelimit-limit": "5000", "x-ratelimit-reset": str(reset)}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, headers=headers, json={}))
    with httpx.Client(transport=Metered(transport, redis, installation, "")) as client:
        client.get("https://api.github.test/repos/o/r")


@pytest.fixture
def state(redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """One failed delivery job, one queued job, a rate-limit state, two repositories and a live worker."""
    for name in ("DEPUP_QUEUE", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings = Settings(redis_url=redis_url, app_id="1", retry_intervals=())
    rt = build_runtime(settings, redis_client, broken_router())
    with installed(rt):
        payload = {"action": "opened", "issue": {"body": SECRET}}
        failed = enqueue_delivery(rt.queue, settings, Delivery("issues", "opened", "st-1", 42, payload)).job_id
        drain(rt)
        queued = enqueue_delivery(rt.queue, settings, Delivery("issues", "opened", "st-2", 42, payload)).job_id
    reset = int(time.time()) + 1800
    rate_limit(redis_client, 42, 4321, reset)
    RepoRegistry(redis_client).add(
        [RepoRecord("octo-org/shop", 1, 42, "main"), RepoRecord("octo-org/api", 2, 42, "main")]
    )
    worker = Worker([rt.queue], connection=redis_client, serializer=JSONSerializer, name="status-test-worker")
    worker.register_birth()
    worker.set_state("idle")
    try:
        yield {"failed": failed, "queued": queued, "reset": reset}
    finally:
        worker.register_death()


def test_status_text(state: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "queue depup: 1 queued, 0 started, 0 scheduled, 0 deferred, 1 failed" in out
    assert "repositories: 2 known, in 1 installation(s)" in out
    assert "workers: 1 alive" in out and "status-test-worker" in out
    assert "installation 42" in out and "4321/5000" in out
    assert "resets in 29m" in out or "resets in 30m" in out
    assert state["failed"] in out and "bot.jobs.process_delivery" in out
    assert "HandlersFailed: handler(s) failed: tests.observability.test_status.broken_router.<locals>.broken" in out
    assert SECRET not in out and state["queued"] not in out


def test_status_json(state: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["queue"] == "depup"
    assert report["jobs"] == {"queued": 1, "started": 0, "scheduled": 0, "deferred": 0, "failed": 1}
    [failed] = report["failed_jobs"]
    assert failed["id"] == state["failed"] and failed["function"] == "bot.jobs.process_delivery"
    assert failed["error"].startswith("bot.jobs.HandlersFailed: handler(s) failed:")
    assert failed["ended_at"].endswith("+00:00")
    [limit] = report["rate_limits"]
    assert limit["installation"] == "42" and limit["remaining"] == 4321 and limit["limit"] == 5000
    assert limit["reset"] == state["reset"] and time.time() - limit["updated"] < 60
    assert report["repositories"] == 2 and report["installations"] == 1
    [worker] = report["workers"]
    assert worker["name"] == "status-test-worker" and worker["state"] == "idle"
    assert SECRET not in json.dumps(report)


def test_status_without_redis_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert cli.main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("depup: Redis unreachable at redis://127.0.0.1:1/0: ConnectionError")
    assert len(err.strip().splitlines()) == 1


def test_status_needs_redis_url(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert cli.main(["status"]) == 2
    assert "REDIS_URL" in capsys.readouterr().err


def test_a_failed_job_is_requeued_as_docs_operations_says(
    state: dict[str, Any], redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    rq = Path(sys.executable).parent / "rq"
    args = [str(rq), "requeue", "-u", redis_url, "-S", "bot.core.serializer.JSONSerializer", "--queue", "depup"]
    done = subprocess.run([*args, state["failed"]], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert cli.main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["jobs"]["failed"] == 0 and report["jobs"]["queued"] == 2 and report["failed_jobs"] == []
