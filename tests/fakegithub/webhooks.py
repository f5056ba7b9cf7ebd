"""Webhook delivery the way GitHub does it: signed JSON POSTs, in order, from a background thread.

Headers: X-GitHub-Event, X-GitHub-Delivery (uuid4), X-GitHub-Hook-ID,
X-GitHub-Hook-Installation-Target-ID (the app id), X-GitHub-Hook-Installation-Target-Type: integration,
X-Hub-Signature (sha1 HMAC), X-Hub-Signature-256 (sha256 HMAC of the exact body), User-Agent
GitHub-Hookshot/<hex>, Content-Type: application/json. With no target set, deliveries are still
recorded (status_code None) but not sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from .state import App

HOOKSHOT = f"GitHub-Hookshot/{secrets.token_hex(4)[:7]}"


@dataclass
class SentDelivery:
    event: str
    action: str | None
    delivery_id: str
    payload: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    installation_id: int | None
    url: str | None = None
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    duration: float = 0.0
    redelivery: bool = False
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(secret: str, body: bytes) -> tuple[str, str]:
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    sha256 = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha1={sha1}", f"sha256={sha256}"


class Deliverer:
    def __init__(self, timeout: float = 10.0) -> None:
        self.target: str | None = None
        self.secret: str | None = None
        self.timeout = timeout
        self.deliveries: list[SentDelivery] = []
        self._queue: queue.Queue[SentDelivery | None] = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    def start(self) -> None:
        if self._thread is None:
            self._client = httpx.Client(timeout=self.timeout, trust_env=False)
            self._thread = threading.Thread(target=self._run, name="fakegithub-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=self.timeout + 5)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def enqueue(
        self, event: str, action: str | None, payload: dict[str, Any], app: App, installation_id: int | None
    ) -> SentDelivery:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        delivery = SentDelivery(
            event=event,
            action=action,
            delivery_id=str(uuid.uuid4()),
            payload=payload,
            body=body,
            headers=self._headers(event, app, body, None),
            installation_id=installation_id,
        )
        self._submit(delivery)
        return delivery

    def redeliver(self, delivery_id: str, app: App) -> SentDelivery:
        original = next((d for d in self.deliveries if d.delivery_id == delivery_id), None)
        if original is None:
            raise KeyError(f"no delivery {delivery_id}")
        again = SentDelivery(
            event=original.event,
            action=original.action,
            delivery_id=original.delivery_id,
            payload=original.payload,
            body=original.body,
            headers=self._headers(original.event, app, original.body, original.delivery_id),
            installation_id=original.installation_id,
            redelivery=True,
        )
        self._submit(again)
        return again

    def _headers(self, event: str, app: App, body: bytes, delivery_id: str | None) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": HOOKSHOT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or "",
            "X-GitHub-Hook-ID": str(app.hook_id),
            "X-GitHub-Hook-Installation-Target-ID": str(app.id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
        }
        secret = self.secret if self.secret is not None else app.webhook_secret
        if secret:
            headers["X-Hub-Signature"], headers["X-Hub-Signature-256"] = sign(secret, body)
        return headers

    def _submit(self, delivery: SentDelivery) -> None:
        if not delivery.headers["X-GitHub-Delivery"]:
            delivery.headers["X-GitHub-Delivery"] = delivery.delivery_id
        delivery.url = self.target
        with self._cond:
            self.deliveries.append(delivery)
            if self.target is None:
                delivery.done.set()
                return
            self._pending += 1
        self._queue.put(delivery)

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None:
                return
            try:
                self._post(delivery)
            finally:
                delivery.done.set()
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _post(self, delivery: SentDelivery) -> None:
        assert self._client is not None and delivery.url is not None
        started = time.monotonic()
        try:
            response = self._client.post(delivery.url, content=delivery.body, headers=delivery.headers)
            delivery.status_code = response.status_code
            delivery.response_body = response.text[:10_000]
        except httpx.HTTPError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        delivery.duration = time.monotonic() - started

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery was POSTed and answered; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True
