"""Asking for a repository scan: handlers, the cron process and commands enqueue ``bot.jobs.scan_repo``.

At most one scan per repository waits in the queue at a time (a flag with a TTL): a scan reads GitHub's
state when it runs, so a second queued one would do the same work. The running scan clears the flag first,
so an event that arrives during a scan still gets a scan after it.

A scan that found its installation's scan slots taken (bot.lifecycle.lock.installation_slot) waits in the
scheduled registry, and on its installation's waiting list: the scan that frees a slot moves the first one
waiting into the queue (``wake_waiting_scan``), so that it does not sit out its backoff while its
installation is free. It goes to the back: webhook deliveries queued meanwhile (a maintainer's command) do not
wait for it. The backoff stays as the fallback when the scan that held the slot died.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from itertools import zip_longest
from zoneinfo import ZoneInfo

from croniter import croniter
from redis import Redis
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.registry import ScheduledJobRegistry

from bot.core.queue import job_options
from bot.core.settings import Settings
from bot.repos.registry import RepoRecord

JOB_SCAN = "bot.jobs.scan_repo"
SCHEDULES = "depup:schedules"  # hash: full name -> "cron|timezone|enabled", written by each scan
_QUEUED = "depup:scan-queued:"
_LAST_FIRE = "depup:schedule-fired:"
_WAITING = "depup:scan-waiting:"  # list per installation: ids of scheduled scans waiting for a scan slot
_WAITING_TTL = 3600
DEFAULT_SCHEDULE = "0 5 * * 1|UTC|1"


def queued_key(full_name: str) -> str:
    return _QUEUED + full_name


def request_scan(
    queue: Queue,
    settings: Settings,
    full_name: str,
    reason: str,
    *,
    delivery: str = "",
    delay: float = 0,
    force: bool = False,
    meta: dict[str, object] | None = None,
    waits_for: int | None = None,
) -> bool:
    """Enqueue a scan unless one is already waiting; ``force`` skips that check (retries of a busy scan).
    ``waits_for``: the installation whose scan slot the (delayed) scan waits for."""
    redis: Redis = queue.connection
    if not force and not redis.set(queued_key(full_name), reason, nx=True, ex=settings.job_timeout_seconds * 2):
        return False
    kwargs = {"full_name": full_name, "reason": reason, "delivery": delivery}
    job_id = f"scan-{re.sub(r'[^A-Za-z0-9_-]', '_', full_name)}-{uuid.uuid4().hex[:12]}"
    options = {**job_options(settings), "meta": meta or {}}
    if delay > 0:
        queue.enqueue_in(timedelta(seconds=delay), JOB_SCAN, kwargs=kwargs, job_id=job_id, **options)
        if waits_for is not None:
            with redis.pipeline() as pipe:
                pipe.rpush(_WAITING + str(waits_for), job_id)
                pipe.expire(_WAITING + str(waits_for), _WAITING_TTL)
                pipe.execute()
    else:
        queue.enqueue_call(JOB_SCAN, kwargs=kwargs, job_id=job_id, **options)  # type: ignore[arg-type]
    return True


def wake_waiting_scan(queue: Queue, installation_id: int) -> str | None:
    """Move the first scan still waiting for a slot of the installation from the scheduled registry to the queue;
    its id."""
    redis: Redis = queue.connection
    registry = ScheduledJobRegistry(queue=queue)  # type: ignore[no-untyped-call]
    while (raw := redis.lpop(_WAITING + str(installation_id))) is not None:
        job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            registry.requeue(job_id)
        except (InvalidJobOperation, NoSuchJobError):
            continue  # the scheduler released it already, or it expired
        return job_id
    return None


def due_scans(redis: Redis, records: list[RepoRecord], now: datetime) -> list[str]:
    """Repositories whose schedule fired since the last check (the first check only starts the clock), taking
    installations in turn (``interleaved``)."""
    schedules = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in redis.hgetall(SCHEDULES).items()
    }
    due = []
    for record in records:
        if record.archived:
            continue
        cron, zone, enabled = (schedules.get(record.full_name) or DEFAULT_SCHEDULE).split("|")
        if enabled != "1":
            continue
        try:
            fired = croniter(cron, now.astimezone(ZoneInfo(zone))).get_prev(datetime).timestamp()
        except (ValueError, KeyError):
            continue
        last_key = _LAST_FIRE + record.full_name
        last = redis.get(last_key)
        redis.set(last_key, repr(fired))
        if last is not None and float(last) < fired:
            due.append(record)
    return [record.full_name for record in interleaved(due)]


def interleaved(records: list[RepoRecord]) -> list[RepoRecord]:
    """The records taking installations in turn, each installation's in their order: one of the first
    installation, one of the second, ..., then the second of each. Scans that fire together (every repository
    on the default schedule does at once) are queued in this order so that workers share out installations:
    queued installation by installation, every worker would take scans of the first and wait for its write
    lock in turn (``DEPUP_WRITE_SPACING``) while the other installations waited in the queue."""
    by_installation: dict[int, list[RepoRecord]] = {}
    for record in records:
        by_installation.setdefault(record.installation_id, []).append(record)
    rounds = zip_longest(*by_installation.values())
    return [record for round_ in rounds for record in round_ if record is not None]
