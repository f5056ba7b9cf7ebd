"""The worker and cron processes serve /metrics on DEPUP_METRICS_PORT. The worker forks a process per job (rq): their
numbers reach the worker's /metrics, and the files of finished job processes are folded, so the metrics directory
does not grow with the number of jobs run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from redis import Redis

from bot.core import metrics
from bot.core.queue import make_queue
from bot.lifecycle.requests import request_scan
from bot.process.web import WEBHOOK_PATH, create_app
from tests.fakegithub import FakeGitHub
from tests.support.harness import settings_for
from tests.support.http import LiveServer
from tests.support.osv_server import OsvServer
from tests.support.registry_server import RegistryServer
from tests.test_e2e_upgrades import REPO, files
from tests.test_processes import env_for, free_port


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot.process.cli", *args], env=env, stderr=err)
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def scrape(port: int, until: str, log: Path, limit: float = 90) -> str:
    """/metrics once ``until`` (a regex) appears in it."""
    deadline = time.monotonic() + limit
    text = ""
    while time.monotonic() < deadline:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except httpx.HTTPError:
            text = ""
        if re.search(until, text, re.M):
            return text
        time.sleep(0.25)
    raise AssertionError(f"/metrics never showed {until!r}:\n{text[-3000:]}\n{log.read_text()[-3000:]}")


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    found = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            series, number = line.rsplit(" ", 1)
            have = dict(re.findall(r'(\w+)="([^"]*)"', series))
            if all(have.get(k) == v for k, v in labels.items()):
                found += float(number)
    return found


@pytest.mark.slow  # a real forking worker: scripts/test -m slow
def test_worker_serves_the_metrics_of_its_job_processes(
    fake_github: FakeGitHub,
    redis_url: str,
    redis_client: Redis,
    registry_server: RegistryServer,
    osv_server: OsvServer,
    tmp_path: Path,
) -> None:
    fake = fake_github
    port = free_port()
    base = tmp_path / "multiproc"
    base.mkdir()
    env = {
        **env_for(fake, redis_url),
        "DEPUP_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(base),
        "DEPUP_OSV_URL": osv_server.url,
        "DEPUP_WRITE_SPACING": "0",
    }
    with (
        LiveServer(create_app(settings_for(fake, redis_url))) as web,
        process(["worker"], env, tmp_path / "worker.log") as worker,
    ):
        fake.set_webhook_target(web.url + WEBHOOK_PATH, fake.app.webhook_secret)
        fake.create_repo(REPO, files=files())
        installation = fake.create_installation(account="octo-org", repos=[REPO])
        log = tmp_path / "worker.log"
        text = scrape(port, r'^depup_jobs_total\{job="scan_repo",outcome="success"\} 1\.0', log)
        assert sample(text, "depup_jobs_total", job="process_delivery", outcome="success") >= 1
        assert sample(text, "depup_pull_requests_opened_total") == len(fake.pulls(REPO)) >= 1
        assert sample(text, "depup_github_requests_total", method="POST", status_class="2xx") > 0
        remaining = sample(text, "depup_github_ratelimit_remaining", installation=str(installation.id))
        assert 0 < remaining < 5000
        assert sample(text, "depup_registry_cache_lookups_total", ecosystem="python", result="miss") > 0
        # Only one "app"/installation series each, without a pid label: the gauges are "most recent".
        assert 'pid="' not in text

        # Several more jobs: the directory holds the worker's archives and its own files, no file per job process.
        fake.set_webhook_target(None)
        settings = settings_for(fake, redis_url)
        for n in range(3):
            request_scan(make_queue(redis_client, settings), settings, REPO, f"again {n}", force=True)
        text = scrape(port, r'^depup_jobs_total\{job="scan_repo",outcome="success"\} 4\.0', log)
        [directory] = list(base.iterdir())
        names = sorted(p.name for p in directory.iterdir())
        pids = {int(m) for n in names if (m := n[:-3].rpartition("_")[2]).isdigit()}
        assert pids <= {worker.pid}, names
        assert len(names) <= 8, names
    assert worker.returncode is not None
    assert not directory.exists()  # removed when the worker stopped


def test_cron_serves_queue_gauges(fake_github: FakeGitHub, redis_url: str, redis_client: Redis, tmp_path: Path) -> None:
    from bot.repos.registry import RepoRecord, RepoRegistry

    RepoRegistry(redis_client).add([RepoRecord("octo-org/shop", 1, 7, "main")])
    redis_client.rpush("rq:queue:depup", "some-job-id")
    port = free_port()
    env = {**env_for(fake_github, redis_url), "DEPUP_METRICS_PORT": str(port)}
    with process(["cron"], env, tmp_path / "cron.log"):
        text = scrape(port, r"^depup_repositories 1\.0", tmp_path / "cron.log", limit=30)
    assert sample(text, "depup_queue_jobs", registry="queued") >= 1
    assert sample(text, "depup_installations") == 1
    assert "process_cpu_seconds_total" in text or sys.platform != "linux"
    assert "depup_jobs_total" not in text  # the cron process runs no jobs


def test_a_bad_metrics_port_is_a_settings_error(fake_github: FakeGitHub, redis_url: str) -> None:
    env = {**env_for(fake_github, redis_url), "DEPUP_METRICS_PORT": "http"}
    done = subprocess.run([sys.executable, "-m", "bot.process.cli", "worker", "--burst"], env=env, capture_output=True)
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "depup: DEPUP_METRICS_PORT must be a port number (1-65535), not 'http'"


# -- folding the files of finished processes ---------------------------------------------------------------------


def write(path: Path, entries: dict[str, tuple[float, float]]) -> None:
    store = MmapedDict(str(path))
    for key, (number, stamp) in entries.items():
        store.write_value(key, number, stamp)
    store.close()


def merged(directory: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(directory))
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in registry.collect() for s in f.samples}


@pytest.mark.parametrize("rounds", [1, 3])
def test_fold_keeps_every_number_and_leaves_one_file_per_kind(tmp_path: Path, rounds: int) -> None:
    me = os.getpid()
    jobs = mmap_key("depup_jobs", "depup_jobs_total", ["job", "outcome"], ["scan_repo", "success"], "Jobs.")
    bucket = mmap_key(
        "depup_job_duration_seconds", "depup_job_duration_seconds_bucket", ["job", "le"], ["scan_repo", "1.0"], "T."
    )
    gauge = mmap_key(
        "depup_github_ratelimit_remaining", "depup_github_ratelimit_remaining", ["installation"], ["7"], "Left."
    )
    busy = mmap_key("depup_busy", "depup_busy", [], [], "A live gauge.")
    dead = iter(range(10_000_000, 10_000_100))  # pids no process has
    write(tmp_path / f"counter_{me}.db", {jobs: (1.0, 0.0)})  # this process's own file: left alone
    for _round in range(rounds):
        for _ in range(2):
            pid = next(dead)
            write(tmp_path / f"counter_{pid}.db", {jobs: (2.0, 0.0)})
            write(tmp_path / f"histogram_{pid}.db", {bucket: (1.0, 0.0)})
            write(tmp_path / f"gauge_mostrecent_{pid}.db", {gauge: (float(4000 - pid % 100), float(pid))})
            write(tmp_path / f"gauge_liveall_{pid}.db", {busy: (1.0, 0.0)})  # dies with its process
        before = merged(tmp_path)
        assert metrics.fold_dead(str(tmp_path)) == 8
        assert merged(tmp_path) == {k: v for k, v in before.items() if "pid" not in dict(k[1])}
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [f"counter_{me}.db", f"counter_archive{me}.db", f"histogram_archive{me}.db",
             f"gauge_mostrecent_archive{me}.db"]
        )  # fmt: skip
    after = merged(tmp_path)
    assert after[("depup_jobs_total", (("job", "scan_repo"), ("outcome", "success")))] == 1 + 4 * rounds
    newest = 4000 - (next(dead) - 1) % 100
    assert after[("depup_github_ratelimit_remaining", (("installation", "7"),))] == newest
    assert metrics.fold_dead(str(tmp_path)) == 0
