"""The web process: receives GitHub's webhooks, checks them, and hands them to the queue in milliseconds.

It never calls GitHub. Under ``depup web`` the body has been read already, within a deadline (408) and the size limit
(413), by ``bot.process.gunicorn_app.BufferedBody``. Order of checks on ``POST /api/github/webhooks``: size (413, before
reading the body; chunked bodies are read one byte past the limit),
signature over the raw body (401, constant-time), headers (400), body (400: not a JSON object, or nested more
than ``MAX_PAYLOAD_DEPTH`` levels), then ``ping`` (200), dedup and enqueue (202 accepted / 200 duplicate), or
503 with ``Retry-After`` when Redis is unreachable.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from githubkit.webhooks import verify
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from bot.core import logs, metrics
from bot.core.delivery import Delivery
from bot.core.queue import Enqueued, enqueue_delivery, make_queue
from bot.core.settings import MAX_WEBHOOK_BYTES, Role, Settings

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/github/webhooks"
RETRY_AFTER_SECONDS = 30
# GitHub's payloads nest about 6 levels; the job serializer (orjson) stops at 255 levels including the job's own,
# so a deeper payload would fail at enqueue: it is refused as a bad request instead.
MAX_PAYLOAD_DEPTH = 64
_EVENT = re.compile(r"^[a-z_]{1,64}$")
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,128}$")
_SIGNATURE = re.compile(r"^sha256=[0-9a-f]{64}$")

bp = Blueprint("depup", __name__)


@dataclass(frozen=True)
class WebState:
    settings: Settings
    redis: Redis
    queue: Queue


def create_app(settings: Settings | None = None, redis: Redis | None = None) -> Flask:
    """Flask app factory. Settings come from the environment unless given (tests give them)."""
    settings = settings or Settings.from_env(role=Role.WEB)
    redis = redis or Redis.from_url(
        settings.redis_url, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
    )
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_WEBHOOK_BYTES
    app.extensions["depup"] = WebState(settings, redis, make_queue(redis, settings))
    app.register_blueprint(bp)
    return app


def _state() -> WebState:
    state: WebState = current_app.extensions["depup"]
    return state


class _Answer(Exception):
    """Ends request handling early with a JSON answer (internal to this module)."""

    def __init__(self, status: int, outcome: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome
        self.headers = headers or {}


@bp.post(WEBHOOK_PATH)
def receive_webhook() -> tuple[Response, int, dict[str, str]]:
    started = time.perf_counter()
    event_header = request.headers.get("X-GitHub-Event")
    verified = False
    try:
        body = _read_body()
        _check_signature(body)
        verified = True
        event, delivery_id = _check_headers()
        with logs.bind(delivery=delivery_id, event=event):
            status, outcome, answer = _accept(event, delivery_id, body)
        headers: dict[str, str] = {}
    except _Answer as e:
        status, outcome, answer, headers = e.status, e.outcome, {"error": str(e)}, e.headers
        if outcome in ("bad_request", "too_large"):
            logs.throttled(log, f"refused:{outcome}", f"webhook refused: {e!s}", extra={"verified": verified})
    metrics.observe(metrics.event_label(event_header, verified), outcome, time.perf_counter() - started)
    return jsonify(answer), status, headers


def _read_body() -> bytes:
    length = request.content_length
    if length is not None and length > MAX_WEBHOOK_BYTES:
        raise _Answer(413, "too_large", f"payload over {MAX_WEBHOOK_BYTES} bytes")
    try:
        if length is None and request.environ.get("wsgi.input_terminated"):
            return _read_unsized(request.environ["wsgi.input"])
        return request.get_data(cache=True)
    except RequestEntityTooLarge as e:  # a chunked body without Content-Length that grew too big
        raise _Answer(413, "too_large", f"payload over {MAX_WEBHOOK_BYTES} bytes") from e
    except ClientDisconnected as e:  # the body ended before its Content-Length: nothing to verify
        raise _Answer(400, "bad_request", "body shorter than its Content-Length") from e


def _read_unsized(stream: Any) -> bytes:
    """A body without Content-Length (chunked), read one byte past the limit: werkzeug's own limited stream stops
    at the limit silently, which would make a bigger body look like one with a bad signature."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_WEBHOOK_BYTES:
        chunk = stream.read(min(64 * 1024, MAX_WEBHOOK_BYTES + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise _Answer(413, "too_large", f"payload over {MAX_WEBHOOK_BYTES} bytes")


def _check_signature(body: bytes) -> None:
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not _SIGNATURE.match(signature) or not verify(_state().settings.webhook_secret, body, signature):
        logs.throttled(log, "refused:bad_signature", "webhook refused: bad or missing signature",
                       extra={"remote": request.remote_addr, "bytes": len(body)})  # fmt: skip
        raise _Answer(401, "bad_signature", "signature does not match")


def _check_headers() -> tuple[str, str]:
    event = request.headers.get("X-GitHub-Event")
    delivery_id = request.headers.get("X-GitHub-Delivery")
    if not event or not delivery_id:
        raise _Answer(400, "bad_request", "X-GitHub-Event and X-GitHub-Delivery headers are required")
    if not _EVENT.match(event) or not _DELIVERY.match(delivery_id):
        raise _Answer(400, "bad_request", "malformed X-GitHub-Event or X-GitHub-Delivery header")
    return event, delivery_id


def _payload(body: bytes) -> dict[str, Any]:
    text: bytes | str = body
    if request.mimetype == "application/x-www-form-urlencoded":  # the other content type GitHub offers
        values = parse_qs(body.decode("utf-8", "replace")).get("payload")
        if not values:
            raise _Answer(400, "bad_request", "form-encoded delivery without a payload field")
        text = values[0]
    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise _Answer(400, "bad_request", "body is not valid JSON") from e
    if not isinstance(payload, dict):
        raise _Answer(400, "bad_request", "payload must be a JSON object")
    if _nested_deeper_than(payload, MAX_PAYLOAD_DEPTH):
        raise _Answer(400, "bad_request", f"payload is nested more than {MAX_PAYLOAD_DEPTH} levels deep")
    return payload


def _nested_deeper_than(payload: dict[str, Any], limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels in ``payload``, the object itself counting as
    one (iterative: no recursion limit; a walk over the containers only, well under a millisecond for GitHub's)."""
    stack: list[tuple[Iterable[object], int]] = [(payload.values(), 1)]
    while stack:
        children, depth = stack.pop()
        if depth > limit:
            return True
        for child in children:
            if isinstance(child, dict):
                stack.append((child.values(), depth + 1))
            elif isinstance(child, list):
                stack.append((child, depth + 1))
    return False


def _is_id(value: object) -> bool:
    """Whether ``value`` can be a GitHub id (JSON's ``true`` is an int to Python, and ids are positive int64s)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _accept(event: str, delivery_id: str, body: bytes) -> tuple[int, str, dict[str, Any]]:
    payload = _payload(body)
    if event == "ping":
        log.info("ping received", extra={"hook_id": payload.get("hook_id")})
        return 200, "ping", {"ok": True}
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    delivery = Delivery(
        event=event,
        action=action,
        delivery_id=delivery_id,
        installation_id=installation_id if _is_id(installation_id) else None,
        payload=payload,
    )
    state = _state()
    try:
        result = enqueue_delivery(state.queue, state.settings, delivery)
    except RedisError as e:
        logs.throttled(log, "unavailable", "cannot enqueue delivery: Redis unreachable", level=logging.ERROR,
                       extra={"error": type(e).__name__})  # fmt: skip
        raise _Answer(503, "unavailable", "queue unavailable", {"Retry-After": str(RETRY_AFTER_SECONDS)}) from e
    if result.outcome is Enqueued.DUPLICATE:
        log.info("duplicate delivery acknowledged", extra={"action": action})
        return 200, "duplicate", {"ok": True, "duplicate": True}
    log.info(
        "delivery accepted", extra={"action": action, "installation": delivery.installation_id, "bytes": len(body)}
    )
    return 202, "accepted", {"ok": True, "job": result.job_id}


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        _state().redis.ping()
    except RedisError:
        return jsonify({"status": "unavailable", "redis": "unreachable"}), 503
    return jsonify({"status": "ok", "redis": "ok"}), 200


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    return Response(metrics.exposition(), mimetype="text/plain; version=0.0.4")
