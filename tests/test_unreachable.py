"""A dependency that does not answer: operator commands print one line naming it and exit 2; the long-running worker
and cron log one line per attempt, with backoff, and carry on once Redis answers. Failed jobs are logged with ids
and sizes, never their payloads."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue, Worker

from bot.core.delivery import Delivery
from bot.core.queue import enqueue_delivery
from bot.core.serializer import JSONSerializer
from bot.core.settings import Settings
from bot.repos.registry import RepoRecord, RepoRegistry
from tests.fakegithub import FakeGitHub
from tests.support.redis_restart import RedisServer, depup_process, wait_until
from tests.test_processes import env_for, free_port

CLOSED = f"127.0.0.1:{free_port()}"  # nothing listens here


def depup(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.process.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr[-3000:]
    return lines[0]


def test_operator_commands_name_what_does_not_answer_in_one_line(fake_github: FakeGitHub, redis_url: str) -> None:
    env = env_for(fake_github, redis_url)  # default log level: nothing but the one line
    no_github = depup(["reconcile"], {**env, "GITHUB_API_URL": f"http://{CLOSED}"})
    assert no_github.returncode == 2
    assert one_line(no_github).startswith(f"depup: GitHub unreachable at http://{CLOSED}")
    no_redis = {**env, "REDIS_URL": f"redis://user:pw@{CLOSED}/0"}
    for args in (["reconcile"], ["status"], ["audit", "octo-org/app"]):
        done = depup(args, no_redis)
        assert done.returncode == 2, (args, done.stderr)
        line = one_line(done)
        assert line.startswith(f"depup: Redis unreachable at redis://***@{CLOSED}/0: ConnectionError"), line
        assert "pw" not in line


def test_worker_and_cron_wait_for_redis_and_then_work(fake_github: FakeGitHub, tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path, appendonly=False)
    env = env_for(fake_github, server.url)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    try:
        with (
            depup_process(["worker"], env, tmp_path / "worker.log") as worker,
            depup_process(["cron"], env, tmp_path / "cron.log") as cron,
        ):
            unreachable = f"Redis unreachable at {server.url}"
            wait_until(lambda: unreachable in (tmp_path / "worker.log").read_text(), "worker said nothing")
            wait_until(lambda: unreachable in (tmp_path / "cron.log").read_text(), "cron said nothing")
            assert worker.poll() is None and cron.poll() is None  # waiting, not exited
            server.start()
            redis = Redis.from_url(server.url)
            queue = Queue("depup", connection=redis, serializer=JSONSerializer)
            wait_until(lambda: Worker.count(queue=queue) == 1, "the worker did not register once Redis answered")
            wait_until(lambda: redis.get("depup:epoch") is not None, "cron did not mark the epoch")
            for proc in (worker, cron):
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=60) == 0
        for name in ("worker.log", "cron.log"):
            text = (tmp_path / name).read_text()
            assert "Traceback" not in text, text[-3000:]
            waiting = [line for line in text.splitlines() if unreachable in line]
            assert all(json.loads(line)["level"] == "ERROR" for line in waiting)
    finally:
        server.kill()


def test_a_failing_job_is_logged_with_ids_and_sizes_not_its_payload(
    fake_github: FakeGitHub, redis_url: str, redis_client: Redis
) -> None:
    fake = fake_github
    fake.create_repo("octo-org/app", files={"requirements.txt": "flask==1.0\n"})
    installation = fake.create_installation(account="octo-org", repos=["octo-org/app"])
    registry = RepoRegistry(redis_client)
    registry.add([RepoRecord("octo-org/app", 1, installation.id, "main")])
    registry.mark_complete("2026-01-01T00:00:00+00:00")
    fake.inject(kind="status", status=500, times=None)  # every GitHub call fails: the handler raises
    marker = "payload-marker-77d1"
    payload = {
        "action": "created",
        "installation": {"id": installation.id},
        "repository": {"full_name": "octo-org/app", "default_branch": "main"},
        "issue": {"number": 1},
        "comment": {"id": 5, "body": "/depup help\n" + marker * 70_000, "user": {"login": "alice"}},
    }
    settings = Settings(redis_url=redis_url, retry_intervals=())
    queue = Queue("depup", connection=redis_client, serializer=JSONSerializer)
    enqueue_delivery(queue, settings, Delivery("issue_comment", "created", "big-1", installation.id, payload))
    env = {**env_for(fake, redis_url), "DEPUP_RETRY_INTERVALS": ""}
    done = depup(["worker", "--burst"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    failed = [json.loads(line) for line in done.stderr.splitlines() if "raised while executing" in line]
    assert len(failed) == 1, done.stderr[-3000:]
    assert failed[0]["delivery"] == "big-1" and failed[0]["event"] == "issue_comment"
    assert failed[0]["arguments_bytes"] > 1_000_000
    assert marker not in done.stderr
    assert max(len(line) for line in done.stderr.splitlines()) < 20_000


def test_a_stop_between_registering_and_rq_installing_its_handlers_ends_the_worker_cleanly(
    redis_url: str, redis_client: Redis
) -> None:
    """rq registers the worker and starts the scheduler before it installs its signal handlers: a SIGTERM then
    (CI sent one as soon as the worker showed up in Redis) must stop the worker, not kill it with the default."""
    from bot.process.worker import DepupWorker, build, run

    class SignalledAtBirth(DepupWorker):
        def register_birth(self, *args: Any, **kwargs: Any) -> None:
            super().register_birth(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGTERM)

    made: list[DepupWorker] = []

    def make() -> DepupWorker:
        queue = Queue("depup-signal-test", connection=redis_client, serializer=JSONSerializer)
        worker = build(queue, redis_client)
        worker.__class__ = SignalledAtBirth
        made.append(worker)
        return worker

    before = signal.getsignal(signal.SIGTERM)
    assert run(make, redis_url, burst=False, logging_level="WARNING", sleep=lambda s: None) == 0
    assert len(made) == 1 and made[0].stop_signalled  # stopped at its first round, not started again
    assert signal.getsignal(signal.SIGTERM) == before
    assert Worker.count(connection=redis_client) == 0  # it said goodbye
