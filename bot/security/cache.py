"""Audit answers cached in Redis, one key per (ecosystem, package, version), for ``TTL`` seconds.

Key: ``depup:vulns:{ecosystem}:{package}@{version}``; value: the vulnerabilities as a JSON list (``[]`` when
none). Only answers are cached, never failures. Redis trouble never fails an audit: every Redis error is logged
and treated as a miss (reads) or ignored (writes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from redis import Redis, RedisError

from bot.risk.model import Vulnerability
from bot.security.model import Pair

log = logging.getLogger(__name__)

PREFIX = "depup:vulns:"
TTL = 6 * 3600


def cache_key(ecosystem: str, package: str, version: str) -> str:
    return f"{PREFIX}{ecosystem}:{package}@{version}"


class VulnerabilityCache:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def read(self, ecosystem: str, pairs: Sequence[Pair]) -> dict[Pair, tuple[Vulnerability, ...]]:
        """The cached answers among ``pairs`` (one round trip); pairs not cached are left out."""
        if not pairs:
            return {}
        try:
            values = self._redis.mget([cache_key(ecosystem, p, v) for p, v in pairs])
        except RedisError as exc:
            log.warning("vulnerability cache read failed: %s", exc)
            return {}
        found: dict[Pair, tuple[Vulnerability, ...]] = {}
        for pair, value in zip(pairs, values, strict=True):
            if value is None:
                continue
            decoded = decode(value)
            if decoded is None:
                log.warning("vulnerability cache entry %s unreadable, ignored", cache_key(ecosystem, *pair))
            else:
                found[pair] = decoded
        return found

    def store(self, ecosystem: str, answers: Mapping[Pair, tuple[Vulnerability, ...]]) -> None:
        if not answers:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for (package, version), vulns in answers.items():
                    pipe.set(cache_key(ecosystem, package, version), encode(vulns), ex=TTL)
                pipe.execute()
        except RedisError as exc:
            log.warning("vulnerability cache write failed: %s", exc)


def encode(vulns: Sequence[Vulnerability]) -> bytes:
    return orjson.dumps(
        [{"id": v.id, "aliases": v.aliases, "summary": v.summary, "fixed_in": v.fixed_in, "url": v.url} for v in vulns]
    )


def decode(value: bytes | str) -> tuple[Vulnerability, ...] | None:
    try:
        rows: Any = orjson.loads(value)
        return tuple(
            Vulnerability(
                id=_str(row["id"]),
                aliases=tuple(_str(a) for a in row["aliases"]),
                summary=_optional(row["summary"]),
                fixed_in=tuple(_str(f) for f in row["fixed_in"]),
                url=_optional(row["url"]),
            )
            for row in rows
        )
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        return None


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _optional(value: object) -> str | None:
    return None if value is None else _str(value)
