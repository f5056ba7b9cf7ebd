"""Check runs, commit statuses, deployments and collaborator permissions through githubkit."""

from __future__ import annotations

import pytest
from githubkit.exception import RequestFailed

from tests.fakegithub import FakeGitHub
from tests.fakegithub.clients import installation_client
from tests.fakegithub.endpoints import HANDLERS
from tests.fakegithub.spec import load_spec

OWNER, NAME = "octo-org", "app"
REPO = f"{OWNER}/{NAME}"


@pytest.fixture
def gh(fake_github: FakeGitHub):  # type: ignore[no-untyped-def]
    fake_github.create_repo(REPO)
    inst = fake_github.create_installation(OWNER, [REPO])
    return installation_client(fake_github, inst.id)


def test_every_described_operation_has_a_handler() -> None:
    described = {route.operation_id for route in load_spec().routes}
    assert len(described) == 53
    assert described == set(HANDLERS)


def test_check_runs_create_update_list(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    sha = fake_github.push(REPO, "depup/x", {"a.txt": "a\n"})
    run = gh.rest.checks.create(
        OWNER,
        NAME,
        name="depup/approval",
        head_sha=sha,
        status="in_progress",
        output={"title": "Waiting", "summary": "needs 1 approval"},
    ).parsed_data
    assert run.app.slug == "depup" and run.status == "in_progress" and run.conclusion is None
    assert run.output.title == "Waiting"
    done = gh.rest.checks.update(OWNER, NAME, run.id, status="completed", conclusion="success").parsed_data
    assert done.status == "completed" and done.conclusion == "success" and done.completed_at is not None
    fake_github.create_check_run(REPO, sha, name="tests", status="completed", conclusion="failure")
    fake_github.create_check_run(REPO, sha, name="lint", status="in_progress")
    for ref in (sha, "depup/x", sha[:12]):
        listed = gh.rest.checks.list_for_ref(OWNER, NAME, ref).parsed_data
        assert listed.total_count == 3
    named = gh.rest.checks.list_for_ref(OWNER, NAME, "depup/x", check_name="tests").parsed_data
    assert [(r.name, r.conclusion, r.app.slug) for r in named.check_runs] == [("tests", "failure", "github-actions")]
    pending = gh.rest.checks.list_for_ref(OWNER, NAME, sha, status="in_progress").parsed_data
    assert [r.name for r in pending.check_runs] == ["lint"]
    foreign = next(r for r in fake_github.check_runs(REPO, sha) if r.name == "tests")
    with pytest.raises(RequestFailed) as not_ours:
        gh.rest.checks.update(OWNER, NAME, foreign.id, conclusion="success")
    assert not_ours.value.response.status_code == 403


def test_combined_status(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    sha = fake_github.branch_sha(REPO, "main")
    assert sha is not None
    empty = gh.rest.repos.get_combined_status_for_ref(OWNER, NAME, "main").parsed_data
    assert (empty.state, empty.total_count) == ("pending", 0)
    created = gh.rest.repos.create_commit_status(
        OWNER, NAME, sha, state="pending", context="depup", description="waiting"
    ).parsed_data
    assert created.creator is not None and created.creator.login == "depup[bot]"
    fake_github.set_status(REPO, sha, context="ci/test", state="success")
    assert gh.rest.repos.get_combined_status_for_ref(OWNER, NAME, sha).parsed_data.state == "pending"
    gh.rest.repos.create_commit_status(OWNER, NAME, sha, state="success", context="depup")
    combined = gh.rest.repos.get_combined_status_for_ref(OWNER, NAME, "main").parsed_data
    assert (combined.state, combined.total_count) == ("success", 2)
    fake_github.set_status(REPO, sha, context="ci/test", state="failure")
    combined = gh.rest.repos.get_combined_status_for_ref(OWNER, NAME, "main").parsed_data
    assert combined.state == "failure" and {s.context: s.state for s in combined.statuses} == {
        "ci/test": "failure",
        "depup": "success",
    }


def test_deployments_and_statuses(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    sha = fake_github.branch_sha(REPO, "main")
    assert sha is not None
    with pytest.raises(RequestFailed) as read_only:  # depup's default permissions: deployments read
        gh.rest.repos.create_deployment(OWNER, NAME, ref="main")
    assert read_only.value.response.status_code == 403
    fake_github.delete_installation(fake_github.world.installation_for(fake_github.repo(REPO)).id)  # type: ignore[union-attr]
    permissions = {**fake_github.app.permissions, "deployments": "write"}
    gh = installation_client(fake_github, fake_github.create_installation(OWNER, [REPO], permissions=permissions).id)
    ours = gh.rest.repos.create_deployment(
        OWNER, NAME, ref="main", environment="staging", required_contexts=[]
    ).parsed_data
    assert ours.sha == sha and ours.environment == "staging"
    theirs = fake_github.create_deployment(REPO, sha, environment="production")
    fake_github.add_deployment_status(REPO, theirs.id, "in_progress")
    fake_github.add_deployment_status(REPO, theirs.id, "failure", description="health check failed")
    listed = gh.rest.repos.list_deployments(OWNER, NAME, environment="production").parsed_data
    assert [d.id for d in listed] == [theirs.id]
    assert len(gh.rest.repos.list_deployments(OWNER, NAME, sha=sha).parsed_data) == 2
    statuses = gh.rest.repos.list_deployment_statuses(OWNER, NAME, theirs.id).parsed_data
    assert [s.state for s in statuses] == ["failure", "in_progress"]
    fake_github.set_status(REPO, sha, context="ci/test", state="failure")
    with pytest.raises(RequestFailed) as blocked:
        gh.rest.repos.create_deployment(OWNER, NAME, ref="main")
    assert blocked.value.response.status_code == 409


@pytest.mark.parametrize(
    ("role", "permission", "role_name"),
    [
        ("admin", "admin", "admin"),
        ("maintain", "write", "maintain"),
        ("write", "write", "write"),
        ("triage", "read", "triage"),
        ("read", "read", "read"),
        ("none", "none", "none"),
    ],
)
def test_collaborator_permission(fake_github: FakeGitHub, gh, role: str, permission: str, role_name: str) -> None:  # type: ignore[no-untyped-def]
    fake_github.set_permission(REPO, "alice", role)
    level = gh.rest.repos.get_collaborator_permission_level(OWNER, NAME, "alice").parsed_data
    assert (level.permission, level.role_name, level.user.login) == (permission, role_name, "alice")


def test_collaborator_permission_defaults(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.add_user("bob")
    assert gh.rest.repos.get_collaborator_permission_level(OWNER, NAME, "bob").parsed_data.permission == "read"
    with pytest.raises(RequestFailed) as nobody:
        gh.rest.repos.get_collaborator_permission_level(OWNER, NAME, "nobody")
    assert nobody.value.response.status_code == 404
