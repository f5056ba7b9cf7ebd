"""Deployments of depup's merges (SPEC §7): a successful deployment starts the soak window's health probes; a
failed one rolls back the depup merges it carries. ``bot.health.watch`` decides."""

from __future__ import annotations

from bot.context import Context
from bot.health.watch import on_deployment_status
from bot.router import Delivery, Router

router = Router()


@router.on("deployment_status", "created")
def watch_deployment(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.payload
    full_name = delivery.repo_full_name
    record = ctx.repos.get(full_name) if full_name else None
    deployment = payload.get("deployment") or {}
    status = payload.get("deployment_status") or {}
    if record is None or record.archived or not deployment.get("id") or not status.get("state"):
        return
    on_deployment_status(ctx.settings, ctx.redis, ctx.github, record, deployment, status, delivery=delivery.delivery_id)
