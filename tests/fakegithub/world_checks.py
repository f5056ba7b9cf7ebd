"""World operations on check runs and suites, commit statuses and deployments. Mixed into World
(world.py); callers hold world.lock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import payloads
from .state import (
    ApiError,
    App,
    Artifact,
    CheckRun,
    CheckSuite,
    Deployment,
    DeploymentStatus,
    Repo,
    Status,
    User,
    WorkflowRun,
    validation_failed,
)
from .world_core import WorldCore

ZERO_SHA = "0" * 40
CONCLUSION_PRECEDENCE = [
    "action_required",
    "cancelled",
    "timed_out",
    "failure",
    "startup_failure",
    "stale",
    "neutral",
    "skipped",
    "success",
]


class ChecksMixin(WorldCore):
    def branch_for_sha(self, repo: Repo, sha: str) -> str | None:
        for branch, tip in repo.branches.items():
            if tip == sha:
                return branch
        return None

    def create_check_run(
        self,
        repo: Repo,
        head_sha: str,
        name: str,
        app: App,
        *,
        status: str = "queued",
        conclusion: str | None = None,
        started_at: datetime | None = None,
        completed_at: datetime | None = None,
        output: Mapping[str, Any] | None = None,
        details_url: str | None = None,
        external_id: str | None = None,
        actions: list[dict[str, Any]] | None = None,
        emit: bool = True,
    ) -> CheckRun:
        if not repo.store.is_commit(head_sha):
            raise validation_failed("CheckRun", "No commit found for SHA: " + head_sha, field="head_sha")
        if conclusion is not None and status != "completed":
            status = "completed"
        if status == "completed" and conclusion is None:
            raise validation_failed("CheckRun", "conclusion is required when status is completed", field="conclusion")
        now = self.now()
        suite = self._suite_for(repo, app, head_sha)
        run = CheckRun(
            id=self.next_id(),
            name=name,
            head_sha=head_sha,
            suite=suite,
            app=app,
            status=status,
            conclusion=conclusion,
            started_at=started_at or now,
            completed_at=(completed_at or now) if status == "completed" else None,
            output=dict(output or {}),
            details_url=details_url,
            external_id=external_id,
            actions=list(actions or []),
        )
        repo.check_runs[run.id] = run
        suite.updated_at = now
        suite.completed_emitted = False
        if emit:
            self._check_run_event(repo, run, "created", app.bot)
            if status == "completed":
                self._check_run_event(repo, run, "completed", app.bot)
                self._maybe_suite_completed(repo, suite, app.bot)
        return run

    def _suite_for(self, repo: Repo, app: App, head_sha: str) -> CheckSuite:
        for suite in repo.check_suites.values():
            if suite.app is app and suite.head_sha == head_sha:
                return suite
        now = self.now()
        parents = repo.store.commit(head_sha).parents
        suite = CheckSuite(
            id=self.next_id(),
            head_sha=head_sha,
            head_branch=self.branch_for_sha(repo, head_sha),
            app=app,
            created_at=now,
            updated_at=now,
            before=parents[0] if parents else ZERO_SHA,
            after=head_sha,
        )
        repo.check_suites[suite.id] = suite
        return suite

    def update_check_run(
        self,
        repo: Repo,
        run: CheckRun,
        sender: User,
        *,
        name: str | None = None,
        status: str | None = None,
        conclusion: str | None = None,
        completed_at: datetime | None = None,
        output: Mapping[str, Any] | None = None,
        details_url: str | None = None,
        external_id: str | None = None,
        emit: bool = True,
    ) -> None:
        was_completed = run.status == "completed"
        if name is not None:
            run.name = name
        if details_url is not None:
            run.details_url = details_url
        if external_id is not None:
            run.external_id = external_id
        if output is not None:
            run.output = {**run.output, **output}
        if conclusion is not None:
            run.conclusion = conclusion
            status = "completed"
        if status is not None:
            if status == "completed" and run.conclusion is None:
                raise validation_failed(
                    "CheckRun", "conclusion is required when status is completed", field="conclusion"
                )
            run.status = status
            if status != "completed":
                run.conclusion = None
                run.completed_at = None
        if run.status == "completed" and run.completed_at is None:
            run.completed_at = completed_at or self.now()
        run.suite.updated_at = self.now()
        if emit and run.status == "completed" and not was_completed:
            self._check_run_event(repo, run, "completed", sender)
            self._maybe_suite_completed(repo, run.suite, sender)

    def _check_run_event(self, repo: Repo, run: CheckRun, action: str, sender: User) -> None:
        inst = self.installation_for(repo)
        if inst is None:
            return
        self.emit("check_run", action, payloads.check_run(self.w, repo, run, action, sender, inst), inst)

    def suite_state(self, repo: Repo, suite: CheckSuite) -> tuple[str, str | None]:
        runs = [r for r in repo.check_runs.values() if r.suite is suite]
        if not runs:
            return "queued", None
        if any(r.status != "completed" for r in runs):
            return ("in_progress" if any(r.status == "in_progress" for r in runs) else "queued"), None
        conclusions = {r.conclusion for r in runs}
        for conclusion in CONCLUSION_PRECEDENCE:
            if conclusion in conclusions:
                return "completed", conclusion
        return "completed", "success"

    def _maybe_suite_completed(self, repo: Repo, suite: CheckSuite, sender: User) -> None:
        status, _ = self.suite_state(repo, suite)
        if status != "completed" or suite.completed_emitted:
            return
        suite.completed_emitted = True
        inst = self.installation_for(repo)
        if inst is not None:
            body = payloads.check_suite(self.w, repo, suite, "completed", sender, inst)
            self.emit("check_suite", "completed", body, inst)

    def add_status(
        self,
        repo: Repo,
        sha: str,
        state: str,
        context: str,
        creator: User,
        *,
        description: str | None = None,
        target_url: str | None = None,
        emit: bool = True,
    ) -> Status:
        if not repo.store.is_commit(sha):
            raise validation_failed("Status", "No commit found for SHA: " + sha, field="sha")
        now = self.now()
        status = Status(self.next_id(), sha, state, context, description, target_url, creator, now, now)
        repo.statuses.append(status)
        if emit:
            inst = self.installation_for(repo)
            if inst is not None:
                self.emit("status", None, payloads.status(self.w, repo, status, creator, inst), inst)
        return status

    def latest_statuses(self, repo: Repo, sha: str) -> list[Status]:
        latest: dict[str, Status] = {}
        for status in repo.statuses:
            if status.sha == sha:
                latest[status.context] = status
        return sorted(latest.values(), key=lambda s: s.id, reverse=True)

    @staticmethod
    def combined_state(statuses: list[Status]) -> str:
        states = {s.state for s in statuses}
        if not statuses or ("pending" in states and not states & {"failure", "error"}):
            return "pending"
        if states & {"failure", "error"}:
            return "failure"
        return "success"

    def create_deployment(
        self,
        repo: Repo,
        ref: str,
        creator: User,
        *,
        environment: str = "production",
        task: str = "deploy",
        payload: dict[str, Any] | str | None = None,
        description: str | None = None,
        transient_environment: bool = False,
        production_environment: bool | None = None,
        app: App | None = None,
        emit: bool = True,
    ) -> Deployment:
        sha = repo.resolve(ref)
        if sha is None:
            raise ApiError(422, "No ref found for: " + ref)
        now = self.now()
        deployment = Deployment(
            id=self.next_id(),
            sha=sha,
            ref=ref,
            task=task,
            environment=environment,
            original_environment=environment,
            description=description,
            creator=creator,
            payload=payload if payload is not None else {},
            created_at=now,
            updated_at=now,
            transient_environment=transient_environment,
            production_environment=(
                environment == "production" if production_environment is None else production_environment
            ),
            app=app,
        )
        repo.deployments[deployment.id] = deployment
        if emit:
            inst = self.installation_for(repo)
            if inst is not None:
                self.emit("deployment", "created", payloads.deployment(self.w, repo, deployment, creator, inst), inst)
        return deployment

    def add_deployment_status(
        self,
        repo: Repo,
        deployment: Deployment,
        state: str,
        creator: User,
        *,
        description: str = "",
        target_url: str = "",
        log_url: str = "",
        environment_url: str = "",
        app: App | None = None,
        emit: bool = True,
    ) -> DeploymentStatus:
        now = self.now()
        status = DeploymentStatus(
            id=self.next_id(),
            deployment_id=deployment.id,
            state=state,
            creator=creator,
            description=description,
            environment=deployment.environment,
            target_url=target_url or log_url,
            log_url=log_url or target_url,
            environment_url=environment_url,
            created_at=now,
            updated_at=now,
            app=app,
        )
        deployment.statuses.append(status)
        deployment.updated_at = now
        if emit:
            inst = self.installation_for(repo)
            if inst is not None:
                body = payloads.deployment_status(self.w, repo, deployment, status, creator, inst)
                self.emit("deployment_status", "created", body, inst)
        return status


class ActionsMixin(ChecksMixin):
    """Workflow runs and their artifacts (GitHub Actions), for the Actions REST API."""

    def add_workflow_run(
        self,
        repo: Repo,
        head_sha: str,
        name: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        event: str = "push",
        artifacts: Mapping[str, bytes] | None = None,
    ) -> WorkflowRun:
        if not repo.store.is_commit(head_sha):
            raise validation_failed("WorkflowRun", "No commit found for SHA: " + head_sha, field="head_sha")
        now = self.now()
        run = WorkflowRun(
            id=self.next_id(),
            name=name,
            head_sha=head_sha,
            head_branch=self.branch_for_sha(repo, head_sha),
            event=event,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            created_at=now,
            updated_at=now,
            run_number=len(repo.workflow_runs) + 1,
            workflow_id=abs(hash((repo.full_name, name))) % 10_000_000,
            path=f".github/workflows/{name.lower().replace(' ', '-')}.yml",
        )
        for artifact_name, data in (artifacts or {}).items():
            run.artifacts.append(Artifact(self.next_id(), artifact_name, data, now))
        repo.workflow_runs[run.id] = run
        return run

    def find_artifact(self, repo: Repo, artifact_id: int) -> tuple[WorkflowRun, Artifact] | None:
        for run in repo.workflow_runs.values():
            for artifact in run.artifacts:
                if artifact.id == artifact_id:
                    return run, artifact
        return None
