"""The reduced package data as stored in Redis (orjson): compact arrays, never the registry's raw document.

``FORMAT`` is part of every cache key: bump it whenever the layout below changes, and old entries are simply
not found (they expire on their own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from bot.deps.model import Ecosystem, PackageInfo, Release
from bot.deps.registry.failures import FailureKind, LookupFailure
from bot.deps.registry.parsed import Metadata, Parsed, PeerDependency

FORMAT = 1

_KINDS: frozenset[str] = frozenset({"unreachable", "not_found", "malformed", "timeout"})


def encode_parsed(parsed: Parsed) -> bytes:
    info = parsed.info
    return orjson.dumps(
        {
            "ecosystem": info.ecosystem.value,
            "name": info.name,
            "releases": list(map(_release_row, info.releases)),
            "dist_tags": info.dist_tags,
            "urls": info.urls,
            "peers": {
                version: [[peer.name, peer.range, peer.optional] for peer in entries]
                for version, entries in parsed.peers.items()
            },
            "metadata": [parsed.metadata.url, parsed.metadata.advertised] if parsed.metadata else None,
        }
    )


def decode_parsed(data: bytes, fetched_at: datetime | None) -> Parsed:
    raw: dict[str, Any] = orjson.loads(data)
    info = PackageInfo(
        ecosystem=Ecosystem(raw["ecosystem"]),
        name=raw["name"],
        releases=tuple(map(_release, raw["releases"])),
        dist_tags=tuple((tag, version) for tag, version in raw["dist_tags"]),
        urls=tuple((label, url) for label, url in raw["urls"]),
        fetched_at=fetched_at,
    )
    peers = {
        version: tuple(PeerDependency(name, spec, optional) for name, spec, optional in entries)
        for version, entries in raw["peers"].items()
    }
    metadata = raw.get("metadata")  # absent from entries written before it was kept
    return Parsed(info, peers, Metadata(str(metadata[0]), bool(metadata[1])) if metadata else None)


def encode_failure(failure: LookupFailure) -> bytes:
    return orjson.dumps({"reason": failure.reason, "kind": failure.kind})


def decode_failure(data: bytes, ecosystem: Ecosystem, name: str) -> LookupFailure:
    raw: dict[str, Any] = orjson.loads(data)
    kind = raw["kind"]
    if kind not in _KINDS:
        raise ValueError(f"unknown failure kind {kind!r}")
    failure_kind: FailureKind = kind
    return LookupFailure(ecosystem, name, str(raw["reason"]), failure_kind)


def _release_row(release: Release) -> tuple[object, ...]:
    """A tuple with the datetime as it is: orjson writes it as ``isoformat()`` does, three times faster than
    making the text here (a cold 1,000-package run writes 100,000 rows while it fetches)."""
    return (
        release.version,
        release.published,
        release.yanked,
        release.yanked_reason,
        release.deprecated,
        release.requires_python,
        release.engines_node,
    )


def _release(row: list[Any]) -> Release:
    """Positional arguments: a warm 1,000-package run makes 100,000 of these (keywords cost a fifth more)."""
    version, published, yanked, yanked_reason, deprecated, requires_python, engines_node = row
    moment = _from_iso(published) if published is not None else None
    return Release(version, moment, yanked, yanked_reason, deprecated, requires_python, engines_node)


_from_iso = datetime.fromisoformat
