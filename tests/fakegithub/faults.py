"""Faults injected on demand: server errors, rate limits, slowness.

A Fault matches calls by operationId, method and/or a regex on the path. Of the matching calls it skips
the first ``after``, then hits every ``every``-th one (every call when None), at most ``times`` times
(forever when None).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

KINDS = ("status", "secondary_rate_limit", "primary_rate_limit", "too_many_requests", "slow")
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@dataclass
class Fault:
    kind: str = "status"
    operation_id: str | None = None
    method: str | None = None
    path_regex: str | None = None
    status: int = 502
    delay: float = 0.0
    retry_after: int = 1
    times: int | None = 1
    after: int = 0
    every: int | None = None
    matched: int = 0
    hits: int = 0
    active: bool = True
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be >= 1")
        self._pattern = re.compile(self.path_regex) if self.path_regex else None

    def matches(self, operation_id: str | None, method: str, path: str) -> bool:
        if self.operation_id is not None and self.operation_id != operation_id:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return not (self._pattern is not None and not self._pattern.search(path))

    def take(self, operation_id: str | None, method: str, path: str) -> bool:
        """Count a call; True when this call is hit."""
        if not self.active or not self.matches(operation_id, method, path):
            return False
        self.matched += 1
        n = self.matched - self.after
        if n <= 0:
            return False
        if self.every is not None and n % self.every != 0:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True

    def cancel(self) -> None:
        self.active = False

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class FaultReply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def reply_for(fault: Fault, limit: int = 5000) -> FaultReply | None:
    """The answer a hit fault forces; None for "slow" (it sleeps, then the call proceeds normally)."""
    if fault.kind == "slow":
        time.sleep(fault.delay)
        return None
    if fault.kind == "status":
        return FaultReply(fault.status, {"message": "Server Error"}, {})
    if fault.kind in ("secondary_rate_limit", "too_many_requests"):
        status = 403 if fault.kind == "secondary_rate_limit" else 429
        return FaultReply(
            status,
            {"message": SECONDARY_MESSAGE, "documentation_url": DOCS, "status": str(status)},
            {"retry-after": str(fault.retry_after)},
        )
    return FaultReply(  # primary rate limit: the bucket is empty until reset
        403,
        {"message": "API rate limit exceeded for installation.", "documentation_url": DOCS, "status": "403"},
        {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": str(limit),
            "x-ratelimit-reset": str(int(time.time()) + fault.retry_after),
            "x-ratelimit-resource": "core",
        },
    )
