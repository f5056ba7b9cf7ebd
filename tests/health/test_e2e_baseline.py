"""End to end: a deploy judged against the version it replaced. The fake GitHub sends the deployment and its
statuses, a real HTTP app answers the probes with a latency the test controls (lognormal noise), and a
Prometheus-compatible endpoint answers the queries from series the test drives."""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot import audit
from bot.core.serializer import JSONSerializer
from bot.lifecycle.state import DASHBOARD_LABEL, DashboardState
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup
from tests.support.prometheus_server import PrometheusServer

REPO = "octo-org/measured"
REQUIREMENTS = "click==7.0\nidna==2.10\n"
MEDIAN_MS = 20.0
SIGMA = 0.3  # lognormal: p95 is median * e^(1.645 * 0.3) = 1.64 x median


class App:
    """The deployed application: /healthz answers 200 after a lognormal delay around ``median_ms``."""

    def __init__(self) -> None:
        app = self
        self.median_ms = MEDIAN_MS
        self.rng = random.Random(20261207)
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with app.lock:
                    delay = app.median_ms * math.exp(app.rng.gauss(0, SIGMA)) / 1000
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/healthz"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Metrics:
    """What the Prometheus endpoint reports: a p95 latency series and request/error counts, each with a value
    before the deploy went live (``switched_at``) and after it, with noise."""

    def __init__(self, server: PrometheusServer) -> None:
        self.switched_at = math.inf
        self.p95 = (0.120, 0.120)  # seconds, before and after
        self.error_rate = (0.01, 0.01)
        self.rps = 5000.0
        server.define("p95", self._p95)
        server.define('sum(increase(http_requests_total{code=~"5.."}[$window]))', self._errors)
        server.define("sum(increase(http_requests_total[$window]))", self._total)

    def _after(self, t: float) -> int:
        return 1 if t >= self.switched_at else 0

    def _p95(self, t: float) -> float:
        noise = math.exp(random.Random(round(t * 1000)).gauss(0, 0.1))
        return self.p95[self._after(t)] * noise

    def _total(self, t: float, window: float) -> float:
        return self.rps * window

    def _errors(self, t: float, window: float) -> float:
        return self.rps * window * self.error_rate[self._after(t)]


@pytest.fixture
def app() -> Iterator[App]:
    served = App()
    yield served
    served.close()


@pytest.fixture
def prom() -> Iterator[PrometheusServer]:
    with PrometheusServer() as server:
        yield server


def config(
    app: App, prom: PrometheusServer | None, *, samples: int = 20, per_round: int = 10, probes: int = 3, soak: int = 1
) -> str:
    prometheus = (
        f"""
  prometheus:
    url: {prom.url}
    window: 2s
    step: 0.1s
    queries:
      - {{name: p95, kind: latency, query: p95}}
      - name: errors
        kind: error_rate
        query: 'sum(increase(http_requests_total{{code=~"5.."}}[$window]))'
        total: 'sum(increase(http_requests_total[$window]))'"""
        if prom
        else ""
    )
    return f"""\
min_release_age: 0
security: {{audit: false}}
groups:
  - {{name: all, match: {{}}}}
phases:
  - {{name: first, title: First, match: {{}}}}
rollback: {{auto: true, auto_merge: false}}
health_check:
  environments: [production]
  urls: [{{url: '{app.url}', max_latency_ms: 2000}}]
  probes: {probes}
  interval: 1s
  soak: {soak}s
  baseline: {{samples: {samples}, per_round: {per_round}, spacing_ms: 0, min_samples: 20}}{prometheus}
"""


def install_and_merge(depup: Depup, text: str) -> tuple[FakeGitHub, int]:
    fake = depup.fake
    fake.create_repo(REPO, files={"requirements.txt": REQUIREMENTS, ".github/depup.yml": text})
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    [pull] = fake.pulls(REPO)
    sha = fake.merge_pull(REPO, pull.number)
    fake.set_status(REPO, sha, context="ci/test", state="success")
    depup.run_worker()
    return fake, pull.number


def deploy(depup: Depup, change: callable | None = None) -> int:  # type: ignore[valid-type]
    """Create the deployment (the baseline is sampled then), let ``change`` switch to the new version, and
    report the deployment successful: the soak runs to its verdict."""
    fake = depup.fake
    deployment = fake.create_deployment(REPO, fake.branch_sha(REPO, "main") or "main")
    depup.run_worker()
    if change is not None:
        change()
    fake.add_deployment_status(REPO, deployment.id, "success")
    depup.run_worker()
    soak(depup)
    return deployment.id


def soak(depup: Depup, limit: float = 30.0) -> None:
    registry = ScheduledJobRegistry(queue=depup.rt.queue)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        depup.run_worker()
        ids = registry.get_job_ids()
        if not ids:
            return
        for job_id in ids:
            wait = (registry.get_scheduled_time(job_id) - datetime.now(UTC)).total_seconds()
            if wait > 0:
                time.sleep(min(wait, 1.0))
            depup.rt.queue.enqueue_job(Job.fetch(job_id, connection=depup.redis, serializer=JSONSerializer))
            registry.remove(job_id)
    raise AssertionError("the soak did not end")


def dashboard(fake: FakeGitHub) -> str:
    [issue] = [i for i in fake.issues(REPO) if DASHBOARD_LABEL in [label.name for label in i.labels]]
    return issue.body or ""


def reverts(fake: FakeGitHub) -> list[int]:
    return [p.number for p in fake.pulls(REPO, state="all") if p.head_ref.startswith("depup/rollback/")]


def actions(depup: Depup) -> dict[str, str]:
    return {e.action: e.why for e in audit.latest(depup.redis, REPO, 100)}


def test_a_deploy_doubling_latency_is_rolled_back_with_both_distributions(
    depup: Depup, app: App, prom: PrometheusServer
) -> None:
    fake, _ = install_and_merge(depup, config(app, prom))
    metrics = Metrics(prom)

    def slower() -> None:
        app.median_ms = 2 * MEDIAN_MS
        metrics.p95 = (0.120, 0.240)
        metrics.switched_at = time.time()

    deployment = deploy(depup, slower)
    assert "baseline of the running version" in actions(depup)["deploy_baseline"]
    [revert] = reverts(fake)
    body = fake.pull(REPO, revert).body or ""
    assert f"deployment {deployment} regressed against the version before it" in body
    assert f"latency of {app.url}" in body and "Prometheus p95" in body
    assert "regressed: p = " in body and "Mann-Whitney U = " in body and "/ 4 metrics" in body
    assert "| before | 20 |" in body and "| after | " in body  # n, median, p95, p99 of both sides
    assert "before" in body and "after" in body and "#" in body  # the text histogram
    # the error rate did not change: within noise, or not judged yet when the latencies decided first
    assert re.search(r"\*\*Prometheus errors \(error rate\)\*\*: (within noise|not judged yet)", body)
    [merge] = DashboardState.from_body(dashboard(fake)).merges
    assert merge.health == "rolled_back"
    # every probe answered 200: the absolute limits alone would have passed this deploy
    assert "FAILED" not in body


def test_a_healthy_noisy_deploy_is_not_rolled_back(depup: Depup, app: App, prom: PrometheusServer) -> None:
    fake, _ = install_and_merge(depup, config(app, prom, soak=3))
    metrics = Metrics(prom)

    def same() -> None:
        metrics.switched_at = time.time()

    deploy(depup, same)
    assert reverts(fake) == []
    [merge] = DashboardState.from_body(dashboard(fake)).merges
    assert merge.health == "healthy"
    why = actions(depup)["deploy_healthy"]
    assert f"latency of {app.url}: within noise" in why and "Prometheus p95: within" in why
    assert "against the baseline" in dashboard(fake)


def test_a_deploy_doubling_the_error_rate_is_rolled_back(depup: Depup, app: App, prom: PrometheusServer) -> None:
    fake, _ = install_and_merge(depup, config(app, prom))
    metrics = Metrics(prom)

    def failing_more() -> None:
        metrics.error_rate = (0.01, 0.02)
        metrics.switched_at = time.time()

    deploy(depup, failing_more)
    [revert] = reverts(fake)
    body = fake.pull(REPO, revert).body or ""
    assert "regressed against the version before it: Prometheus errors (error rate)" in body
    assert "error rate x2" in body and "z = " in body
    assert "- before: " in body and "(1.00%)" in body and "(2.00%)" in body


def test_too_few_samples_are_not_judged_and_the_absolute_limits_decide(depup: Depup, app: App) -> None:
    fake, _ = install_and_merge(depup, config(app, None, samples=30, per_round=5, probes=2))

    def slower() -> None:
        app.median_ms = 2 * MEDIAN_MS

    deploy(depup, slower)
    assert reverts(fake) == []  # every probe stayed under max_latency_ms
    why = actions(depup)["deploy_healthy"]
    [count] = re.findall(rf"latency of {re.escape(app.url)}: not judged: (\d+) samples, need 20", why)
    assert 5 <= int(count) < 20  # per_round 5: the soak ended after 1 to 3 rounds
    assert f"not judged: {count} samples, need 20" in dashboard(fake)


def test_the_baseline_is_taken_once_per_watched_deployment(depup: Depup, app: App) -> None:
    fake, _ = install_and_merge(depup, config(app, None))
    sha = fake.branch_sha(REPO, "main") or "main"
    fake.create_deployment(REPO, sha, environment="staging")  # not watched: nothing is sampled
    depup.run_worker()
    assert "deploy_baseline" not in actions(depup)
    deployment = fake.create_deployment(REPO, sha)
    depup.run_worker()
    for delivery in fake.events("deployment"):
        fake.redeliver(delivery.delivery_id)
    depup.run_worker()
    entries = [e for e in audit.latest(depup.redis, REPO, 100) if e.action == "deploy_baseline"]
    assert len(entries) == 1 and f"deployment {deployment.id} of " in entries[0].why
    assert f"latency of {app.url}: 20 values" in entries[0].why and "0 of 20 failed" in entries[0].why
