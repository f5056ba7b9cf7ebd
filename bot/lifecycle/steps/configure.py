"""Decide the configuration: the repository's file when it is valid (a ``depup/config`` check run on the head
says so, once per commit), else the last valid one (or the defaults) with the mistakes reported; remember its
schedule for cron. A disabled repository halts the scan after this (the dashboard still says so)."""

from __future__ import annotations

from dataclasses import replace

from bot.errors import ConfigInvalid
from bot.github.client import json_body
from bot.lifecycle.repo_config import last_valid
from bot.lifecycle.snapshot import CONFIG_PATHS, Snapshot
from bot.lifecycle.state import DashboardState
from bot.lifecycle.steps.context import ScanContext, ScanState
from config.loader import default_config, load_config
from config.model import Config


def decide_config(ctx: ScanContext, s: ScanState) -> ScanState:
    assert s.snapshot is not None
    config, state = _config(ctx, s.snapshot, s)
    ctx.redis.hset(
        "depup:schedules",
        ctx.record.full_name,
        f"{config.schedule.cron}|{config.schedule.timezone}|{int(config.enabled)}",
    )
    return replace(s, config=config, state=state, halted=not config.enabled)


def _config(ctx: ScanContext, snapshot: Snapshot, s: ScanState) -> tuple[Config, DashboardState]:
    state = s.state
    path = next((p for p in CONFIG_PATHS if p in snapshot.files), None)
    if path is None:
        return default_config(), state
    text = snapshot.text(path) or ""
    try:
        config = load_config(text, path)
    except ConfigInvalid as e:
        problems = [str(p) for p in e.problems]
        ctx.result.errors.extend(f"config: {p}" for p in problems)
        if _config_check(ctx, snapshot, path, problems):
            ctx.audit("config_invalid", path, f"{len(problems)} mistake(s); first: {problems[0]}")
        return _last_valid(ctx, s), state
    _config_check(ctx, snapshot, path, [])
    return config, replace(state, config_blob=snapshot.files[path])


def _last_valid(ctx: ScanContext, s: ScanState) -> Config:
    config = last_valid(ctx.gh, ctx.record, ctx.redis, s.state.config_blob)
    if config is not None:
        ctx.result.errors.append("config: the last valid configuration is used until the file is fixed")
        return config
    ctx.result.errors.append("config: the default configuration is used until the file is fixed")
    return default_config()


def _config_check(ctx: ScanContext, snapshot: Snapshot, path: str, problems: list[str]) -> bool:
    """A ``depup/config`` check run on the head commit (once per commit); whether this call made it."""
    owner, name = ctx.record.owner, ctx.record.name
    runs = json_body(ctx.gh.rest.checks.list_for_ref(owner, name, snapshot.commit, check_name="depup/config"))
    if runs.get("total_count") or ctx.dry_run:
        return False
    summary = "\n".join(f"- `{p}`" for p in problems) if problems else f"`{path}` is valid."
    ctx.gh.rest.checks.create(
        owner,
        name,
        name="depup/config",
        head_sha=snapshot.commit,
        status="completed",
        conclusion="failure" if problems else "success",
        output={
            "title": f"{len(problems)} mistake(s) in {path}" if problems else "Configuration valid",
            "summary": summary[:60000],
        },
    )
    return True
