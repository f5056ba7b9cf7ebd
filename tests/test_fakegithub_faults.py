"""Faults injected on demand, seen through githubkit the way the app will see them."""

from __future__ import annotations

import time

import pytest
from githubkit.exception import PrimaryRateLimitExceeded, RequestFailed, SecondaryRateLimitExceeded

from tests.fakegithub import FakeGitHub
from tests.fakegithub.clients import installation_client

OWNER, NAME = "octo-org", "app"
REPO = f"{OWNER}/{NAME}"


@pytest.fixture
def gh(fake_github: FakeGitHub):  # type: ignore[no-untyped-def]
    fake_github.create_repo(REPO)
    inst = fake_github.create_installation(OWNER, [REPO])
    client = installation_client(fake_github, inst.id)
    client.rest.repos.get(OWNER, NAME)  # token fetched before faults are armed
    return client


def test_server_error_once_then_normal(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fault = fake_github.inject("repos/get", kind="status", status=502)
    with pytest.raises(RequestFailed) as failed:
        gh.rest.repos.get(OWNER, NAME)
    assert failed.value.response.status_code == 502
    assert failed.value.response.json() == {"message": "Server Error"}
    assert gh.rest.repos.get(OWNER, NAME).status_code == 200
    assert fault.hits == 1 and fault.exhausted
    recorded = [c for c in fake_github.calls if c.operation_id == "repos/get"]
    assert [(c.status, c.fault) for c in recorded] == [(200, None), (502, "status"), (200, None)]
    assert recorded[1].auth == "installation" and recorded[1].installation_id is not None


def test_secondary_rate_limit_carries_retry_after(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.inject("issues/create", kind="secondary_rate_limit", retry_after=7)
    with pytest.raises(SecondaryRateLimitExceeded) as limited:
        gh.rest.issues.create(OWNER, NAME, title="x")
    assert limited.value.retry_after.total_seconds() == 7
    assert limited.value.response.status_code == 403
    assert "secondary rate limit" in limited.value.response.json()["message"]
    assert gh.rest.issues.create(OWNER, NAME, title="x").status_code == 201


def test_primary_rate_limit_and_429(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.inject(method="GET", kind="primary_rate_limit", retry_after=30)
    with pytest.raises(PrimaryRateLimitExceeded) as primary:
        gh.rest.repos.get(OWNER, NAME)
    assert primary.value.response.headers["x-ratelimit-remaining"] == "0"
    assert 0 < primary.value.retry_after.total_seconds() <= 31
    fake_github.inject(path_regex=r"/issues$", kind="too_many_requests", retry_after=2)
    with pytest.raises(SecondaryRateLimitExceeded) as too_many:
        gh.rest.issues.create(OWNER, NAME, title="x")
    assert too_many.value.response.status_code == 429 and too_many.value.retry_after.total_seconds() == 2


def test_slow_then_normal(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.inject("repos/get", kind="slow", delay=0.3)
    started = time.monotonic()
    assert gh.rest.repos.get(OWNER, NAME).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_after_every_times(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fault = fake_github.inject("repos/get", kind="status", status=500, after=1, every=2, times=2)
    statuses = []
    for _ in range(8):
        try:
            statuses.append(gh.rest.repos.get(OWNER, NAME).status_code)
        except RequestFailed as exc:
            statuses.append(exc.response.status_code)
    # matches 1..8: skip the first, then every 2nd of the rest (3rd, 5th), at most twice
    assert statuses == [200, 200, 500, 200, 500, 200, 200, 200]
    assert (fault.matched, fault.hits) == (8, 2)
    forever = fake_github.inject("repos/get", kind="status", status=503, times=None)
    for _ in range(3):
        with pytest.raises(RequestFailed):
            gh.rest.repos.get(OWNER, NAME)
    fake_github.clear_faults()
    assert gh.rest.repos.get(OWNER, NAME).status_code == 200
    assert forever.hits == 3


def test_githubkit_auto_retry_recovers_from_a_5xx(fake_github: FakeGitHub) -> None:
    fake_github.create_repo(REPO)
    inst = fake_github.create_installation(OWNER, [REPO])
    retrying = installation_client(fake_github, inst.id, auto_retry=True)
    fake_github.inject("repos/get", kind="status", status=502)
    assert retrying.rest.repos.get(OWNER, NAME).status_code == 200  # githubkit slept 1 s and retried
    assert fake_github.count("repos/get") == 2
