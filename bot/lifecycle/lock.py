"""The repository's lock: scans, commands and deploy decisions that change what depup does in a repository
never run at once (across worker processes and machines: it lives in Redis).

The lock lives ``LOCK_TTL_SECONDS`` and its holder renews it from a background thread while it works, so a
worker that dies (SIGKILL, a lost machine) frees the repository within that time instead of after the
longest a job may run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import LockError, RedisError

from bot.errors import DepupError
from bot.settings import Settings

log = logging.getLogger(__name__)
LOCK_TTL_SECONDS = 60


class ScanBusy(DepupError):
    """Another scan (or command) of the same repository holds its lock; try again shortly."""


def scan_lock_key(full_name: str) -> str:
    return f"depup:scan-lock:{full_name}"


@contextmanager
def repo_lock(redis: Redis, settings: Settings, full_name: str, *, wait: float = 0) -> Iterator[None]:
    """Hold the repository's lock; ScanBusy when it is still held by someone else after ``wait`` seconds."""
    lock = redis.lock(scan_lock_key(full_name), timeout=LOCK_TTL_SECONDS)
    if not lock.acquire(blocking=wait > 0, blocking_timeout=wait or None):
        raise ScanBusy(f"a scan of {full_name} is running")
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LOCK_TTL_SECONDS / 3):
            try:
                lock.reacquire()
            except (LockError, RedisError):
                log.warning("repository lock lost while held", extra={"repo": full_name})
                return

    renewer = threading.Thread(target=renew, name=f"lock-{full_name}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join(timeout=5)
        try:
            lock.release()
        except (LockError, RedisError):
            log.warning("repository lock expired before its holder ended", extra={"repo": full_name})
