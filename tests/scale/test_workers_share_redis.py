"""Scale-out safety: several `depup worker` processes (rq's forking worker, as on several machines) share one
Redis and one GitHub. Scans of one repository never run at once (the repository lock), the writes of one
installation never overlap and keep their spacing (bot.github.WriteGate), redelivered webhooks run once, and
every repository ends with exactly one dashboard and exactly the pull requests of its twin repository (same
files), no branch, comment or check run twice."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from redis import Redis
from rq.registry import FailedJobRegistry, StartedJobRegistry

from bench.scale import (
    Layout,
    check_repos,
    create_repos,
    finished_jobs,
    install_all,
    outcomes,
    overlapping_writes,
    stack,
    start_workers,
    variants,
    worker_logs,
)
from bot.repos import RepoRegistry
from bot.scans import request_scan
from tests.fakegithub import FakeGitHub
from tests.support.osv_server import OsvServer
from tests.support.registry_server import RegistryServer

WORKERS = 3
CONTENDED = (0, 3, 6, 9)  # repositories scanned three times at once
SPACING = 0.02  # seconds between two writes of one installation (production default: 1)


def test_three_workers_on_one_redis_write_everything_once_and_one_write_at_a_time_per_installation(
    fake_github: FakeGitHub,
    redis_url: str,
    redis_client: Redis,
    registry_server: RegistryServer,
    osv_server: OsvServer,
) -> None:
    layout = Layout(repos=10, installations=2, variants=5)  # every variant twice, in both installations
    with stack(redis_url, spacing=SPACING, registry=registry_server, osv=osv_server, fake=fake_github) as s:
        no_audit = {".github/depup.yml": "security: {audit: false}  # pip-audit runs are slow and not the point\n"}
        create_repos(s.fake, layout, [{**files, **no_audit} for files in variants(layout.variants)])
        start_workers(s, WORKERS)
        since = datetime.now(UTC)
        install_all(s, layout)
        s.fake.wait_for_deliveries()
        again = [s.fake.redeliver(d.delivery_id) for d in s.fake.events("installation", "created")]
        s.fake.wait_for_deliveries()
        assert [d.status_code for d in again] == [200, 200]  # duplicates: acknowledged, not enqueued
        registry = RepoRegistry(s.redis)
        deadline = time.monotonic() + 30
        while len(registry.all()) < layout.repos:  # the installation handlers ran (and queued the first scans)
            assert time.monotonic() < deadline, worker_logs(s)
            time.sleep(0.1)
        # Two more scans of some repositories, queued back to back so that two workers take them together: one
        # gets the repository's lock, the other finds it busy and is rescheduled.
        for i in CONTENDED:
            for _ in range(2):
                request_scan(s.queue, s.settings, layout.name(i), "concurrent", force=True)

        deadline = time.monotonic() + 60
        while True:
            assert not FailedJobRegistry(queue=s.queue).count, worker_logs(s)
            scans = [j for j in finished_jobs(s.queue, "scan-") if j.ended_at and j.ended_at >= since]
            idle = s.fake.hooks.wait(0) and not s.queue.count and not StartedJobRegistry(queue=s.queue).count
            if idle and len(scans) >= layout.repos + 2 * len(CONTENDED):
                break
            assert time.monotonic() < deadline, "scans not done in 60 s\n" + worker_logs(s)
            time.sleep(0.2)
        # Busy scans were rescheduled (15 s later); they would be no-op scans and are not waited for.

        done = outcomes(scans)
        assert done["done"] >= layout.repos and done["busy"] >= 1, done
        assert check_repos(s.fake, layout) == []
        writes = [c for c in s.fake.calls if c.is_write and c.auth == "installation"]
        assert len({c.installation_id for c in writes}) == 2 and len(writes) >= 5 * layout.repos
        assert overlapping_writes(s.fake.calls, SPACING) == []
        # Both installations' tokens were made once and shared by every worker and job through Redis.
        assert s.fake.count("apps/create-installation-access-token") == 2
