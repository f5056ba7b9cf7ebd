"""The job queue: webhook deliveries travel from the web process to workers as rq jobs of plain JSON values.

``enqueue_delivery`` makes the deduplication mark and the job in one Redis transaction, so a delivery is
either fully accepted (mark + job) or not at all (Redis down: nothing half-done, GitHub may redeliver).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from redis import Redis
from redis.exceptions import WatchError
from rq import Queue, Retry

from bot.core.delivery import Delivery
from bot.core.serializer import JSONSerializer
from bot.core.settings import Settings

JOB_PROCESS_DELIVERY = "bot.jobs.process_delivery"


def delivery_key(delivery_id: str) -> str:
    return f"depup:delivery:{delivery_id}"


def delivery_job_id(delivery_id: str) -> str:
    return f"delivery-{delivery_id}"


def make_queue(redis: Redis, settings: Settings) -> Queue:
    return Queue(
        settings.queue_name,
        connection=redis,
        serializer=JSONSerializer,
        default_timeout=settings.job_timeout_seconds,
    )


def retry_policy(settings: Settings) -> Retry | None:
    intervals = list(settings.retry_intervals)
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def delivery_kwargs(delivery: Delivery) -> dict[str, object]:
    """The job's arguments: plain JSON values only."""
    return {
        "event": delivery.event,
        "action": delivery.action,
        "delivery_id": delivery.delivery_id,
        "installation_id": delivery.installation_id,
        "payload": dict(delivery.payload),
    }


def job_options(settings: Settings) -> dict[str, object]:
    """rq options every delivery job gets: retries with backoff, how long results and failures are kept."""
    return {"retry": retry_policy(settings), "result_ttl": 3600, "failure_ttl": settings.dedup_ttl_seconds}


class Enqueued(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class EnqueueResult:
    outcome: Enqueued
    job_id: str


def enqueue_delivery(queue: Queue, settings: Settings, delivery: Delivery) -> EnqueueResult:
    """Enqueue ``delivery`` unless the same delivery id was accepted before (within the dedup window).

    Raises redis errors untouched: the caller answers 503 and nothing was written.
    """
    redis: Redis = queue.connection
    key = delivery_key(delivery.delivery_id)
    job_id = delivery_job_id(delivery.delivery_id)
    with redis.pipeline() as pipe:
        try:
            pipe.watch(key)  # type: ignore[no-untyped-call]
            if pipe.exists(key):
                return EnqueueResult(Enqueued.DUPLICATE, job_id)
            pipe.multi()
            pipe.set(key, job_id, ex=settings.dedup_ttl_seconds)
            queue.enqueue_call(
                JOB_PROCESS_DELIVERY,
                kwargs=delivery_kwargs(delivery),
                job_id=job_id,
                description=f"{delivery.event}.{delivery.action or '-'} {delivery.delivery_id}",
                pipeline=pipe,
                **job_options(settings),  # type: ignore[arg-type]
            )
            pipe.execute()
        except WatchError:
            # Another web process accepted the same delivery between our check and our write.
            return EnqueueResult(Enqueued.DUPLICATE, job_id)
    return EnqueueResult(Enqueued.ACCEPTED, job_id)
