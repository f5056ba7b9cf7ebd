"""Chaos: the whole phase 1 -> merge -> failed deploy -> rollback scenario across 50 repositories at once,
with GitHub failing on a schedule (5xx, secondary rate limits, slow answers) the whole time; then every
repository's final state is checked. Slow: ``scripts/test -m slow -k chaos``."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot.core.serializer import JSONSerializer
from bot.lifecycle.requests import request_scan
from bot.lifecycle.state import DASHBOARD_LABEL, DashboardState
from tests.fakegithub import FakeGitHub
from tests.fakegithub.state import Pull
from tests.rollback.test_e2e_rollback import REQUIREMENTS, App, app, config
from tests.support.harness import Depup

__all__ = ["app"]  # the fixture
REPOS = [f"octo-org/chaos-{i:02d}" for i in range(int(os.environ.get("DEPUP_CHAOS_REPOS", "50")))]


def settle(depup: Depup, repos: list[str], done: Callable[[], bool] | None = None, rounds: int = 40) -> None:
    """Work the queue (postponed jobs released at once) and re-scan until ``done`` holds, or, without it,
    until a round of scans writes nothing."""
    scheduled = ScheduledJobRegistry(queue=depup.rt.queue)
    for _ in range(rounds):
        depup.run_worker()
        waiting = scheduled.get_job_ids()
        for job_id in waiting:
            depup.rt.queue.enqueue_job(Job.fetch(job_id, connection=depup.redis, serializer=JSONSerializer))
            scheduled.remove(job_id)
        if waiting or depup.rt.queue.count:
            continue
        if done is not None and done():
            return
        before = len(depup.fake.writes())
        for name in repos:
            request_scan(depup.rt.queue, depup.settings, name, "settle", force=True)
        depup.run_worker()
        if done is None and len(depup.fake.writes()) == before and not scheduled.get_job_ids():
            return
    raise AssertionError("the repositories did not settle")


def reverts(fake: FakeGitHub, name: str) -> list[Pull]:
    return [p for p in fake.pulls(name, state="all") if p.head_ref.startswith("depup/rollback/")]


def dashboard_state(fake: FakeGitHub, name: str) -> DashboardState:
    [issue] = [i for i in fake.issues(name) if DASHBOARD_LABEL in [label.name for label in i.labels]]
    return DashboardState.from_body(issue.body)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_phase_one_to_rollback_across_fifty_repositories_under_faults(depup: Depup, app: App) -> None:
    fake = depup.fake
    fake.inject(kind="status", status=502, every=23, times=None)
    fake.inject(kind="secondary_rate_limit", every=97, times=None, retry_after=1)
    fake.inject(kind="slow", delay=0.05, every=13, times=None)
    for name in REPOS:
        fake.create_repo(name, files={"requirements.txt": REQUIREMENTS, ".github/depup.yml": config(app)})
    fake.create_installation(account="octo-org", repos=REPOS)
    settle(depup, REPOS, lambda: all(len(fake.pulls(name)) == 1 for name in REPOS))
    first = {}
    for name in REPOS:
        [pull] = fake.pulls(name)
        first[name] = pull.number
        sha = fake.merge_pull(name, pull.number)
        fake.set_status(name, sha, context="ci/test", state="success")
    settle(depup, REPOS, lambda: all(dashboard_state(fake, n).merge_of(first[n]) for n in REPOS))
    for name in REPOS:
        deployment = fake.create_deployment(name, fake.branch_sha(name, "main") or "main")
        fake.add_deployment_status(name, deployment.id, "failure")
        fake.add_deployment_status(name, deployment.id, "error")  # a second failure event for the same deploy
    settle(depup, REPOS, lambda: all(reverts(fake, n) for n in REPOS))
    for name in REPOS:
        [revert] = reverts(fake, name)
        fake.set_status(name, fake.branch_sha(name, revert.head_ref) or "", context="ci/test", state="success")
    settle(depup, REPOS, lambda: all(all(p.merged for p in reverts(fake, n)) for n in REPOS))
    injected = [c for c in fake.calls if c.fault]
    fake.clear_faults()  # GitHub recovers: whatever the faults left half done is finished now
    settle(depup, REPOS)

    problems = []
    for name in REPOS:
        everything = fake.pulls(name, state="all")
        reverted = reverts(fake, name)
        heads = [p.head_ref for p in everything]
        state = dashboard_state(fake, name)
        merge = state.merge_of(first[name])
        ignored = {(i.package, i.version) for i in state.ignored}
        dashboards = [i for i in fake.issues(name) if DASHBOARD_LABEL in [label.name for label in i.labels]]
        checks = {
            "one revert, merged": len(reverted) == 1 and reverted[0].merged,
            "no duplicate branches": len(heads) == len(set(heads)),
            "original merged": fake.pull(name, first[name]).merged,
            "files back": fake.read_text(name, "main", "requirements.txt") == REQUIREMENTS,
            "rolled back": merge is not None and merge.health == "rolled_back",
            "versions ignored": {("click", "7.1.2"), ("idna", "3.20")} <= ignored,
            "nothing else open": fake.pulls(name) == [],
            "one dashboard": len(dashboards) == 1,
            "told once": sum("depup rolls this upgrade back" in c.body for c in fake.comments(name, first[name])) == 1,
        }
        problems.extend(f"{name}: {what}" for what, ok in checks.items() if not ok)
    print(f"\nchaos: {len(REPOS)} repositories, {len(fake.calls)} GitHub requests, {len(injected)} faults injected")
    assert not problems, problems
    assert len(injected) >= 3 * len(REPOS)
