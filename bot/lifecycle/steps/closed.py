"""Record what happened to depup's pull requests since the last scan: merges (their post-merge CI gates the next
phase) and PRs closed without merging (their versions are ignored until newer ones appear; depup says so on the
PR once)."""

from __future__ import annotations

from dataclasses import replace

from bot.lifecycle.reads import recently_closed_depup_prs
from bot.lifecycle.state import IgnoredVersion, Merge
from bot.lifecycle.steps.context import ScanContext, ScanState


def record_closed(ctx: ScanContext, s: ScanState) -> ScanState:
    state = s.state
    known_merges = {m.pr for m in state.merges}
    rejected = {(i.ecosystem, i.package, i.version) for i in state.ignored}
    for pr in reversed(recently_closed_depup_prs(ctx.gh, ctx.record)):
        assert pr.meta is not None
        if pr.number in state.closed_by_depup:
            continue
        if pr.branch in state.hands_off:
            state = replace(state, hands_off=tuple(b for b in state.hands_off if b != pr.branch))
        if pr.merged_sha is not None:
            if pr.number not in known_merges:
                packages = tuple(c.package for c in pr.meta.packages)
                merge = Merge(
                    pr.number, pr.merged_sha, pr.meta.phase, at=pr.closed_at or None, packages=packages,
                    revert_of=pr.meta.rollback_of,
                )  # fmt: skip
                state = state.with_merge(merge)
                ctx.audit("pr_merged", f"#{pr.number}", f"merge {pr.merged_sha[:7]}, phase {pr.meta.phase}")
            continue
        if pr.meta.rollback_of is not None:
            continue  # a revert PR closed unmerged: the maintainers keep the upgrade
        versions = [
            IgnoredVersion(c.ecosystem, c.package, c.target, f"#{pr.number} was closed without merging")
            for c in pr.meta.packages
            if c.update_type != "lockfile" and (c.ecosystem, c.package, c.target) not in rejected
        ]
        if not versions:
            continue
        state = state.with_ignored(*versions)
        listed = ", ".join(f"`{v.package}` {v.version}" for v in versions)
        ctx.comment_once(
            pr.number,
            "ignored-versions",
            f"This pull request was closed without merging, so depup will not propose {listed} again. "
            "It will propose newer versions when they are released; `/depup unignore <package>` lifts this "
            "sooner.",
        )
        ctx.audit("versions_ignored", f"#{pr.number}", listed)
    return replace(s, state=state)
