"""Every example payload GitHub publishes is acknowledged when signed and refused when not, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from bot.core.settings import Settings
from bot.process.web import create_app
from tests.support.http import LiveServer, send_webhook, webhook_headers

SECRET = "payload-secret"
WEBHOOKS = Path(__file__).parent / "fixtures" / "github" / "webhooks"
INDEX = json.loads((WEBHOOKS / "index.json").read_text())["files"]


@pytest.fixture
def server(redis_url: str, redis_client: Redis) -> Iterator[str]:
    with LiveServer(create_app(Settings(redis_url=redis_url, webhook_secret=SECRET))) as live:
        yield live.url


def test_the_index_lists_every_payload_file() -> None:
    on_disk = {p.relative_to(WEBHOOKS).as_posix() for p in WEBHOOKS.glob("*/*.json")}
    assert on_disk == {entry["file"] for entry in INDEX}
    assert len(on_disk) == 98


def test_every_published_payload_is_acknowledged_when_signed_and_refused_when_not(
    server: str, redis_client: Redis
) -> None:
    queue = Queue("depup", connection=redis_client, serializer=JSONSerializer)
    expected_jobs = 0
    with httpx.Client(timeout=10) as client:
        for entry in INDEX:
            body = (WEBHOOKS / entry["file"]).read_bytes()
            event = entry["event"]
            signed = send_webhook(server, event, body, SECRET, client=client)
            assert signed.status_code in (200, 202), (entry["file"], signed.status_code, signed.text)
            if event == "ping":
                assert signed.status_code == 200
            else:
                assert signed.status_code == 202
                expected_jobs += 1
            unsigned = send_webhook(server, event, body, None, client=client)
            assert unsigned.status_code == 401, entry["file"]
            headers = webhook_headers(event, body, SECRET)
            tampered = client.post(server + "/api/github/webhooks", content=body + b" ", headers=headers)
            assert tampered.status_code == 401, entry["file"]
            forged = send_webhook(server, event, body, "not-the-secret", client=client)
            assert forged.status_code == 401, entry["file"]
    assert queue.count == expected_jobs
