"""FakeGitHub: the public face of the fake (start/stop, test-side actions, inspection, faults)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from .faults import Fault
from .server import Call, FakeServer
from .state import (
    App,
    CheckRun,
    Comment,
    Deployment,
    DeploymentStatus,
    Installation,
    Issue,
    Label,
    Pull,
    Repo,
    Status,
    User,
    WorkflowRun,
)
from .webhooks import Deliverer, SentDelivery
from .world import OutgoingEvent, World

ROLES = ("admin", "maintain", "write", "triage", "read", "none")


class FakeGitHub:
    """A stateful fake of GitHub's REST API and webhooks for one GitHub App, on a loopback port."""

    def __init__(
        self,
        validate_responses: bool = True,
        *,
        web_url: str = "http://github.localhost",
        webhook_timeout: float = 10.0,
    ) -> None:
        self.world = World(web_url=web_url)
        self.server = FakeServer(self.world, validate_responses=validate_responses)
        self.hooks = Deliverer(timeout=webhook_timeout)
        self.world.sink = self._on_event
        self._url: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        if self._url is None:
            self._url = self.server.start()
            self.world.api_url = self._url
            self.hooks.start()
        return self

    def stop(self) -> None:
        self.hooks.stop()
        self.server.stop()
        self._url = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("FakeGitHub is not started")
        return self._url

    @property
    def web_url(self) -> str:
        return self.world.web_url

    # -- setup ---------------------------------------------------------------------------------------
    def register_app(
        self,
        app_id: int = 4242,
        slug: str = "depup",
        name: str = "depup",
        *,
        owner: str | None = None,
        permissions: Mapping[str, str] | None = None,
        events: Iterable[str] | None = None,
    ) -> App:
        with self.world.lock:
            return self.world.register_app(app_id, slug, name, owner, permissions, events)

    @property
    def app(self) -> App:
        return self.world.app

    def set_webhook_target(self, url: str | None, secret: str | None = None) -> None:
        """Where signed webhooks go (None: record them but send nothing); secret defaults to the app's."""
        self.hooks.target = url
        self.hooks.secret = secret

    def add_user(self, login: str, type: str = "User", *, name: str | None = None, email: str | None = None) -> User:
        with self.world.lock:
            return self.world.add_user(login, type=type, name=name, email=email)

    def create_repo(
        self,
        full_name: str,
        files: Mapping[str, str | bytes] | None = None,
        *,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
    ) -> Repo:
        with self.world.lock:
            return self.world.create_repo(
                full_name, files, default_branch=default_branch, private=private, description=description
            )

    def create_installation(
        self,
        account: str,
        repos: Iterable[str] | None = None,
        *,
        emit: bool = True,
        permissions: Mapping[str, str] | None = None,
    ) -> Installation:
        """Install the app on account: on the named repos, or on all of its repos when repos is None."""
        with self.world.lock:
            return self.world.create_installation(account, repos, permissions=permissions, emit=emit)

    def add_repos_to_installation(self, installation_id: int, repos: Iterable[str], *, emit: bool = True) -> None:
        with self.world.lock:
            self.world.add_repos_to_installation(self.world.installation(installation_id), repos, emit=emit)

    def remove_repos_from_installation(self, installation_id: int, repos: Iterable[str], *, emit: bool = True) -> None:
        with self.world.lock:
            self.world.remove_repos_from_installation(self.world.installation(installation_id), repos, emit=emit)

    def delete_installation(self, installation_id: int, *, emit: bool = True) -> None:
        with self.world.lock:
            self.world.delete_installation(self.world.installation(installation_id), emit=emit)

    def set_permission(self, repo: str, login: str, role: str) -> None:
        """admin|maintain|write|triage|read|none (reported like GitHub: maintain as write, triage as read)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        with self.world.lock:
            self.world.user(login)
            self.world.repo(repo).collaborators[login.lower()] = role

    # -- test-side actions (humans, CI, deploy tools) ---------------------------------------------------
    def push(
        self,
        repo: str,
        branch: str,
        files: Mapping[str, str | bytes | None],
        *,
        message: str = "Update files",
        author: str = "alice",
        emit: bool = True,
    ) -> str:
        """A new commit on branch (created from the default branch if missing); None deletes a file."""
        with self.world.lock:
            return self.world.push(self.world.repo(repo), branch, files, message, self.world.user(author), emit=emit)

    def create_branch(
        self, repo: str, branch: str, from_ref: str | None = None, *, by: str = "alice", emit: bool = True
    ) -> str:
        with self.world.lock:
            r = self.world.repo(repo)
            sha = r.resolve(from_ref or r.default_branch)
            if sha is None:
                raise KeyError(from_ref)
            self.world.set_ref(r, f"refs/heads/{branch}", sha, self.world.user(by), emit=emit)
            return sha

    def delete_branch(self, repo: str, branch: str, *, by: str = "alice", emit: bool = True) -> None:
        with self.world.lock:
            self.world.set_ref(self.world.repo(repo), f"refs/heads/{branch}", None, self.world.user(by), emit=emit)

    def open_pull(
        self,
        repo: str,
        head: str,
        base: str | None = None,
        *,
        title: str = "A change",
        body: str | None = None,
        by: str = "alice",
        draft: bool = False,
        emit: bool = True,
    ) -> Pull:
        """A pull request opened by a person."""
        with self.world.lock:
            r = self.world.repo(repo)
            return self.world.open_pull(
                r, head, base or r.default_branch, title, body, self.world.user(by), draft=draft, emit=emit
            )

    def create_issue(
        self, repo: str, title: str, body: str | None = None, *, by: str = "alice", labels: Iterable[str] = ()
    ) -> Issue:
        with self.world.lock:
            return self.world.create_issue(self.world.repo(repo), title, body, self.world.user(by), labels=labels)

    def add_labels(self, repo: str, number: int, labels: Iterable[str], *, by: str = "alice") -> None:
        with self.world.lock:
            r = self.world.repo(repo)
            self.world.add_labels(r, self.world.issue(r, number), labels, self.world.user(by))

    def comment(self, repo: str, number: int, login: str, body: str, *, emit: bool = True) -> Comment:
        with self.world.lock:
            return self.world.add_comment(self.world.repo(repo), number, self.world.user(login), body, emit=emit)

    def edit_comment(
        self, repo: str, comment_id: int, body: str, *, by: str | None = None, emit: bool = True
    ) -> Comment:
        with self.world.lock:
            r = self.world.repo(repo)
            comment = self.world.comment(r, comment_id)
            sender = self.world.user(by) if by else comment.user
            self.world.edit_comment(r, comment, body, sender, emit=emit)
            return comment

    def set_status(
        self,
        repo: str,
        sha: str,
        *,
        context: str = "ci/test",
        state: str = "success",
        target_url: str | None = None,
        description: str | None = None,
        creator: str = "ci-bot",
        emit: bool = True,
    ) -> Status:
        with self.world.lock:
            r = self.world.repo(repo)
            full = r.resolve(sha) or sha
            return self.world.add_status(
                r,
                full,
                state,
                context,
                self.world.user(creator),
                description=description,
                target_url=target_url,
                emit=emit,
            )

    def create_check_run(
        self,
        repo: str,
        sha: str,
        *,
        name: str = "tests",
        status: str = "completed",
        conclusion: str | None = None,
        app_slug: str = "github-actions",
        output: Mapping[str, Any] | None = None,
        details_url: str | None = None,
        emit: bool = True,
        started_at: datetime | None = None,
        completed_at: datetime | None = None,
    ) -> CheckRun:
        """A check run by another app (GitHub Actions by default); completed ones default to success."""
        with self.world.lock:
            r = self.world.repo(repo)
            app = self.world.find_app(app_slug) or self.world.foreign_app(app_slug)
            if status == "completed" and conclusion is None:
                conclusion = "success"
            return self.world.create_check_run(
                r,
                r.resolve(sha) or sha,
                name,
                app,
                status=status,
                conclusion=conclusion,
                output=output,
                details_url=details_url,
                emit=emit,
                started_at=started_at,
                completed_at=completed_at,
            )

    def add_workflow_run(
        self,
        repo: str,
        sha: str,
        *,
        name: str = "CI",
        status: str = "completed",
        conclusion: str | None = "success",
        event: str = "push",
        artifacts: Mapping[str, bytes] | None = None,
    ) -> WorkflowRun:
        """A GitHub Actions workflow run of ``sha`` with artifacts (name -> the zip's bytes)."""
        with self.world.lock:
            r = self.world.repo(repo)
            return self.world.add_workflow_run(
                r, r.resolve(sha) or sha, name, status=status, conclusion=conclusion, event=event, artifacts=artifacts
            )

    def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        *,
        status: str | None = None,
        conclusion: str | None = None,
        emit: bool = True,
    ) -> CheckRun:
        with self.world.lock:
            r = self.world.repo(repo)
            run = r.check_runs[check_run_id]
            self.world.update_check_run(r, run, run.app.bot, status=status, conclusion=conclusion, emit=emit)
            return run

    def create_deployment(
        self,
        repo: str,
        ref_or_sha: str,
        *,
        environment: str = "production",
        creator: str = "deploy-bot",
        task: str = "deploy",
        emit: bool = True,
    ) -> Deployment:
        with self.world.lock:
            return self.world.create_deployment(
                self.world.repo(repo),
                ref_or_sha,
                self.world.user(creator),
                environment=environment,
                task=task,
                emit=emit,
            )

    def add_deployment_status(
        self,
        repo: str,
        deployment_id: int,
        state: str,
        *,
        description: str = "",
        target_url: str = "",
        environment_url: str = "",
        creator: str = "deploy-bot",
        emit: bool = True,
    ) -> DeploymentStatus:
        with self.world.lock:
            r = self.world.repo(repo)
            return self.world.add_deployment_status(
                r,
                r.deployments[deployment_id],
                state,
                self.world.user(creator),
                description=description,
                target_url=target_url,
                environment_url=environment_url,
                emit=emit,
            )

    def merge_pull(self, repo: str, number: int, *, by: str = "alice", method: str = "merge", emit: bool = True) -> str:
        """A person merges the PR in the web UI: pull_request.closed (merged) + push. Returns the new sha."""
        with self.world.lock:
            r = self.world.repo(repo)
            return self.world.merge_pull(
                r, self.world.pull(r, number), self.world.user(by), method=method, emit=emit
            ).sha

    def close_pull(self, repo: str, number: int, *, by: str = "alice", emit: bool = True) -> None:
        with self.world.lock:
            r = self.world.repo(repo)
            self.world.close_pull(r, self.world.pull(r, number), self.world.user(by), emit=emit)

    def reopen_pull(self, repo: str, number: int, *, by: str = "alice", emit: bool = True) -> None:
        with self.world.lock:
            r = self.world.repo(repo)
            self.world.reopen_pull(r, self.world.pull(r, number), self.world.user(by), emit=emit)

    # -- time and tokens ----------------------------------------------------------------------------------
    def advance_time(self, seconds: float) -> None:
        """Move the fake's clock (timestamps, token expiry, rate-limit windows) forward."""
        with self.world.lock:
            self.world.time_offset += timedelta(seconds=seconds)

    def installation_token(self, installation_id: int) -> str:
        """A fresh installation token (as if the app had exchanged its JWT), for raw HTTP calls in tests."""
        with self.world.lock:
            return self.world.issue_token(self.world.installation(installation_id), None, None).token

    def expire_tokens(self, installation_id: int | None = None) -> None:
        with self.world.lock:
            for token in self.world.tokens.values():
                if installation_id is None or token.installation.id == installation_id:
                    token.expires_at = self.world.now() - timedelta(seconds=1)

    @property
    def mergeability_lag(self) -> int:
        """How many GETs of a PR answer mergeable null ("unknown") after its head or base moved."""
        return self.world.mergeability_lag

    @mergeability_lag.setter
    def mergeability_lag(self, value: int) -> None:
        self.world.mergeability_lag = value

    # -- inspection: calls and violations -------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        return list(self.server.calls)

    def count(self, operation_id: str | None = None, method: str | None = None) -> int:
        return len(
            [
                c
                for c in self.server.calls
                if (operation_id is None or c.operation_id == operation_id)
                and (method is None or c.method == method.upper())
            ]
        )

    def writes(self) -> list[Call]:
        return [c for c in self.server.calls if c.is_write]

    def reset_calls(self) -> None:
        self.server.calls.clear()

    @property
    def violations(self) -> list[str]:
        return list(self.server.violations)

    @property
    def response_violations(self) -> list[str]:
        return list(self.server.response_violations)

    def assert_no_violations(self) -> None:
        problems = []
        if self.server.violations:
            problems.append("requests GitHub would reject:\n- " + "\n- ".join(self.server.violations))
        if self.server.response_violations:
            problems.append(
                "responses of the fake that do not match GitHub's description (a bug in tests/fakegithub):\n- "
                + "\n- ".join(self.server.response_violations)
            )
        if problems:
            raise AssertionError("\n".join(problems))

    # -- inspection: webhooks -------------------------------------------------------------------------------
    def _on_event(self, event: OutgoingEvent) -> None:
        app = event.installation.app if event.installation else self.world.app
        self.hooks.enqueue(
            event.event, event.action, event.payload, app, event.installation.id if event.installation else None
        )

    @property
    def deliveries(self) -> list[SentDelivery]:
        return list(self.hooks.deliveries)

    def events(self, event: str | None = None, action: str | None = None) -> list[SentDelivery]:
        return [
            d
            for d in self.hooks.deliveries
            if (event is None or d.event == event) and (action is None or d.action == action)
        ]

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        if not self.hooks.wait(timeout):
            raise TimeoutError(f"webhook deliveries still pending after {timeout} s")

    def redeliver(self, delivery_id: str) -> SentDelivery:
        """Send a delivery again with the same X-GitHub-Delivery, like GitHub's "Redeliver" button."""
        return self.hooks.redeliver(delivery_id, self.world.app)

    # -- inspection: state ------------------------------------------------------------------------------------
    def repo(self, full_name: str) -> Repo:
        return self.world.repo(full_name)

    def read_file(self, repo: str, ref: str, path: str) -> bytes | None:
        with self.world.lock:
            r = self.world.repo(repo)
            sha = r.resolve(ref)
            return None if sha is None else r.store.read_path(sha, path)

    def read_text(self, repo: str, ref: str, path: str) -> str | None:
        data = self.read_file(repo, ref, path)
        return None if data is None else data.decode()

    def branch_sha(self, repo: str, branch: str) -> str | None:
        return self.world.repo(repo).branch_sha(branch)

    def pulls(self, repo: str, state: str = "open") -> list[Pull]:
        return sorted(
            (p for p in self.world.repo(repo).pulls.values() if state == "all" or p.state == state),
            key=lambda p: p.number,
        )

    def pull(self, repo: str, number: int) -> Pull:
        return self.world.pull(self.world.repo(repo), number)

    def issues(self, repo: str, state: str = "all", *, include_pulls: bool = False) -> list[Issue]:
        return sorted(
            (
                i
                for i in self.world.repo(repo).issues.values()
                if (state == "all" or i.state == state) and (include_pulls or i.pull is None)
            ),
            key=lambda i: i.number,
        )

    def comments(self, repo: str, number: int) -> list[Comment]:
        r = self.world.repo(repo)
        return [r.comments[c] for c in self.world.issue(r, number).comment_ids]

    def labels_of(self, repo: str, number: int) -> list[str]:
        r = self.world.repo(repo)
        return [label.name for label in self.world.issue(r, number).labels]

    def labels(self, repo: str) -> list[Label]:
        return list(self.world.repo(repo).labels.values())

    def check_runs(self, repo: str, sha: str) -> list[CheckRun]:
        r = self.world.repo(repo)
        full = r.resolve(sha) or sha
        return [run for run in r.check_runs.values() if run.head_sha == full]

    def statuses(self, repo: str, sha: str) -> list[Status]:
        r = self.world.repo(repo)
        return self.world.latest_statuses(r, r.resolve(sha) or sha)

    def deployments(self, repo: str) -> list[Deployment]:
        return list(self.world.repo(repo).deployments.values())

    # -- faults ------------------------------------------------------------------------------------------------
    def inject(
        self,
        operation_id: str | None = None,
        *,
        method: str | None = None,
        path_regex: str | None = None,
        kind: str = "status",
        status: int = 502,
        delay: float = 0.0,
        retry_after: int = 1,
        times: int | None = 1,
        after: int = 0,
        every: int | None = None,
    ) -> Fault:
        fault = Fault(
            kind=kind,
            operation_id=operation_id,
            method=method,
            path_regex=path_regex,
            status=status,
            delay=delay,
            retry_after=retry_after,
            times=times,
            after=after,
            every=every,
        )
        self.server.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.server.faults.clear()


def b64(text: str | bytes) -> str:
    """Base64 of text, for request bodies (contents API)."""
    data = text.encode() if isinstance(text, str) else text
    return base64.b64encode(data).decode()
