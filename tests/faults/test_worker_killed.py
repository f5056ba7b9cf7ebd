"""A worker SIGKILLed in the middle of a scan: its job is retried by another worker and the outcome is the
same as without the kill: no duplicate branch, PR or comment, and no half-made branch left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rq.registry import StartedJobRegistry

from bot.lifecycle.lock import LOCK_TTL_SECONDS, scan_lock_key
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup
from tests.test_e2e_upgrades import REPO, REQUIREMENTS, files
from tests.test_processes import env_for

EXPECTED = ["depup/npm/low-all", "depup/python/low-all"]


def worker(depup: Depup, *, burst: bool) -> subprocess.Popen[bytes]:
    env = {
        **env_for(depup.fake, depup.settings.redis_url),
        "DEPUP_WRITE_SPACING": "0",
        "DEPUP_OSV_URL": depup.settings.osv_url,
        "DEPUP_PROBE_ALLOW": "http,loopback",
    }
    args = [sys.executable, "-m", "bot.process.cli", "worker", *(["--burst"] if burst else [])]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wait_for(fake: FakeGitHub, operation: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fake.count(operation):
            return
        time.sleep(0.02)
    raise AssertionError(f"{operation} was never called")


def depup_state(fake: FakeGitHub) -> dict[str, object]:
    pulls = fake.pulls(REPO, state="all")
    branches = sorted(ref for ref in fake.repo(REPO).refs if ref.startswith("refs/heads/depup/"))
    return {
        "pulls": sorted((p.head_ref, p.title, p.state) for p in pulls),
        "branches": branches,
        "files": {p.head_ref: fake.read_text(REPO, p.head_ref, "requirements.txt") for p in pulls},
        "comments": sum(len(fake.comments(REPO, p.number)) for p in pulls),
        "dashboards": len([i for i in fake.issues(REPO) if "depup-dashboard" in [label.name for label in i.labels]]),
    }


def test_a_worker_killed_mid_scan_leaves_nothing_half_made(depup: Depup) -> None:
    fake = depup.fake
    # The kill lands after the first branch exists and before its pull request does: while its depup/risk
    # check is being created (the first checks/create is the depup/config check of the default branch).
    fake.inject("checks/create", kind="slow", delay=4, times=1, after=1)
    fake.create_repo(REPO, files=files())
    fake.create_installation(account="octo-org", repos=[REPO])
    fake.wait_for_deliveries()
    first = worker(depup, burst=False)
    try:
        wait_for(fake, "git/create-ref")
        time.sleep(1.0)
        for pid in (*children(first.pid), first.pid):  # rq's work-horse runs the job: it dies with its worker
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    fake.clear_faults()
    assert fake.pulls(REPO) == []  # the kill left a branch without its pull request
    assert any(ref.startswith("refs/heads/depup/") for ref in fake.repo(REPO).refs)

    # rq notices the dead worker's job once its heartbeat lapses; the repository's lock expires within
    # LOCK_TTL_SECONDS as nobody renews it, and the installation's write lock (held for the interrupted write)
    # within its own timeout. Here the clock is moved on instead of waited for.
    assert 0 < depup.redis.ttl(scan_lock_key(REPO)) <= LOCK_TTL_SECONDS
    depup.redis.delete(scan_lock_key(REPO), *depup.redis.keys("depup:writes:*"))
    StartedJobRegistry(queue=depup.rt.queue).cleanup(time.time() + 3600)
    second = worker(depup, burst=True)
    assert second.wait(timeout=180) == 0
    depup.run_worker()  # anything the retried job queued (the scan it asked for)

    state = depup_state(fake)
    assert [branch for branch, _, state_ in state["pulls"] if state_ == "open"] == EXPECTED  # type: ignore[attr-defined]
    assert state["branches"] == [f"refs/heads/{b}" for b in EXPECTED]  # no half-made branch left behind
    assert state["dashboards"] == 1 and state["comments"] == 0
    assert state["files"]["depup/python/low-all"] == REQUIREMENTS.replace("requests==2.22.0", "requests==2.34.2")  # type: ignore[index]
    assert fake.count("pulls/create") == 2  # one per branch: the killed attempt never got that far
