"""The Procfile's processes as real processes: `depup web` (gunicorn, 2 workers), `depup worker` (rq's forking
worker) and `depup cron`, talking through Redis, with GitHub played by the fake over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from redis import Redis

from bot.process.web import WEBHOOK_PATH
from bot.repos.registry import RepoRegistry
from tests.fakegithub import FakeGitHub


def env_for(fake: FakeGitHub, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "GITHUB_APP_ID": str(fake.app.id),
        "GITHUB_PRIVATE_KEY": fake.app.private_key_pem,
        "GITHUB_WEBHOOK_SECRET": fake.app.webhook_secret,
        "GITHUB_API_URL": fake.url,
        "DEPUP_RETRY_INTERVALS": "0",
        "DEPUP_LOG_FORMAT": "json",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-m", "bot.process.cli", *args], env=env, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("depup web did not come up")


def test_web_worker_and_cron_processes(fake_github: FakeGitHub, redis_url: str, redis_client: Redis) -> None:
    fake = fake_github
    env = env_for(fake, redis_url)
    fake.create_repo("octo-org/app", files={"requirements.txt": "flask==1.0\n"})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with process(["web", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env):
        wait_healthy(url)
        fake.set_webhook_target(url + WEBHOOK_PATH)
        installation = fake.create_installation(account="octo-org", repos=["octo-org/app"])
        fake.wait_for_deliveries()
        assert [d.status_code for d in fake.deliveries] == [202]
        metrics = httpx.get(url + "/metrics").text
        assert 'depup_webhook_deliveries_total{event="installation",outcome="accepted"} 1.0' in metrics

    worker = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "worker", "--burst"], env=env, timeout=120, capture_output=True
    )
    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    registry = RepoRegistry(redis_client)
    assert registry.names(installation.id) == ["octo-org/app"]
    assert fake.count("apps/create-installation-access-token") == 1

    registry.remove_installation(installation.id)  # lost, as if Redis had been emptied
    with process(["cron"], env):
        deadline = time.monotonic() + 20
        while not redis_client.llen("rq:queue:depup") and time.monotonic() < deadline:
            time.sleep(0.1)
    worker = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "worker", "--burst"], env=env, timeout=120, capture_output=True
    )
    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    assert registry.names(installation.id) == ["octo-org/app"]  # rebuilt by the cron job
    # The installation token was cached in Redis by the first worker and reused by the second.
    assert fake.count("apps/create-installation-access-token") == 1
