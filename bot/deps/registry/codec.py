"""The reduced package data as stored in Redis: MessagePack rows (msgspec), never the registry's raw document.

A package is one array: ecosystem, name, releases (each an array, ``Release`` being an ``array_like`` struct),
dist-tags, links, npm peer dependencies by version, the PyPI metadata file, and whether the releases are in
version order. msgspec builds the ``Release`` structs in C as it reads: a warm 1,000-package plan reads 100,000
of them in a few tens of milliseconds, where JSON rows made into Python objects one by one took a third of a
second.

``FORMAT`` is part of every cache key: bump it whenever the layout below changes, and old entries are simply
not found (they expire on their own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import orjson

from bot.deps.model import Ecosystem, PackageInfo, Release
from bot.deps.registry.failures import FailureKind, LookupFailure
from bot.deps.registry.parsed import Metadata, Parsed, PeerDependency

FORMAT = 2

_KINDS: frozenset[str] = frozenset({"unreachable", "not_found", "malformed", "timeout"})


class _Stored(msgspec.Struct, array_like=True, gc=False):
    ecosystem: Ecosystem
    name: str
    releases: tuple[Release, ...]
    dist_tags: tuple[tuple[str, str], ...]
    urls: tuple[tuple[str, str], ...]
    peers: dict[str, tuple[PeerDependency, ...]]
    metadata: tuple[str, bool] | None
    ordered: bool


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(_Stored)


def encode_parsed(parsed: Parsed) -> bytes:
    info = parsed.info
    metadata = parsed.metadata
    return _ENCODER.encode(
        _Stored(
            info.ecosystem,
            info.name,
            info.releases,
            info.dist_tags,
            info.urls,
            dict(parsed.peers),
            (metadata.url, metadata.advertised) if metadata is not None else None,
            info.ordered,
        )
    )


def decode_parsed(data: bytes, fetched_at: datetime | None) -> Parsed:
    """The stored package; ``msgspec.DecodeError`` (a ``ValueError``) when ``data`` is not one."""
    stored = _DECODER.decode(data)
    info = PackageInfo(
        ecosystem=stored.ecosystem,
        name=stored.name,
        releases=stored.releases,
        dist_tags=stored.dist_tags,
        urls=stored.urls,
        fetched_at=fetched_at,
        ordered=stored.ordered,
    )
    metadata = stored.metadata
    return Parsed(info, stored.peers, Metadata(*metadata) if metadata is not None else None)


def encode_failure(failure: LookupFailure) -> bytes:
    return orjson.dumps({"reason": failure.reason, "kind": failure.kind})


def decode_failure(data: bytes, ecosystem: Ecosystem, name: str) -> LookupFailure:
    raw: dict[str, Any] = orjson.loads(data)
    kind = raw["kind"]
    if kind not in _KINDS:
        raise ValueError(f"unknown failure kind {kind!r}")
    failure_kind: FailureKind = kind
    return LookupFailure(ecosystem, name, str(raw["reason"]), failure_kind)
