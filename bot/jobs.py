"""Module-level rq job functions (workers import them by dotted name; arguments are plain JSON values)."""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job

from bot.core import logs, metrics
from bot.core.delivery import Delivery
from bot.core.payload import MalformedPayload
from bot.core.queue import JOB_PROCESS_DELIVERY, delivery_job_id, delivery_key, delivery_kwargs, job_options
from bot.errors import DepupError, RateLimited
from bot.events.context import Context
from bot.events.router import handler_name
from bot.lifecycle.lock import InstallationBusy, ScanBusy
from bot.lifecycle.requests import due_scans, interleaved, queued_key, request_scan, wake_waiting_scan
from bot.lifecycle.scan import scan_repository
from bot.process import runtime
from bot.repos.installations import reconcile
from bot.repos.recovery import JOB_RECOVER_REPO, RECOVERY_REASON, find_repo
from bot.repos.registry import RepoRegistry

log = logging.getLogger(__name__)


class HandlersFailed(DepupError):
    """One or more handlers of a delivery raised; the job fails (and is retried) with the first cause."""


def process_delivery(
    event: str,
    action: str | None,
    delivery_id: str,
    installation_id: int | None,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """Run every handler registered for the delivery's ``(event, action)``.

    Handlers that already succeeded for this delivery (an earlier attempt) are not run again; a failing
    handler does not stop the others; a rate-limited one postpones the rest of the delivery to when GitHub
    allows it, without sleeping in the worker.
    """
    rt = runtime.current()
    job = get_current_job()
    delivery = Delivery(event, action, delivery_id, installation_id, payload)
    with (
        logs.bind(
            delivery=delivery_id,
            event=event,
            action=action,
            installation=installation_id,
            repo=delivery.repo_full_name,
            job=job.id if job else None,
        ),
        metrics.job_run("process_delivery", _will_retry(job)) as run,
    ):
        handlers = rt.router.handlers_for(event, action)
        if not handlers:
            log.info("no handler for this event; acknowledged")
            return {"handled": [], "skipped": []}
        done_key = delivery_key(delivery_id) + ":done"
        done = {m.decode() for m in rt.redis.smembers(done_key)}  # type: ignore[union-attr]
        ran: list[str] = []
        malformed: list[str] = []
        failures: list[tuple[str, Exception]] = []
        for func in handlers:
            name = handler_name(func)
            if name in done:
                continue
            ctx = Context(rt.settings, rt.redis, rt.clients, installation_id, logging.getLogger(func.__module__))
            started = time.perf_counter()
            try:
                with logs.bind(handler=name):
                    func(delivery, ctx)
            except RateLimited as e:
                metrics.handler_run(name, "postponed", time.perf_counter() - started)
                postponed = _postpone(delivery, e, ran)
                run.postponed()
                return postponed
            except MalformedPayload as e:  # the same payload would fail again: acknowledged, not retried
                metrics.handler_run(name, "malformed", time.perf_counter() - started)
                log.warning(
                    "payload malformed; delivery ignored by this handler", extra={"handler": name, "why": str(e)}
                )
                _mark_done(done_key, name)
                malformed.append(name)
                continue
            except Exception as e:  # isolate handlers from each other; re-raised below
                metrics.handler_run(name, "failure", time.perf_counter() - started)
                log.exception("handler failed", extra={"handler": name})
                failures.append((name, e))
                continue
            metrics.handler_run(name, "success", time.perf_counter() - started)
            _mark_done(done_key, name)
            ran.append(name)
            log.info("handler done", extra={"handler": name})
        if failures:
            names = ", ".join(name for name, _ in failures)
            raise HandlersFailed(f"handler(s) failed: {names}") from failures[0][1]
        return {"handled": ran, "skipped": sorted(done), **({"malformed": malformed} if malformed else {})}


def _mark_done(done_key: str, handler: str) -> None:
    """Record that ``handler`` is finished with the delivery, so a retry of the job does not run it again."""
    rt = runtime.current()
    with rt.redis.pipeline() as pipe:
        pipe.sadd(done_key, handler)
        pipe.expire(done_key, rt.settings.dedup_ttl_seconds)
        pipe.execute()


def _will_retry(job: Job | None) -> Callable[[], bool]:
    """Whether rq will run ``job`` again after it fails now (asked when it fails: retries left)."""
    return lambda: job is not None and bool(job.retries_left)


def _postpone(delivery: Delivery, error: RateLimited, ran: list[str]) -> dict[str, Any]:
    rt = runtime.current()
    job = get_current_job()
    count = int(job.meta.get("reschedules", 0)) + 1 if job else 1
    if count > rt.settings.max_reschedules:
        raise error
    delay = error.retry_after + random.uniform(1, 5)  # noqa: S311 - jitter, not security
    rt.queue.enqueue_in(
        timedelta(seconds=delay),
        JOB_PROCESS_DELIVERY,
        kwargs=delivery_kwargs(delivery),
        job_id=f"{delivery_job_id(delivery.delivery_id)}-r{count}",
        meta={"reschedules": count},
        **job_options(rt.settings),
    )
    log.warning(
        "rate limited by GitHub; delivery postponed",
        extra={"retry_after": error.retry_after, "secondary": error.secondary, "postponed": count},
    )
    return {"handled": ran, "postponed_by": round(delay, 1), "reschedules": count}


def reconcile_installations() -> dict[str, int]:
    """Cron job: rebuild the installed-repository registry from the API (catches missed webhooks)."""
    rt = runtime.current()
    job = get_current_job()
    with (
        logs.bind(job=job.id if job else "reconcile_installations"),
        metrics.job_run("reconcile_installations", _will_retry(job)),
    ):
        return reconcile(rt.clients, RepoRegistry(rt.redis))


SCAN_BUSY_RETRY_SECONDS = 15


def scan_repo(full_name: str, reason: str, delivery: str = "") -> dict[str, Any]:
    """Scan one repository and bring its pull requests and dashboard in line with the plan."""
    rt = runtime.current()
    job = get_current_job()
    rt.redis.delete(queued_key(full_name))
    record = find_repo(rt.redis, rt.settings, rt.clients, full_name)
    with (
        logs.bind(
            repo=full_name,
            installation=record.installation_id if record else None,
            job=job.id if job else None,
            delivery=delivery or None,
            reason=reason,
        ),
        metrics.job_run("scan_repo", _will_retry(job)) as run,
    ):
        if record is None or record.archived:
            log.info("repository not installed or archived; scan skipped")
            return {"skipped": True}
        held_slot = rt.settings.limits_installation_scans
        try:
            result = scan_repository(rt.settings, rt.redis, rt.clients, record, reason=reason, delivery=delivery)
        except InstallationBusy:
            held_slot = False
            waits = int(job.meta.get("installation_waits", 0)) + 1 if job else 1
            delay = min(SCAN_BUSY_RETRY_SECONDS * 2 ** min(waits - 1, 4), 240) * random.uniform(0.8, 1.2)  # noqa: S311
            request_scan(
                rt.queue, rt.settings, full_name, reason, delivery=delivery, delay=delay, force=True,
                meta={**(job.meta if job else {}), "installation_waits": waits}, waits_for=record.installation_id,
            )  # fmt: skip
            log.info(
                "other scans of this installation are running; this one waits its turn",
                extra={"waits": waits, "retry_in": round(delay, 1)},
            )
            run.postponed()
            return {"installation_busy": True, "retry_in": round(delay, 1)}
        except ScanBusy:
            request_scan(
                rt.queue, rt.settings, full_name, reason, delivery=delivery, delay=SCAN_BUSY_RETRY_SECONDS, force=True
            )
            log.info("another scan of this repository is running; this one is retried shortly")
            run.postponed()
            return {"busy": True}
        except RateLimited as e:
            count = int(job.meta.get("reschedules", 0)) + 1 if job else 1
            if count > rt.settings.max_reschedules:
                raise
            delay = e.retry_after + random.uniform(1, 5)  # noqa: S311 - jitter, not security
            request_scan(
                rt.queue, rt.settings, full_name, reason, delivery=delivery, delay=delay, force=True,
                meta={"reschedules": count},
            )  # fmt: skip
            log.warning("rate limited by GitHub; scan postponed", extra={"retry_after": e.retry_after})
            run.postponed()
            return {"postponed_by": round(delay, 1)}
        finally:
            if held_slot:
                _wake_next_scan(record.installation_id)
        return {
            "head": result.head,
            "opened": result.opened,
            "updated": result.updated,
            "closed": result.closed,
            "dashboard": result.dashboard,
            "errors": len(result.errors),
        }


def _wake_next_scan(installation_id: int) -> None:
    """The slot this scan held is free: the installation's next waiting scan need not sit out its backoff."""
    try:
        woken = wake_waiting_scan(runtime.current().queue, installation_id)
    except RedisError:
        log.warning("could not wake the next scan of the installation; it runs after its backoff")
        return
    if woken:
        log.info("next scan of the installation queued", extra={"woken": woken})


def enqueue_due_scans() -> dict[str, int]:
    """Cron job: a scan for every repository whose config schedule fired since the last run."""
    from datetime import UTC, datetime

    rt = runtime.current()
    job = get_current_job()
    with (
        logs.bind(job=job.id if job else "enqueue_due_scans"),
        metrics.job_run("enqueue_due_scans", _will_retry(job)),
    ):
        due = due_scans(rt.redis, RepoRegistry(rt.redis).all(), datetime.now(UTC))
        queued = sum(request_scan(rt.queue, rt.settings, name, "schedule") for name in due)
        return {"due": len(due), "queued": queued}


def probe_round(full_name: str, deployment_id: int, number: int) -> dict[str, Any]:
    """One round of health probes in a deployment's soak window (scheduled by bot.health.watch)."""
    from bot.health.watch import probe_round as run_round

    rt = runtime.current()
    job = get_current_job()
    record = find_repo(rt.redis, rt.settings, rt.clients, full_name)
    with (
        logs.bind(
            repo=full_name,
            installation=record.installation_id if record else None,
            job=job.id if job else None,
            deployment=deployment_id,
            round=number,
        ),
        metrics.job_run("probe_round", _will_retry(job)),
    ):
        if record is None or record.archived:
            return {"skipped": True}
        gh = rt.clients.installation(record.installation_id)
        return {"verdict": run_round(rt.settings, rt.redis, gh, record, deployment_id, number)}


def recover_after_data_loss() -> dict[str, int]:
    """Enqueued by cron when Redis lost its data (bot.repos.recovery): the registry rebuilt from GitHub, then one
    ``recover_repo`` job per repository, installations taken in turn."""
    rt = runtime.current()
    job = get_current_job()
    with (
        logs.bind(job=job.id if job else "recover_after_data_loss"),
        metrics.job_run("recover_after_data_loss", _will_retry(job)),
    ):
        registry = RepoRegistry(rt.redis)
        counts = reconcile(rt.clients, registry)
        records = interleaved([r for r in registry.all() if not r.archived])
        for record in records:
            rt.queue.enqueue_call(
                JOB_RECOVER_REPO,
                kwargs={"full_name": record.full_name},
                job_id=f"recover-{re.sub(r'[^A-Za-z0-9_-]', '_', record.full_name)}-{uuid.uuid4().hex[:8]}",
                **job_options(rt.settings),  # type: ignore[arg-type]
            )
        log.warning("recovering after Redis lost its data", extra={**counts, "queued": len(records)})
        return {**counts, "queued": len(records)}


def recover_repo(full_name: str) -> dict[str, Any]:
    """One repository after Redis lost its data: its deployments' health checks re-derived from GitHub
    (bot.health.watch.rederive), then a scan (which re-derives everything else a lost job would have done)."""
    from bot.health.watch import rederive

    rt = runtime.current()
    job = get_current_job()
    record = RepoRegistry(rt.redis).get(full_name)
    with (
        logs.bind(
            repo=full_name,
            installation=record.installation_id if record else None,
            job=job.id if job else None,
            reason=RECOVERY_REASON,
        ),
        metrics.job_run("recover_repo", _will_retry(job)),
    ):
        if record is None or record.archived:
            return {"skipped": True}
        health = rederive(rt.settings, rt.redis, rt.clients.installation(record.installation_id), record)
        queued = request_scan(rt.queue, rt.settings, full_name, RECOVERY_REASON)
        return {**health, "scan": queued}
