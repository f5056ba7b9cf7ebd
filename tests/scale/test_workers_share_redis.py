"""Scale-out safety: several `depup worker` processes (rq's forking worker, as on several machines) share one
Redis and one GitHub. Scans of one repository never run at once (the repository lock), the writes of one
installation never overlap and keep their spacing (bot.github.client.WriteGate), redelivered webhooks run once, and
every repository ends with exactly one dashboard and exactly the pull requests of its twin repository (same
files), no branch, comment or check run twice."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from redis import Redis
from rq.registry import FailedJobRegistry, StartedJobRegistry

from bench.scale import (
    Layout,
    check_repos,
    create_repos,
    finished_jobs,
    outcomes,
    overlapping_writes,
    stack,
    start_workers,
    variants,
    worker_logs,
)
from bot.lifecycle.requests import request_scan
from bot.repos.registry import RepoRecord, RepoRegistry
from tests.fakegithub import FakeGitHub
from tests.support.osv_server import OsvServer
from tests.support.registry_server import RegistryServer

WORKERS = 3
SPACING = 0.02  # seconds between two writes of one installation (production default: 1)


@pytest.mark.slow  # real worker processes contending: scripts/test -m slow
def test_three_workers_on_one_redis_write_everything_once_and_one_write_at_a_time_per_installation(
    fake_github: FakeGitHub,
    redis_url: str,
    redis_client: Redis,
    registry_server: RegistryServer,
    osv_server: OsvServer,
) -> None:
    layout = Layout(repos=10, installations=2, variants=5)  # repositories i and i + 5 have the same files
    # As many scans of an installation at once as there are workers: the repository lock is what is tested here
    # (tests/scale/test_scan_slots.py has the installation's scan slots).
    with stack(
        redis_url, spacing=SPACING, slots=WORKERS, registry=registry_server, osv=osv_server, fake=fake_github
    ) as s:
        no_audit = {".github/depup.yml": "security: {audit: false}  # pip-audit runs are slow and not the point\n"}
        create_repos(s.fake, layout, [{**files, **no_audit} for files in variants(layout.variants)])
        accounts = list(layout.accounts().items())
        start_workers(s, WORKERS)
        since = datetime.now(UTC)

        # Second installation: recorded directly, then two first scans of every repository queued back to back
        # while all workers wait, so that two workers take the two scans of a repository together: one gets the
        # repository's lock and opens its pull requests, the other finds it busy and is rescheduled.
        account, names = accounts[1]
        quiet = s.fake.create_installation(account, names, emit=False)
        RepoRegistry(s.redis).add(
            RepoRecord(n, s.fake.repo(n).id, quiet.id, "main", private=False, archived=False) for n in names
        )
        for name in names:
            for _ in range(2):
                request_scan(s.queue, s.settings, name, "concurrent", force=True)

        # First installation: by webhook, each delivery sent twice (the second is a duplicate, not enqueued).
        account, names = accounts[0]
        s.fake.create_installation(account, names)
        s.fake.wait_for_deliveries()
        again = [s.fake.redeliver(d.delivery_id) for d in s.fake.events("installation", "created")]
        s.fake.wait_for_deliveries()
        assert [d.status_code for d in again] == [200]

        deadline = time.monotonic() + 60
        while True:
            assert not FailedJobRegistry(queue=s.queue).count, worker_logs(s)
            scans = [j for j in finished_jobs(s.queue, "scan-") if j.ended_at and j.ended_at >= since]
            idle = s.fake.hooks.wait(0) and not s.queue.count and not StartedJobRegistry(queue=s.queue).count
            if idle and len(scans) >= len(accounts[0][1]) + 2 * len(accounts[1][1]):
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
        # Installation tokens are shared through Redis: the webhook's installation made one (its handler ran
        # first); two workers starting the other's first scans at once may each make one (GitHub allows that).
        tokens = Counter(c.path for c in s.fake.calls if c.operation_id == "apps/create-installation-access-token")
        assert len(tokens) == 2 and max(tokens.values()) <= WORKERS and min(tokens.values()) == 1, tokens
