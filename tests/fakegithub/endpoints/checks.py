"""checks/*: check runs create, update, list for a ref."""

from __future__ import annotations

from ..responses import check_run_json
from ..state import ApiError, validation_failed
from .base import Ctx, Reply, created, op, paginate, parse_time


@op("checks/create")
def create_check_run(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    assert ctx.app is not None
    head_sha = str(ctx.arg("head_sha"))
    if not repo.store.is_commit(head_sha):
        raise validation_failed("CheckRun", f"No commit found for SHA: {head_sha}", field="head_sha")
    run = w.create_check_run(
        repo,
        head_sha,
        str(ctx.arg("name")),
        ctx.app,
        status=ctx.arg("status", "queued"),
        conclusion=ctx.arg("conclusion"),
        started_at=parse_time(ctx.arg("started_at")),
        completed_at=parse_time(ctx.arg("completed_at")),
        output=ctx.arg("output"),
        details_url=ctx.arg("details_url"),
        external_id=ctx.arg("external_id"),
        actions=ctx.arg("actions"),
    )
    body = check_run_json(w, repo, run)
    return created(body, body["url"])


@op("checks/update")
def update_check_run(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    run = repo.check_runs.get(ctx.int_param("check_run_id"))
    if run is None:
        raise ApiError(404, "Not Found")
    if run.app is not ctx.app:
        app_id = ctx.app.id if ctx.app else 0
        raise ApiError(
            403, f"Invalid app_id `{app_id}` - check run can only be modified by the GitHub App that created it."
        )
    w.update_check_run(
        repo,
        run,
        ctx.actor,
        name=ctx.arg("name"),
        status=ctx.arg("status"),
        conclusion=ctx.arg("conclusion"),
        completed_at=parse_time(ctx.arg("completed_at")),
        output=ctx.arg("output"),
        details_url=ctx.arg("details_url"),
        external_id=ctx.arg("external_id"),
    )
    return Reply(200, check_run_json(w, repo, run))


@op("checks/list-for-ref")
def list_for_ref(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    sha = repo.resolve(ctx.params["ref"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ctx.params['ref']}")
    runs = sorted((r for r in repo.check_runs.values() if r.head_sha == sha), key=lambda r: r.id, reverse=True)
    if ctx.query.get("check_name"):
        runs = [r for r in runs if r.name == ctx.query["check_name"]]
    if ctx.query.get("status"):
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if ctx.query.get("app_id"):
        runs = [r for r in runs if str(r.app.id) == ctx.query["app_id"]]
    if ctx.query.get("filter", "latest") == "latest":
        latest: dict[tuple[int, str], object] = {}
        kept = []
        for run in runs:
            key = (run.app.id, run.name)
            if key not in latest:
                latest[key] = run
                kept.append(run)
        runs = kept
    page, headers = paginate(ctx, runs)
    return Reply(200, {"total_count": len(runs), "check_runs": [check_run_json(w, repo, r) for r in page]}, headers)
