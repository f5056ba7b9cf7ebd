"""Who may run which command: write, maintain or admin access to the repository (GitHub's collaborator
permission API, cached briefly in Redis), or a login the repository's config names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis import Redis

from bot.errors import NotFound
from bot.github.client import InstallationClient, json_body
from bot.repos.registry import RepoRecord
from config.model import Config

CACHE_SECONDS = 60  # a revoked permission stops counting within a minute
WRITERS = frozenset({"admin", "maintain", "write"})


def role(gh: InstallationClient, redis: Redis, record: RepoRecord, login: str) -> str:
    """admin, maintain, write, triage, read or none."""
    key = f"depup:permission:{record.full_name}:{login.lower()}"
    cached = redis.get(key)
    if cached is not None:
        return cached.decode() if isinstance(cached, bytes) else str(cached)
    try:
        data: Mapping[str, Any] = json_body(
            gh.rest.repos.get_collaborator_permission_level(record.owner, record.name, login)
        )
        found = str(data.get("role_name") or data.get("permission") or "none").lower()
    except NotFound:  # not a user, or not one the installation can see
        found = "none"
    redis.set(key, found, ex=CACHE_SECONDS)
    return found


def is_bot(user: Mapping[str, Any] | None) -> bool:
    user = user or {}
    return str(user.get("type")) == "Bot" or str(user.get("login", "")).endswith("[bot]")


def may_run(role_name: str, login: str, config: Config, *, approving: bool = False) -> bool:
    allowed = {a.lower() for a in config.commands.allowed}
    if approving:
        allowed |= {a.lower() for a in config.approvals.allowed}
    return role_name in WRITERS or login.lower() in allowed


def who_may(record: RepoRecord, *, approving: bool = False) -> str:
    listed = "`commands.allowed` or `approvals.allowed`" if approving else "`commands.allowed`"
    return (
        f"people with write, maintain or admin access to {record.full_name}, and those listed in {listed} in "
        "`.github/depup.yml`"
    )
