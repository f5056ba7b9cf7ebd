"""An installation's scan slots: while its writes are spaced, only DEPUP_SCANS_PER_INSTALLATION scans of one
installation run at once; a scan that finds them taken does not hold a worker waiting for the installation's
write lock, it is queued again later (with backoff) and the worker takes the next job (another installation's
scan). A holder that dies frees its slot when its lease ends."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from redis import Redis
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from bot.core.settings import Settings
from bot.lifecycle import lock
from bot.lifecycle.lock import InstallationBusy, installation_slot, scan_slots_key
from bot.lifecycle.requests import request_scan
from bot.process import runtime
from tests.support.harness import Depup

REPO = "octo-org/app"


def test_a_slot_is_held_until_released_and_the_limit_counts_holders(redis_client: Redis) -> None:
    with installation_slot(redis_client, 7, 1):
        with pytest.raises(InstallationBusy, match="1 scan"), installation_slot(redis_client, 7, 1):
            pass
        with installation_slot(redis_client, 8, 1):  # another installation has its own slots
            pass
    with installation_slot(redis_client, 7, 2), installation_slot(redis_client, 7, 2):
        assert redis_client.zcard(scan_slots_key(7)) == 2
        with pytest.raises(InstallationBusy), installation_slot(redis_client, 7, 2):
            pass
    assert redis_client.zcard(scan_slots_key(7)) == 0


def test_the_slot_of_a_holder_that_died_is_free_when_its_lease_ends(redis_client: Redis) -> None:
    key = scan_slots_key(7)
    redis_client.zadd(key, {"killed-worker": time.time() + 30})
    with pytest.raises(InstallationBusy), installation_slot(redis_client, 7, 1):
        pass
    redis_client.zadd(key, {"killed-worker": time.time() - 1})  # its lease ended and nobody renewed it
    with installation_slot(redis_client, 7, 1):
        assert b"killed-worker" not in redis_client.zrange(key, 0, -1)
    assert redis_client.zcard(key) == 0


def test_a_held_slot_is_renewed_while_its_scan_runs(redis_client: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "LOCK_TTL_SECONDS", 0.3)  # leases of 0.3 s, renewed every 0.1 s
    with installation_slot(redis_client, 7, 1):
        time.sleep(0.8)  # well past the first lease
        [(_, lease_end)] = redis_client.zrange(scan_slots_key(7), 0, -1, withscores=True)
        assert lease_end > time.time()
        with pytest.raises(InstallationBusy), installation_slot(redis_client, 7, 1):
            pass


def spaced(depup: Depup, slots: int = 1) -> Settings:
    settings = replace(depup.settings, write_spacing_seconds=0.01, scans_per_installation=slots)
    depup.rt = replace(depup.rt, settings=settings)
    runtime.install(depup.rt)
    return settings


def scheduled_scans(depup: Depup) -> list[Job]:
    ids = ScheduledJobRegistry(queue=depup.rt.queue).get_job_ids()
    return [Job.fetch(i, connection=depup.redis, serializer=JSONSerializer) for i in ids if i.startswith("scan-")]


def test_a_scan_whose_installation_is_busy_waits_its_turn_without_writing(depup: Depup) -> None:
    settings = spaced(depup)
    depup.fake.create_repo(REPO, files={"requirements.txt": "requests==2.19.0\n"})
    installation = depup.fake.create_installation(account="octo-org", repos=[REPO])
    scheduled = ScheduledJobRegistry(queue=depup.rt.queue)
    with installation_slot(depup.redis, installation.id, 1):  # another worker's scan of this installation
        depup.run_worker()
        assert [c for c in depup.fake.writes() if c.auth == "installation"] == []
        [waiting] = scheduled_scans(depup)
        assert waiting.meta["installation_waits"] == 1
        assert waiting.kwargs == {"full_name": REPO, "reason": "installed", "delivery": waiting.kwargs["delivery"]}
        assert 8 < scheduled.get_scheduled_time(waiting.id).timestamp() - time.time() <= 18  # 15 s, +-20 %
        # Still busy when it comes back: it waits twice as long.
        scheduled.requeue(waiting.id)
        depup.run_worker()
        [again] = scheduled_scans(depup)
        assert again.meta["installation_waits"] == 2
        assert 20 < scheduled.get_scheduled_time(again.id).timestamp() - time.time() <= 36
        scheduled.remove(again)
    # Free again: the scan runs and opens the dashboard and its pull request.
    assert request_scan(depup.rt.queue, settings, REPO, "installed")
    depup.run_worker()
    assert len(depup.fake.pulls(REPO)) == 1
    assert depup.redis.zcard(scan_slots_key(installation.id)) == 0


def test_the_scan_that_frees_the_slot_wakes_the_next_one_waiting(depup: Depup) -> None:
    settings = spaced(depup)
    repos = [f"octo-org/r{i}" for i in range(3)]
    for name in repos:
        depup.fake.create_repo(name, files={"requirements.txt": "requests==2.19.0\n"})
    installation = depup.fake.create_installation(account="octo-org", repos=repos)
    with installation_slot(depup.redis, installation.id, 1):
        depup.run_worker()
    assert sorted(j.kwargs["full_name"] for j in scheduled_scans(depup)) == repos  # all three wait 12-18 s
    # A scan of r0 takes the free slot; when it ends it moves the first waiting scan into the queue,
    # which wakes the next when it ends: all three run now, none sits out its backoff.
    assert request_scan(depup.rt.queue, settings, repos[0], "push")
    depup.run_worker()
    assert scheduled_scans(depup) == []
    assert [len(depup.fake.pulls(name)) for name in repos] == [1, 1, 1]


def test_without_write_spacing_scans_of_an_installation_are_not_limited(depup: Depup) -> None:
    depup.fake.create_repo(REPO, files={"requirements.txt": "requests==2.19.0\n"})
    installation = depup.fake.create_installation(account="octo-org", repos=[REPO])
    assert depup.settings.write_spacing_seconds == 0
    with installation_slot(depup.redis, installation.id, 1):
        depup.run_worker()
    assert len(depup.fake.pulls(REPO)) == 1 and scheduled_scans(depup) == []
