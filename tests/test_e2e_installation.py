"""The foundation end to end: GitHub -> signed webhook -> web -> Redis -> worker -> handler -> GitHub as the
installation, with every request checked against GitHub's OpenAPI description by the fake."""

from __future__ import annotations

from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from bot.core.queue import delivery_job_id
from bot.core.serializer import JSONSerializer
from bot.process.cron import build_scheduler
from bot.repos.registry import RepoRecord, RepoRegistry
from tests.support.harness import Depup


def test_installation_webhook_reaches_the_handler_which_reads_the_repos_as_the_installation(depup: Depup) -> None:
    fake = depup.fake
    fake.create_repo("octo-org/app", files={"requirements.txt": "flask==1.0\n"}, default_branch="main")
    fake.create_repo("octo-org/lib", files={"package.json": "{}\n"}, default_branch="trunk", private=True)
    installation = fake.create_installation(account="octo-org", repos=["octo-org/app", "octo-org/lib"])
    fake.wait_for_deliveries()

    [delivery] = fake.events("installation", "created")
    assert delivery.status_code == 202
    assert fake.count() == 0, "the web process never calls GitHub"

    depup.run_worker()
    job = Job.fetch(delivery_job_id(delivery.delivery_id), connection=depup.redis, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED

    token_calls = [c for c in fake.calls if c.operation_id == "apps/create-installation-access-token"]
    assert [(c.auth, c.path) for c in token_calls] == [("app", f"/app/installations/{installation.id}/access_tokens")]
    repo_calls = [c for c in fake.calls if c.operation_id == "repos/get"]
    assert sorted(c.path for c in repo_calls) == ["/repos/octo-org/app", "/repos/octo-org/lib"]
    assert {(c.auth, c.installation_id, c.status) for c in repo_calls} == {("installation", installation.id, 200)}

    registry = RepoRegistry(depup.redis)
    assert registry.installations() == [installation.id]
    assert registry.all() == [
        RepoRecord("octo-org/app", fake.repo("octo-org/app").id, installation.id, "main", False, False),
        RepoRecord("octo-org/lib", fake.repo("octo-org/lib").id, installation.id, "trunk", True, False),
    ]


def test_repositories_added_and_removed_keep_the_registry_in_step(depup: Depup) -> None:
    fake = depup.fake
    for name in ("a", "b", "c"):
        fake.create_repo(f"octo-org/{name}", files={"requirements.txt": "x==1\n"})
    installation = fake.create_installation(account="octo-org", repos=["octo-org/a"])
    fake.add_repos_to_installation(installation.id, ["octo-org/b", "octo-org/c"])
    depup.run_worker()
    registry = RepoRegistry(depup.redis)
    assert registry.names(installation.id) == ["octo-org/a", "octo-org/b", "octo-org/c"]

    fake.remove_repos_from_installation(installation.id, ["octo-org/b"])
    depup.run_worker()
    assert registry.names(installation.id) == ["octo-org/a", "octo-org/c"]

    fake.delete_installation(installation.id)
    depup.run_worker()
    assert registry.installations() == [] and registry.all() == []


def test_a_redelivered_webhook_runs_once(depup: Depup) -> None:
    fake = depup.fake
    fake.create_repo("octo-org/app", files={"requirements.txt": "x==1\n"})
    fake.create_installation(account="octo-org", repos=["octo-org/app"])
    fake.wait_for_deliveries()
    [delivery] = fake.events("installation", "created")
    again = fake.redeliver(delivery.delivery_id)
    fake.wait_for_deliveries()
    assert again.status_code == 200
    assert depup.rt.queue.count == 1
    depup.run_worker()
    assert fake.count("repos/get") == 1


def test_installation_tokens_are_shared_through_redis_across_jobs_and_workers(depup: Depup) -> None:
    fake = depup.fake
    fake.create_repo("octo-org/app", files={"requirements.txt": "x==1\n"})
    installation = fake.create_installation(account="octo-org", repos=["octo-org/app"], emit=False)
    # Two independently built client factories, as in two forked jobs (or two worker machines).
    from bot.github.client import GitHubClients

    for _ in range(2):
        clients = GitHubClients(depup.settings, depup.redis)
        gh = clients.installation(installation.id)
        assert gh.rest.repos.get("octo-org", "app").parsed_data.default_branch == "main"
    assert fake.count("apps/create-installation-access-token") == 1
    assert fake.count("repos/get") == 2
    assert depup.redis.keys("depup:ghauth:*"), "the token lives in Redis, under depup's prefix"


def test_github_5xx_is_retried_and_then_succeeds(depup: Depup) -> None:
    fake = depup.fake
    fake.create_repo("octo-org/app", files={"requirements.txt": "x==1\n"})
    fake.inject("repos/get", kind="status", status=502, times=3)  # two quick in-process retries, then rq retries
    fake.create_installation(account="octo-org", repos=["octo-org/app"])
    fake.wait_for_deliveries()
    [delivery] = fake.events("installation", "created")
    depup.run_worker()
    job = Job.fetch(delivery_job_id(delivery.delivery_id), connection=depup.redis, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    assert [c.status for c in fake.calls if c.operation_id == "repos/get"] == [502, 502, 502, 200]
    assert RepoRegistry(depup.redis).names(fake.events("installation")[0].installation_id or 0) == ["octo-org/app"]


def test_a_handler_that_keeps_failing_ends_in_the_failed_registry(depup: Depup) -> None:
    fake = depup.fake
    fake.create_repo("octo-org/app", files={"requirements.txt": "x==1\n"})
    fake.inject("repos/get", kind="status", status=500, times=None)
    fake.create_installation(account="octo-org", repos=["octo-org/app"])
    fake.wait_for_deliveries()
    [delivery] = fake.events("installation", "created")
    depup.run_worker()
    job_id = delivery_job_id(delivery.delivery_id)
    assert job_id in FailedJobRegistry(queue=depup.rt.queue)
    job = Job.fetch(job_id, connection=depup.redis, serializer=JSONSerializer)
    trace = job.latest_result().exc_string  # type: ignore[union-attr]
    assert "GitHubUnavailable: GitHub answered 500" in trace
    # 3 attempts (DEPUP_RETRY_INTERVALS has two), each with 2 quick retries of the idempotent GET.
    assert fake.count("repos/get") == 9


def test_secondary_rate_limit_postpones_the_delivery(depup: Depup) -> None:
    fake = depup.fake
    fake.create_repo("octo-org/app", files={"requirements.txt": "x==1\n"})
    fake.inject("repos/get", kind="secondary_rate_limit", retry_after=60, times=1)
    fake.create_installation(account="octo-org", repos=["octo-org/app"])
    fake.wait_for_deliveries()
    [delivery] = fake.events("installation", "created")
    depup.run_worker()
    scheduled = ScheduledJobRegistry(queue=depup.rt.queue)
    [postponed] = scheduled.get_job_ids()
    assert postponed == delivery_job_id(delivery.delivery_id) + "-r1"
    wait = (
        scheduled.get_scheduled_time(postponed).timestamp()
        - Job.fetch(
            delivery_job_id(delivery.delivery_id), connection=depup.redis, serializer=JSONSerializer
        ).ended_at.timestamp()
    )  # type: ignore[union-attr]
    assert 60 <= wait <= 66
    assert fake.count("repos/get") == 1  # no retry while GitHub asked to wait


def test_reconcile_cron_job_rebuilds_the_registry_from_the_api(depup: Depup) -> None:
    fake = depup.fake
    for name in ("a", "b"):
        fake.create_repo(f"octo-org/{name}", files={"requirements.txt": "x==1\n"})
    installation = fake.create_installation(account="octo-org", repos=["octo-org/a", "octo-org/b"], emit=False)
    registry = RepoRegistry(depup.redis)
    registry.add([RepoRecord("gone-org/old", 1, 999999, "main")])  # an installation deleted while we were down
    scheduler = build_scheduler(depup.settings, depup.redis)
    cron_jobs = scheduler.enqueue_jobs()
    assert sorted(job.name for job in cron_jobs) == ["bot.jobs.enqueue_due_scans", "bot.jobs.reconcile_installations"]
    depup.run_worker()
    assert registry.installations() == [installation.id]
    assert registry.names(installation.id) == ["octo-org/a", "octo-org/b"]
    assert fake.count("apps/list-installations") == 1
    assert fake.count("apps/list-repos-accessible-to-installation") == 1
