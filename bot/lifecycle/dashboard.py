"""The dependency dashboard issue: one per repository, created once, edited in place only when its text changes.

Nothing in the body depends on the clock except the next scheduled scan (stable between scans), so a scan
that changes nothing writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redis import Redis

from bot.audit import Entry
from bot.github.client import InstallationClient, json_body
from bot.lifecycle.approval import Approval
from bot.lifecycle.gate import Gate
from bot.lifecycle.reads import OpenPr, find_dashboard, remember_dashboard
from bot.lifecycle.state import DASHBOARD_LABEL, DashboardState, Merge
from bot.plan.model import Plan
from bot.plan.render import plan_markdown
from bot.repos.registry import RepoRecord

TITLE = "Dependency dashboard (depup)"


@dataclass(frozen=True)
class DashboardView:
    plan: Plan | None  # None when depup is disabled by the config
    open_prs: Sequence[OpenPr]
    gate: Gate
    state: DashboardState
    errors: Sequence[str]  # config, registry and lockfile problems
    next_scan: str | None
    audit: Sequence[Entry]
    approvals: Mapping[int, Approval]  # PR number -> its approval gate
    health: Sequence[str] = ()  # the deploys of recent merges: health and the latest probe round


def render(view: DashboardView) -> str:
    lines = [
        "This issue lists what depup plans to upgrade, in which order, and what it is waiting for. "
        "depup edits it; comment `/depup plan` to refresh it.",
        "",
    ]
    if view.state.paused is not None:
        pause = view.state.paused
        lines.extend(
            [
                f"> [!WARNING]\n> **depup is paused** (by {_md('@' + pause.by)} at {pause.at}): it opens, updates, "
                "merges, splits and closes nothing, and reverts only on an explicit `/depup rollback`. "
                "Comment `/depup resume` to undo.",
                "",
            ]
        )
    if view.next_scan:
        lines.append(f"Next scheduled scan: {view.next_scan}.")
        lines.append("")
    if view.errors:
        lines.extend(["## Errors", ""])
        lines.extend(f"- {_md(e)}" for e in view.errors)
        lines.append("")
    lines.extend(["## Open pull requests", ""])
    if view.open_prs:
        for pr in view.open_prs:
            phase = f" (phase {pr.meta.phase})" if pr.meta else ""
            hands_off = (
                " — edited by someone else: depup no longer touches it" if pr.branch in view.state.hands_off else ""
            )
            lines.append(f"- #{pr.number} {_md(pr.title)}{phase}{hands_off}")
    else:
        lines.append("None.")
    pending = {n: a for n, a in view.approvals.items() if not a.met}
    if pending:
        lines.extend(["", "## Pending approvals", ""])
        lines.extend(
            f"- #{n} needs {a.missing} more approval{'s' if a.missing != 1 else ''} ({_md(a.describe())}): "
            "comment `/depup approve` on it"
            for n, a in sorted(pending.items())
        )
    if view.gate.blocked and view.plan is not None and view.plan.current_phase in view.gate.blocked:
        lines.extend(["", "## Waiting", "", f"- {_md(view.gate.blocked[view.plan.current_phase])}"])
    if view.state.merges:
        lines.extend(["", "## Merged upgrades", ""])
        lines.extend(
            f"- #{m.pr} (phase {m.phase}), merge {m.sha[:7]}: {_merge_status(m)}" for m in view.state.merges[-10:]
        )
    if view.health:
        lines.extend(["", "## Deploy health", ""])
        lines.extend(f"- {_md(line)}" for line in view.health)
    if view.state.splits:
        lines.extend(["", "## Culprit search", ""])
        for split in view.state.splits:
            parts = "; ".join(", ".join(f"`{p}`" for p in part) for part in split.parts)
            lines.append(
                f"- `{split.key}` failed CI in #{split.origin}: {split.rounds} split round(s) so far; parts: {parts}"
            )
    if view.state.ignores:
        lines.extend(["", "## Ignored by command", ""])
        lines.extend(
            f"- `{i.package}`{f' ({i.ecosystem})' if i.ecosystem else ''}: {i.describe()}, by {_md('@' + i.by)} at "
            f"{i.at}; `/depup unignore {i.package}` to undo"
            for i in view.state.ignores
        )
    if view.state.ignored:
        lines.extend(["", "## Ignored versions", ""])
        lines.extend(
            f"- `{i.package}` {i.version} ({i.ecosystem}): {_md(i.reason)}; `/depup unignore {i.package}` to undo"
            for i in view.state.ignored
        )
    lines.append("")
    if view.plan is None:
        lines.append("depup is disabled by `enabled: false` in `.github/depup.yml`.")
    else:
        lines.append(plan_markdown(view.plan).rstrip("\n"))
    if view.audit:
        lines.extend(["", "## Recent activity", ""])
        lines.extend(f"- {e.at} {_md(e.actor)}: {e.action} {_md(e.target)} {_md(e.why)}".rstrip() for e in view.audit)
    lines.extend(["", view.state.block(), ""])
    return "\n".join(lines)


def _merge_status(merge: Merge) -> str:
    text = f"post-merge CI {merge.ci}"
    if merge.revert_of is not None:
        text = f"reverts #{merge.revert_of}; " + text
    if merge.health:
        text += f", deploy {merge.health.replace('_', ' ')}"
    if merge.reverted_by is not None:
        text += f" in #{merge.reverted_by}"
    return text


def _md(text: str) -> str:
    return text.replace("@", "@\u200b").replace("<", "&lt;").replace(">", "&gt;")


def store_state(gh: InstallationClient, record: RepoRecord, redis: Redis, state: DashboardState) -> int:
    """Write ``state`` into the dashboard issue at once (the next scan renders the rest of the body around it);
    create the issue when the repository has none yet. Returns the issue number."""
    dashboard = find_dashboard(gh, record, redis)
    if dashboard is None:
        body = "depup is preparing this dashboard; it fills in after the next scan.\n\n" + state.block() + "\n"
        issue = json_body(
            gh.rest.issues.create(record.owner, record.name, title=TITLE, body=body, labels=[DASHBOARD_LABEL])
        )
        remember_dashboard(redis, record, int(issue["number"]))
        return int(issue["number"])
    body = _STATE_BLOCK.sub(lambda _: state.block(), dashboard.body, count=1)
    if body == dashboard.body and state.block() not in body:
        body = dashboard.body.rstrip("\n") + "\n\n" + state.block() + "\n"
    if body != dashboard.body:
        gh.rest.issues.update(record.owner, record.name, dashboard.number, body=body)
    return dashboard.number


_STATE_BLOCK = re.compile(r"<!-- depup:dashboard \{.*?\} -->", re.DOTALL)
