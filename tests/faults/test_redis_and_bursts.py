"""Redis restarted mid-flow, a webhook burst while no worker runs, GitHub refusing on a schedule (5xx, 429,
primary and secondary rate limits), and a registry that times out: each ends in the same state as a calm
run, with nothing lost and nothing twice."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.process import runtime
from bot.process.web import WEBHOOK_PATH, create_app
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup, settings_for
from tests.support.http import LiveServer
from tests.support.osv_server import OsvServer
from tests.support.registry_server import Fault, RegistryServer
from tests.support.worker import build_runtime
from tests.test_e2e_upgrades import REPO, files, open_prs, settle
from tests.test_processes import free_port

EXPECTED = ["depup/npm/low-all", "depup/python/low-all"]
CONFIG = "min_release_age: 0\nsecurity: {audit: false}\n"


class RedisServer:
    """A private redis-server that keeps its data in an append-only file, so a restart loses nothing."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return
            except RedisConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


def test_redis_restarted_mid_flow_loses_nothing(
    fake_github: FakeGitHub, private_redis: RedisServer, registry_server: RegistryServer, osv_server: OsvServer
) -> None:
    fake = fake_github
    settings = settings_for(fake, private_redis.url, osv_url=osv_server.url)
    client = Redis.from_url(private_redis.url)
    with LiveServer(create_app(settings)) as web:
        fake.set_webhook_target(web.url + WEBHOOK_PATH, fake.app.webhook_secret)
        rt = build_runtime(settings, client)
        runtime.install(rt)
        depup = Depup(fake, settings, client, web.url, rt)
        try:
            fake.create_repo(REPO, files=files())
            fake.create_installation(account="octo-org", repos=[REPO])
            fake.wait_for_deliveries()  # accepted and queued, not yet worked
            assert [d.status_code for d in fake.deliveries] == [202]

            private_redis.kill()  # Redis dies with the delivery in its queue
            fake.create_issue(REPO, "While Redis is down", "x")  # not a delivery depup handles
            pushed = fake.push(REPO, "main", {"README.md": "# shop\n"}, author="alice")
            fake.wait_for_deliveries()
            assert fake.deliveries[-1].status_code == 503  # refused: GitHub redelivers it later
            private_redis.start()  # same data directory: the queue is back

            fake.redeliver(fake.deliveries[-1].delivery_id)
            settle(depup)
            assert sorted(open_prs(fake)) == EXPECTED
            assert pushed
            assert len(fake.pulls(REPO, state="all")) == 2
        finally:
            runtime.install(None)
            fake.set_webhook_target(None)
            client.close()


def test_a_webhook_burst_while_no_worker_runs_is_all_processed_once(depup: Depup) -> None:
    fake = depup.fake
    repos = [f"octo-org/burst-{i}" for i in range(8)]
    for name in repos:
        fake.create_repo(name, files={"requirements.txt": "requests==2.22.0\n", ".github/depup.yml": CONFIG})
    installation = fake.create_installation(account="octo-org", repos=repos[:4])
    fake.add_repos_to_installation(installation.id, repos[4:])
    for name in repos:  # pushes and comments on top, all while the worker is down
        fake.push(name, "main", {"requirements.txt": "requests==2.22.0\nidna==2.10\n"}, author="alice")
        fake.create_issue(name, "Question", "/depup help", by="alice")
    fake.wait_for_deliveries()
    accepted = [d for d in fake.deliveries if d.status_code == 202]
    assert len(accepted) >= 1 + 1 + len(repos)
    for delivery in accepted[:5]:  # GitHub redelivers some of them too
        fake.redeliver(delivery.delivery_id)
    depup.run_worker()
    for name in repos:
        titles = sorted(p.title for p in fake.pulls(name, state="all"))
        assert len(titles) == len(set(titles)) and titles, (name, titles)
        heads = [p.head_ref for p in fake.pulls(name, state="all")]
        assert len(heads) == len(set(heads))
        dashboards = [i for i in fake.issues(name) if "depup-dashboard" in [label.name for label in i.labels]]
        assert len(dashboards) == 1
        assert "idna" in (fake.read_text(name, heads[0], "requirements.txt") or "")


def test_github_refusing_on_a_schedule_ends_in_the_calm_state(depup: Depup) -> None:
    fake = depup.fake
    fake.inject(kind="status", status=503, every=11, times=None)
    fake.inject(kind="too_many_requests", every=17, times=2, retry_after=1)
    fake.inject(kind="primary_rate_limit", after=40, times=1, retry_after=1)
    fake.inject("pulls/create", kind="secondary_rate_limit", retry_after=1, times=1)
    fake.create_repo(REPO, files=files())
    fake.create_installation(account="octo-org", repos=[REPO])
    settle(depup, rounds=20)
    assert sorted(open_prs(fake)) == EXPECTED
    assert sorted(p.head_ref for p in fake.pulls(REPO, state="all")) == EXPECTED
    assert all(len(fake.comments(REPO, p.number)) == 0 for p in fake.pulls(REPO))
    kinds = {c.fault for c in fake.calls if c.fault}
    assert len(kinds) >= 3, kinds


@pytest.mark.slow  # the client's 10 s read timeout has to pass: scripts/test -m slow
def test_a_registry_that_times_out_is_reported_and_the_rest_proceeds(
    depup: Depup, registry_server: RegistryServer
) -> None:
    fake = depup.fake
    registry_server.inject("python", "requests", Fault(delay=11.0))  # longer than the client's 10 s read timeout
    fake.create_repo(REPO, files=files())
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    assert sorted(open_prs(fake)) == ["depup/npm/low-all"]  # npm proceeds without the Python lookup
    body = next(i.body or "" for i in fake.issues(REPO) if "depup-dashboard" in [label.name for label in i.labels])
    assert "requests" in body and "timeout" in body.lower()

    registry_server.reset()  # the registry answers again; a minute later the failure is no longer cached
    for key in depup.redis.scan_iter("depup:registry:*requests*"):
        depup.redis.delete(key)
    settle(depup)
    assert sorted(open_prs(fake)) == EXPECTED
