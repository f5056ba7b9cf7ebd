"""REDIS_URL with Redis Sentinel: ``redis+sentinel://HOST[:PORT][,HOST[:PORT]...]/SERVICE[/DB]`` is read into the
Sentinels to ask and the master to use, checked at start-up (a mistake is a one-line error that never shows a
password), and turned into a client of the master by bot.process.runtime.connect. The last test runs a real Sentinel
in front of a Redis of its own, and a `depup worker` (rq with its scheduler, which rebuilds its connection in
a forked process) works a job through it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis, RedisError
from redis.sentinel import SentinelConnectionPool
from rq.job import Job, JobStatus

from bot.core.delivery import Delivery
from bot.core.queue import JOB_PROCESS_DELIVERY, delivery_job_id, delivery_kwargs, enqueue_delivery, make_queue
from bot.core.serializer import JSONSerializer
from bot.core.settings import Role, SentinelUrl, Settings, parse_sentinel_url, redact_url
from bot.errors import SettingsError
from bot.process import runtime
from tests.support.keys import rsa_private_key_pem


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "redis+sentinel://sentinel-a/depup",
            SentinelUrl(sentinels=(("sentinel-a", 26379),), service="depup"),
        ),
        (
            "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,[fd00::3]:26381/mymaster/4",
            SentinelUrl(
                sentinels=(("10.0.0.1", 26379), ("10.0.0.2", 26380), ("fd00::3", 26381)), service="mymaster", db=4
            ),
        ),
        (
            "rediss+sentinel://:p%40ss%2Fword@s1:5000,s2/cache/1?sentinel_password=s3nt",
            SentinelUrl(
                sentinels=(("s1", 5000), ("s2", 26379)),
                service="cache",
                db=1,
                password="p@ss/word",
                sentinel_password="s3nt",
                ssl=True,
            ),
        ),
        (
            "REDIS+SENTINEL://depup:secret@[::1]/main/",
            SentinelUrl(sentinels=(("::1", 26379),), service="main", username="depup", password="secret"),
        ),
    ],
)
def test_sentinel_urls_are_read(url: str, expected: SentinelUrl) -> None:
    assert parse_sentinel_url(url) == expected


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://h/1", "unix:///tmp/redis.sock", "nonsense"])
def test_other_urls_are_not_sentinel_urls(url: str) -> None:
    assert parse_sentinel_url(url) is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("redis+sentinel://s1:26379", "service name"),
        ("redis+sentinel://s1:26379/", "service name"),
        ("redis+sentinel://s1/svc/0/extra", "service name"),
        ("redis+sentinel://s1/svc/x", "database must be a number"),
        ("redis+sentinel://s1:port/svc", "bad port"),
        ("redis+sentinel://s1:70000/svc", "bad port"),
        ("redis+sentinel://s1,,s2/svc", "bad Sentinel address"),
        ("redis+sentinel:///svc", "bad Sentinel address"),
        ("redis+sentinel://[::1/svc", "bad Sentinel address"),
        ("redis+sentinel://s1/svc?master=x", "unknown option(s) master"),
    ],
)
def test_malformed_sentinel_urls_are_refused_by_name(url: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_sentinel_url(url)


def test_errors_and_reprs_never_show_passwords() -> None:
    url = "redis+sentinel://user:hunter2@s1:bad/svc?sentinel_password=swordfish"
    with pytest.raises(SettingsError) as err:
        parse_sentinel_url(url)
    assert "hunter2" not in str(err.value) and "swordfish" not in str(err.value)
    assert "***@s1:bad" in str(err.value)
    parsed = parse_sentinel_url(url.replace(":bad", ""))
    assert "hunter2" not in repr(parsed) and "swordfish" not in repr(parsed)
    assert redact_url("redis://:hunter2@h:6379/0") == "redis://***@h:6379/0"
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"REDIS_URL": "http://:hunter2@h/0"}, Role.TOOL)
    assert "hunter2" not in str(err.value) and "http://***@h/0" in str(err.value)


def test_workers_and_cron_take_a_sentinel_url_the_web_process_says_it_cannot_yet() -> None:
    env = {
        "REDIS_URL": "redis+sentinel://s1,s2/depup/2",
        "GITHUB_APP_ID": "4242",
        "GITHUB_PRIVATE_KEY": rsa_private_key_pem(),
        "GITHUB_WEBHOOK_SECRET": "s",
    }
    for role in (Role.WORKER, Role.CRON):
        assert Settings.from_env(env, role).redis_url == env["REDIS_URL"]
    with pytest.raises(SettingsError, match="worker and cron processes only"):
        Settings.from_env(env, Role.WEB)
    with pytest.raises(SettingsError, match="database must be a number"):
        Settings.from_env({**env, "REDIS_URL": "redis+sentinel://s1/depup/two"}, Role.WORKER)


def test_connect_gives_a_client_of_the_master_the_sentinels_name() -> None:
    """No network: the client asks the Sentinels only when it first sends a command."""
    client = runtime.connect(
        "redis+sentinel://:pw@s1:1,s2:2/depup/3?sentinel_password=sp", socket_timeout=7, health_check_interval=30
    )
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "depup"
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"], kwargs["socket_timeout"], kwargs["health_check_interval"]) == (
        3,
        "pw",
        7,
        30,
    )
    sentinels = [s.connection_pool.connection_kwargs for s in pool.sentinel_manager.sentinels]
    assert [(s["host"], s["port"]) for s in sentinels] == [("s1", 1), ("s2", 2)]
    assert {s["password"] for s in sentinels} == {"sp"}
    assert isinstance(runtime.connect("redis://127.0.0.1:6379/5").connection_pool.connection_kwargs["db"], int)


# -- a real Sentinel ----------------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ping(port: int, deadline: float) -> None:
    while True:
        try:
            if Redis(port=port, socket_connect_timeout=0.5).ping():
                return
        except RedisError:  # not up yet
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answers on port {port}")
        time.sleep(0.05)


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[int]:
    """A Redis of its own on a free port and one Sentinel watching it as "depup"; yields the Sentinel's port."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    master, port = _free_port(), _free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor depup 127.0.0.1 {master} 1\nsentinel down-after-milliseconds depup 60000\n"
    )
    processes = [
        subprocess.Popen(
            [server, "--port", str(master), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen([server, str(config), "--sentinel"], stdout=subprocess.DEVNULL),
    ]
    try:
        deadline = time.monotonic() + 10
        _wait_ping(master, deadline)
        _wait_ping(port, deadline)
        yield port
    finally:
        for p in processes:
            p.terminate()
            p.wait(timeout=10)


def test_a_worker_works_jobs_through_a_real_sentinel(sentinel: int) -> None:
    url = f"redis+sentinel://127.0.0.1:{sentinel}/depup/2"
    env = {
        **os.environ,
        "REDIS_URL": url,
        "GITHUB_APP_ID": "4242",
        "GITHUB_PRIVATE_KEY": rsa_private_key_pem(),
        "DEPUP_LOG_LEVEL": "WARNING",
    }
    settings = Settings.from_env(env, Role.WORKER)
    client = runtime.connect(url, socket_timeout=5)
    assert client.ping()
    queue = make_queue(client, settings)
    delivery = Delivery("meta", "deleted", "sentinel-1", None, {"action": "deleted"})  # no handler: acknowledged
    enqueue_delivery(queue, settings, delivery)
    # A job due already: rq's scheduler (its own connection, rebuilt from this one) must move it to the queue.
    later = Delivery("meta", "deleted", "sentinel-2", None, {"action": "deleted"})
    queue.enqueue_at(
        datetime.now(UTC) - timedelta(seconds=1), JOB_PROCESS_DELIVERY, kwargs=delivery_kwargs(later), job_id="due"
    )
    worker = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "worker", "--burst"], env=env, timeout=60, capture_output=True
    )
    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    for job_id in (delivery_job_id("sentinel-1"), "due"):
        job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
        assert job.get_status() == JobStatus.FINISHED, job_id
        assert job.return_value() == {"handled": [], "skipped": []}
    assert client.connection_pool.connection_kwargs["db"] == 2 and client.dbsize() > 0
