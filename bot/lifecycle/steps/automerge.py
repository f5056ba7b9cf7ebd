"""Gate and automerge: a PR that may merge itself (its group's automerge, approvals in) merges once CI is green on
exactly the head this scan found unchanged, its required test layers passed, and neither its coverage nor its
benchmarks fell beyond their bounds (``validation``; the results comment says which); PRs that need approvals
merge once approved. Not while paused."""

from __future__ import annotations

import logging

from bot.errors import GitHubRequestError
from bot.lifecycle.steps.context import Refreshed, ScanContext, ScanState

log = logging.getLogger(__name__)


def automerge(ctx: ScanContext, s: ScanState) -> ScanState:
    assert s.config is not None
    for done in s.refreshed:
        if _ready(ctx, s, done):
            _merge(ctx, s, done)
    return s


def _ready(ctx: ScanContext, s: ScanState, done: Refreshed) -> bool:
    assert s.config is not None
    ready = (
        done.head == done.pr.head_sha
        and done.group.automerge
        and done.approved
        and not s.paused
        and ctx.ci(done.head) == "success"
    )
    if not ready:
        return False
    blockers = ctx.validation(done.head, s.config).blockers  # required layers, coverage drop, benchmark regressions
    if blockers:
        log.info("automerge held", extra={"pr": done.pr.number, "why": "; ".join(blockers)})
        return False
    return True


def _merge(ctx: ScanContext, s: ScanState, done: Refreshed) -> None:
    assert s.config is not None
    method = s.config.automerge.method
    try:
        ctx.gh.rest.pulls.merge(ctx.record.owner, ctx.record.name, done.pr.number, sha=done.head, merge_method=method)
    except GitHubRequestError as e:  # 405 not mergeable, 409 head moved: the next scan looks again
        log.info("automerge refused", extra={"pr": done.pr.number, "status": e.status, "error": str(e)})
        return
    ctx.result.merged.append(done.pr.number)
    ctx.audit("pr_merged", f"#{done.pr.number}", f"automerge ({method}), CI green on {done.head[:7]}")
