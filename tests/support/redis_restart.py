"""Redis killed and started again (empty, or from its append-only file) under a running `depup worker` and
`depup cron`: what recovers, and when. Used by tests/faults/test_redis_restart.py (which asserts what recovers) and
bench/redis_restart.py (which prints when)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.job import Job, JobStatus

from bot.core.serializer import JSONSerializer
from bot.repos.recovery import epoch
from bot.repos.registry import RepoRegistry
from tests.test_processes import free_port

HANG_GUARD = 120.0


class RedisServer:
    """A private redis-server on a free port. ``restart(empty=True)`` starts it again on the same port with a new
    data directory (it comes back empty); ``empty=False`` keeps the directory (the append-only file restores it)."""

    def __init__(self, base: Path, *, appendonly: bool = True) -> None:
        self.base = base
        self.port = free_port()
        self.appendonly = appendonly
        self.generation = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        directory = self.base / f"redis-{self.generation}"
        directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory),
             "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: _answers(self.url), "redis-server did not start", guard=20)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self, *, empty: bool, down_seconds: float = 0.0) -> None:
        self.kill()
        time.sleep(down_seconds)
        if empty:
            self.generation += 1
        self.start()


def _answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.5).ping())
    except RedisError:
        return False


def wait_until(condition: Callable[[], bool], what: str, guard: float = HANG_GUARD) -> None:
    deadline = time.monotonic() + guard
    while True:
        try:
            if condition():
                return
        except RedisError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"hang guard: {what}")
        time.sleep(0.1)


@contextmanager
def depup_process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot.process.cli", *args], env=env, stderr=err)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def status(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "status", "--json", "--failed", "0"],
        env=env, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    report: dict[str, object] = json.loads(done.stdout)
    return report


@dataclass
class Recovery:
    """Seconds from Redis answering again to each state being seen (the scenario checks every 0.1 s)."""

    seconds: dict[str, float] = field(default_factory=dict)
    scan_result: object = None


def restart_under_running_processes(
    server: RedisServer,
    env: dict[str, str],
    repo: str,
    *,
    empty: bool,
    busy_seconds: float = 4.0,
    down_seconds: float = 2.0,
) -> Recovery:
    """With a `depup worker` and a `depup cron` running on ``server`` (the caller started them and waited until
    they settled): give the worker a job, kill Redis during it, start Redis again, and wait for each part to
    recover. Redis stays down ``down_seconds``: longer than rq's scheduler waits between two heartbeats, so that its
    process dies on the connection error (the case rq only repaired after 10 minutes)."""
    redis = Redis.from_url(server.url)
    queue = Queue("depup", connection=redis, serializer=JSONSerializer)
    busy = queue.enqueue_call("time.sleep", args=[busy_seconds], job_id="busy-during-restart")
    wait_until(lambda: busy.get_status(refresh=True) == JobStatus.STARTED, "the worker did not take the job")
    server.restart(empty=empty, down_seconds=down_seconds)
    back = time.monotonic()
    recovery = Recovery()

    def seen(name: str) -> None:
        recovery.seconds.setdefault(name, round(time.monotonic() - back, 1))

    # A scan asked for at once (as a push would): with the registry gone, the lookup must rebuild it, not skip.
    scan_id = "scan-after-restart"
    queue.enqueue_call(
        "bot.jobs.scan_repo", kwargs={"full_name": repo, "reason": "push to the default branch"}, job_id=scan_id
    )
    due = queue.enqueue_in(timedelta(seconds=1), "time.sleep", args=[0], job_id="due-after-restart")

    def worker_known() -> bool:
        if Worker.count(queue=queue) >= 1:
            seen("worker registered")
            return True
        return False

    def scheduler_ran() -> bool:
        if due.get_status(refresh=True) == JobStatus.FINISHED:
            seen("scheduled job ran")
            return True
        return False

    def registry_back() -> bool:
        registry = RepoRegistry(redis)
        if registry.get(repo) is not None and registry.completed_at() is not None:
            seen("registry rebuilt")
            return True
        return False

    def epoch_marked() -> bool:
        if epoch(redis) is not None:
            seen("cron marked the epoch")
            return True
        return False

    def scan_done() -> bool:
        job = Job.fetch(scan_id, connection=redis, serializer=JSONSerializer)
        if job is not None and job.get_status(refresh=True) == JobStatus.FINISHED:
            recovery.scan_result = job.return_value()
            seen("scan asked for after the restart done")
            return True
        return False

    def status_truthful() -> bool:
        report = status({**env, "REDIS_URL": server.url})
        if report["workers"] and report["scheduler"] and report["cron"]:
            seen("depup status shows worker, scheduler, cron")
            return True
        return False

    checks = [worker_known, scheduler_ran, registry_back, epoch_marked, scan_done, status_truthful]
    deadline = time.monotonic() + HANG_GUARD
    pending = list(checks)
    while pending:
        for check in list(pending):
            try:
                if check():
                    pending.remove(check)
            except RedisError:
                pass
        if time.monotonic() > deadline:
            names = [c.__name__ for c in pending]
            raise AssertionError(f"hang guard: not recovered after {HANG_GUARD:.0f} s: {names}")
        time.sleep(0.1)
    return recovery


def process_env(base: dict[str, str], redis_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, **base, "REDIS_URL": redis_url, "DEPUP_WRITE_SPACING": "0", **extra}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env
