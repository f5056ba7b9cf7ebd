"""actions/*: workflow runs of a repository, a run's artifacts, and an artifact's download (a 302 to the fake's
blob route, as GitHub redirects to its storage with a short-lived signed URL)."""

from __future__ import annotations

import hashlib
import hmac

from ..responses import artifact_json, workflow_run_json
from ..state import ApiError
from .base import Ctx, Reply, op, paginate

BLOB_PREFIX = "/_blobs/artifacts/"  # served by server.FakeServer outside the REST description
BLOB_KEY = b"fakegithub-artifact-blobs"


def blob_signature(repo: str, artifact_id: int) -> str:
    return hmac.new(BLOB_KEY, f"{repo}:{artifact_id}".encode(), hashlib.sha256).hexdigest()[:32]


@op("actions/list-workflow-runs-for-repo")
def list_workflow_runs(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    runs = sorted(repo.workflow_runs.values(), key=lambda r: r.id, reverse=True)
    if ctx.query.get("head_sha"):
        runs = [r for r in runs if r.head_sha == ctx.query["head_sha"]]
    if ctx.query.get("branch"):
        runs = [r for r in runs if r.head_branch == ctx.query["branch"]]
    if ctx.query.get("event"):
        runs = [r for r in runs if r.event == ctx.query["event"]]
    if ctx.query.get("status"):
        wanted = ctx.query["status"]
        runs = [r for r in runs if wanted in (r.status, r.conclusion)]
    page, headers = paginate(ctx, runs)
    return Reply(
        200, {"total_count": len(runs), "workflow_runs": [workflow_run_json(w, repo, r) for r in page]}, headers
    )


@op("actions/list-workflow-run-artifacts")
def list_run_artifacts(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    run = repo.workflow_runs.get(ctx.int_param("run_id"))
    if run is None:
        raise ApiError(404, "Not Found")
    artifacts = [a for a in run.artifacts if not ctx.query.get("name") or a.name == ctx.query["name"]]
    page, headers = paginate(ctx, artifacts)
    body = {"total_count": len(artifacts), "artifacts": [artifact_json(w, repo, run, a) for a in page]}
    return Reply(200, body, headers)


@op("actions/download-artifact")
def download_artifact(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    if ctx.params.get("archive_format") != "zip":
        raise ApiError(422, "The archive_format must be zip.")
    found = w.find_artifact(repo, ctx.int_param("artifact_id"))
    if found is None:
        raise ApiError(404, "Not Found")
    _, artifact = found
    if artifact.expired:
        raise ApiError(410, "Artifact has expired")
    root = ctx.base_url.split("/repos/", 1)[0]
    location = (
        f"{root}{BLOB_PREFIX}{repo.full_name}/{artifact.id}.zip?sig={blob_signature(repo.full_name, artifact.id)}"
    )
    return Reply(302, None, {"Location": location})
