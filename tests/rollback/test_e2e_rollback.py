"""After merge, end to end: deployments of depup's merges, health probes against a local stand-in for the
deployed app, and rollbacks (automatic, and by ``/depup rollback``) over the fake GitHub."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot import audit
from bot.core.serializer import JSONSerializer
from bot.lifecycle.state import DASHBOARD_LABEL, DashboardState
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup

REPO = "octo-org/deployed"
REQUIREMENTS = "click==7.0\nidna==2.10\nattrs==20.3.0\n"
FIRST = "depup/python/first-all"
WRITER, READER, OUTSIDER = "maint", "reader", "outsider"


class App:
    """The deployed application: answers /healthz with a status the test sets."""

    def __init__(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"ok" if app.status == 200 else b"broken"
                self.send_response(app.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                app.hits += 1

            def log_message(self, *args: object) -> None:
                pass

        self.status = 200
        self.hits = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/healthz"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app() -> Iterator[App]:
    served = App()
    yield served
    served.close()


def config(app: App, *, auto_merge: bool = True, urls: bool = True) -> str:
    health = f"[{{url: '{app.url}', body_contains: ok}}]" if urls else "[]"
    return f"""\
min_release_age: 0
security: {{audit: false}}
max_open_prs: 10
risk: {{high_at: 99}}
ignore: [{{packages: [click], update_types: [major]}}]
groups:
  - {{name: all, match: {{}}}}
phases:
  - {{name: first, title: First, match: {{packages: [click, idna]}}}}
  - {{name: second, title: Second, match: {{packages: [attrs]}}}}
health_check: {{environments: [production], urls: {health}, probes: 2, interval: 1s, soak: 1s}}
rollback: {{auto: true, auto_merge: {str(auto_merge).lower()}}}
"""


def install(depup: Depup, app: App, **options: bool) -> tuple[FakeGitHub, int]:
    fake = depup.fake
    fake.create_repo(REPO, files={"requirements.txt": REQUIREMENTS, ".github/depup.yml": config(app, **options)})
    fake.set_permission(REPO, WRITER, "write")
    fake.set_permission(REPO, READER, "read")
    fake.add_user(OUTSIDER)
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    [pull] = fake.pulls(REPO)
    assert pull.head_ref == FIRST
    return fake, pull.number


def merge_first(depup: Depup, number: int) -> str:
    """Merge phase 1's PR; its post-merge CI passes."""
    fake = depup.fake
    sha = fake.merge_pull(REPO, number)
    fake.set_status(REPO, sha, context="ci/test", state="success")
    depup.run_worker()
    return sha


def deploy(depup: Depup, state: str, sha: str | None = None) -> int:
    fake = depup.fake
    deployment = fake.create_deployment(REPO, sha or fake.branch_sha(REPO, "main") or "main")
    fake.add_deployment_status(REPO, deployment.id, state)
    depup.run_worker()
    return deployment.id


def soak(depup: Depup, limit: float = 15.0) -> None:
    """Let the probe rounds run at their scheduled times until none is left."""
    registry = ScheduledJobRegistry(queue=depup.rt.queue)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        depup.run_worker()
        ids = registry.get_job_ids()
        if not ids:
            return
        for job_id in ids:
            when = registry.get_scheduled_time(job_id)
            wait = (when - datetime.now(UTC)).total_seconds()
            if wait > 0:
                time.sleep(min(wait, 1.0))
            depup.rt.queue.enqueue_job(Job.fetch(job_id, connection=depup.redis, serializer=JSONSerializer))
            registry.remove(job_id)
    raise AssertionError("the soak did not end")


def state_of(fake: FakeGitHub) -> DashboardState:
    return DashboardState.from_body(dashboard(fake))


def dashboard(fake: FakeGitHub) -> str:
    [issue] = [i for i in fake.issues(REPO) if DASHBOARD_LABEL in [label.name for label in i.labels]]
    return issue.body or ""


def reverts(fake: FakeGitHub) -> list[int]:
    return [p.number for p in fake.pulls(REPO, state="all") if p.head_ref.startswith("depup/rollback/")]


def titles(fake: FakeGitHub) -> list[str]:
    return sorted(p.title for p in fake.pulls(REPO))


def test_a_healthy_deploy_opens_the_next_phase(depup: Depup, app: App) -> None:
    fake, number = install(depup, app)
    merge_first(depup, number)
    assert titles(fake) == []  # phase 2 waits for the deploy
    assert "waiting for the deploy of earlier upgrades to prove healthy" in dashboard(fake)
    assert "no deployment yet" in dashboard(fake)
    deploy(depup, "success")
    assert state_of(fake).merges[0].health == "soaking"
    soak(depup)
    assert app.hits >= 2
    [merge] = state_of(fake).merges
    assert merge.health == "healthy" and reverts(fake) == []
    assert titles(fake) == ["Upgrade attrs from 20.3.0 to 26.1.0"]
    body = dashboard(fake)
    assert "## Deploy health" in body and "probe round(s) passed" in body and f"{app.url} ok" in body


def test_a_failed_deploy_opens_exactly_one_revert_that_merges_itself(depup: Depup, app: App) -> None:
    fake, number = install(depup, app)
    merged = merge_first(depup, number)
    deployment = deploy(depup, "failure")
    fake.add_deployment_status(REPO, deployment, "error")  # repeated failure events
    for delivery in fake.events("deployment_status"):
        fake.redeliver(delivery.delivery_id)
    depup.run_worker()
    [revert] = reverts(fake)
    pull = fake.pull(REPO, revert)
    assert pull.title == 'Revert "Phase 1: 2 low-risk Python upgrades"' or pull.title.startswith("Revert ")
    assert "depup-rollback" in fake.labels_of(REPO, revert)
    assert f"deployment {deployment} to production reported failure" in (pull.body or "")
    assert fake.read_text(REPO, pull.head_ref, "requirements.txt") == REQUIREMENTS
    assert any(f"The revert is #{revert}" in c.body for c in fake.comments(REPO, number))
    [merge] = state_of(fake).merges
    assert merge.health == "rolled_back" and merge.reverted_by == revert and merge.sha == merged
    assert titles(fake) == [pull.title]  # the next phase is held back

    head = fake.branch_sha(REPO, pull.head_ref)
    fake.set_status(REPO, head, context="ci/test", state="success")  # type: ignore[arg-type]
    depup.run_worker()
    assert fake.pull(REPO, revert).merged
    assert fake.read_text(REPO, "main", "requirements.txt") == REQUIREMENTS
    fake.set_status(REPO, fake.branch_sha(REPO, "main"), context="ci/test", state="success")  # type: ignore[arg-type]
    depup.run_worker()
    assert titles(fake) == []  # click 7.1.2 and idna 3.20 are not proposed again; phase 2 waits for the revert
    assert "rolled back in #" in dashboard(fake)

    deploy(depup, "failure")  # the revert's own deploy fails: reported, not reverted again
    assert reverts(fake) == [revert]
    deploy(depup, "success")
    soak(depup)
    assert titles(fake) == ["Upgrade attrs from 20.3.0 to 26.1.0"]
    actions = [e.action for e in audit.latest(depup.redis, REPO, 100)]
    assert actions.count("rollback_opened") == 1 and "rollback_merged" in actions and "deploy_failing" in actions


def test_a_service_failing_during_the_soak_is_rolled_back(depup: Depup, app: App) -> None:
    fake, number = install(depup, app, auto_merge=False)
    merge_first(depup, number)
    deploy(depup, "success")
    app.status = 500
    soak(depup)
    [revert] = reverts(fake)
    body = fake.pull(REPO, revert).body or ""
    assert "health probes of deployment" in body and "FAILED" in body and "500" in body
    assert "A maintainer merges it" in body
    assert state_of(fake).merges[0].health == "rolled_back"
    head = fake.branch_sha(REPO, fake.pull(REPO, revert).head_ref)
    fake.set_status(REPO, head, context="ci/test", state="success")  # type: ignore[arg-type]
    depup.run_worker()
    assert not fake.pull(REPO, revert).merged  # rollback.auto_merge is off


def test_red_post_merge_ci_rolls_back(depup: Depup, app: App) -> None:
    fake, number = install(depup, app, urls=False)
    sha = fake.merge_pull(REPO, number)
    fake.set_status(REPO, sha, context="ci/test", state="failure")
    depup.run_worker()
    [revert] = reverts(fake)
    assert "post-merge CI failed on the default branch" in (fake.pull(REPO, revert).body or "")
    assert "`ci/test`" in (fake.pull(REPO, revert).body or "")


def test_rollback_of_one_package_of_a_group(depup: Depup, app: App) -> None:
    fake, number = install(depup, app)
    merge_first(depup, number)
    for login in (READER, OUTSIDER):
        comment = fake.comment(REPO, number, login, "/depup rollback idna")
        depup.run_worker()
        assert any("Nothing was changed." in c.body for c in fake.comments(REPO, number) if c.id > comment.id)
    fake.add_user("renovate[bot]", type="Bot")
    for bot in ("renovate[bot]", f"{fake.app.slug}[bot]"):
        fake.comment(REPO, number, bot, "/depup rollback")
    depup.run_worker()
    assert reverts(fake) == []
    fake.comment(REPO, number, WRITER, "/depup rollback idna")
    depup.run_worker()
    [revert] = reverts(fake)
    pull = fake.pull(REPO, revert)
    assert pull.title == f"Roll back idna to 2.10 (from #{number})"
    assert fake.read_text(REPO, pull.head_ref, "requirements.txt") == "click==7.1.2\nidna==2.10\nattrs==20.3.0\n"
    reply = [c.body for c in fake.comments(REPO, number) if "<!-- depup:reply" in c.body][-1]
    assert f"depup rolls back `idna` of #{number} in #{revert}" in reply
    ignored = {(i.package, i.version) for i in state_of(fake).ignored}
    assert ("idna", "3.20") in ignored and ("click", "7.1.2") not in ignored
    fake.comment(REPO, number, WRITER, "/depup rollback idna")  # again: the same revert, not a second
    depup.run_worker()
    assert reverts(fake) == [revert]
    assert "is already rolled back in" in [c.body for c in fake.comments(REPO, number)][-1]


def test_a_revert_that_no_longer_applies_is_refused_with_nothing_pushed(depup: Depup, app: App) -> None:
    fake, number = install(depup, app)
    merge_first(depup, number)
    fake.push(REPO, "main", {"requirements.txt": "click==7.1.2  # pinned for the CLI\nidna==3.20\nattrs==20.3.0\n"},
              author=WRITER)  # fmt: skip
    depup.run_worker()
    before = len(fake.writes())
    fake.comment(REPO, number, WRITER, "/depup rollback")
    depup.run_worker()
    assert reverts(fake) == []
    git_writes = [c.operation_id for c in fake.writes()[before:] if c.operation_id.startswith("git/")]
    assert git_writes == []
    replies = [c.body for c in fake.comments(REPO, number) if "cannot roll" in c.body]
    assert replies and "requirements.txt" in replies[-1] and "conflicts" in replies[-1]
    assert any(e.action == "rollback_refused" for e in audit.latest(depup.redis, REPO, 50))


def test_rollback_commands_that_cannot_apply(depup: Depup, app: App) -> None:
    fake, number = install(depup, app)
    fake.comment(REPO, number, WRITER, "/depup rollback")  # not merged yet
    issue = fake.create_issue(REPO, "Bug", "x", by=WRITER).number
    fake.comment(REPO, issue, WRITER, "/depup rollback")
    fake.comment(REPO, issue, WRITER, "/depup rollback requests")
    depup.run_worker()
    assert "is not merged: there is nothing to roll back" in fake.comments(REPO, number)[-1].body
    bodies = [c.body for c in fake.comments(REPO, issue) if "<!-- depup:reply" in c.body]
    assert "name the package" in bodies[0] and "no recent merge of its that upgraded `requests`" in bodies[1]
    assert reverts(fake) == []


def test_a_rollback_interrupted_after_its_pr_opened_is_finished_by_the_retry(depup: Depup, app: App) -> None:
    fake, number = install(depup, app)
    merge_first(depup, number)
    fake.inject("issues/create-comment", kind="status", status=502, times=1)  # the comment on the original PR
    deploy(depup, "failure")
    [revert] = reverts(fake)
    [merge] = state_of(fake).merges
    assert merge.health == "rolled_back" and merge.reverted_by == revert
    assert {("click", "7.1.2"), ("idna", "3.20")} <= {(i.package, i.version) for i in state_of(fake).ignored}
    assert sum("depup rolls this upgrade back" in c.body for c in fake.comments(REPO, number)) == 1
    assert [e.action for e in audit.latest(depup.redis, REPO, 50)].count("rollback_opened") == 1
