"""Read the repository: the default branch's head and the files depup reads, the dashboard issue and the state
it stores, and depup's open pull requests (upgrades and reverts)."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.github.client import json_body
from bot.lifecycle.reads import find_dashboard, open_depup_prs
from bot.lifecycle.snapshot import read_snapshot
from bot.lifecycle.state import ROLLBACK_PREFIX, DashboardState
from bot.lifecycle.steps.context import ScanContext, ScanState

log = logging.getLogger(__name__)


def read_repository(ctx: ScanContext, s: ScanState) -> ScanState:
    owner, name = ctx.record.owner, ctx.record.name
    ref = json_body(ctx.gh.rest.git.get_ref(owner, name, f"heads/{ctx.record.default_branch}"))
    head = str(ref["object"]["sha"])
    ctx.result.head = head
    log.info("scan started", extra={"repo": ctx.record.full_name, "reason": ctx.reason, "head": head})
    snapshot = read_snapshot(ctx.gh, owner, name, head, ctx.workdir / "repo", ctx.redis)
    dashboard = find_dashboard(ctx.gh, ctx.record, ctx.redis)
    state = DashboardState.from_body(dashboard.body if dashboard else None)
    return replace(s, snapshot=snapshot, dashboard=dashboard, state=state)


def list_pull_requests(ctx: ScanContext, s: ScanState) -> ScanState:
    every = open_depup_prs(ctx.gh, ctx.record)
    prs = tuple(pr for pr in every if not pr.branch.startswith(ROLLBACK_PREFIX))
    rollbacks = tuple(pr for pr in every if pr.branch.startswith(ROLLBACK_PREFIX))
    return replace(s, prs=prs, rollbacks=rollbacks)
