"""CI results on depup pull requests: every check run, check suite, workflow run or commit status that reports
on a depup PR's head updates that PR's sticky test-results comment."""

from __future__ import annotations

from bot.core.delivery import Delivery
from bot.core.payload import Fields
from bot.events.context import Context
from bot.events.router import Router
from bot.github.client import json_body
from bot.lifecycle.repo_config import current_config
from bot.lifecycle.results import read_results, render, results_comment_key, sync_comment, validate_head
from bot.lifecycle.state import BRANCH_PREFIX
from bot.repos.registry import RepoRecord

router = Router()


@router.on("check_run", "created", "completed", "rerequested")
@router.on("check_suite", "completed", "requested", "rerequested")
@router.on("workflow_run", "requested", "in_progress", "completed")
@router.on("status")
def update_test_results(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.fields
    full_name = payload.obj("repository").text("full_name")
    record = ctx.repo(full_name) if full_name else None
    if record is None:
        return
    run = payload.obj("check_run")
    suite = payload.obj("check_suite")
    if not suite.data:
        suite = run.obj("check_suite")
    if run.text("name").startswith("depup/") or suite.obj("app").identifier("id") == ctx.settings.app_id:
        return  # depup's own checks are not test results
    branches = _depup_branches(delivery.event, payload)
    for branch in sorted(branches):
        _update(ctx, record, branch)


def _depup_branches(event: str, payload: Fields) -> set[str]:
    names: set[str] = set()
    subject = Fields({})
    if event == "check_run":
        subject = payload.obj("check_run")
        names.add(subject.obj("check_suite").text("head_branch"))
    elif event in ("check_suite", "workflow_run"):
        subject = payload.obj(event)
        names.add(subject.text("head_branch"))
    elif event == "status":
        names.update(b.text("name") for b in payload.objs("branches"))
    for pull in subject.objs("pull_requests"):
        names.add(pull.obj("head").text("ref"))
    return {n for n in names if n.startswith(BRANCH_PREFIX)}


def _update(ctx: Context, record: RepoRecord, branch: str) -> None:
    gh = ctx.github
    pulls = json_body(
        gh.rest.pulls.list(record.owner, record.name, state="open", head=f"{record.owner}:{branch}", per_page=5)
    )
    if not pulls:
        return
    pull = pulls[0]
    head = str((pull.get("head") or {}).get("sha"))
    with ctx.redis.lock(f"depup:results-lock:{record.full_name}#{pull['number']}", timeout=60, blocking_timeout=60):
        results = read_results(gh, record, head)
        if not results.checks and not ctx.redis.exists(results_comment_key(record, int(pull["number"]))):
            return  # nothing to report, and no earlier table to bring up to date
        config = current_config(gh, record, ctx.redis, None)
        validation = validate_head(gh, record, ctx.redis, results, config.validation)
        text = render(results, str(pull.get("body") or ""), validation)
        if not ctx.settings.dry_run and sync_comment(gh, record, ctx.redis, int(pull["number"]), text):
            ctx.log.info("test results updated", extra={"pr": pull["number"], "verdict": results.verdict})
