"""The repository's lock: scans, commands and deploy decisions that change what depup does in a repository
never run at once (across worker processes and machines: it lives in Redis)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

from bot.errors import DepupError
from bot.settings import Settings

log = logging.getLogger(__name__)


class ScanBusy(DepupError):
    """Another scan (or command) of the same repository holds its lock; try again shortly."""


def scan_lock_key(full_name: str) -> str:
    return f"depup:scan-lock:{full_name}"


@contextmanager
def repo_lock(redis: Redis, settings: Settings, full_name: str, *, wait: float = 0) -> Iterator[None]:
    """Hold the repository's lock; ScanBusy when it is still held by someone else after ``wait`` seconds."""
    lock = redis.lock(scan_lock_key(full_name), timeout=settings.job_timeout_seconds + 60)
    if not lock.acquire(blocking=wait > 0, blocking_timeout=wait or None):
        raise ScanBusy(f"a scan of {full_name} is running")
    try:
        yield
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - the lock expired: nothing to release
            log.warning("repository lock expired before its holder ended", extra={"repo": full_name})
