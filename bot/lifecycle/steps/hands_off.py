"""Hands off: a depup branch someone else pushed to is never touched again (no rebase, update or close) until
``/depup recreate`` or the PR is closed; depup says so on the PR once."""

from __future__ import annotations

from dataclasses import replace

from bot.lifecycle import pulls
from bot.lifecycle.steps.context import ScanContext, ScanState


def hands_off(ctx: ScanContext, s: ScanState) -> ScanState:
    recreate = ctx.directives.recreate
    state = replace(s.state, hands_off=tuple(b for b in s.state.hands_off if b not in recreate))
    for pr in s.prs:
        if pr.branch in recreate:
            continue
        if pr.branch in state.hands_off or pulls.authored_by_depup(ctx.gh, ctx.record, pr.head_sha):
            continue
        state = replace(state, hands_off=(*state.hands_off, pr.branch))
        ctx.comment_once(
            pr.number,
            "hands-off",
            f"Someone else pushed to `{pr.branch}` ({pr.head_sha[:7]}), so depup will not touch this pull "
            "request any more: no rebases, no updates, no closing. Close it to let depup propose the upgrade "
            "again.",
        )
        ctx.audit("hands_off", f"#{pr.number}", f"commit {pr.head_sha[:7]} not pushed by depup")
    return replace(s, state=state)
