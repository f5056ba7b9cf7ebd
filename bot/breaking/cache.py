"""API diffs cached in Redis, shared by every worker and repository.

An ``ApiDiff`` depends only on the two releases (published files never change), so an analysed diff is kept for
``TTL`` (30 days, refreshed on every write); a diff that could not be analysed (no distribution, too large, timed
out, time budget used) is kept ``NOT_ANALYSED_TTL`` (10 minutes) so a transient cause is retried soon, while a scan
that runs many times a day does not download the same releases again.

One string per diff: ``depup:apidiff:{FORMAT}:{ecosystem}:{registry digest}:{package}:{from}:{to}``, the value is
the diff as orjson. The registry base is in the key as a digest (an index URL may carry credentials), so a private
index's ``flask`` never answers for the public one. An entry larger than ``MAX_ENTRY_BYTES`` is not stored (the diff
is computed again next time) and logged: Redis memory stays bounded whatever a package publishes.

Redis trouble never fails an analysis: every Redis error is logged and treated as a miss (one seam, here).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis, RedisError

from bot.breaking.model import ApiChange, ApiDiff
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base, pypi_json_base

log = logging.getLogger(__name__)

FORMAT = 2  # bumped when the layout or what an analysis finds changes (2: aliases, Python returns, npm changes
# kept by importance; entries of format 1 are not read)
TTL = 30 * 24 * 3600
NOT_ANALYSED_TTL = 600
MAX_ENTRY_BYTES = 512 * 1024


@dataclass(frozen=True)
class DiffKey:
    ecosystem: str  # "python" | "npm"
    package: str  # canonical name
    current: str
    target: str

    def redis_key(self, base: str) -> str:
        digest = hashlib.sha256(base.encode()).hexdigest()[:16]
        return f"depup:apidiff:{FORMAT}:{self.ecosystem}:{digest}:{self.package}:{self.current}:{self.target}"


class DiffCache:
    """Read many diffs in one round trip, store one at a time."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def read_many(self, keys: Sequence[DiffKey]) -> list[ApiDiff | None]:
        names = [_name(key) for key in keys]
        wanted = [name for name in names if name is not None]
        if not wanted:
            return [None] * len(keys)
        try:
            values = self._redis.mget(wanted)
        except RedisError as exc:
            log.warning("API diff cache read failed: %s", exc)
            return [None] * len(keys)
        found = dict(zip(wanted, values, strict=True))
        return [_decode(found.get(name)) if name is not None else None for name in names]

    def read(self, key: DiffKey) -> ApiDiff | None:
        return self.read_many([key])[0]

    def store(self, diff: ApiDiff) -> bool:
        """Keep ``diff``; False when it was not stored (too large, no registry configured, Redis failed)."""
        name = _name(DiffKey(diff.ecosystem, diff.package, diff.current, diff.target))
        if name is None:
            return False
        data = encode(diff)
        if len(data) > MAX_ENTRY_BYTES:
            log.warning(
                "API diff of %s %s -> %s not cached: %d bytes (%d changes) exceed %d",
                diff.package, diff.current, diff.target, len(data), len(diff.changes), MAX_ENTRY_BYTES,
            )  # fmt: skip
            return False
        try:
            self._redis.set(name, data, ex=TTL if diff.analysed else NOT_ANALYSED_TTL)
        except RedisError as exc:
            log.warning("API diff cache write failed: %s", exc)
            return False
        return True


def encode(diff: ApiDiff) -> bytes:
    return orjson.dumps(
        {
            "ecosystem": diff.ecosystem,
            "package": diff.package,
            "current": diff.current,
            "target": diff.target,
            "analysed": diff.analysed,
            "changes": [[c.kind, c.symbol, c.detail, list(c.aliases)] for c in diff.changes],
            "why_not": diff.why_not,
            "source": diff.source,
            "returns": [list(r) for r in diff.returns],
        }
    )


def decode(data: bytes | str) -> ApiDiff:
    raw: dict[str, Any] = orjson.loads(data)
    return ApiDiff(
        ecosystem=raw["ecosystem"],
        package=raw["package"],
        current=raw["current"],
        target=raw["target"],
        analysed=bool(raw["analysed"]),
        changes=tuple(
            ApiChange(kind, symbol, detail, tuple(aliases)) for kind, symbol, detail, aliases in raw["changes"]
        ),
        why_not=raw.get("why_not"),
        source=raw.get("source", ""),
        returns=tuple((function, type_) for function, type_ in raw.get("returns", ())),
    )


def _decode(data: bytes | str | None) -> ApiDiff | None:
    if data is None:
        return None
    try:
        return decode(data)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        log.warning("API diff cache entry unreadable, ignored: %s", exc)
        return None


def _name(key: DiffKey) -> str | None:
    try:
        base = pypi_json_base() if key.ecosystem == "python" else npm_registry_base()
    except RegistryConfigError:
        return None
    return key.redis_key(base)
