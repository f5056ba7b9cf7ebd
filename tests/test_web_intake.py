from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from bot.core.queue import delivery_job_id, delivery_key
from bot.core.settings import MAX_WEBHOOK_BYTES, Settings
from bot.process.web import create_app
from tests.support.http import webhook_headers

SECRET = "intake-secret"
PAYLOAD = {"action": "created", "installation": {"id": 77}, "repository": {"full_name": "o/r"}}


@pytest.fixture
def settings(redis_url: str, redis_client: Redis) -> Settings:
    return Settings(redis_url=redis_url, webhook_secret=SECRET)


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def post(
    client: FlaskClient,
    event: str,
    payload: object,
    *,
    secret: str | None = SECRET,
    delivery_id: str | None = None,
    headers: dict[str, str] | None = None,
):  # type: ignore[no-untyped-def]
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    all_headers = webhook_headers(event, body, secret, delivery_id)
    all_headers.update(headers or {})
    return client.post("/api/github/webhooks", data=body, headers=all_headers)


def queued(redis_client: Redis) -> list[str]:
    return Queue("depup", connection=redis_client, serializer=JSONSerializer).get_job_ids()


def test_accepted_delivery_becomes_one_json_job(client: FlaskClient, redis_client: Redis) -> None:
    response = post(client, "installation", PAYLOAD, delivery_id="d-1")
    assert response.status_code == 202
    assert response.json == {"ok": True, "job": delivery_job_id("d-1")}
    assert queued(redis_client) == [delivery_job_id("d-1")]
    job = Job.fetch(delivery_job_id("d-1"), connection=redis_client, serializer=JSONSerializer)
    assert job.func_name == "bot.jobs.process_delivery"
    assert job.kwargs == {
        "event": "installation",
        "action": "created",
        "delivery_id": "d-1",
        "installation_id": 77,
        "payload": PAYLOAD,
    }
    assert job.retries_left == 3
    # The job is stored as JSON, readable by any worker without pickle.
    stored = zlib.decompress(redis_client.hget(f"rq:job:{job.id}", "data"))  # type: ignore[arg-type]
    assert json.loads(stored)[3]["payload"] == PAYLOAD


def test_redelivery_is_acknowledged_without_a_second_job(client: FlaskClient, redis_client: Redis) -> None:
    assert post(client, "push", PAYLOAD, delivery_id="same").status_code == 202
    again = post(client, "push", PAYLOAD, delivery_id="same")
    assert again.status_code == 200
    assert again.json == {"ok": True, "duplicate": True}
    assert queued(redis_client) == [delivery_job_id("same")]
    assert redis_client.ttl(delivery_key("same")) > 6 * 24 * 3600


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha1=0123"},
    ],
)
def test_bad_signatures_are_refused_and_nothing_is_queued(
    client: FlaskClient, redis_client: Redis, headers: dict[str, str]
) -> None:
    response = post(client, "push", PAYLOAD, headers=headers)
    assert response.status_code == 401
    assert queued(redis_client) == []
    assert redis_client.keys("depup:delivery:*") == []


def test_missing_signature_and_wrong_secret(client: FlaskClient, redis_client: Redis) -> None:
    assert post(client, "push", PAYLOAD, secret=None).status_code == 401
    assert post(client, "push", PAYLOAD, secret="another-secret").status_code == 401
    assert queued(redis_client) == []


def test_signature_is_checked_before_headers(client: FlaskClient) -> None:
    body = json.dumps(PAYLOAD).encode()
    # No event header and no signature: the unauthenticated caller learns nothing about header rules.
    assert client.post("/api/github/webhooks", data=body).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"X-GitHub-Event": ""},
        {"X-GitHub-Delivery": ""},
        {"X-GitHub-Event": "Push; DROP"},
        {"X-GitHub-Delivery": "../../etc"},
    ],
)
def test_missing_or_malformed_headers_are_400(
    client: FlaskClient, redis_client: Redis, headers: dict[str, str]
) -> None:
    response = post(client, "push", PAYLOAD, headers=headers)
    assert response.status_code == 400
    assert queued(redis_client) == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_bodies_that_are_not_a_json_object_are_400(client: FlaskClient, body: bytes) -> None:
    assert post(client, "push", body).status_code == 400


def test_form_encoded_deliveries_are_understood(client: FlaskClient, redis_client: Redis) -> None:
    body = urlencode({"payload": json.dumps(PAYLOAD)}).encode()
    response = post(client, "push", body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 202
    assert len(queued(redis_client)) == 1


def test_oversized_payload_is_413_before_anything_else(client: FlaskClient, redis_client: Redis) -> None:
    body = b"{" + b" " * MAX_WEBHOOK_BYTES + b"}"
    response = post(client, "push", body)
    assert response.status_code == 413
    assert queued(redis_client) == []


def test_ping_is_answered_200_without_a_job(client: FlaskClient, redis_client: Redis) -> None:
    response = post(client, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert response.status_code == 200
    assert queued(redis_client) == []


def test_unknown_events_are_accepted(client: FlaskClient, redis_client: Redis) -> None:
    assert post(client, "sponsorship", {"action": "created"}).status_code == 202
    assert len(queued(redis_client)) == 1


def test_redis_unreachable_is_503_with_retry_after_and_an_error_line(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(redis_url="redis://127.0.0.1:1/0", webhook_secret=SECRET))
    with app.test_client() as client, caplog.at_level(logging.ERROR):
        response = post(client, "push", PAYLOAD)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert any("Redis unreachable" in r.getMessage() for r in caplog.records)
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json == {"status": "unavailable", "redis": "unreachable"}


def test_healthz_reports_redis(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "redis": "ok"}


def test_metrics_count_deliveries_by_event_and_outcome(client: FlaskClient) -> None:
    def sample(text: str, name: str, labels: str) -> float:
        for line in text.splitlines():
            if line.startswith(f"{name}{{{labels}}}"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = client.get("/metrics").get_data(as_text=True)
    post(client, "push", PAYLOAD, delivery_id="m-1")
    post(client, "push", PAYLOAD, delivery_id="m-1")
    post(client, "push", PAYLOAD, secret="wrong")
    after = client.get("/metrics").get_data(as_text=True)
    counter = "depup_webhook_deliveries_total"
    for labels, delta in [
        ('event="push",outcome="accepted"', 1),
        ('event="push",outcome="duplicate"', 1),
        ('event="unverified",outcome="bad_signature"', 1),
    ]:
        assert sample(after, counter, labels) - sample(before, counter, labels) == delta
    assert 'depup_webhook_ack_seconds_bucket{event="push",le="0.02",outcome="accepted"}' in after
