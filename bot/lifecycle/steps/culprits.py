"""Culprit search: a grouped PR whose CI failed (or that ``/depup split`` names) is closed and split in halves; a
split part of one package that fails is the culprit: its version is ignored and the PR that failed first says
which package it was. Then the plan is made again with the new splits and ignores."""

from __future__ import annotations

from dataclasses import replace

from bot.lifecycle import pulls
from bot.lifecycle.reads import OpenPr
from bot.lifecycle.state import DashboardState, IgnoredVersion, Split
from bot.lifecycle.steps.context import ScanContext, ScanState
from bot.lifecycle.steps.plan import replan
from bot.plan.model import PlanGroup


def split_failures(ctx: ScanContext, s: ScanState) -> ScanState:
    _, config, plan = s.need()
    if not (config.split_failing_groups and not s.paused) and not ctx.directives.split:
        return s
    planned = {g.branch: g for g in plan.groups}
    closed: set[int] = set()
    state = s.state
    for pr in s.prs:
        group = planned.get(pr.branch)
        if group is None or pr.branch in state.hands_off:
            continue
        asked = pr.branch in ctx.directives.split
        if len(group.items) < 2 and (group.kind != "split" or asked):
            continue
        if not asked and (s.paused or ctx.ci(pr.head_sha) != "failure"):
            continue
        state = _split(ctx, state, pr, group) if len(group.items) >= 2 else _culprit(ctx, state, pr, group)
        closed.add(pr.number)
    if not closed:
        return s
    s = replace(s, state=state, prs=tuple(pr for pr in s.prs if pr.number not in closed))
    return replace(s, plan=replan(ctx, s))


def _split(ctx: ScanContext, state: DashboardState, pr: OpenPr, group: PlanGroup) -> DashboardState:
    packages = sorted(i.package for i in group.items)
    half = (len(packages) + 1) // 2
    halves = (tuple(packages[:half]), tuple(packages[half:]))
    base = group.key.split("-split-", 1)[0]
    entry = next((s for s in state.splits if s.key == base), None)
    if entry is None:
        entry = Split(base, pr.number, 1, halves)
    else:
        kept = tuple(p for p in entry.parts if set(p) != set(packages))
        entry = Split(base, entry.origin, entry.rounds + 1, (*kept, *halves))
    others = tuple(s for s in state.splits if s.key != base)
    why = "`/depup split` was asked" if pr.branch in ctx.directives.split else "CI failed"
    state = replace(state, splits=(*others, entry)).closed(pr.number)
    listed = "; ".join(", ".join(f"`{p}`" for p in h) for h in halves)
    close_with(
        ctx,
        pr,
        f"{why} on this group of {len(packages)} upgrades, so depup splits it in two to find the package "
        f"that breaks it (round {entry.rounds}): {listed}. Each part gets its own pull request; the passing "
        "parts can be merged as usual.",
    )
    ctx.audit("pr_split", f"#{pr.number}", f"round {entry.rounds}: {listed}")
    return state


def _culprit(ctx: ScanContext, state: DashboardState, pr: OpenPr, group: PlanGroup) -> DashboardState:
    item = group.items[0]
    base = group.key.split("-split-", 1)[0]
    entry = next((s for s in state.splits if s.key == base), None)
    origin = entry.origin if entry else pr.number
    reason = f"breaks CI: isolated by splitting #{origin}"
    state = state.with_ignored(IgnoredVersion(item.ecosystem, item.package, item.target, reason))
    if entry is not None:
        rest = tuple(p for p in entry.parts if item.package not in p)
        splits = tuple(s for s in state.splits if s.key != base)
        state = replace(state, splits=(*splits, replace(entry, parts=rest)) if rest else splits)
    state = state.closed(pr.number)
    change = f"`{item.name}` {item.current} → {item.target}"
    close_with(ctx, pr, f"CI fails with {change} alone: it is the culprit. depup will not propose this version again.")
    ctx.comment_once(
        origin,
        f"culprit-{item.package}-{item.target}",
        f"Culprit found: {change} breaks CI (isolated in #{pr.number}). depup ignores that version; the other "
        "upgrades of this group continue in their own pull requests.",
    )
    ctx.audit("culprit_found", f"#{origin}", f"{item.package} {item.target} breaks CI")
    return state


def close_with(ctx: ScanContext, pr: OpenPr, text: str) -> None:
    if ctx.dry_run:
        return
    pulls.close_pull(ctx.gh, ctx.record, pr, text)
    ctx.result.closed.append(pr.number)
