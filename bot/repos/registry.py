"""The registry of repositories depup is installed on, kept in Redis.

It is a cache of what GitHub knows (GitHub stays the source of truth): webhooks keep it current, and the
``reconcile_installations`` cron job rebuilds it from the API, so losing Redis loses nothing. A full rebuild leaves
a mark (``complete``): a lookup that misses while the mark is gone (Redis lost its data, or no rebuild ever ran)
rebuilds the registry first (``bot.repos.recovery.find_repo``) instead of taking the repository for not installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from redis import Redis

_REPOS = "depup:repos"  # hash: full_name -> RepoRecord JSON
_INSTALLATIONS = "depup:installations"  # set of installation ids
_COMPLETE = "depup:repos:complete"  # when the registry was last rebuilt in full from GitHub (ISO 8601)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _installation_key(installation_id: int) -> str:
    return f"depup:installation:{installation_id}:repos"  # set of full names


@dataclass(frozen=True)
class RepoRecord:
    full_name: str
    repo_id: int
    installation_id: int
    default_branch: str
    private: bool = False
    archived: bool = False

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


class RepoRegistry:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def add(self, records: Iterable[RepoRecord]) -> None:
        with self._redis.pipeline() as pipe:
            for record in records:
                pipe.hset(_REPOS, record.full_name, json.dumps(asdict(record), sort_keys=True))
                pipe.sadd(_installation_key(record.installation_id), record.full_name)
                pipe.sadd(_INSTALLATIONS, record.installation_id)
            pipe.execute()

    def remove(self, installation_id: int, full_names: Iterable[str]) -> None:
        names = list(full_names)
        if not names:
            return
        with self._redis.pipeline() as pipe:
            pipe.hdel(_REPOS, *names)
            pipe.srem(_installation_key(installation_id), *names)
            pipe.execute()

    def remove_installation(self, installation_id: int) -> None:
        names = [_text(n) for n in self._redis.smembers(_installation_key(installation_id))]
        with self._redis.pipeline() as pipe:
            if names:
                pipe.hdel(_REPOS, *names)
            pipe.delete(_installation_key(installation_id))
            pipe.srem(_INSTALLATIONS, installation_id)
            pipe.execute()

    def replace_installation(self, installation_id: int, records: Iterable[RepoRecord]) -> None:
        """Make the registry hold exactly ``records`` for this installation (used by reconciliation)."""
        keep = list(records)
        current = set(self.names(installation_id))
        self.remove(installation_id, current - {r.full_name for r in keep})
        self.add(keep)

    def mark_complete(self, at: str) -> None:
        """Record that the registry now holds every installation and repository GitHub listed."""
        self._redis.set(_COMPLETE, at)

    def completed_at(self) -> str | None:
        """When the registry was last rebuilt in full; None when Redis holds no such mark (lost, or never built)."""
        raw = self._redis.get(_COMPLETE)
        return _text(raw) if raw is not None else None

    def get(self, full_name: str) -> RepoRecord | None:
        raw = self._redis.hget(_REPOS, full_name)
        return RepoRecord(**json.loads(raw)) if raw else None

    def names(self, installation_id: int) -> list[str]:
        members = self._redis.smembers(_installation_key(installation_id))
        return sorted(_text(m) for m in members)

    def installations(self) -> list[int]:
        return sorted(int(m) for m in self._redis.smembers(_INSTALLATIONS))

    def all(self) -> list[RepoRecord]:
        raw = self._redis.hgetall(_REPOS)
        return sorted(
            (RepoRecord(**json.loads(v)) for v in raw.values()),
            key=lambda r: r.full_name,
        )
