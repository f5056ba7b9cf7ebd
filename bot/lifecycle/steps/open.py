"""Open what is missing: the current phase's PRs in the plan's order, within ``max_open_prs``, once the phase gate
lets the phase open (not while paused)."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.core import metrics
from bot.deps.model import Manifest
from bot.lifecycle import approval, pulls
from bot.lifecycle.reads import OpenPr
from bot.lifecycle.state import parse_pr_meta
from bot.lifecycle.steps.context import ScanContext, ScanState
from bot.lifecycle.steps.pushing import message, usable
from bot.plan.model import Plan, PlanGroup
from config.model import Config

log = logging.getLogger(__name__)


def open_missing(ctx: ScanContext, s: ScanState) -> ScanState:
    snapshot, config, plan = s.need()
    assert s.survey is not None and s.gate is not None
    current = plan.current_phase
    if current is None or s.paused:
        return s
    manifests = {m.path: m for m in s.survey.manifests}
    existing = {pr.branch for pr in s.prs}
    blocked = s.gate.why(current)
    room = config.max_open_prs - len(s.prs)
    opened: list[OpenPr] = []
    for key in (*plan.opening, *plan.waiting):
        group = plan.group(key)
        if group is None or group.branch in existing:
            continue
        if blocked or room <= 0:
            break
        s, number, body = _open(ctx, s, plan, group, manifests, config)
        if number is not None:
            room -= 1
            opened.append(
                OpenPr(
                    number, group.branch, "", snapshot.commit, group.title, body, tuple(config.labels),
                    parse_pr_meta(body),
                )
            )  # fmt: skip
    return replace(s, prs=tuple(sorted([*s.prs, *opened], key=lambda p: p.number)))


def _open(
    ctx: ScanContext, s: ScanState, plan: Plan, group: PlanGroup, manifests: dict[str, Manifest], config: Config
) -> tuple[ScanState, int | None, str]:
    assert s.snapshot is not None
    content = pulls.content_for(group, s.snapshot, manifests, config.migrations, ctx.redis)
    if not usable(ctx, group, content):
        return s, None, ""
    if ctx.dry_run:
        log.info("dry run: would open a pull request", extra={"branch": group.branch, "title": group.title})
        return s, None, ""
    head = pulls.push_commit(ctx.gh, ctx.record, s.snapshot, group.branch, content, message(group))
    pulls.sync_risk_check(ctx.gh, ctx.record, head, group)
    gate = approval.ensure(ctx.gh, ctx.record, head, group.approvals) if group.approvals else None
    body = pulls.pr_body(group, plan, content)
    number = pulls.open_pull(
        ctx.gh, ctx.record, group.branch, group.title, body, config.labels, config.reviewers, config.assignees
    )
    ctx.result.opened.append(number)
    metrics.PRS_OPENED.inc()
    ctx.audit("pr_opened", f"#{number}", f"{group.title} (phase {group.phase}, risk {group.risk})")
    # the dashboard of this very scan lists it among the pending approvals
    return s.with_approval(number, gate), number, body
