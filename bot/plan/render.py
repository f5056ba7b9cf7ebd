"""The plan and each upgrade's risk as Markdown: the dashboard's plan section and pull-request bodies.

Tables stay short (package, change, type, role, risk, top reasons); every factor is in a collapsed
``<details>`` block below, unknown facts included, so a maintainer can check each reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from bot.breaking.explain import by_change, headline, kinds_of, places, what_changed
from bot.plan.model import Plan, PlanGroup, PlanItem, PlanPhase, Skipped
from bot.risk.model import Assessment, Vulnerability

MAX_USES_LISTED = 30  # changed names in use listed per upgrade in a PR body or check run (the headline counts all)
META_PREFIX = "<!-- depup:meta "
_LINK_WORDS = {"release_notes": "release notes", "changelog": "changelog", "source": "source", "homepage": "homepage"}
COMMANDS_HELP = (
    "`/depup approve` approve this upgrade · `/depup rebase` regenerate it on the default branch · "
    "`/depup recreate` start it over · `/depup split` split the group to find a failing package · "
    "`/depup ignore <package> [major|minor|<version>]` stop proposing it · `/depup rollback [package]` "
    "revert after merge · `/depup pause` / `/depup resume` · `/depup help`"
)


def risk_table(items: Iterable[PlanItem]) -> str:
    rows = [
        "| Package | Change | Type | Role | Risk | Top reasons |",
        "|---|---|---|---|---|---|",
    ]
    for item in items:
        reasons = "; ".join(item.risk.top_reasons()) or "nothing against it"
        rows.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"`{item.name}`" if item.update_type != "lockfile" else f"`{item.package}` (lockfile)",
                    item.change.replace("->", "→"),
                    item.update_type,
                    item.role,
                    f"{item.risk.level} ({item.risk.score})" + (", blocked: CI failed" if item.risk.blocked else ""),
                    reasons,
                )
            )
            + " |"
        )
    return "\n".join(rows)


def risk_details(item: PlanItem) -> str:
    what = f"{item.name} {item.change.replace('->', '→')}"
    lines = [f"<details><summary>{_html(what)}: {item.risk.level} risk, score {item.risk.score}</summary>", ""]
    lines.extend(_factor_lines(item.risk))
    lines.extend(api_lines(item))
    lines.extend(f"- note: {_md(n)}" for n in item.notes)
    if item.dependencies:
        places = [f"`{d.location.file}:{d.location.line}`" for d in item.dependencies]
        manifests = {d.location.file for d in item.dependencies}
        places.extend(f"`{f}`" for f in item.files if f not in manifests)
        lines.append(f"- changes {', '.join(places)}")
    lines.extend(["", "</details>"])
    return "\n".join(lines)


def _factor_lines(risk: Assessment) -> list[str]:
    lines = []
    for factor in risk.factors:
        if not factor.known:
            lines.append(f"- unknown: {_md(factor.reason)} (`{factor.id}`)")
        else:
            lines.append(f"- {factor.weight:+d} {_md(factor.reason)} (`{factor.id}`)")
    return lines


def api_lines(item: PlanItem) -> list[str]:
    """The API evidence: the headline, then each use of a removed, changed or deprecated name as file:line."""
    b = item.breakage
    if b is None:
        return []
    source = f" ({b.diff.source})" if b.diff.source else ""
    lines = [f"- API changes{_md(source)}: {_md(headline(b))}"]
    kinds = kinds_of(b.diff)
    groups = by_change(b)
    for use, others in groups[:MAX_USES_LISTED]:
        detail = what_changed(use, kinds)
        lines.append(f"  - {_code(f'{use.file}:{use.line}')} {_code(use.symbol)}: {_md(detail)}")
        if others:
            shown, more = places(others)
            also = ", ".join(_code(p) for p in shown) + (f" and {more} more" if more else "")
            lines.append(f"    also at {also}")
    if len(groups) > MAX_USES_LISTED:
        lines.append(f"  - and {len(groups) - MAX_USES_LISTED} more changed names in use")
    return lines


def _code(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def plan_markdown(plan: Plan) -> str:
    current = next((p for p in plan.phases if p.name == plan.current_phase), None)
    lines = ["## Upgrade plan", ""]
    if current is None:
        lines.append("Nothing to upgrade: every dependency is up to date or ignored.")
    else:
        lines.append(f"Plan `{plan.id}` · current phase: **{current.index}. {_md(current.title)}**")
    for phase in plan.phases:
        lines.extend(["", *_phase_lines(phase, plan)])
    lines.extend(_skipped_lines("Ignored", plan.ignored))
    lines.extend(_skipped_lines("Later", plan.deferred))
    lines.extend(_skipped_lines("Not planned", plan.unplaced))
    for title, entries in (
        ("Files depup could not read", plan.unread),
        ("Versions in use depup could not establish", plan.unknown),
        ("Notes", plan.notes),
    ):
        if entries:
            lines.extend(["", f"### {title}", ""])
            lines.extend(f"- {_md(entry)}" for entry in entries)
    if plan.not_managed:
        lines.extend(["", "<details><summary>Manifests not managed</summary>", ""])
        lines.extend(f"- {_md(entry)}" for entry in plan.not_managed)
        lines.extend(["", "</details>"])
    if plan.problems:
        lines.extend(["", "### Problems", ""])
        lines.extend(f"- {_md(p)}" for p in plan.problems)
    return "\n".join(lines) + "\n"


def _phase_lines(phase: PlanPhase, plan: Plan) -> list[str]:
    state = "current" if phase.name == plan.current_phase else ("nothing to do" if not phase.groups else "later")
    lines = [f"### Phase {phase.index}: {_md(phase.title)} ({state})"]
    if not phase.groups:
        return lines
    for group in phase.groups:
        status = ""
        if group.key in plan.opening:
            status = " · opens now"
        elif group.key in plan.waiting:
            status = " · waits for a free slot (max_open_prs)"
        lines.extend(["", f"#### {_md(group.title)}", "", f"`{group.branch}` · {_gates(group)}{status}", ""])
        lines.append(risk_table(group.items))
        lines.extend(["", *(risk_details(item) for item in group.items)])
    return lines


def _gates(group: PlanGroup) -> str:
    approvals = (
        f"needs {group.approvals} approval{'s' if group.approvals != 1 else ''}"
        if group.approvals
        else "no approval needed"
    )
    merge = "automerge when CI is green" if group.automerge else "merged by a maintainer"
    security = " · security update" if group.security else ""
    return f"risk **{group.risk}** · {approvals} · {merge}{security}"


def _skipped_lines(title: str, skipped: tuple[Skipped, ...]) -> list[str]:
    if not skipped:
        return []
    lines = ["", f"### {title}", ""]
    lines.extend(f"- `{s.item.name}` {s.item.change.replace('->', '→')}: {_md(s.reason)}" for s in skipped)
    return lines


def group_markdown(group: PlanGroup, plan: Plan, sections: Sequence[str] = ()) -> str:
    """A pull request's body: the risk table, details, links, ``sections`` (markdown, e.g. the code
    migrations), what happens next, commands, metadata."""
    phase = next(p for p in plan.phases if p.name == group.phase)
    count = len(group.items)
    subject = "this upgrade" if count == 1 else f"these {count} upgrades"
    lines = [
        f"depup proposes {subject} in phase {phase.index} ({_md(phase.title)}), risk **{group.risk}**.",
        "",
        risk_table(group.items),
        "",
        *(risk_details(item) for item in group.items),
    ]
    floors = [item for item in group.items if item.is_floor]
    if floors:
        lines.extend(["", "### Python floor", "", *(f"- {_md(note)}" for item in floors for note in item.notes)])
        lines.append(
            "- The updates it unlocks are proposed by the scan after it merges; ruff's pyupgrade fixes for the new "
            "floor follow as a commit of their own when code migrations are on."
        )
    security = security_lines(group.items)
    if security:
        lines.extend(["", "### Security", "", *security])
    links = [_links_line(item) for item in group.items if item.links]
    if links:
        lines.extend(["", "### Links", "", *links])
    for section in sections:
        if section:
            lines.extend(["", section])
    lines.extend(["", "### What happens next", "", *_next_steps(group, phase, plan)])
    lines.extend(["", f"<details><summary>Commands</summary>\n\n{COMMANDS_HELP}\n\n</details>", ""])
    lines.append(metadata_block(group, plan))
    return "\n".join(lines) + "\n"


def security_lines(items: Iterable[PlanItem]) -> list[str]:
    """Known vulnerabilities the upgrades fix, and any their targets still have."""
    lines = []
    for item in items:
        for v in item.fixes:
            lines.append(
                f"- fixes {_advisory(v)} in `{item.name}` {item.current}" + (f": {_md(v.summary)}" if v.summary else "")
            )
        for v in item.vulnerable:
            lines.append(f"- ⚠️ `{item.name}` {item.target} is still affected by {_advisory(v)}")
    return lines


def _advisory(v: Vulnerability) -> str:
    aliases = f" ({', '.join(v.aliases[:3])})" if v.aliases else ""
    return (f"[{v.id}]({v.url})" if v.url else f"`{v.id}`") + aliases


def _links_line(item: PlanItem) -> str:
    links = " · ".join(f"[{_LINK_WORDS.get(kind, kind)}]({url})" for kind, url in item.links)
    return f"- `{item.name}`: {links}"


def _next_steps(group: PlanGroup, phase: PlanPhase, plan: Plan) -> list[str]:
    steps = []
    if group.approvals:
        steps.append(
            f"- Needs {group.approvals} approval{'s' if group.approvals != 1 else ''}: a maintainer comments "
            "`/depup approve` (the `depup/approval` check stays pending until then)."
        )
    if group.automerge:
        steps.append("- depup merges it once CI is green" + (" and it is approved." if group.approvals else "."))
    else:
        steps.append("- A maintainer merges it when CI is green.")
    following = next((p for p in plan.phases if p.index > phase.index and p.groups), None)
    if following is not None:
        steps.append(
            f"- When every PR of phase {phase.index} is merged or closed and the deploy stays healthy, "
            f"phase {following.index} ({_md(following.title)}) opens."
        )
    steps.append("- If the deploy that carries it fails its health checks, depup reverts it.")
    return steps


def metadata_block(group: PlanGroup, plan: Plan) -> str:
    """Hidden machine-readable record of what the PR carries (depup reads it back from GitHub)."""
    meta = {
        "plan": plan.id,
        "phase": group.phase,
        "group": group.key,
        "risk": group.risk,
        "approvals": group.approvals,
        "automerge": group.automerge,
        "packages": [
            {"ecosystem": i.ecosystem, "package": i.package, "from": i.current, "to": i.target, "type": i.update_type}
            for i in group.items
        ],
    }
    return META_PREFIX + json.dumps(meta, separators=(",", ":")).replace("--", "-\\u002d") + " -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md(text: str) -> str:
    """Plain text safe inside Markdown: no accidental mentions, HTML or table breaks."""
    return _html(text).replace("@", "@\u200b").replace("|", "\\|")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
