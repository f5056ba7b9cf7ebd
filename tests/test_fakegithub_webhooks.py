"""Webhooks the way GitHub sends them: signed, in order, shaped like Octokit's schemas, redeliverable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from githubkit.webhooks import parse, verify
from pydantic import ValidationError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakegithub import FakeGitHub, SentDelivery
from tests.fakegithub.clients import installation_client
from tests.fakegithub.templates import foreign_strings, schema_errors

OWNER, NAME = "octo-org", "app"
REPO = f"{OWNER}/{NAME}"


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Receiver:
    """A tiny webhook endpoint that records what it gets and answers 202."""

    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: BaseWSGIServer | None = None

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        self.requests.append((dict(request.headers), request.get_data()))
        return Response("accepted", status=202)(environ, start_response)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/api/github/webhooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.server = make_server("127.0.0.1", 0, rec, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=rec.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def emit_everything(fake: FakeGitHub) -> None:
    """Cause every event/action the fake emits, through the API and through test-side actions."""
    fake.set_permission(REPO, "alice", "write")
    inst = fake.create_installation(OWNER, [REPO])
    fake.create_repo("octo-org/lib")
    fake.add_repos_to_installation(inst.id, ["octo-org/lib"])
    fake.remove_repos_from_installation(inst.id, ["octo-org/lib"])
    gh = installation_client(fake, inst.id)

    main = fake.branch_sha(REPO, "main")
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/depup/pip/low", sha=main)  # push (created)
    fake.push(REPO, "depup/pip/low", {"requirements.txt": "flask==2.0\n"}, author="alice")  # push
    pr = gh.rest.pulls.create(OWNER, NAME, title="Upgrade flask", head="depup/pip/low", base="main").parsed_data
    gh.rest.pulls.update(OWNER, NAME, pr.number, body="new body")  # edited
    gh.rest.issues.add_labels(OWNER, NAME, pr.number, labels=["dependencies"])  # labeled
    gh.rest.issues.remove_label(OWNER, NAME, pr.number, "dependencies")  # unlabeled
    fake.push(REPO, "depup/pip/low", {"extra.txt": "x\n"})  # synchronize
    head = fake.branch_sha(REPO, "depup/pip/low")
    assert head is not None
    comment = fake.comment(REPO, pr.number, "alice", "/depup approve")  # on a PR
    fake.edit_comment(REPO, comment.id, "/depup approve please")
    issue = gh.rest.issues.create(OWNER, NAME, title="Dependency dashboard").parsed_data
    gh.rest.issues.create_comment(OWNER, NAME, issue.number, body="plan")  # on an issue
    run = gh.rest.checks.create(OWNER, NAME, name="depup/approval", head_sha=head, status="in_progress").parsed_data
    gh.rest.checks.update(OWNER, NAME, run.id, conclusion="success")  # completed + suite
    fake.create_check_run(REPO, head, name="tests", conclusion="failure")  # other app
    gh.rest.repos.create_commit_status(OWNER, NAME, head, state="pending", context="depup")
    fake.set_status(REPO, head, context="ci/test", state="success", target_url="https://ci.example/1")
    gh.rest.pulls.update(OWNER, NAME, pr.number, state="closed")  # closed
    gh.rest.pulls.update(OWNER, NAME, pr.number, state="open")  # reopened
    fake.merge_pull(REPO, pr.number, by="alice", method="squash")  # closed merged + push
    tip = fake.branch_sha(REPO, "main")
    assert tip is not None
    fake.set_status(REPO, "main", context="ci/test", state="success")
    deployment = fake.create_deployment(REPO, tip, environment="production")
    for state in ("in_progress", "success", "failure", "error"):
        fake.add_deployment_status(REPO, deployment.id, state)
    fake.push(REPO, "side", {"s.txt": "1\n"}, emit=True)
    fake.push(REPO, "side", {"s.txt": "2\n"})
    side = fake.repo(REPO)
    store = side.store
    parent = store.commit(fake.branch_sha(REPO, "side") or "").parents[0]
    gh.rest.git.update_ref(OWNER, NAME, "heads/side", sha=parent, force=True)  # push (forced)
    gh.rest.git.delete_ref(OWNER, NAME, "heads/side")  # push (deleted)
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/tags/v1.0.0", sha=tip)  # push (tag)
    fake.delete_installation(inst.id)


EXPECTED = {
    ("installation", "created"),
    ("installation", "deleted"),
    ("installation_repositories", "added"),
    ("installation_repositories", "removed"),
    ("push", None),
    ("pull_request", "opened"),
    ("pull_request", "edited"),
    ("pull_request", "labeled"),
    ("pull_request", "unlabeled"),
    ("pull_request", "synchronize"),
    ("pull_request", "closed"),
    ("pull_request", "reopened"),
    ("issue_comment", "created"),
    ("issue_comment", "edited"),
    ("check_run", "created"),
    ("check_run", "completed"),
    ("check_suite", "completed"),
    ("status", None),
    ("deployment", "created"),
    ("deployment_status", "created"),
}


def test_every_emitted_payload_matches_octokit_schemas(fake_github: FakeGitHub, receiver: Receiver) -> None:
    fake_github.set_webhook_target(receiver.url)
    fake_github.create_repo(REPO, files={"requirements.txt": "flask==1.0\n"})
    emit_everything(fake_github)
    fake_github.wait_for_deliveries()
    seen = {(d.event, d.action) for d in fake_github.deliveries}
    assert seen == EXPECTED
    problems = []
    for d in fake_github.deliveries:
        problems += [f"{d.event}.{d.action}: {e}" for e in schema_errors(d.event, d.action, d.payload)]
        problems += [f"{d.event}.{d.action}: example data left: {e}" for e in foreign_strings(d.payload)]
    assert problems == []
    assert all(d.status_code == 202 for d in fake_github.deliveries)
    assert len(receiver.requests) == len(fake_github.deliveries)


def test_payload_contents_follow_the_state(fake_github: FakeGitHub) -> None:
    fake_github.create_repo(REPO, files={"requirements.txt": "flask==1.0\n"})
    emit_everything(fake_github)
    by_kind: dict[tuple[str, str | None], list[SentDelivery]] = {}
    for d in fake_github.deliveries:
        by_kind.setdefault((d.event, d.action), []).append(d)
    merged = [d.payload for d in by_kind[("pull_request", "closed")] if d.payload["pull_request"]["merged"]]
    assert len(merged) == 1 and merged[0]["sender"]["login"] == "alice"
    assert merged[0]["pull_request"]["merge_commit_sha"] == fake_github.pull(REPO, 1).merge_commit_sha
    assert merged[0]["pull_request"]["merged_by"]["login"] == "alice"
    comment = by_kind[("issue_comment", "created")][0].payload
    assert comment["issue"]["pull_request"]["url"].endswith("/pulls/1")
    assert comment["comment"]["body"] == "/depup approve" and comment["sender"]["login"] == "alice"
    edited = by_kind[("issue_comment", "edited")][0].payload
    assert edited["changes"] == {"body": {"from": "/depup approve"}}
    opened = by_kind[("pull_request", "opened")][0].payload
    assert opened["pull_request"]["user"]["login"] == "depup[bot]" and opened["sender"]["type"] == "Bot"
    assert opened["installation"]["id"] == by_kind[("installation", "created")][0].payload["installation"]["id"]
    sync = by_kind[("pull_request", "synchronize")][0].payload
    assert sync["after"] == sync["pull_request"]["head"]["sha"] and sync["before"] != sync["after"]
    pushes = [d.payload for d in by_kind[("push", None)]]
    assert any(p["created"] for p in pushes) and any(p["deleted"] for p in pushes) and any(p["forced"] for p in pushes)
    assert any(p["ref"] == "refs/tags/v1.0.0" for p in pushes)
    commit_push = next(p for p in pushes if p["commits"] and p["ref"] == "refs/heads/depup/pip/low")
    assert commit_push["commits"][-1]["modified"] == ["requirements.txt"]
    suite = by_kind[("check_suite", "completed")]
    assert {d.payload["check_suite"]["conclusion"] for d in suite} == {"success", "failure"}
    states = [d.payload["deployment_status"]["state"] for d in by_kind[("deployment_status", "created")]]
    assert states == ["in_progress", "success", "failure", "error"]
    # nothing is sent to the app for repositories it is not installed on
    assert all(
        d.payload.get("repository", {}).get("full_name") != "octo-org/lib"
        for d in fake_github.deliveries
        if d.event not in ("installation", "installation_repositories")
    )


def test_signatures_verify_and_headers_are_githubs(fake_github: FakeGitHub, receiver: Receiver) -> None:
    fake_github.set_webhook_target(receiver.url)
    fake_github.create_repo(REPO)
    fake_github.create_installation(OWNER, [REPO])
    fake_github.push(REPO, "main", {"a.txt": "a\n"})
    fake_github.wait_for_deliveries()
    secret = fake_github.app.webhook_secret
    assert len(receiver.requests) == 2
    for (headers, body), delivery in zip(receiver.requests, fake_github.deliveries, strict=True):
        assert verify(secret, body, headers["X-Hub-Signature-256"])
        assert not verify("wrong", body, headers["X-Hub-Signature-256"])
        assert headers["X-Hub-Signature"].startswith("sha1=")
        assert headers["X-Github-Event"] == delivery.event
        assert headers["X-Github-Delivery"] == delivery.delivery_id
        assert headers["X-Github-Hook-Installation-Target-Id"] == str(fake_github.app.id)
        assert headers["X-Github-Hook-Installation-Target-Type"] == "integration"
        assert headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert headers["Content-Type"] == "application/json"
        assert body == delivery.body
    assert [h["X-Github-Event"] for h, _ in receiver.requests] == ["installation", "push"]


def test_custom_secret_redeliver_and_no_target(fake_github: FakeGitHub, receiver: Receiver) -> None:
    fake_github.create_repo(REPO)
    fake_github.create_installation(OWNER, [REPO])  # no target yet: recorded, not sent
    assert fake_github.deliveries[0].status_code is None and receiver.requests == []
    fake_github.set_webhook_target(receiver.url, secret="s3cret")
    fake_github.push(REPO, "main", {"a.txt": "a\n"})
    fake_github.wait_for_deliveries()
    original = fake_github.deliveries[-1]
    again = fake_github.redeliver(original.delivery_id)
    fake_github.wait_for_deliveries()
    assert again.delivery_id == original.delivery_id and again.redelivery and again.status_code == 202
    (h1, b1), (h2, b2) = receiver.requests
    assert h1["X-Github-Delivery"] == h2["X-Github-Delivery"] == original.delivery_id and b1 == b2
    assert verify("s3cret", b2, h2["X-Hub-Signature-256"])


def test_unreachable_target_is_recorded(fake_github: FakeGitHub) -> None:
    fake_github.set_webhook_target("http://127.0.0.1:9/hooks")
    fake_github.create_repo(REPO)
    fake_github.create_installation(OWNER, [REPO])
    fake_github.wait_for_deliveries()
    delivery = fake_github.deliveries[0]
    assert delivery.status_code is None and delivery.error


# githubkit 0.16.1's webhook models (newer than Octokit's 7.6.1 schemas) require label.archived_at/_by and
# commit verification.verified_at, which Octokit's schema forbids (additionalProperties: false). The fake
# follows Octokit's schema, so strict githubkit.webhooks.parse fails on exactly these; the app must fall
# back to the raw dict (LIBRARY-NOTES: never let a model error drop an event).
PARSE_GAPS = {("pull_request", "labeled"), ("pull_request", "unlabeled"), ("status", None)}


def test_githubkit_parses_every_payload_but_the_known_gaps(fake_github: FakeGitHub) -> None:
    fake_github.create_repo(REPO, files={"requirements.txt": "flask==1.0\n"})
    emit_everything(fake_github)
    failed = set()
    for delivery in fake_github.deliveries:
        try:
            parse(delivery.event, delivery.body)
        except ValidationError:
            failed.add((delivery.event, delivery.action))
    assert failed == PARSE_GAPS
