"""The audit log: every state change depup makes to a repository, appended to a per-repository Redis stream
(who, what, why, when, delivery) and written as a structured log line."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis

log = logging.getLogger("depup.audit")
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Entry:
    id: str
    at: str
    actor: str
    action: str
    target: str
    why: str
    delivery: str


def _key(repo: str) -> str:
    return f"depup:audit:{repo}"


def record(
    redis: Redis, repo: str, *, actor: str, action: str, target: str = "", why: str = "", delivery: str = ""
) -> None:
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = {"at": at, "actor": actor, "action": action, "target": target, "why": why, "delivery": delivery}
    redis.xadd(_key(repo), fields, maxlen=MAX_ENTRIES, approximate=True)  # type: ignore[arg-type]
    log.info("audit", extra={"repo": repo, "audit_action": action, "actor": actor, "target": target, "why": why})


def latest(redis: Redis, repo: str, count: int = 10) -> list[Entry]:
    """The newest entries first."""
    entries = []
    raw: Any = redis.xrevrange(_key(repo), count=count)
    for entry_id, fields in raw:
        text = {_text(k): _text(v) for k, v in fields.items()}
        entries.append(
            Entry(
                _text(entry_id),
                text.get("at", ""),
                text.get("actor", ""),
                text.get("action", ""),
                text.get("target", ""),
                text.get("why", ""),
                text.get("delivery", ""),
            )
        )
    return entries


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
