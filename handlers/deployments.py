"""Deployments of depup's merges (SPEC §7): a created deployment first samples the running version (the baseline);
a successful deployment starts the soak window's health probes; a failed one rolls back the depup merges it
carries. ``bot.health.watch`` decides."""

from __future__ import annotations

import re

from bot.core.delivery import Delivery
from bot.core.payload import MalformedPayload
from bot.events.context import Context
from bot.events.router import Router
from bot.health.watch import DeploymentReport, on_deployment_created, on_deployment_status

router = Router()
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 object ids


@router.on("deployment_status", "created")
def watch_deployment(delivery: Delivery, ctx: Context) -> None:
    full_name = delivery.repo_full_name
    record = ctx.repo(full_name) if full_name else None
    deployment = delivery.fields.obj("deployment")
    status = delivery.fields.obj("deployment_status")
    deployment_id, state = deployment.number("id"), status.text("state")
    if record is None or record.archived or not deployment_id or not state:
        return
    sha = deployment.text("sha")
    if not _SHA.fullmatch(sha):
        raise MalformedPayload(f"{deployment.path}.sha is {sha[:60]!r}, not a commit id")
    report = DeploymentReport(
        deployment_id,
        sha,
        deployment.text("environment"),
        state,
        status.text("description"),
        status.text("log_url") or status.text("target_url"),
    )
    on_deployment_status(ctx.settings, ctx.redis, ctx.github, record, report, delivery=delivery.delivery_id)


@router.on("deployment", "created")
def sample_baseline(delivery: Delivery, ctx: Context) -> None:
    full_name = delivery.repo_full_name
    record = ctx.repo(full_name) if full_name else None
    deployment = delivery.fields.obj("deployment")
    deployment_id = deployment.number("id")
    if record is None or record.archived or not deployment_id:
        return
    sha = deployment.text("sha")
    if not _SHA.fullmatch(sha):
        raise MalformedPayload(f"{deployment.path}.sha is {sha[:60]!r}, not a commit id")
    on_deployment_created(ctx.settings, ctx.redis, ctx.github, record, deployment_id, sha,
                          deployment.text("environment"), delivery=delivery.delivery_id)  # fmt: skip
