"""The upgrade pull-request lifecycle end to end, over real HTTP: fake GitHub -> signed webhooks -> web ->
Redis -> rq worker -> scans that read the repository through the git data API, plan with the recorded
registry answers, and write PRs and the dashboard back to the fake GitHub."""

from __future__ import annotations

import json
from pathlib import Path

from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot.core.serializer import JSONSerializer
from bot.lifecycle.requests import request_scan
from bot.lifecycle.state import DASHBOARD_LABEL, DashboardState
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "peers" / "samples"
REPO = "octo-org/shop"
REQUIREMENTS = "# Web stack\nrequests==2.22.0\nflask==1.1.2  # web framework\n"
# Deterministic whatever the date: no release-age hold-back, no risk-dependent grouping.
CONFIG = """\
min_release_age: 0
max_open_prs: 4
split_failing_groups: false
security: {audit: false}  # tests/test_e2e_security.py covers the audit
labels: [dependencies, depup]
risk: {high_at: 99}
groups:
  - {name: all, match: {}}
phases:
  - name: low
    title: Patches and minors
    match: {update_types: [patch, minor], core: false}
  - name: majors
    title: Majors
    match: {update_types: [major], packages: [flask, requests]}
"""


def files() -> dict[str, str]:
    return {
        "requirements.txt": REQUIREMENTS,
        "web/package.json": (SAMPLES / "js-app" / "package.json").read_text(),
        "web/package-lock.json": (SAMPLES / "js-app" / "package-lock.json").read_text(),
        "app/main.py": "import flask\nimport requests\n",
        ".github/depup.yml": CONFIG,
    }


def open_prs(fake: FakeGitHub) -> dict[str, int]:
    return {p.head_ref: p.number for p in fake.pulls(REPO)}


def dashboard(fake: FakeGitHub) -> tuple[int, str]:
    [issue] = [i for i in fake.issues(REPO) if DASHBOARD_LABEL in [label.name for label in i.labels]]
    return issue.number, issue.body or ""


def scan(depup: Depup) -> None:
    assert request_scan(depup.rt.queue, depup.settings, REPO, "test")
    depup.run_worker()


def install(depup: Depup) -> FakeGitHub:
    fake = depup.fake
    fake.create_repo(REPO, files=files())
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    return fake


def test_install_opens_the_dashboard_and_phase_one_with_exact_file_contents(depup: Depup) -> None:
    fake = install(depup)
    prs = open_prs(fake)
    assert sorted(prs) == ["depup/npm/low-all", "depup/python/low-all"]

    python = fake.pull(REPO, prs["depup/python/low-all"])
    assert python.title == "Upgrade requests from 2.22.0 to 2.34.2"
    assert fake.read_text(REPO, "depup/python/low-all", "requirements.txt") == REQUIREMENTS.replace(
        "requests==2.22.0", "requests==2.34.2"
    )
    assert fake.labels_of(REPO, python.number) == ["dependencies", "depup"]
    meta = python.body.split("<!-- depup:meta ", 1)[1].split(" -->", 1)[0]
    assert json.loads(meta)["packages"] == [
        {"ecosystem": "python", "package": "requests", "from": "2.22.0", "to": "2.34.2", "type": "minor"}
    ]
    # One commit on top of the default branch, touching only the manifest.
    branch_sha = fake.branch_sha(REPO, "depup/python/low-all")
    main_sha = fake.branch_sha(REPO, "main")
    commit = fake.repo(REPO).store.commit(branch_sha)  # type: ignore[arg-type]
    assert list(commit.parents) == [main_sha]

    npm = fake.pull(REPO, prs["depup/npm/low-all"])
    assert npm.title == "Upgrade all (2 packages)"
    before = (SAMPLES / "js-app" / "package.json").read_text()
    assert fake.read_text(REPO, "depup/npm/low-all", "web/package.json") == before.replace(
        '"lodash": "~4.17.15"', '"lodash": "~4.18.1"'
    ).replace('"axios": "0.21.1"', '"axios": "0.21.4"')
    lock = json.loads(fake.read_text(REPO, "depup/npm/low-all", "web/package-lock.json") or "{}")
    assert lock["packages"]["node_modules/lodash"]["version"] == "4.18.1"
    assert lock["packages"]["node_modules/axios"]["version"] == "0.21.4"
    assert lock["packages"]["node_modules/react"]["version"] == "16.14.0"

    _, body = dashboard(fake)
    assert "## Open pull requests" in body and f"#{python.number}" in body and f"#{npm.number}" in body
    assert "### Phase 2: Majors (later)" in body and "Upgrade flask from 1.1.2 to 3.1.3" in body
    assert "Next scheduled scan:" in body
    # The config check run on the default branch's head.
    [check] = [c for c in fake.check_runs(REPO, main_sha) if c.name == "depup/config"]  # type: ignore[arg-type]
    assert check.conclusion == "success"


def test_writes_per_pr_and_a_second_scan_writes_nothing(depup: Depup) -> None:
    fake = install(depup)
    writes = [c for c in fake.writes() if c.auth == "installation"]
    per_pr = {}
    for call in writes:
        per_pr.setdefault(call.operation_id, 0)
        per_pr[call.operation_id] += 1
    opened = len(open_prs(fake))
    pr_writes = len(writes) - per_pr.get("issues/create", 0) - per_pr.get("checks/create", 0)
    assert opened == 2 and pr_writes / opened <= 10, per_pr
    print(f"\nwrites per opened PR: {pr_writes / opened:.1f} ({per_pr})")

    # A redelivered installation webhook is refused as a duplicate, and a fresh scan changes nothing.
    [delivery] = fake.events("installation", "created")
    fake.redeliver(delivery.delivery_id)
    fake.reset_calls()
    scan(depup)
    assert fake.writes() == []
    fake.reset_calls()
    scan(depup)  # the second no-op scan: GitHub's answers are now all known by their ETags
    assert fake.writes() == []
    reads = fake.count()
    not_modified = len([c for c in fake.calls if c.status == 304])
    assert not_modified >= 3  # open and closed PR lists, the dashboard issue
    print(f"requests of a no-op scan: {reads} reads ({not_modified} answered 304 Not Modified), 0 writes")


def test_base_branch_moves_and_the_pr_is_regenerated(depup: Depup) -> None:
    fake = install(depup)
    number = open_prs(fake)["depup/python/low-all"]
    old_head = fake.branch_sha(REPO, "depup/python/low-all")
    moved = REQUIREMENTS.replace("# Web stack\n", "# Web stack, pinned for production\n")
    new_main = fake.push(REPO, "main", {"requirements.txt": moved}, message="Reword a comment")
    depup.run_worker()  # the push webhook asks for a scan
    assert open_prs(fake)["depup/python/low-all"] == number  # the same PR, updated in place
    head = fake.branch_sha(REPO, "depup/python/low-all")
    assert head != old_head
    assert list(fake.repo(REPO).store.commit(head).parents) == [new_main]  # type: ignore[arg-type]
    assert fake.read_text(REPO, "depup/python/low-all", "requirements.txt") == moved.replace(
        "requests==2.22.0", "requests==2.34.2"
    )


def test_merge_then_post_merge_ci_green_opens_the_next_phase(depup: Depup) -> None:
    fake = install(depup)
    prs = open_prs(fake)
    merges = [fake.merge_pull(REPO, prs[branch]) for branch in ("depup/python/low-all", "depup/npm/low-all")]
    depup.run_worker()
    assert sorted(open_prs(fake)) == []  # phase 2 waits for the merges' CI
    _, body = dashboard(fake)
    assert "waiting for post-merge CI on the default branch" in body
    state = DashboardState.from_body(body)
    assert sorted((m.pr, m.ci) for m in state.merges) == sorted((prs[b], "pending") for b in prs)

    fake.set_status(REPO, merges[0], state="success")
    depup.run_worker()
    assert sorted(open_prs(fake)) == []  # one merge's CI is still unknown
    fake.set_status(REPO, merges[1], state="success")
    depup.run_worker()
    assert sorted(open_prs(fake)) == ["depup/python/majors-all"]
    pull = fake.pull(REPO, open_prs(fake)["depup/python/majors-all"])
    assert pull.title == "Upgrade flask from 1.1.2 to 3.1.3"


def test_a_pr_closed_unmerged_ignores_its_versions(depup: Depup) -> None:
    fake = install(depup)
    number = open_prs(fake)["depup/python/low-all"]
    fake.close_pull(REPO, number)
    depup.run_worker()
    assert "depup/python/low-all" not in open_prs(fake)
    comments = [c.body for c in fake.comments(REPO, number)]
    assert len(comments) == 1 and "will not propose `requests` 2.34.2 again" in comments[0]
    _, body = dashboard(fake)
    assert "`requests` 2.34.2 (python)" in body
    scan(depup)  # and again: no second comment, no new PR
    assert len(fake.comments(REPO, number)) == 1
    assert "depup/python/low-all" not in open_prs(fake)


def test_a_human_commit_on_a_depup_branch_stops_depup_touching_it(depup: Depup) -> None:
    fake = install(depup)
    number = open_prs(fake)["depup/python/low-all"]
    fake.push(REPO, "depup/python/low-all", {"requirements.txt": REQUIREMENTS.replace("2.22.0", "2.31.0")})
    depup.run_worker()
    human_head = fake.branch_sha(REPO, "depup/python/low-all")
    [comment] = fake.comments(REPO, number)
    assert "will not touch this pull request any more" in comment.body
    # The base moves: depup would regenerate the PR, but the branch is someone else's now.
    fake.push(REPO, "main", {"requirements.txt": REQUIREMENTS + "# end\n"})
    depup.run_worker()
    assert fake.branch_sha(REPO, "depup/python/low-all") == human_head
    assert len(fake.comments(REPO, number)) == 1
    _, body = dashboard(fake)
    assert "edited by someone else" in body


def settle(depup: Depup, rounds: int = 12) -> None:
    """Work the queue until GitHub's state stops changing: postponed jobs are released at once, and a scan is
    requested when the queue runs dry (as the schedule would), until a scan writes nothing."""
    quiet = 0
    for _ in range(rounds):
        depup.run_worker()
        scheduled = ScheduledJobRegistry(queue=depup.rt.queue)
        for job_id in scheduled.get_job_ids():
            depup.rt.queue.enqueue_job(Job.fetch(job_id, connection=depup.redis, serializer=JSONSerializer))
            scheduled.remove(job_id)
        if depup.rt.queue.count:
            continue
        before = len(depup.fake.writes())
        request_scan(depup.rt.queue, depup.settings, REPO, "settle", force=True)
        depup.run_worker()
        quiet = quiet + 1 if len(depup.fake.writes()) == before and not scheduled.get_job_ids() else 0
        if quiet >= 1:
            return
    raise AssertionError("GitHub's state did not settle")


def test_faults_on_every_fifth_request_end_in_the_same_state_without_duplicates(depup: Depup) -> None:
    fake = depup.fake
    fake.inject(kind="status", status=502, every=5, times=None)
    fake.inject("pulls/create", kind="secondary_rate_limit", retry_after=1, times=1)
    fake.create_repo(REPO, files=files())
    fake.create_installation(account="octo-org", repos=[REPO])
    settle(depup)
    prs = open_prs(fake)
    assert sorted(prs) == ["depup/npm/low-all", "depup/python/low-all"]
    assert fake.read_text(REPO, "depup/python/low-all", "requirements.txt") == REQUIREMENTS.replace(
        "requests==2.22.0", "requests==2.34.2"
    )
    merges = [fake.merge_pull(REPO, prs[branch]) for branch in sorted(prs)]
    for sha in merges:
        fake.set_status(REPO, sha, state="success")
    settle(depup)
    assert sorted(open_prs(fake)) == ["depup/python/majors-all"]
    # Nothing twice: one PR per branch ever, one dashboard, one comment at most per PR.
    everything = fake.pulls(REPO, state="all")
    assert sorted(p.head_ref for p in everything) == [
        "depup/npm/low-all",
        "depup/python/low-all",
        "depup/python/majors-all",
    ]
    assert len([i for i in fake.issues(REPO) if DASHBOARD_LABEL in [label.name for label in i.labels]]) == 1
    assert all(len(fake.comments(REPO, p.number)) == 0 for p in everything)
    faults = [c for c in fake.calls if c.fault]
    print(f"\n{len(faults)} faults injected in {len(fake.calls)} requests")
    assert len(faults) >= 10
