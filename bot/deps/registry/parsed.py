"""What a parser makes of one registry document: the shared ``PackageInfo`` plus data kept for later consumers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from bot.deps.model import PackageInfo
from bot.deps.registry.failures import MalformedAnswer


class PeerDependency(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One npm ``peerDependencies`` entry of a version; ``optional`` from ``peerDependenciesMeta``. A struct, as
    ``Release`` is: the registry cache stores it as a row."""

    name: str
    range: str
    optional: bool = False


@dataclass(frozen=True)
class Metadata:
    """Where a PyPI release's core metadata is (PEP 658 ``{file URL}.metadata``), and whether the index said so."""

    url: str
    advertised: bool = False


@dataclass(frozen=True)
class Parsed:
    info: PackageInfo
    peers: Mapping[str, tuple[PeerDependency, ...]] = field(default_factory=dict)  # npm: by version
    metadata: Metadata | None = None  # PyPI Simple API: the latest release's, for its project links


def utc_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None when absent or unreadable (never fatal)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: e.g. year 1 with a positive offset is before year 1 in UTC
        return None


def mapping(value: object, what: str) -> dict[str, object]:
    """``value`` as a JSON object, or MalformedAnswer naming ``what``."""
    if not isinstance(value, dict):
        raise MalformedAnswer(f"{what} is not a JSON object")
    return value


def text(value: object) -> str | None:
    """A non-empty stripped string, else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
