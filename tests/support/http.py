"""Real HTTP for tests: serve a WSGI app on loopback in a thread; send webhooks the way GitHub does."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """A request handler that does not log every request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LiveServer:
    """A WSGI app served by werkzeug on 127.0.0.1 (random port) in a daemon thread."""

    def __init__(self, wsgi_app: Any, *, quiet: bool = False) -> None:
        handler = QuietHandler if quiet else None
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_headers(event: str, body: bytes, secret: str | None, delivery_id: str | None = None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature(secret, body)
    return headers


def send_webhook(
    url: str,
    event: str,
    payload: Mapping[str, Any] | bytes,
    secret: str | None,
    *,
    delivery_id: str | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = webhook_headers(event, body, secret, delivery_id)
    if client is not None:
        return client.post(url + "/api/github/webhooks", content=body, headers=headers)
    return httpx.post(url + "/api/github/webhooks", content=body, headers=headers, timeout=10)
