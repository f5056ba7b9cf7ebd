"""Installations: keep depup's registry of installed repositories in step with GitHub.

When the App is installed or repositories are added, each repository is read through the API as the
installation (which proves access and learns its default branch), recorded, and queued for its first scan;
removals forget them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.delivery import Delivery
from bot.core.payload import MalformedPayload
from bot.events.context import Context
from bot.events.router import Router
from bot.repos.installations import fetch_repo_records, list_installation_repos

router = Router()


@router.on("installation", "created", "new_permissions_accepted", "unsuspend")
def record_installation(delivery: Delivery, ctx: Context) -> None:
    installation_id = _installation_id(delivery)
    listed = _full_names(delivery.payload.get("repositories"))
    if listed is None:  # GitHub leaves the list out when it is too long: ask the API instead
        records = list_installation_repos(ctx.github, installation_id)
    else:
        records = fetch_repo_records(ctx.github, installation_id, listed)
    ctx.repos.replace_installation(installation_id, records)
    ctx.log.info("installation recorded", extra={"repos": len(records)})
    if delivery.action == "created":
        for record in records:
            ctx.request_scan(record.full_name, "installed", delivery.delivery_id)


@router.on("installation_repositories", "added")
def record_added_repositories(delivery: Delivery, ctx: Context) -> None:
    installation_id = _installation_id(delivery)
    names = _full_names(delivery.payload.get("repositories_added")) or []
    records = fetch_repo_records(ctx.github, installation_id, names)
    ctx.repos.add(records)
    ctx.log.info("repositories added", extra={"repos": len(records)})
    for record in records:
        ctx.request_scan(record.full_name, "repository added", delivery.delivery_id)


@router.on("installation_repositories", "removed")
def forget_removed_repositories(delivery: Delivery, ctx: Context) -> None:
    names = _full_names(delivery.payload.get("repositories_removed")) or []
    ctx.repos.remove(_installation_id(delivery), names)
    ctx.log.info("repositories removed", extra={"repos": len(names)})


@router.on("installation", "deleted", "suspend")
def forget_installation(delivery: Delivery, ctx: Context) -> None:
    ctx.repos.remove_installation(_installation_id(delivery))
    ctx.log.info("installation forgotten")


def _installation_id(delivery: Delivery) -> int:
    if delivery.installation_id is None:
        raise MalformedPayload("payload.installation.id is missing: an installation event without an installation")
    return delivery.installation_id


def _full_names(repositories: Any) -> list[str] | None:
    if not isinstance(repositories, list):
        return None
    return [
        r["full_name"]
        for r in repositories
        if isinstance(r, Mapping) and isinstance(r.get("full_name"), str) and "/" in r["full_name"]
    ]
