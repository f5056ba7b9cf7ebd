"""What the steps of a scan share: ``ScanContext`` (the services and what the scan reports) and ``ScanState`` (the
frozen value each step takes and returns).

A step is a function ``(ScanContext, ScanState) -> ScanState``. It reads GitHub and Redis through the context,
writes to GitHub only what GitHub does not already hold (the scan is level-triggered: a scan with nothing new
writes nothing), and returns the state with what it learned or decided. What a scan did (PRs opened, updated,
closed, merged; errors) goes into ``ScanContext.result``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from redis import Redis

from bot import audit
from bot.core.settings import Settings
from bot.deps.survey import Survey
from bot.github.client import InstallationClient, json_body
from bot.lifecycle import approval
from bot.lifecycle.gate import Gate, ci_state
from bot.lifecycle.reads import DashboardIssue, OpenPr
from bot.lifecycle.results import read_results, validate_head
from bot.lifecycle.snapshot import Snapshot
from bot.lifecycle.state import DashboardState
from bot.plan import Sources
from bot.plan.model import Plan, PlanGroup
from bot.repos.registry import RepoRecord
from bot.validation.report import Validation
from config.model import Config

ACTOR = "depup"


@dataclass(frozen=True)
class Directives:
    """What maintainers asked for by command, on top of what the scan does anyway (branches of open PRs)."""

    rebase: frozenset[str] = frozenset()  # push a fresh commit on the current default branch
    recreate: frozenset[str] = frozenset()  # the same, over someone else's commits (ends hands-off)
    split: frozenset[str] = frozenset()  # split the group as if its CI had failed


NO_DIRECTIVES = Directives()


@dataclass
class ScanResult:
    repo: str
    head: str = ""
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    rebased: dict[str, str] = field(default_factory=dict)  # branch -> its head after a rebase/recreate directive
    errors: list[str] = field(default_factory=list)
    dashboard: int | None = None
    plan: str | None = None  # the plan id
    phase: str | None = None  # the current phase


@dataclass(frozen=True)
class Refreshed:
    """An open PR brought in line with the plan, for the automerge step."""

    pr: OpenPr
    head: str  # its head after the refresh
    group: PlanGroup
    approved: bool


@dataclass(frozen=True)
class ScanState:
    """What the scan knows so far; each step returns a new one."""

    snapshot: Snapshot | None = None  # the default branch's files depup reads
    dashboard: DashboardIssue | None = None
    state: DashboardState = field(default_factory=DashboardState)  # what the dashboard issue stores
    config: Config | None = None
    prs: tuple[OpenPr, ...] = ()  # depup's open upgrade PRs
    rollbacks: tuple[OpenPr, ...] = ()  # depup's open revert PRs
    survey: Survey | None = None
    sources: Sources | None = None
    plan: Plan | None = None
    gate: Gate | None = None
    refreshed: tuple[Refreshed, ...] = ()
    approvals: Mapping[int, approval.Approval] = field(default_factory=lambda: MappingProxyType({}))
    halted: bool = False  # the remaining steps do nothing but write the dashboard (depup disabled)

    @property
    def paused(self) -> bool:
        return self.state.paused is not None

    def with_approval(self, number: int, gate: approval.Approval | None) -> ScanState:
        if gate is None:
            return self
        return replace(self, approvals=MappingProxyType({**self.approvals, number: gate}))

    def need(self) -> tuple[Snapshot, Config, Plan]:
        """The snapshot, config and plan, which the steps after planning rely on."""
        assert self.snapshot is not None and self.config is not None and self.plan is not None
        return self.snapshot, self.config, self.plan


class ScanContext:
    """The services a scan works with, the outcome it reports, and caches for one scan."""

    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        gh: InstallationClient,
        record: RepoRecord,
        delivery: str,
        directives: Directives,
        now: datetime,
        workdir: Path,
        reason: str = "",
    ) -> None:
        self.settings = settings
        self.reason = reason  # why the scan runs ("push", "schedule", "command: rebase", ...)
        self.workdir = workdir  # a scratch folder for the scan's lifetime (the snapshot goes there)
        self.redis = redis
        self.gh = gh
        self.record = record
        self.delivery = delivery
        self.directives = directives
        self.now = now
        self.result = ScanResult(record.full_name)
        self._verdicts: dict[str, str] = {}
        self._validations: dict[str, Validation] = {}

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    def ci(self, sha: str) -> str:
        """The CI verdict of a commit (success, failure, pending, none), asked once per scan."""
        if sha not in self._verdicts:
            self._verdicts[sha] = ci_state(self.gh, self.record, sha)
        return self._verdicts[sha]

    def validation(self, sha: str, config: Config) -> Validation:
        """The test layers, coverage and benchmarks of a PR head against its base, gathered once per scan."""
        if sha not in self._validations:
            results = read_results(self.gh, self.record, sha)
            self._validations[sha] = validate_head(self.gh, self.record, self.redis, results, config.validation)
        return self._validations[sha]

    def audit(self, action: str, target: str, why: str) -> None:
        audit.record(
            self.redis,
            self.record.full_name,
            actor=ACTOR,
            action=action,
            target=target,
            why=why,
            delivery=self.delivery,
        )

    def comment_once(self, number: int, marker: str, text: str) -> None:
        """A comment carrying a hidden marker, posted unless an earlier attempt already posted it."""
        tag = f"<!-- depup:{marker} -->"
        if self.dry_run:
            return
        comments = json_body(
            self.gh.rest.issues.list_comments(self.record.owner, self.record.name, number, per_page=100)
        )
        if any(tag in str(c.get("body") or "") for c in comments):
            return
        self.gh.rest.issues.create_comment(self.record.owner, self.record.name, number, body=f"{text}\n\n{tag}")
