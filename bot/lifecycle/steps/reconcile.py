"""Reconcile each open PR with the plan: a PR whose group is still planned gets the group's content (a new commit
only when its files differ, or when ``/depup rebase``/``recreate`` asks), title, body, labels, risk check and
approval gate; one the plan no longer has is closed (not while paused); hands-off branches are left alone."""

from __future__ import annotations

from dataclasses import replace

from bot.deps.model import Manifest
from bot.lifecycle import approval, pulls
from bot.lifecycle.reads import OpenPr
from bot.lifecycle.steps.context import Refreshed, ScanContext, ScanState
from bot.lifecycle.steps.pushing import message, usable, with_ci, with_validation
from bot.plan.model import Plan, PlanGroup
from config.model import Config


def reconcile_open_prs(ctx: ScanContext, s: ScanState) -> ScanState:
    _, config, plan = s.need()
    assert s.survey is not None
    manifests = {m.path: m for m in s.survey.manifests}
    planned = {g.branch: g for g in plan.groups}
    asked = ctx.directives.rebase | ctx.directives.recreate
    still_open: list[OpenPr] = []
    refreshed: list[Refreshed] = []
    for pr in s.prs:
        group = planned.get(pr.branch)
        if pr.branch in s.state.hands_off:
            still_open.append(pr)
        elif group is None:
            if not s.paused:
                s = _close(ctx, s, pr)
            else:
                still_open.append(pr)
        else:
            if not s.paused or pr.branch in asked:
                s, done = _refresh(ctx, s, plan, group, pr, manifests, config)
                refreshed.extend(done)
            else:
                s, _ = gate_approval(ctx, s, pr.number, pr.head_sha, group.approvals)
            still_open.append(pr)
    return replace(s, prs=tuple(sorted(still_open, key=lambda p: p.number)), refreshed=tuple(refreshed))


def _refresh(
    ctx: ScanContext,
    s: ScanState,
    plan: Plan,
    group: PlanGroup,
    pr: OpenPr,
    manifests: dict[str, Manifest],
    config: Config,
) -> tuple[ScanState, list[Refreshed]]:
    assert s.snapshot is not None
    content = pulls.content_for(group, s.snapshot, manifests, config.migrations, ctx.redis)
    if not usable(ctx, group, content) or ctx.dry_run:
        return s, []
    changed = False
    head = pr.head_sha
    asked = pr.branch in ctx.directives.rebase or pr.branch in ctx.directives.recreate
    if asked or not pulls.same_content(ctx.gh, ctx.record, pr, content):
        head = pulls.push_commit(
            ctx.gh, ctx.record, s.snapshot, group.branch, content, message(group), branch_exists=True
        )
        changed = head != pr.head_sha
        if asked:
            ctx.result.rebased[pr.branch] = head
    if not changed:  # the PR's CI tested exactly this content: its verdict and validation join the risk shown
        group = with_ci(group, ctx.ci(head), config)
        group = with_validation(group, ctx.validation(head, config), config)
    pulls.sync_risk_check(ctx.gh, ctx.record, head, group)
    s, gate = gate_approval(ctx, s, pr.number, head, group.approvals, before=pr.head_sha)
    changed |= pulls.update_pull(ctx.gh, ctx.record, pr, group.title, pulls.pr_body(group, plan, content))
    pulls.sync_labels(ctx.gh, ctx.record, pr.number, pr.labels, config.labels)
    if changed:
        ctx.result.updated.append(pr.number)
        ctx.audit("pr_updated", f"#{pr.number}", group.title)
    approved = gate is None or gate.met
    return s, [Refreshed(pr, head, group, approved)]


def gate_approval(
    ctx: ScanContext, s: ScanState, number: int, head: str, needed: int, before: str | None = None
) -> tuple[ScanState, approval.Approval | None]:
    """The approval check on the PR's head; a new head starts over, and the PR says so when approvals were
    given on the old one."""
    if ctx.dry_run:
        return s, None
    gate = approval.ensure(ctx.gh, ctx.record, head, needed)
    s = s.with_approval(number, gate)
    if before and before != head and needed:
        old = approval.read(ctx.gh, ctx.record, before)
        if old is not None and old.by:
            names = ", ".join(f"@{b}" for b in old.by)
            ctx.comment_once(
                number,
                f"approvals-reset-{head}",
                f"New commit {head[:7]}: the approvals given on {before[:7]} ({names}) no longer count. "
                f"This pull request needs {needed} approval{'s' if needed != 1 else ''} again: `/depup approve`.",
            )
            ctx.audit("approvals_reset", f"#{number}", f"new commit {head[:7]}; approvals by {names} dropped")
    return s, gate


def _close(ctx: ScanContext, s: ScanState, pr: OpenPr) -> ScanState:
    if ctx.dry_run:
        return s
    pulls.close_pull(
        ctx.gh,
        ctx.record,
        pr,
        "depup closed this pull request: the upgrade it carries is no longer proposed (it is already on the "
        "default branch, a newer plan supersedes it, or the config now ignores it).",
    )
    ctx.result.closed.append(pr.number)
    ctx.audit("pr_closed", f"#{pr.number}", "no longer proposed")
    return replace(s, state=s.state.closed(pr.number))
