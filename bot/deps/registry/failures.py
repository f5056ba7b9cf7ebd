"""What a lookup gives instead of a package: a reason on that dependency, never an exception for the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.deps.model import Ecosystem
from bot.errors import DepupError

FailureKind = Literal["unreachable", "not_found", "malformed", "timeout"]


@dataclass(frozen=True)
class LookupFailure:
    """Why a package could not be looked up; ``reason`` is one line meant for a person (no credentials)."""

    ecosystem: Ecosystem
    name: str
    reason: str
    kind: FailureKind


class RegistryAnswerError(DepupError):
    """A registry answer depup cannot use; the parsers raise it and the client turns it into a LookupFailure."""

    kind: FailureKind = "malformed"


class MalformedAnswer(RegistryAnswerError):
    """The answer is not JSON or does not have the shape of the registry's documents."""


class PackageGone(RegistryAnswerError):
    """The registry knows the name but has nothing installable (every npm version unpublished)."""

    kind: FailureKind = "not_found"
