"""CI results on depup pull requests: every check run, check suite, workflow run or commit status that reports
on a depup PR's head updates that PR's sticky test-results comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.context import Context
from bot.github import json_body
from bot.lifecycle.results import read_results, render, results_comment_key, sync_comment
from bot.lifecycle.state import BRANCH_PREFIX
from bot.repos import RepoRecord
from bot.router import Delivery, Router

router = Router()


@router.on("check_run", "created", "completed", "rerequested")
@router.on("check_suite", "completed", "requested", "rerequested")
@router.on("workflow_run", "requested", "in_progress", "completed")
@router.on("status")
def update_test_results(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.payload
    full_name = (payload.get("repository") or {}).get("full_name")
    record = ctx.repos.get(str(full_name)) if full_name else None
    if record is None:
        return
    run = payload.get("check_run") or {}
    suite = payload.get("check_suite") or run.get("check_suite") or {}
    if str(run.get("name", "")).startswith("depup/") or str((suite.get("app") or {}).get("id")) == ctx.settings.app_id:
        return  # depup's own checks are not test results
    branches = _depup_branches(delivery.event, payload)
    for branch in sorted(branches):
        _update(ctx, record, branch)


def _depup_branches(event: str, payload: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    subject: Mapping[str, Any] = {}
    if event == "check_run":
        subject = payload.get("check_run") or {}
        names.add(str((subject.get("check_suite") or {}).get("head_branch") or ""))
    elif event == "check_suite":
        subject = payload.get("check_suite") or {}
        names.add(str(subject.get("head_branch") or ""))
    elif event == "workflow_run":
        subject = payload.get("workflow_run") or {}
        names.add(str(subject.get("head_branch") or ""))
    elif event == "status":
        names.update(str(b.get("name")) for b in payload.get("branches") or [] if isinstance(b, Mapping))
    for pull in subject.get("pull_requests") or []:
        names.add(str(((pull or {}).get("head") or {}).get("ref") or ""))
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
        text = render(results, str(pull.get("body") or ""))
        if not ctx.settings.dry_run and sync_comment(gh, record, ctx.redis, int(pull["number"]), text):
            ctx.log.info("test results updated", extra={"pr": pull["number"], "verdict": results.verdict})
