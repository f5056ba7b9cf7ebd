"""The plan as JSON (the ``plan`` member of ``depup plan --json``, docs/plan.schema.json) and as terminal text."""

from __future__ import annotations

from typing import Any

from bot.breaking.explain import breakage_json, by_change, headline, kinds_of, places, use_line
from bot.plan.model import Plan, PlanGroup, PlanItem, Skipped
from bot.risk.model import Assessment


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "current_phase": plan.current_phase,
        "opening": list(plan.opening),
        "waiting": list(plan.waiting),
        "phases": [
            {
                "index": phase.index,
                "name": phase.name,
                "title": phase.title,
                "approvals": phase.approvals,
                "automerge": phase.automerge,
                "groups": [_group(g) for g in phase.groups],
            }
            for phase in plan.phases
        ],
        "ignored": [_skipped(s) for s in plan.ignored],
        "unplaced": [_skipped(s) for s in plan.unplaced],
        "deferred": [_skipped(s) for s in plan.deferred],
        "problems": list(plan.problems),
        "unread": list(plan.unread),
        "unknown": list(plan.unknown),
        "not_managed": list(plan.not_managed),
        "notes": list(plan.notes),
    }


def _group(group: PlanGroup) -> dict[str, Any]:
    return {
        "key": group.key,
        "kind": group.kind,
        "ecosystem": group.ecosystem,
        "title": group.title,
        "branch": group.branch,
        "risk": group.risk,
        "score": group.score,
        "approvals": group.approvals,
        "automerge": group.automerge,
        "security": group.security,
        "items": [_item(i) for i in group.items],
    }


def _item(item: PlanItem) -> dict[str, Any]:
    return {
        "ecosystem": item.ecosystem,
        "package": item.package,
        "name": item.name,
        "current": item.current,
        "target": item.target,
        "update_type": item.update_type,
        "role": item.role,
        "core": item.core,
        "files": list(item.files),
        "links": [{"kind": kind, "url": url} for kind, url in item.links],
        "notes": list(item.notes),
        "risk": risk_json(item.risk),
        "api": breakage_json(item.breakage),
    }


def risk_json(risk: Assessment) -> dict[str, Any]:
    return {
        "score": risk.score,
        "level": risk.level,
        "security": risk.security,
        "factors": [{"id": f.id, "weight": f.weight, "reason": f.reason, "known": f.known} for f in risk.factors],
    }


def _skipped(skipped: Skipped) -> dict[str, Any]:
    return {**_item(skipped.item), "reason": skipped.reason}


def _api_text(item: PlanItem) -> list[str]:
    b = item.breakage
    if b is None:
        return []
    kinds = kinds_of(b.diff)
    lines = [f"      API: {headline(b)}"]
    for first, others in by_change(b):
        lines.append(f"        {use_line(first, kinds)}")
        if others:
            shown, more = places(others)
            lines.append(f"          also at {', '.join(shown)}" + (f" and {more} more" if more else ""))
    return lines


def plan_text(plan: Plan) -> str:
    lines = [f"Plan {plan.id}: " + (f"current phase {plan.current_phase}" if plan.current_phase else "nothing to do")]
    for phase in plan.phases:
        gates = f"approvals {phase.approvals}" + (
            "" if phase.automerge is None else f", automerge {'on' if phase.automerge else 'off'}"
        )
        lines.append(f"Phase {phase.index} {phase.name}: {phase.title} ({gates})")
        if not phase.groups:
            lines.append("  nothing to do")
        for group in phase.groups:
            state = (
                " [opens now]"
                if group.key in plan.opening
                else " [waits: max_open_prs]"
                if group.key in plan.waiting
                else ""
            )
            approvals = f"{group.approvals} approval{'s' if group.approvals != 1 else ''}"
            merge = "automerge" if group.automerge else "manual merge"
            lines.append(f"  {group.title}  ({group.branch}; risk {group.risk}, {approvals}, {merge}){state}")
            rows = [
                (
                    i.name,
                    i.change,
                    i.update_type,
                    i.role,
                    f"{i.risk.level} {i.risk.score}",
                    "; ".join(i.risk.top_reasons()),
                )
                for i in group.items
            ]
            widths = [max(len(r[c]) for r in rows) for c in range(5)]
            for item, r in zip(group.items, rows, strict=True):
                lines.append("    " + "  ".join(r[c].ljust(widths[c]) for c in range(5)) + "  " + r[5])
                lines.extend(_api_text(item))
    for title, skipped in (("Ignored", plan.ignored), ("Later", plan.deferred), ("Not planned", plan.unplaced)):
        if skipped:
            lines.append(f"{title}:")
            lines.extend(f"  {s.item.name} {s.item.change}: {s.reason}" for s in skipped)
    for title, entries in (
        ("Not read", plan.unread),
        ("Version in use unknown", plan.unknown),
        ("Not managed", plan.not_managed),
        ("Notes", plan.notes),
    ):
        if entries:
            lines.append(f"{title}:")
            lines.extend(f"  {entry}" for entry in entries)
    lines.extend(f"! {p}" for p in plan.problems)
    return "\n".join(lines) + "\n"
