"""The real `depup web` (gunicorn, gevent workers) against hostile and broken clients: slow and idle connections,
oversized chunked bodies, unsigned floods, a worker killed, and SIGTERM.

No assertion is about time: each waits for a behaviour with a generous hang guard."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis import Redis

from bot.core.settings import MAX_WEBHOOK_BYTES
from bot.process.web import WEBHOOK_PATH
from tests.support.http import webhook_headers
from tests.support.slow_clients import SlowClients
from tests.test_processes import free_port

SECRET = "hardening-secret"
HANG_GUARD = 60.0


@dataclass
class Web:
    proc: subprocess.Popen[bytes]
    port: int
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[dict[str, object]]:
        lines = []
        for line in self.stderr.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def workers(self) -> set[int]:
        """The gunicorn worker processes: children of the master."""
        children = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                children.add(int(entry))
        return children

    def metric(self, name: str, **labels: str) -> float:
        text = httpx.get(self.url + "/metrics", timeout=10).text
        wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
        match = re.search(rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0


def wait_for(condition, what: str, guard: float = HANG_GUARD) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + guard
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"hang guard: {what}")
        time.sleep(0.05)


@contextmanager
def depup_web(redis_url: str, tmp_path: Path, *, workers: int, **env: str) -> Iterator[Web]:
    port = free_port()
    stderr = tmp_path / f"web-{port}.err"
    full_env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "DEPUP_LOG_FORMAT": "json",
        **env,
    }
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.process.cli", "web", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            env=full_env,
            stderr=err,
            stdout=subprocess.DEVNULL,
        )
    web = Web(proc, port, stderr)
    try:
        wait_for(lambda: _healthy(web), "depup web did not come up")
        wait_for(lambda: len(web.workers()) == workers, "gunicorn workers did not start")
        yield web
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def _healthy(web: Web) -> bool:
    if web.proc.poll() is not None:
        raise AssertionError(f"depup web exited with {web.proc.returncode}: {web.stderr.read_text()[-2000:]}")
    try:
        return httpx.get(web.url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def deliver(web: Web, *, payload: dict[str, object] | None = None) -> int:
    body = json.dumps(payload or {"action": "opened", "installation": {"id": 7}}).encode()
    headers = webhook_headers("pull_request", body, SECRET, str(uuid.uuid4()))
    return httpx.post(web.url + WEBHOOK_PATH, content=body, headers=headers, timeout=HANG_GUARD).status_code


def test_valid_deliveries_are_answered_while_200_slow_connections_are_open(
    redis_url: str, redis_client: Redis, tmp_path: Path
) -> None:
    # Deadlines longer than the deliveries below take: the slow connections stay open while they are answered.
    with (
        depup_web(redis_url, tmp_path, workers=1, DEPUP_WEB_HEADER_TIMEOUT="20", DEPUP_WEB_READ_TIMEOUT="20") as web,
        SlowClients(web.port, idle=70, headers=70, bodies=60) as slow,
    ):
        assert slow.open_count() == 200
        statuses = [deliver(web) for _ in range(20)]
        assert statuses == [202] * 20
        assert slow.open_count() == 200  # still there: answered while they were open
        assert redis_client.llen("rq:queue:depup") == 20


def test_slow_connections_are_closed_at_their_deadline(redis_url: str, tmp_path: Path) -> None:
    with (
        depup_web(redis_url, tmp_path, workers=1, DEPUP_WEB_HEADER_TIMEOUT="1", DEPUP_WEB_READ_TIMEOUT="2") as web,
        SlowClients(web.port, idle=5, headers=5, bodies=5, every=0.3) as slow,
    ):
        wait_for(lambda: slow.open_count() == 0, "slow connections were not closed")
        bodies = [answer for answer in slow.answers.values() if answer]
        assert len(bodies) == 5 and all(b.startswith(b"HTTP/1.1 408") for b in bodies), bodies
        assert web.metric("depup_webhook_deliveries_total", event="unverified", outcome="timeout") == 5
        assert deliver(web) == 202


def test_a_chunked_body_over_the_limit_is_refused_with_413(redis_url: str, tmp_path: Path) -> None:
    def chunks(total: int) -> Iterator[bytes]:
        block = b"a" * (1024 * 1024)
        for _ in range(total // len(block)):
            yield block
        yield b"a" * (total % len(block))

    with depup_web(redis_url, tmp_path, workers=1) as web:
        headers = webhook_headers("push", b"{}", SECRET, str(uuid.uuid4()))
        response = httpx.post(
            web.url + WEBHOOK_PATH, content=chunks(MAX_WEBHOOK_BYTES + 1024 * 1024), headers=headers, timeout=60
        )
        assert response.status_code == 413
        assert web.metric("depup_webhook_deliveries_total", event="unverified", outcome="too_large") == 1
        assert deliver(web) == 202


def test_unsigned_floods_are_counted_and_logged_at_a_bounded_rate(redis_url: str, tmp_path: Path) -> None:
    with depup_web(redis_url, tmp_path, workers=2) as web, httpx.Client(timeout=HANG_GUARD) as client:
        big = json.dumps({"comment": {"body": "x" * 200_000}}).encode()
        for _ in range(300):
            headers = webhook_headers("issue_comment", big, None, str(uuid.uuid4()))
            assert client.post(web.url + WEBHOOK_PATH, content=big, headers=headers).status_code == 401
        assert web.metric("depup_webhook_deliveries_total", event="unverified", outcome="bad_signature") == 300
    lines = [line for line in web.log_lines() if line.get("message") == "webhook refused: bad or missing signature"]
    # At most one line per 10 s per gunicorn worker, each saying how many it held back.
    assert 1 <= len(lines) <= 10
    assert sum(1 + int(line["suppressed"]) for line in lines) <= 300  # type: ignore[call-overload]
    assert max(len(line) for line in web.stderr.read_text().splitlines()) < 2000  # sizes, never payloads


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])  # 2: scripts/test -m slow
def test_the_web_process_survives_a_killed_worker_and_exits_0_on_sigterm(
    redis_url: str, tmp_path: Path, workers: int
) -> None:
    with depup_web(redis_url, tmp_path, workers=workers) as web:
        assert deliver(web) == 202
        before = web.workers()
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in web.workers() and len(web.workers()) == workers, "no replacement worker")
        assert web.proc.poll() is None
        wait_for(lambda: _healthy(web), "depup web did not answer after losing a worker")
        assert deliver(web) == 202
        # The metrics of the killed worker's requests are still counted (one directory for all workers).
        assert web.metric("depup_webhook_deliveries_total", event="pull_request", outcome="accepted") == 2
        web.proc.send_signal(signal.SIGTERM)
        assert web.proc.wait(timeout=HANG_GUARD) == 0
    stderr = web.stderr.read_text()
    assert "Traceback" not in stderr, stderr[-3000:]
