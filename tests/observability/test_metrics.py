"""Prometheus metrics of the worker's work, over real parts: deliveries, jobs and handlers by outcome, GitHub requests
by route template and status class, the rate-limit gauge and its Redis state, registry cache hits, pull requests and
rollbacks opened and merged. The worker runs in the test process, so its numbers are in the default registry (the one
the web app's /metrics serves without a multiprocess directory)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from redis import Redis

from bot.core import metrics
from bot.core.delivery import Delivery
from bot.core.queue import enqueue_delivery
from bot.core.settings import Settings
from bot.errors import RateLimited
from bot.events.context import Context
from bot.events.router import Router
from bot.github.client import RATELIMIT_PREFIX, Metered, ratelimit_states
from bot.lifecycle.requests import request_scan
from tests.rollback import test_e2e_rollback as rollback
from tests.support.harness import Depup
from tests.support.worker import build_runtime, drain, installed
from tests.test_e2e_upgrades import REPO, files


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def total(name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    found = 0.0
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                found += sample.value
    return found


class Snapshot:
    """Metric values now, to compare with values later (the default registry lives as long as the test session)."""

    def __init__(self) -> None:
        self._values = {
            (s.name, tuple(sorted(s.labels.items()))): s.value for f in REGISTRY.collect() for s in f.samples
        }

    def delta(self, name: str, **labels: str) -> float:
        return value(name, **labels) - self._values.get((name, tuple(sorted(labels.items()))), 0.0)

    def total_delta(self, name: str, **labels: str) -> float:
        wanted = labels.items()
        before = sum(v for (n, ls), v in self._values.items() if n == name and wanted <= dict(ls).items())
        return total(name, **labels) - before


def install(depup: Depup) -> int:
    fake = depup.fake
    fake.create_repo(REPO, files=files())
    installation = fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    return installation.id


def scan(depup: Depup) -> None:
    assert request_scan(depup.rt.queue, depup.settings, REPO, "test")
    depup.run_worker()


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/repos/octo-org/shop", "/repos/{owner}/{repo}"),
        ("/repos/octo-org/shop/pulls", "/repos/{owner}/{repo}/pulls"),
        ("/repos/octo-org/shop/pulls/12/merge", "/repos/{owner}/{repo}/pulls/{pull_number}/merge"),
        ("/repos/o/r/contents/web/package.json", "/repos/{owner}/{repo}/contents/{path}"),
        ("/repos/o/r/contents/", "/repos/{owner}/{repo}/contents/{path}"),  # the root directory
        ("/repos/o/r/git/ref/heads/depup/python/low-all", "/repos/{owner}/{repo}/git/ref/{ref}"),
        ("/repos/o/r/git/refs/heads/depup/npm/x", "/repos/{owner}/{repo}/git/refs/{ref}"),
        ("/repos/o/r/commits/depup/npm/x/status", "/repos/{owner}/{repo}/commits/{ref}/status"),
        ("/repos/o/r/commits/0123abc/check-runs", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
        ("/repos/o/r/compare/main...depup/x", "/repos/{owner}/{repo}/compare/{basehead}"),
        ("/repos/o/r/issues/4/labels/needs%20review", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
        ("/app/installations/77/access_tokens", "/app/installations/{installation_id}/access_tokens"),
        ("/repos/o/r/some/new/endpoint", "other"),
        ("/enterprise/anything", "other"),
    ],
)
def test_github_paths_become_route_templates(path: str, route: str) -> None:
    assert metrics.github_route(path) == route


def test_a_delivery_its_scan_and_the_pull_requests_it_opens(depup: Depup) -> None:
    before = Snapshot()

    installation = install(depup)
    fake = depup.fake
    assert len(fake.pulls(REPO)) == 2

    assert before.delta("depup_webhook_deliveries_total", event="installation", outcome="accepted") == 1
    assert before.delta("depup_jobs_total", job="process_delivery", outcome="success") >= 1
    assert before.delta("depup_jobs_total", job="scan_repo", outcome="success") == 1
    assert before.total_delta("depup_job_duration_seconds_count", job="scan_repo") == 1
    assert before.total_delta("depup_handler_runs_total", outcome="success") >= 1
    assert before.total_delta("depup_handler_runs_total", outcome="failure") == 0
    assert before.delta("depup_pull_requests_opened_total") == 2
    pulls = {"method": "POST", "route": "/repos/{owner}/{repo}/pulls", "status_class": "2xx"}
    assert before.delta("depup_github_requests_total", **pulls) == 2
    # Every request the whole flow made has a known template: no "other" route.
    others = [s.labels for f in REGISTRY.collect() for s in f.samples if s.labels.get("route") == "other"]
    assert before.total_delta("depup_github_requests_total", route="other") == 0, others
    assert before.total_delta("depup_github_requests_total") == len(fake.calls)
    assert before.total_delta("depup_github_request_duration_seconds_count") == len(fake.calls)
    for ecosystem in ("python", "npm"):
        assert before.delta("depup_registry_cache_lookups_total", ecosystem=ecosystem, result="miss") > 0

    # The second scan finds every package in the shared cache.
    second = Snapshot()
    scan(depup)
    for ecosystem in ("python", "npm"):
        assert second.delta("depup_registry_cache_lookups_total", ecosystem=ecosystem, result="hit") > 0
        assert second.delta("depup_registry_cache_lookups_total", ecosystem=ecosystem, result="miss") == 0
    assert second.delta("depup_pull_requests_opened_total") == 0
    assert second.total_delta("depup_github_requests_total", status_class="3xx") >= 1  # 304: ETag revalidations

    text = httpx.get(depup.web_url + "/metrics").text
    for name in (
        "depup_webhook_deliveries_total",
        "depup_jobs_total",
        "depup_job_duration_seconds_bucket",
        "depup_handler_runs_total",
        "depup_github_requests_total",
        "depup_github_ratelimit_remaining",
        "depup_registry_cache_lookups_total",
        "depup_pull_requests_opened_total",
        "depup_rollbacks_opened_total",
        "depup_rollbacks_merged_total",
    ):
        assert f"\n{name}" in text, name
    assert f'depup_github_ratelimit_remaining{{installation="{installation}"}}' in text


def test_a_github_5xx_is_counted_by_route_and_status_class(depup: Depup) -> None:
    install(depup)
    fault = depup.fake.inject("pulls/list", status=502)
    before = Snapshot()
    scan(depup)
    assert fault.hits == 1
    labels = {"method": "GET", "route": "/repos/{owner}/{repo}/pulls"}
    assert before.delta("depup_github_requests_total", **labels, status_class="5xx") == 1
    assert before.delta("depup_jobs_total", job="scan_repo", outcome="success") == 1  # the read was retried


def test_rate_limit_gauge_and_redis_state_follow_githubs_headers(depup: Depup) -> None:
    installation = install(depup)
    fake = depup.fake
    bucket = fake.world.bucket(f"installation:{installation}", 5000)
    assert 0 < bucket.remaining < 5000
    label = str(installation)
    assert value("depup_github_ratelimit_remaining", installation=label) == bucket.remaining
    assert value("depup_github_ratelimit_limit", installation=label) == bucket.limit
    assert value("depup_github_ratelimit_reset_timestamp_seconds", installation=label) == bucket.reset

    key = RATELIMIT_PREFIX + label
    stored = {k.decode(): v.decode() for k, v in depup.redis.hgetall(key).items()}
    assert int(stored["remaining"]) == bucket.remaining
    assert int(stored["limit"]) == 5000 and int(stored["reset"]) == bucket.reset
    assert time.time() - float(stored["updated"]) < 60
    ttl = depup.redis.ttl(key)
    assert 0 < ttl <= bucket.reset - time.time() + 301
    states = {s.installation: s for s in ratelimit_states(depup.redis)}
    assert states[label].remaining == bucket.remaining
    assert "app" in states  # the token exchange is counted against the App, not the installation

    # A primary rate limit: the installation's bucket is empty until its reset; the job is postponed, not failed.
    fake.inject(kind="primary_rate_limit", method="GET", path_regex=r"/pulls$", retry_after=30)
    before = Snapshot()
    scan(depup)
    assert value("depup_github_ratelimit_remaining", installation=label) == 0
    assert {s.installation: s.remaining for s in ratelimit_states(depup.redis)}[label] == 0
    assert before.delta("depup_jobs_total", job="scan_repo", outcome="postponed") == 1


def test_rate_limit_state_keeps_the_latest_word_whatever_the_order_answers_arrive_in(redis_client: Redis) -> None:
    answers: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=answers.pop(0), json={})

    def answer(remaining: int, reset: int) -> None:
        answers.append(
            {"x-ratelimit-remaining": str(remaining), "x-ratelimit-limit": "5000", "x-ratelimit-reset": str(reset)}
        )
        with httpx.Client(transport=Metered(httpx.MockTransport(handler), redis_client, 9, "/api/v3")) as client:
            client.get("https://ghe.example/api/v3/repos/o/r")

    reset = int(time.time()) + 1200
    answer(4000, reset)
    answer(4100, reset)  # an older answer of the same window, from a slower worker
    [state] = ratelimit_states(redis_client)
    assert (state.installation, state.remaining, state.reset) == ("9", 4000, reset)
    ttl = redis_client.ttl(RATELIMIT_PREFIX + "9")
    answer(10, int(time.time()) - 5)  # a late answer of a window that has ended: ignored, TTL untouched
    [state] = ratelimit_states(redis_client)
    assert (state.remaining, state.reset) == (4000, reset) and redis_client.ttl(RATELIMIT_PREFIX + "9") >= ttl - 1
    answer(4999, reset + 3600)  # the next window
    [state] = ratelimit_states(redis_client)
    assert (state.remaining, state.reset) == (4999, reset + 3600)
    assert value("depup_github_requests_total", method="GET", route="/repos/{owner}/{repo}", status_class="2xx") >= 3


# -- job and handler outcomes, with a router of test handlers ----------------------------------------------------


def failing_router(state: dict[str, int]) -> Router:
    router = Router()

    @router.on("issues", "opened")
    def broken(delivery: Delivery, ctx: Context) -> None:
        raise RuntimeError("broken handler")

    @router.on("check_run", "completed")
    def limited(delivery: Delivery, ctx: Context) -> None:
        if state.get("limited", 0) > 0:
            state["limited"] -= 1
            raise RateLimited("slow down", retry_after=60, secondary=True)

    return router


@pytest.fixture
def test_runtime(redis_url: str, redis_client: Redis) -> Iterator[tuple[Settings, dict[str, int]]]:
    state: dict[str, int] = {}
    settings = Settings(redis_url=redis_url, app_id="1", retry_intervals=(0, 0))
    with installed(build_runtime(settings, redis_client, failing_router(state))):
        yield settings, state


def test_a_failing_handler_counts_each_attempt_then_the_failure(
    test_runtime: tuple[Settings, dict[str, int]], redis_client: Redis
) -> None:
    from bot.process import runtime

    rt = runtime.current()
    name = "tests.observability.test_metrics.failing_router.<locals>.broken"
    before = Snapshot()
    enqueue_delivery(rt.queue, rt.settings, Delivery("issues", "opened", "obs-fail", 5, {"action": "opened"}))
    drain(rt)
    assert before.delta("depup_handler_runs_total", handler=name, outcome="failure") == 3
    assert before.delta("depup_handler_duration_seconds_count", handler=name) == 3
    assert before.delta("depup_jobs_total", job="process_delivery", outcome="retried") == 2
    assert before.delta("depup_jobs_total", job="process_delivery", outcome="failure") == 1
    assert before.delta("depup_job_duration_seconds_count", job="process_delivery", outcome="failure") == 1


def test_a_rate_limited_handler_postpones_the_job(test_runtime: tuple[Settings, dict[str, int]]) -> None:
    from bot.process import runtime

    rt = runtime.current()
    test_runtime[1]["limited"] = 1
    name = "tests.observability.test_metrics.failing_router.<locals>.limited"
    before = Snapshot()
    enqueue_delivery(rt.queue, rt.settings, Delivery("check_run", "completed", "obs-rl", 5, {"action": "completed"}))
    drain(rt)
    assert before.delta("depup_handler_runs_total", handler=name, outcome="postponed") == 1
    assert before.delta("depup_jobs_total", job="process_delivery", outcome="postponed") == 1
    assert before.delta("depup_jobs_total", job="process_delivery", outcome="failure") == 0


# -- rollbacks -------------------------------------------------------------------------------------------------------


@pytest.fixture
def app() -> Iterator[rollback.App]:
    served = rollback.App()
    yield served
    served.close()


def test_rollbacks_opened_and_merged(depup: Depup, app: rollback.App) -> None:
    fake, number = rollback.install(depup, app)
    rollback.merge_first(depup, number)
    before = Snapshot()
    rollback.deploy(depup, "failure")
    [revert] = rollback.reverts(fake)
    assert before.delta("depup_rollbacks_opened_total") == 1
    assert before.delta("depup_rollbacks_merged_total") == 0
    head = fake.branch_sha(rollback.REPO, fake.pull(rollback.REPO, revert).head_ref)
    fake.set_status(rollback.REPO, head, context="ci/test", state="success")  # type: ignore[arg-type]
    depup.run_worker()
    assert fake.pull(rollback.REPO, revert).merged
    assert before.delta("depup_rollbacks_merged_total") == 1
    assert before.delta("depup_rollbacks_opened_total") == 1
