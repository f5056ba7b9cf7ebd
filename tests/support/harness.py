"""The whole app on real parts for end-to-end tests: the fake GitHub sends signed webhooks over HTTP to the
web app (werkzeug on loopback), which enqueues into the test's Redis database; an in-process rq SimpleWorker
runs the real handlers, which call the fake GitHub as the installation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from redis import Redis

from bot.core.settings import Settings
from bot.process import runtime
from bot.process.web import WEBHOOK_PATH, create_app
from tests.fakegithub import FakeGitHub
from tests.support.http import LiveServer
from tests.support.osv_server import OsvServer
from tests.support.registry_server import RegistryServer
from tests.support.worker import build_runtime, drain


@dataclass
class Depup:
    fake: FakeGitHub
    settings: Settings
    redis: Redis
    web_url: str
    rt: runtime.Runtime

    def run_worker(self, *, with_scheduler: bool = False) -> None:
        """Wait until the fake GitHub has delivered every webhook, then work the queue until it is empty."""
        self.fake.wait_for_deliveries()
        drain(self.rt, with_scheduler=with_scheduler)


def settings_for(fake: FakeGitHub, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": redis_url,
        "app_id": str(fake.app.id),
        "private_key": fake.app.private_key_pem,
        "webhook_secret": fake.app.webhook_secret,
        "github_api_url": fake.url,
        "retry_intervals": (0, 0),
        "github_timeout_seconds": 5.0,
        "write_spacing_seconds": 0.0,
        "probe_allow": "http,loopback",  # health probes reach the local stand-in for the deployed app
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def depup(
    fake_github: FakeGitHub,
    redis_url: str,
    redis_client: Redis,
    registry_server: RegistryServer,
    osv_server: OsvServer,
) -> Iterator[Depup]:
    settings = settings_for(fake_github, redis_url, osv_url=osv_server.url)
    with LiveServer(create_app(settings)) as web:
        fake_github.set_webhook_target(web.url + WEBHOOK_PATH, fake_github.app.webhook_secret)
        rt = build_runtime(settings, redis_client)
        runtime.install(rt)
        try:
            yield Depup(fake_github, settings, redis_client, web.url, rt)
        finally:
            runtime.install(None)
            fake_github.set_webhook_target(None)
