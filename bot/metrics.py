"""Prometheus metrics of the web process.

With several gunicorn workers, ``PROMETHEUS_MULTIPROC_DIR`` must be set before the workers start
(``depup web`` does it); ``/metrics`` then aggregates every worker's numbers.
"""

from __future__ import annotations

import os
import re

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

DELIVERIES = Counter(
    "depup_webhook_deliveries",
    "Webhook deliveries received, by event and outcome.",
    ["event", "outcome"],
)
ACK_SECONDS = Histogram(
    "depup_webhook_ack_seconds",
    "Time from receiving a webhook request to answering it, by event and outcome.",
    ["event", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

_EVENT_NAME = re.compile(r"^[a-z_]{1,64}$")


def event_label(event: str | None, verified: bool) -> str:
    """Label value for an event header; unverified requests must not create label values at will."""
    if not verified:
        return "unverified"
    return event if event and _EVENT_NAME.match(event) else "invalid"


def observe(event: str, outcome: str, seconds: float) -> None:
    DELIVERIES.labels(event, outcome).inc()
    ACK_SECONDS.labels(event, outcome).observe(seconds)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
