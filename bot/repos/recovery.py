"""When Redis lost its data (restarted without persistence, replaced, a failover that lost writes): finding out, and
bringing back from GitHub what can be brought back.

Redis holds no upgrade state (GitHub does), but it holds the queue, the scheduled jobs (retries, postponed
deliveries and scans, probe rounds) and the registry of installed repositories. Two marks tell that they are gone:

* ``depup:epoch``: written once per Redis dataset by the cron process (``check_epoch``, every ``CHECK_SECONDS``).
  Finding it missing means this Redis is new or was emptied: cron enqueues ``bot.jobs.recover_after_data_loss``,
  which rebuilds the registry, then for every repository re-derives its deployments' health checks
  (``bot.health.watch.rederive``) and queues a scan. Scans are level-triggered (they read the repository, its pull
  requests, CI and dashboard from GitHub and do what is due), so a scan stands in for every lost delivery,
  retry or postponed scan that would have led to one.
* ``depup:repos:complete`` (``bot.repos.registry``): set by every full rebuild of the registry. A lookup that misses
  while it is gone rebuilds the registry first (``find_repo``, one worker at a time), so a push that arrives before the
  recovery job ran is not skipped as "repository not installed".

What cannot be brought back is listed in docs/operations.md ("When Redis loses its data").
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from redis import Redis
from rq import Queue

from bot.core.settings import Settings
from bot.github.client import GitHubClients
from bot.repos.installations import reconcile
from bot.repos.registry import RepoRecord, RepoRegistry

log = logging.getLogger(__name__)

EPOCH_KEY = "depup:epoch"
REBUILD_LOCK = "depup:registry-rebuild"
CHECK_SECONDS = 15  # how often cron looks for the epoch mark
JOB_RECOVER = "bot.jobs.recover_after_data_loss"
JOB_RECOVER_REPO = "bot.jobs.recover_repo"
RECOVERY_REASON = "recovery: Redis lost its data"


def epoch(redis: Redis) -> str | None:
    """Since when this Redis holds depup's data (ISO 8601), or None when the mark is gone."""
    raw = redis.get(EPOCH_KEY)
    return raw.decode() if isinstance(raw, bytes) else raw


def check_epoch(redis: Redis, queue: Queue, settings: Settings) -> bool:
    """Write the epoch mark if it is missing and, then, enqueue the recovery job (at the front of the queue).
    Whether it was missing."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if not redis.set(EPOCH_KEY, now, nx=True):
        return False
    log.warning("Redis holds no depup data (new, or it lost its data): recovering what GitHub knows")
    queue.enqueue_call(
        JOB_RECOVER,
        job_id=f"recover-{now.replace(':', '').replace('+', '')}",
        description="recover after Redis lost its data",
        at_front=True,
        timeout=settings.job_timeout_seconds,
        result_ttl=24 * 3600,
        failure_ttl=settings.dedup_ttl_seconds,
    )
    return True


def rebuild_registry(redis: Redis, settings: Settings, clients: GitHubClients) -> bool:
    """Rebuild the registry from GitHub unless another process just did; one process at a time. Whether this one
    rebuilt it."""
    with redis.lock(REBUILD_LOCK, timeout=settings.job_timeout_seconds, blocking_timeout=settings.job_timeout_seconds):
        registry = RepoRegistry(redis)
        if registry.completed_at() is not None:
            return False
        log.warning("registry of installed repositories missing (Redis lost its data?): rebuilding it from GitHub")
        reconcile(clients, registry)
        return True


def find_repo(redis: Redis, settings: Settings, clients: GitHubClients, full_name: str) -> RepoRecord | None:
    """The registry's record of ``full_name``; when it has none and the registry is not known to be complete, the
    registry is rebuilt from GitHub first."""
    registry = RepoRegistry(redis)
    record = registry.get(full_name)
    if record is not None or registry.completed_at() is not None:
        return record
    rebuild_registry(redis, settings, clients)
    return registry.get(full_name)
