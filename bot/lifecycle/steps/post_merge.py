"""After merges: the post-merge CI of earlier merges on the default branch (it gates the next phase), a rollback
of a depup merge whose post-merge CI failed (``rollback.auto``; not while paused; a refused or finished rollback
is not tried again), and revert PRs that may merge themselves (``rollback.auto_merge``, CI green)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.lifecycle.gate import refresh_merges
from bot.lifecycle.results import read_results
from bot.lifecycle.steps.context import ScanContext, ScanState
from bot.rollback.service import Evidence, merge_auto, rollback


def post_merge_ci(ctx: ScanContext, s: ScanState) -> ScanState:
    return replace(s, state=refresh_merges(ctx.gh, ctx.record, s.state, ctx.now))


def roll_back_failed_ci(ctx: ScanContext, s: ScanState) -> ScanState:
    assert s.config is not None
    if not s.config.rollback.auto or s.paused or ctx.dry_run:
        return s
    state = s.state
    for merge in state.merges:
        if merge.ci != "failure" or merge.revert_of is not None or merge.health in ("rolled_back", "failing"):
            continue
        failed = [c for c in read_results(ctx.gh, ctx.record, merge.sha).checks if c.result == "failure"]
        evidence = Evidence(
            "ci",
            f"post-merge CI failed on the default branch for {merge.sha[:7]} (#{merge.pr})",
            tuple(f"- `{c.name}`: {c.detail}" + (f" ({c.link})" if c.link else "") for c in failed),
        )
        state, outcome = rollback(
            ctx.settings, ctx.redis, ctx.gh, ctx.record, state, s.config, merge, evidence, delivery=ctx.delivery
        )
        if outcome.pr is not None and not outcome.existing:
            ctx.result.opened.append(outcome.pr)
    return replace(s, state=state)


def merge_rollbacks(ctx: ScanContext, s: ScanState) -> ScanState:
    assert s.config is not None
    if s.paused or ctx.dry_run:
        return s
    state, left = s.state, []
    for pr in s.rollbacks:
        merged = merge_auto(ctx.gh, ctx.record, pr, s.config, ctx.ci(pr.head_sha))
        if merged is not None:  # recorded at once: the gate of this very scan waits for its post-merge checks
            state = state.with_merge(replace(merged, at=datetime.now(UTC).isoformat()))
            ctx.result.merged.append(pr.number)
            ctx.audit("rollback_merged", f"#{pr.number}", f"rollback.auto_merge, CI green on {pr.head_sha[:7]}")
        else:
            left.append(pr)
    return replace(s, state=state, rollbacks=tuple(left))
