"""Rollback latency and cost, measured (run by ``python -m bench.rollback``; marked slow, not in the default
run): from the failing ``deployment_status`` webhook leaving the fake GitHub to the revert PR being created,
median of 20 runs, and the GitHub requests one rollback takes."""

from __future__ import annotations

import statistics
import time

import pytest

from tests.rollback.test_e2e_rollback import REQUIREMENTS, App, app, config
from tests.support.harness import Depup

RUNS = 20
__all__ = ["app"]  # the fixture


@pytest.mark.slow
def test_bench_rollback_latency_and_requests(depup: Depup, app: App) -> None:
    fake = depup.fake
    latencies: list[float] = []
    requests: list[int] = []
    installation = None
    for run in range(RUNS):
        repo = f"octo-org/bench-{run}"
        fake.create_repo(repo, files={"requirements.txt": REQUIREMENTS, ".github/depup.yml": config(app)})
        if installation is None:
            installation = fake.create_installation(account="octo-org", repos=[repo]).id
        else:
            fake.add_repos_to_installation(installation, [repo])
        depup.run_worker()
        [pull] = fake.pulls(repo)
        sha = fake.merge_pull(repo, pull.number)
        fake.set_status(repo, sha, context="ci/test", state="success")
        depup.run_worker()
        deployment = fake.create_deployment(repo, sha, emit=False)
        start_index = len(fake.calls)
        started = time.monotonic()
        fake.add_deployment_status(repo, deployment.id, "failure")
        depup.run_worker()
        calls = fake.calls[start_index:]
        created = [c for c in calls if c.operation_id == "pulls/create" and repo in c.path]
        assert len(created) == 1
        latencies.append(created[0].started_at - started)
        # The rollback's own requests: up to its comment on the original PR (the scan it asks for comes after).
        told = next(
            i for i, c in enumerate(calls)
            if c.operation_id == "issues/create-comment" and c.path.endswith(f"/issues/{pull.number}/comments")
        )  # fmt: skip
        requests.append(told + 1)
    ms = sorted(x * 1000 for x in latencies)
    print(
        f"\nrollback: failing deployment_status webhook -> revert PR created, {RUNS} runs: "
        f"median {statistics.median(ms):.0f} ms, min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms"
    )
    print(f"GitHub requests per rollback (webhook handling to the comment on the original PR): median "
          f"{statistics.median(requests):.0f} (min {min(requests)}, max {max(requests)})")  # fmt: skip
