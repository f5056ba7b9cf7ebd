"""What the engine proposes for one dependency: the updates it offers, or why it offers none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.deps.model import Dependency

UpdateType = Literal["major", "minor", "patch"]
Strategy = Literal["pin", "bump", "widen", "lockfile-only"]
StrategySetting = Literal["auto", "pin", "bump", "widen", "lockfile-only"]


@dataclass(frozen=True)
class Update:
    version: str
    constraint: str | None  # what the manifest will say; None: the manifest keeps its constraint (lockfile only)
    update_type: UpdateType
    is_major: bool  # the newest major (a different release line), as opposed to the newest within the current one
    strategy: Strategy  # the range strategy applied
    published: datetime | None = None


@dataclass(frozen=True)
class Proposal:
    dependency: Dependency
    current: str | None  # the version in use: locked, pinned, or the newest the constraint admits
    updates: tuple[Update, ...] = ()
    reason: str | None = None  # why nothing is offered (skipped entry, lookup failure, up to date, ...)
    notes: tuple[str, ...] = ()  # newer versions held back, and why
