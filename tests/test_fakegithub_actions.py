"""Workflow runs and artifacts in the fake GitHub: listed by head SHA, each artifact's zip behind a redirect to a
signed blob URL, 410 once expired, every request and answer valid against GitHub's REST description."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest
from githubkit.exception import RequestFailed

from tests.fakegithub import FakeGitHub
from tests.fakegithub.clients import installation_client

OWNER, NAME = "octo-org", "app"
REPO = f"{OWNER}/{NAME}"


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def gh(fake_github: FakeGitHub):  # type: ignore[no-untyped-def]
    fake_github.create_repo(REPO)
    inst = fake_github.create_installation(OWNER, [REPO])
    return installation_client(fake_github, inst.id)


def test_runs_by_head_sha_their_artifacts_and_the_download(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    main = fake_github.branch_sha(REPO, "main")
    other = fake_github.push(REPO, "feature", {"a.txt": "a\n"})
    data = zipped({"coverage.xml": b"<coverage line-rate='0.5'/>"})
    run = fake_github.add_workflow_run(REPO, main, name="Tests", artifacts={"coverage": data})
    fake_github.add_workflow_run(REPO, other, name="Tests", status="in_progress")
    listed = gh.rest.actions.list_workflow_runs_for_repo(OWNER, NAME, head_sha=main).parsed_data
    assert [(r.id, r.name, r.status, r.head_sha) for r in listed.workflow_runs] == [
        (run.id, "Tests", "completed", main)
    ]
    artifacts = gh.rest.actions.list_workflow_run_artifacts(OWNER, NAME, run.id).parsed_data
    [artifact] = artifacts.artifacts
    assert (artifact.name, artifact.size_in_bytes, artifact.expired) == ("coverage", len(data), False)
    answer = gh.rest.actions.download_artifact(OWNER, NAME, artifact.id, "zip")
    assert answer.status_code == 200 and answer.content == data  # githubkit followed the redirect
    assert answer.raw_response.history[-1].status_code == 302
    assert fake_github.server.violations == [] and fake_github.server.response_violations == []


def test_the_blob_url_needs_its_signature_and_an_expired_artifact_is_gone(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    main = fake_github.branch_sha(REPO, "main")
    run = fake_github.add_workflow_run(REPO, main, artifacts={"bench": zipped({"out.json": b"[]"})})
    artifact = run.artifacts[0]
    redirect = gh.rest.actions.download_artifact(OWNER, NAME, artifact.id, "zip").raw_response.history[-1]
    location = redirect.headers["location"]
    assert httpx.get(location).status_code == 200
    assert httpx.get(location.split("?")[0] + "?sig=forged").status_code == 403
    artifact.expired = True
    with pytest.raises(RequestFailed) as gone:
        gh.rest.actions.download_artifact(OWNER, NAME, artifact.id, "zip")
    assert gone.value.response.status_code == 410
