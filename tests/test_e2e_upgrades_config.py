"""The PR lifecycle under the repository's config: mistakes in it, limits, reviewers and assignees, dry runs,
schedules, and the serialised writes of one installation."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from redis import Redis

from bot.github.client import GitHubClients
from bot.lifecycle.requests import SCHEDULES, due_scans, request_scan
from bot.lifecycle.state import DASHBOARD_LABEL
from bot.repos.registry import RepoRecord
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup, settings_for

REPO = "octo-org/api"
REQUIREMENTS = "requests==2.22.0\nclick==7.0\nattrs==20.3.0\n"


def dashboard_body(fake: FakeGitHub) -> str:
    [issue] = [i for i in fake.issues(REPO) if DASHBOARD_LABEL in [label.name for label in i.labels]]
    return issue.body or ""


def install(depup: Depup, config: str) -> FakeGitHub:
    fake = depup.fake
    config += "security: {audit: false}  # tests/test_e2e_security.py covers the audit\n"
    fake.create_repo(REPO, files={"requirements.txt": REQUIREMENTS, ".github/depup.yml": config})
    for login in ("alice", "bob"):
        fake.set_permission(REPO, login, "write")
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    return fake


def test_a_bad_config_is_reported_and_the_last_valid_one_kept(depup: Depup) -> None:
    fake = install(depup, "min_release_age: 0\nmax_open_prs: 1\nphases:\n  - {name: all, title: All, match: {}}\n")
    assert len(fake.pulls(REPO)) == 1
    head = fake.push(REPO, "main", {".github/depup.yml": "max_open_pr: 3\nschedule: {cron: '61 * * * *'}\n"})
    depup.run_worker()
    [check] = [c for c in fake.check_runs(REPO, head) if c.name == "depup/config"]
    assert check.conclusion == "failure"
    body = dashboard_body(fake)
    assert ".github/depup.yml:1:1: unknown option 'max_open_pr' (did you mean 'max_open_prs'?)" in body
    assert ".github/depup.yml:2:18: schedule.cron: the minute field '61'" in body
    assert "the last valid configuration is used until the file is fixed" in body
    assert len(fake.pulls(REPO)) == 1  # max_open_prs: 1 from the last valid file still holds
    assert "Phase 1: All" in body


def test_limits_reviewers_assignees_labels_and_conventional_titles(depup: Depup) -> None:
    config = (
        "min_release_age: 0\nmax_open_prs: 2\nlabels: [deps, python]\nreviewers: [alice, octo-org/maintainers]\n"
        "assignees: [bob]\ncommit_style: conventional\nrisk: {high_at: 99}\n"
        "phases:\n  - {name: all, title: All, match: {}}\n"
        "groups:\n  - {name: requests, match: {packages: [requests]}}\n  - {name: click, match: {packages: [click]}}\n"
        "  - {name: attrs, match: {packages: [attrs]}}\n"
    )
    fake = install(depup, config)
    pulls = fake.pulls(REPO)
    assert len(pulls) == 2  # three groups, max_open_prs: 2
    for pull in pulls:
        assert pull.title.startswith("chore(deps): upgrade ")
        assert fake.labels_of(REPO, pull.number) == ["deps", "python"]
        assert [u.login for u in pull.requested_reviewers] == ["alice"]
        assert [u.login for u in pull.issue.assignees] == ["bob"]
    requests = [c.body for c in fake.calls if c.operation_id == "pulls/request-reviewers"]
    assert requests == [{"reviewers": ["alice"], "team_reviewers": ["maintainers"]}] * 2
    assert "waits for a free slot (max_open_prs)" in dashboard_body(fake)
    # One merged frees a slot: the third opens.
    fake.merge_pull(REPO, pulls[0].number)
    depup.run_worker()
    assert len(fake.pulls(REPO)) == 2 and len(fake.pulls(REPO, state="all")) == 3


def test_dry_run_writes_nothing(depup: Depup) -> None:
    depup.rt = replace(depup.rt, settings=replace(depup.settings, dry_run=True))
    fake = depup.fake
    fake.create_repo(REPO, files={"requirements.txt": REQUIREMENTS})
    fake.create_installation(account="octo-org", repos=[REPO])
    from bot.process import runtime

    runtime.install(depup.rt)
    depup.run_worker()
    assert [c for c in fake.writes() if c.auth == "installation"] == []
    assert fake.count("git/get-tree") == 1  # it did scan


def test_schedules_fire_once_per_cron_occurrence(redis_client: Redis) -> None:
    records = [
        RepoRecord("o/weekly", 1, 7, "main"),
        RepoRecord("o/hourly", 2, 7, "main"),
        RepoRecord("o/off", 3, 7, "main"),
    ]
    redis_client.hset(SCHEDULES, "o/hourly", "0 * * * *|Europe/Paris|1")
    redis_client.hset(SCHEDULES, "o/off", "0 * * * *|UTC|0")
    monday = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)  # o/weekly has no entry yet: the default, Mondays 05:00 UTC
    assert due_scans(redis_client, records, monday) == []  # the first look only starts the clock
    assert due_scans(redis_client, records, monday + timedelta(minutes=20)) == []
    assert due_scans(redis_client, records, monday + timedelta(minutes=35)) == ["o/weekly", "o/hourly"]
    assert due_scans(redis_client, records, monday + timedelta(minutes=40)) == []
    assert due_scans(redis_client, records, monday + timedelta(hours=1, minutes=31)) == ["o/hourly"]


def test_scans_that_fire_together_take_installations_in_turn(redis_client: Redis) -> None:
    records = [RepoRecord(f"a/r{i}", i, 1, "main") for i in range(3)]
    records += [RepoRecord(f"b/r{i}", 10 + i, 2, "main") for i in range(2)]
    records += [RepoRecord("c/r0", 20, 3, "main"), RepoRecord("a/archived", 30, 1, "main", archived=True)]
    monday = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    assert due_scans(redis_client, records, monday) == []
    assert due_scans(redis_client, records, monday + timedelta(hours=1)) == [
        "a/r0", "b/r0", "c/r0", "a/r1", "b/r1", "a/r2",
    ]  # fmt: skip


def test_one_scan_waits_per_repository(depup: Depup) -> None:
    queue = depup.rt.queue
    assert request_scan(queue, depup.settings, REPO, "push")
    assert not request_scan(queue, depup.settings, REPO, "push again")
    assert queue.count == 1


def test_writes_of_one_installation_are_serialised_and_spaced(
    fake_github: FakeGitHub, redis_url: str, redis_client: Redis
) -> None:
    fake_github.create_repo(REPO, files={"a.txt": "a\n"})
    installation = fake_github.create_installation("octo-org", [REPO], emit=False)
    settings = replace(settings_for(fake_github, redis_url), write_spacing_seconds=0.2)
    clients = GitHubClients(settings, redis_client)

    def comment(n: int) -> None:
        gh = clients.installation(installation.id)
        gh.rest.issues.create(*REPO.split("/"), title=f"issue {n}")

    threads = [threading.Thread(target=comment, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writes = [c for c in fake_github.writes() if c.operation_id == "issues/create"]
    assert len(writes) == 4
    started = sorted(c.started_at for c in writes)
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert min(gaps) >= 0.19, gaps
