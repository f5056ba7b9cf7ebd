"""Redis killed and started again empty (and, slow, from its append-only file) under a running `depup worker` and
`depup cron`: the worker is registered again and its scheduler runs due jobs, cron marks the new epoch and recovers,
the registry is rebuilt, a scan asked for at once is not skipped, and `depup status` shows all of it. Assertions
are about what recovers; the hang guard (tests/support/redis_restart.HANG_GUARD) only stops a test that never does.
How long each part takes is printed by bench/redis_restart.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fakegithub import FakeGitHub
from tests.support.osv_server import OsvServer
from tests.support.redis_restart import (
    RedisServer,
    depup_process,
    process_env,
    restart_under_running_processes,
    status,
    wait_until,
)
from tests.support.registry_server import RegistryServer
from tests.test_processes import env_for

REPO = "octo-org/shop"
FILES = {
    "requirements.txt": "requests==2.22.0\n",
    ".github/depup.yml": "min_release_age: 0\nsecurity: {audit: false}\n",
}


def scenario(fake: FakeGitHub, tmp_path: Path, osv: OsvServer, *, empty: bool) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    fake.create_repo(REPO, files=FILES)
    fake.create_installation(account="octo-org", repos=[REPO])  # no webhook target: cron's recovery finds it
    server = RedisServer(tmp_path, appendonly=not empty)
    server.start()
    env = process_env(env_for(fake, server.url), server.url, DEPUP_OSV_URL=osv.url)
    try:
        with (
            depup_process(["worker"], env, tmp_path / "worker.log") as worker,
            depup_process(["cron"], env, tmp_path / "cron.log") as cron,
        ):
            # Settled: cron found a new Redis and recovered (registry rebuilt, the repository scanned).
            wait_until(lambda: bool(status(env)["registry_complete_at"]), "first recovery did not run")
            wait_until(lambda: any(p.title for p in fake.pulls(REPO, state="all")), "first scan did not open PRs")
            prs = sorted(p.head_ref for p in fake.pulls(REPO, state="all"))
            recovery = restart_under_running_processes(server, env, REPO, empty=empty)
            assert recovery.scan_result != {"skipped": True}, recovery.scan_result
            assert worker.poll() is None and cron.poll() is None  # outlived Redis: no exit, no restart needed
            report = status(env)
            assert len(report["workers"]) == 1  # type: ignore[arg-type]
            # Nothing twice: the scans after the restart found GitHub's state and wrote nothing new.
            assert sorted(p.head_ref for p in fake.pulls(REPO, state="all")) == prs
        log = (tmp_path / "worker.log").read_text() + (tmp_path / "cron.log").read_text()
        assert "Traceback" not in (tmp_path / "cron.log").read_text(), log[-3000:]
    finally:
        server.kill()


def test_redis_restarted_empty_under_a_running_worker_and_cron(
    fake_github: FakeGitHub, tmp_path: Path, registry_server: RegistryServer, osv_server: OsvServer
) -> None:
    scenario(fake_github, tmp_path, osv_server, empty=True)


@pytest.mark.slow
def test_redis_restarted_from_its_append_only_file_under_a_running_worker_and_cron(
    fake_github: FakeGitHub, tmp_path: Path, registry_server: RegistryServer, osv_server: OsvServer
) -> None:
    scenario(fake_github, tmp_path, osv_server, empty=False)
