"""The fake's state objects: users, apps, installations, repositories and what lives in them.

Plain dataclasses; every change goes through World (world.py) under its lock.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .git import ObjectStore


def node_id(kind: str, number: int) -> str:
    """An opaque, stable GraphQL-style node id (GitHub's old base64 format)."""
    raw = f"0{len(kind)}:{kind}{number}".encode()
    return base64.b64encode(raw).decode()


class ApiError(Exception):
    """An error answer with GitHub's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def validation_failed(resource: str, message: str | None = None, **extra: Any) -> ApiError:
    error: dict[str, Any] = {"resource": resource, "code": "custom" if message else "invalid"}
    if message:
        error["message"] = message
    error.update(extra)
    return ApiError(422, "Validation Failed", [error])


@dataclass(eq=False)
class User:
    login: str
    id: int
    type: str = "User"  # User | Organization | Bot
    created_at: datetime | None = None
    name: str | None = None
    email: str | None = None

    @property
    def node_id(self) -> str:
        kind = {"Organization": "Organization", "Bot": "Bot"}.get(self.type, "User")
        return node_id(kind, self.id)

    @property
    def noreply_email(self) -> str:
        return f"{self.id}+{self.login}@users.noreply.github.com"


@dataclass(eq=False)
class App:
    id: int
    slug: str
    name: str
    owner: User
    bot: User
    created_at: datetime
    permissions: dict[str, str]
    events: list[str]
    private_key_pem: str = ""
    public_key_pem: str = ""
    webhook_secret: str = ""
    hook_id: int = 0
    client_id: str = ""
    description: str = ""

    @property
    def bot_login(self) -> str:
        return self.bot.login

    @property
    def node_id(self) -> str:
        return node_id("Integration", self.id)


@dataclass(eq=False)
class Installation:
    id: int
    app: App
    account: User
    repository_selection: str  # selected | all
    repos: list[str]  # full names (selected); ignored for "all"
    permissions: dict[str, str]
    events: list[str]
    created_at: datetime
    updated_at: datetime
    deleted: bool = False

    @property
    def node_id(self) -> str:
        return node_id("IntegrationInstallation", self.id)


@dataclass(eq=False)
class Token:
    token: str
    installation: Installation
    expires_at: datetime
    permissions: dict[str, str]
    repository_selection: str
    repos: list[str] | None  # None = every repository of the installation
    revoked: bool = False


@dataclass(eq=False)
class RateBucket:
    limit: int
    reset: int
    used: int = 0
    resource: str = "core"

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(eq=False)
class Label:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass(eq=False)
class Reaction:
    id: int
    user: User
    content: str
    created_at: datetime


@dataclass(eq=False)
class Comment:
    id: int
    number: int
    user: User
    body: str
    created_at: datetime
    updated_at: datetime
    app: App | None = None
    reactions: list[Reaction] = field(default_factory=list)


@dataclass(eq=False)
class Pull:
    """A pull request: the PR fields; title, body, state, labels, ... live on its issue (GitHub's model)."""

    issue: Issue
    id: int
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool = False
    maintainer_can_modify: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    requested_reviewers: list[User] = field(default_factory=list)
    mergeable_unknown_gets: int = 0

    @property
    def number(self) -> int:
        return self.issue.number

    @property
    def title(self) -> str:
        return self.issue.title

    @property
    def body(self) -> str | None:
        return self.issue.body

    @property
    def state(self) -> str:
        return self.issue.state

    @property
    def user(self) -> User:
        return self.issue.user

    @property
    def labels(self) -> list[Label]:
        return self.issue.labels

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.issue.labels]


@dataclass(eq=False)
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    closed_at: datetime | None = None
    closed_by: User | None = None
    locked: bool = False
    app: App | None = None
    pull: Pull | None = None
    comment_ids: list[int] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass(eq=False)
class CheckSuite:
    id: int
    head_sha: str
    head_branch: str | None
    app: App
    created_at: datetime
    updated_at: datetime
    before: str | None = None
    after: str | None = None
    completed_emitted: bool = False


@dataclass(eq=False)
class CheckRun:
    id: int
    name: str
    head_sha: str
    suite: CheckSuite
    app: App
    status: str
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None
    output: dict[str, Any] = field(default_factory=dict)
    details_url: str | None = None
    external_id: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(eq=False)
class Artifact:
    """A workflow run's artifact: the zip GitHub Actions stores (served from the fake's blob route)."""

    id: int
    name: str
    data: bytes
    created_at: datetime
    expired: bool = False
    size_in_bytes: int | None = None  # what the listing says; None: the zip's real size


@dataclass(eq=False)
class WorkflowRun:
    id: int
    name: str
    head_sha: str
    head_branch: str | None
    event: str
    status: str
    conclusion: str | None
    created_at: datetime
    updated_at: datetime
    run_number: int
    workflow_id: int
    path: str
    artifacts: list[Artifact] = field(default_factory=list)


@dataclass(eq=False)
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: datetime
    updated_at: datetime


@dataclass(eq=False)
class DeploymentStatus:
    id: int
    deployment_id: int
    state: str
    creator: User
    description: str
    environment: str
    target_url: str
    log_url: str
    environment_url: str
    created_at: datetime
    updated_at: datetime
    app: App | None = None


@dataclass(eq=False)
class Deployment:
    id: int
    sha: str
    ref: str
    task: str
    environment: str
    original_environment: str
    description: str | None
    creator: User
    payload: dict[str, Any] | str
    created_at: datetime
    updated_at: datetime
    transient_environment: bool = False
    production_environment: bool = True
    app: App | None = None
    statuses: list[DeploymentStatus] = field(default_factory=list)


@dataclass(eq=False)
class Repo:
    id: int
    owner: User
    name: str
    private: bool
    default_branch: str
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    description: str | None = None
    store: ObjectStore = field(default_factory=ObjectStore)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> sha
    issues: dict[int, Issue] = field(default_factory=dict)  # pull requests too (GitHub's model)
    next_number: int = 1
    comments: dict[int, Comment] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name -> label
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    check_suites: dict[int, CheckSuite] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    workflow_runs: dict[int, WorkflowRun] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # lower login -> role

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def node_id(self) -> str:
        return node_id("Repository", self.id)

    @property
    def branches(self) -> dict[str, str]:
        return {ref[len("refs/heads/") :]: sha for ref, sha in self.refs.items() if ref.startswith("refs/heads/")}

    @property
    def pulls(self) -> dict[int, Pull]:
        """Pull requests by number (each is also in issues, like on GitHub)."""
        return {n: i.pull for n, i in self.issues.items() if i.pull is not None}

    def branch_sha(self, branch: str) -> str | None:
        return self.refs.get(f"refs/heads/{branch}")

    def resolve(self, ref: str) -> str | None:
        """A commit sha for a sha (full or abbreviated), branch, tag or full ref name, like GitHub's {ref}."""
        for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}", f"refs/{ref}"):
            if candidate.startswith("refs/") and candidate in self.refs:
                return self.refs[candidate]
        if all(c in "0123456789abcdef" for c in ref.lower()) and len(ref) >= 7:
            return self.store.resolve_prefix(ref.lower())
        return None
