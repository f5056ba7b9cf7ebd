"""pytest fixtures for the fake GitHub. Load with ``pytest_plugins = ["tests.fakegithub.pytest_plugin"]``.

- fake_github: a started FakeGitHub with the app registered (app id 4242, slug depup); stopped after the
  test, and the test fails if the code under test sent a request GitHub would reject (or the fake sent
  a response that does not match GitHub's description).
- github_app: that registered App (private_key_pem, id, webhook_secret, bot_login).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake import FakeGitHub
from .state import App

APP_ID = 4242
APP_SLUG = "depup"


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(validate_responses=True)
    fake.start()
    fake.register_app(app_id=APP_ID, slug=APP_SLUG, name=APP_SLUG)
    try:
        yield fake
    finally:
        fake.stop()
    fake.assert_no_violations()


@pytest.fixture
def github_app(fake_github: FakeGitHub) -> App:
    return fake_github.app
