"""Values of the vulnerability audit: what it answers, and why it could not answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import DepupError
from bot.risk.model import Vulnerability

ECOSYSTEMS = ("python", "npm")
OSV_ECOSYSTEM = {"python": "PyPI", "npm": "npm"}  # depup's ecosystem -> OSV's name for it

Pair = tuple[str, str]  # (package, version)
Answers = Mapping[Pair, tuple[Vulnerability, ...]]  # every pair asked -> its known vulnerabilities (() when none)


@dataclass(frozen=True)
class AuditFailure:
    """An audit that could not be done: nothing is known about any of the versions asked (never "no vulnerability").

    ``reason`` is one line a maintainer can act on (the service's error, a timeout, a package it could not look up).
    """

    ecosystem: str
    reason: str

    def __str__(self) -> str:
        return f"{self.ecosystem} vulnerability audit failed: {self.reason}"


class AuditError(DepupError):
    """Raised inside ``bot.security`` and turned into an ``AuditFailure`` by ``Auditor``; never escapes it."""
