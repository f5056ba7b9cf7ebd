"""The repository's lock: scans, commands and deploy decisions that change what depup does in a repository
never run at once (across worker processes and machines: it lives in Redis). And an installation's scan
slots: while its writes are spaced, only so many scans of one installation run at once.

Locks and slots live ``LOCK_TTL_SECONDS`` and their holder renews them from a background thread while it
works, so a worker that dies (SIGKILL, a lost machine) frees them within that time instead of after the
longest a job may run.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import LockError, RedisError

from bot.core.settings import Settings
from bot.errors import DepupError

log = logging.getLogger(__name__)
LOCK_TTL_SECONDS = 60


class ScanBusy(DepupError):
    """Another scan (or command) of the same repository holds its lock; try again shortly."""


class InstallationBusy(DepupError):
    """As many scans of the repository's installation as may run at once are running; try again later."""


def scan_lock_key(full_name: str) -> str:
    return f"depup:scan-lock:{full_name}"


def scan_slots_key(installation_id: int) -> str:
    return f"depup:scan-slots:{installation_id}"


@contextmanager
def repo_lock(redis: Redis, settings: Settings, full_name: str, *, wait: float = 0) -> Iterator[None]:
    """Hold the repository's lock; ScanBusy when it is still held by someone else after ``wait`` seconds."""
    lock = redis.lock(scan_lock_key(full_name), timeout=LOCK_TTL_SECONDS)
    if not lock.acquire(blocking=wait > 0, blocking_timeout=wait or None):
        raise ScanBusy(f"a scan of {full_name} is running")

    def renew() -> bool:
        try:
            lock.reacquire()
        except (LockError, RedisError):
            log.warning("repository lock lost while held", extra={"repo": full_name})
            return False
        return True

    try:
        with _renewed(renew, f"lock-{full_name}"):
            yield
    finally:
        try:
            lock.release()
        except (LockError, RedisError):
            log.warning("repository lock expired before its holder ended", extra={"repo": full_name})


# A counting semaphore with leases: the members are holders, their scores the time their lease ends. Leases that
# ended (a holder that died) are dropped before counting.
_TAKE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@contextmanager
def installation_slot(redis: Redis, installation_id: int, limit: int) -> Iterator[None]:
    """Hold one of the installation's ``limit`` scan slots; InstallationBusy when all are taken.

    An installation's writes are serialised and spaced (bot.github.client.WriteGate): more scans of one installation
    than its write rate keeps busy only hold workers waiting for each other's writes, while the scans of other
    installations wait in the queue behind them.
    """
    key, holder = scan_slots_key(installation_id), uuid.uuid4().hex
    keep = math.ceil(LOCK_TTL_SECONDS * 2)  # seconds the set outlives its last lease
    now = time.time()
    if not redis.eval(_TAKE_SLOT, 1, key, now, now + LOCK_TTL_SECONDS, limit, holder, keep):
        raise InstallationBusy(f"{limit} scan(s) of installation {installation_id} running")

    def renew() -> bool:
        try:
            with redis.pipeline() as pipe:
                pipe.zadd(key, {holder: time.time() + LOCK_TTL_SECONDS}, xx=True)
                pipe.expire(key, keep)
                pipe.execute()
        except RedisError:
            log.warning("installation scan slot not renewed", extra={"installation": installation_id})
        return True

    try:
        with _renewed(renew, f"slot-{installation_id}"):
            yield
    finally:
        try:
            redis.zrem(key, holder)
        except RedisError:
            log.warning(
                "installation scan slot not released: its lease ends it", extra={"installation": installation_id}
            )


@contextmanager
def _renewed(renew: Callable[[], bool], name: str) -> Iterator[None]:
    """Call ``renew`` every third of ``LOCK_TTL_SECONDS`` from a thread while the block runs (until it says no)."""
    done = threading.Event()

    def loop() -> None:
        while not done.wait(LOCK_TTL_SECONDS / 3) and renew():
            pass

    renewer = threading.Thread(target=loop, name=name, daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join(timeout=5)
