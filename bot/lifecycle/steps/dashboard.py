"""Write the dashboard issue: the plan, open PRs, the phase gate, pending approvals, health, errors, the next
scheduled scan and the latest audit entries, with the state it stores; edited in place, created once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from bot import audit
from bot.github.client import json_body
from bot.health.store import health_lines
from bot.lifecycle.dashboard import TITLE, DashboardView, render
from bot.lifecycle.gate import Gate
from bot.lifecycle.reads import remember_dashboard
from bot.lifecycle.state import DASHBOARD_LABEL
from bot.lifecycle.steps.context import ScanContext, ScanState
from config.model import Config


def write_dashboard(ctx: ScanContext, s: ScanState) -> ScanState:
    assert s.config is not None
    if s.plan is None:  # disabled by the config
        view = DashboardView(None, s.prs, Gate({}), s.state, ctx.result.errors, None, (), {})
    else:
        ctx.result.plan, ctx.result.phase = s.plan.id, s.plan.current_phase
        view = DashboardView(
            s.plan, sorted([*s.prs, *s.rollbacks], key=lambda p: p.number), s.gate or Gate({}), s.state,
            ctx.result.errors, _next_scan(s.config, ctx.now), audit.latest(ctx.redis, ctx.record.full_name),
            s.approvals, health_lines(ctx.redis, ctx.record.full_name, s.state.merges),
        )  # fmt: skip
    body = render(view)
    if ctx.dry_run:
        return s
    if s.dashboard is not None:
        ctx.result.dashboard = s.dashboard.number
        if s.dashboard.body != body:
            ctx.gh.rest.issues.update(ctx.record.owner, ctx.record.name, s.dashboard.number, body=body)
        return s
    issue = json_body(
        ctx.gh.rest.issues.create(ctx.record.owner, ctx.record.name, title=TITLE, body=body, labels=[DASHBOARD_LABEL])
    )
    ctx.result.dashboard = int(issue["number"])
    remember_dashboard(ctx.redis, ctx.record, ctx.result.dashboard)
    return s


def _next_scan(config: Config, now: datetime) -> str:
    zone = ZoneInfo(config.schedule.timezone)
    moment = croniter(config.schedule.cron, now.astimezone(zone)).get_next(datetime)
    return f"{moment.strftime('%Y-%m-%d %H:%M')} {config.schedule.timezone}"
