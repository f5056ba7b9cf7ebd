"""One scan of one repository: read it from GitHub, plan, and bring GitHub in line with the plan.

Order: snapshot of the default branch -> config (last valid one kept on errors) -> survey and plan ->
take stock of depup's open PRs (someone else's commits make a branch hands-off) -> post-merge CI of earlier
merges (the phase gate) -> update or close existing PRs -> open the current phase's PRs within
``max_open_prs`` -> the dashboard. A scan of a repository never runs twice at once (a Redis lock), and every
write is skipped when GitHub already holds its result, so a scan with nothing new writes nothing.
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter
from redis import Redis

from bot import audit
from bot.core import metrics
from bot.core.settings import Settings
from bot.deps.model import Manifest
from bot.deps.registry.client import RegistryClient
from bot.deps.survey import Survey, rechoose, survey
from bot.deps.versions import Policy
from bot.errors import ConfigInvalid, GitHubRequestError
from bot.github.client import GitHubClients, InstallationClient, json_body
from bot.health.store import health_lines
from bot.lifecycle import approval, pulls
from bot.lifecycle.dashboard import TITLE, DashboardView, render
from bot.lifecycle.gate import Gate, ci_state, evaluate, refresh_merges
from bot.lifecycle.lock import installation_slot, repo_lock
from bot.lifecycle.reads import (
    DashboardIssue,
    OpenPr,
    find_dashboard,
    open_depup_prs,
    recently_closed_depup_prs,
    remember_dashboard,
)
from bot.lifecycle.repo_config import last_valid
from bot.lifecycle.results import read_results
from bot.lifecycle.snapshot import CONFIG_PATHS, Snapshot, read_snapshot
from bot.lifecycle.state import (
    DASHBOARD_LABEL,
    ROLLBACK_PREFIX,
    DashboardState,
    IgnoredVersion,
    Merge,
    Split,
    parse_pr_meta,
)
from bot.plan import Sources, make_plan, policy_for, scope_for
from bot.plan.model import Plan, PlanGroup, riskiest
from bot.plan.render import group_markdown
from bot.repos.registry import RepoRecord
from bot.risk.assess import with_ci
from bot.risk.changelog import ChangelogReader
from bot.risk.facts import Audit
from bot.risk.imports import index_imports
from bot.rollback.service import Evidence, merge_auto, rollback
from bot.security.audit import Auditor, audit_for
from config.loader import default_config, load_config
from config.model import Config

log = logging.getLogger(__name__)
ACTOR = "depup"


@dataclass(frozen=True)
class Directives:
    """What maintainers asked for by command, on top of what the scan does anyway (branches of open PRs)."""

    rebase: frozenset[str] = frozenset()  # push a fresh commit on the current default branch
    recreate: frozenset[str] = frozenset()  # the same, over someone else's commits (ends hands-off)
    split: frozenset[str] = frozenset()  # split the group as if its CI had failed


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


def scan_repository(
    settings: Settings,
    redis: Redis,
    clients: GitHubClients,
    record: RepoRecord,
    *,
    reason: str,
    delivery: str = "",
    now: datetime | None = None,
) -> ScanResult:
    with (
        installation_slot(redis, record.installation_id, settings.scans_per_installation)
        if settings.limits_installation_scans
        else nullcontext(),
        repo_lock(redis, settings, record.full_name),
    ):
        gh = clients.installation(record.installation_id)
        return scan_held(settings, redis, gh, record, reason=reason, delivery=delivery, now=now)


def scan_held(
    settings: Settings,
    redis: Redis,
    gh: InstallationClient,
    record: RepoRecord,
    *,
    reason: str,
    delivery: str = "",
    now: datetime | None = None,
    directives: Directives = Directives(),
) -> ScanResult:
    """A scan by a caller that holds ``repo_lock``."""
    return _Scan(settings, redis, gh, record, delivery, directives).run(reason, now or datetime.now(UTC))


class _Scan:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        gh: InstallationClient,
        record: RepoRecord,
        delivery: str,
        directives: Directives,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.gh = gh
        self.record = record
        self.delivery = delivery
        self.directives = directives
        self.result = ScanResult(record.full_name)
        self._approvals: dict[int, approval.Approval] = {}
        self.paused = False
        self._survey: Survey | None = None
        self._sources: Sources | None = None
        self.state = DashboardState()
        self._verdicts: dict[str, str] = {}

    # -- the scan ------------------------------------------------------------------------------------------
    def run(self, reason: str, now: datetime) -> ScanResult:
        owner, name = self.record.owner, self.record.name
        ref = json_body(self.gh.rest.git.get_ref(owner, name, f"heads/{self.record.default_branch}"))
        head = str(ref["object"]["sha"])
        self.result.head = head
        log.info("scan started", extra={"repo": self.record.full_name, "reason": reason, "head": head})
        with tempfile.TemporaryDirectory(prefix="depup-scan-") as tmp:
            snapshot = read_snapshot(self.gh, owner, name, head, Path(tmp) / "repo", self.redis)
            dashboard = find_dashboard(self.gh, self.record, self.redis)
            state = DashboardState.from_body(dashboard.body if dashboard else None)
            config, state = self._config(snapshot, state)
            self.paused = state.paused is not None
            self._remember_schedule(config)
            state = self._closed(state, now)
            every = open_depup_prs(self.gh, self.record)
            prs = [pr for pr in every if not pr.branch.startswith(ROLLBACK_PREFIX)]
            rollbacks = [pr for pr in every if pr.branch.startswith(ROLLBACK_PREFIX)]
            if not config.enabled:
                self._dashboard(dashboard, DashboardView(None, prs, Gate({}), state, self.result.errors, None, (), {}))
                return self.result
            plan = self._plan(snapshot, config, state, now)
            state = self._hands_off(prs, state)
            state = refresh_merges(self.gh, self.record, state, now)
            self.state = state
            self._rollback_failed_ci(config)
            rollbacks = self._merge_rollbacks(rollbacks, config)
            if (config.split_failing_groups and not self.paused) or self.directives.split:
                plan, prs = self._split_failures(plan, config, prs, now)
            health_required = bool(config.health_check.urls)
            gate = evaluate(config.phases, self.state, [*prs, *rollbacks], health_required=health_required)
            prs = self._reconcile(snapshot, plan, config, prs, self.state, gate)
            prs = sorted([*prs, *rollbacks], key=lambda p: p.number)
            state = self.state
            self.result.plan, self.result.phase = plan.id, plan.current_phase
            view = DashboardView(
                plan, prs, gate, state, self.result.errors, _next_scan(config, now),
                audit.latest(self.redis, self.record.full_name), self._approvals,
                health_lines(self.redis, self.record.full_name, state.merges),
            )  # fmt: skip
            self._dashboard(dashboard, view)
        log.info(
            "scan done",
            extra={
                "repo": self.record.full_name,
                "opened": self.result.opened,
                "updated": self.result.updated,
                "closed": self.result.closed,
            },
        )
        return self.result

    def _config(self, snapshot: Snapshot, state: DashboardState) -> tuple[Config, DashboardState]:
        path = next((p for p in CONFIG_PATHS if p in snapshot.files), None)
        if path is None:
            return default_config(), state
        text = snapshot.text(path) or ""
        try:
            config = load_config(text, path)
        except ConfigInvalid as e:
            problems = [str(p) for p in e.problems]
            self.result.errors.extend(f"config: {p}" for p in problems)
            if self._config_check(snapshot, path, problems):
                self._audit("config_invalid", path, f"{len(problems)} mistake(s); first: {problems[0]}")
            return self._last_valid(state), state
        self._config_check(snapshot, path, [])
        return config, replace(state, config_blob=snapshot.files[path])

    def _last_valid(self, state: DashboardState) -> Config:
        config = last_valid(self.gh, self.record, self.redis, state.config_blob)
        if config is not None:
            self.result.errors.append("config: the last valid configuration is used until the file is fixed")
            return config
        self.result.errors.append("config: the default configuration is used until the file is fixed")
        return default_config()

    def _config_check(self, snapshot: Snapshot, path: str, problems: list[str]) -> bool:
        """A ``depup/config`` check run on the head commit (once per commit); whether this call made it."""
        runs = json_body(
            self.gh.rest.checks.list_for_ref(
                self.record.owner, self.record.name, snapshot.commit, check_name="depup/config"
            )
        )
        if runs.get("total_count") or self.settings.dry_run:
            return False
        summary = "\n".join(f"- `{p}`" for p in problems) if problems else f"`{path}` is valid."
        self.gh.rest.checks.create(
            self.record.owner,
            self.record.name,
            name="depup/config",
            head_sha=snapshot.commit,
            status="completed",
            conclusion="failure" if problems else "success",
            output={
                "title": f"{len(problems)} mistake(s) in {path}" if problems else "Configuration valid",
                "summary": summary[:60000],
            },
        )
        return True

    def _plan(self, snapshot: Snapshot, config: Config, state: DashboardState, now: datetime) -> Plan:
        policy = policy_for(config, now)
        with RegistryClient(self.redis) as registry:
            surveyed = survey(snapshot.root, registry, policy, scope=scope_for(config))
        audit = None
        if config.security.audit:
            surveyed, audit = self._security_audit(surveyed, policy)
        self._survey = surveyed
        self._sources = Sources(
            imports=index_imports(snapshot.root) if snapshot.sources_complete else None,
            notes=ChangelogReader(self.gh, redis=self.redis),
            audit=audit,
        )
        plan = self._replan(config, state, now)
        self.result.errors.extend(plan.problems)
        return plan

    def _security_audit(self, surveyed: Survey, policy: Policy) -> tuple[Survey, Audit]:
        """Known vulnerabilities of the versions in use and of the proposed targets. A version in use with known
        vulnerabilities is re-proposed without ``min_release_age``: a fix must not wait."""
        auditor = Auditor(self.redis, self.settings.osv_url)
        audit, failures = audit_for(auditor, _audited(surveyed))
        vulnerable = {
            (p.dependency.ecosystem, p.dependency.key)
            for p in surveyed.proposals
            if p.current
            and (found := audit(p.dependency.ecosystem.value, p.dependency.key, p.current, p.current))
            and found[1]
        }
        if vulnerable and policy.min_release_age:
            surveyed = rechoose(surveyed, vulnerable, replace(policy, min_release_age=timedelta(0)))
            audit, failures = audit_for(auditor, _audited(surveyed))
        self.result.errors.extend(f"security audit: {failure}" for failure in failures)
        return surveyed, audit

    def _replan(self, config: Config, state: DashboardState, now: datetime) -> Plan:
        assert self._survey is not None
        return make_plan(
            self._survey, config, now, self._sources, extra_ignores=state.ignore_rules(), splits=state.split_map()
        )

    # -- culprit search ------------------------------------------------------------------------------------
    def _split_failures(
        self, plan: Plan, config: Config, prs: list[OpenPr], now: datetime
    ) -> tuple[Plan, list[OpenPr]]:
        """A grouped PR whose CI failed is closed and split in halves; a split part of one package that fails
        is the culprit: its version is ignored and the PR that failed first says which package it was."""
        planned = {g.branch: g for g in plan.groups}
        closed: set[int] = set()
        for pr in prs:
            group = planned.get(pr.branch)
            if group is None or pr.branch in self.state.hands_off:
                continue
            asked = pr.branch in self.directives.split
            if len(group.items) < 2 and (group.kind != "split" or asked):
                continue
            if not asked and (self.paused or self._ci(pr.head_sha) != "failure"):
                continue
            if len(group.items) >= 2:
                self._split(pr, group)
            else:
                self._culprit(pr, group)
            closed.add(pr.number)
        if not closed:
            return plan, prs
        return self._replan(config, self.state, now), [pr for pr in prs if pr.number not in closed]

    def _ci(self, sha: str) -> str:
        if sha not in self._verdicts:
            self._verdicts[sha] = ci_state(self.gh, self.record, sha)
        return self._verdicts[sha]

    def _split(self, pr: OpenPr, group: PlanGroup) -> None:
        packages = sorted(i.package for i in group.items)
        half = (len(packages) + 1) // 2
        halves = (tuple(packages[:half]), tuple(packages[half:]))
        base = group.key.split("-split-", 1)[0]
        entry = next((s for s in self.state.splits if s.key == base), None)
        if entry is None:
            entry = Split(base, pr.number, 1, halves)
        else:
            kept = tuple(p for p in entry.parts if set(p) != set(packages))
            entry = Split(base, entry.origin, entry.rounds + 1, (*kept, *halves))
        others = tuple(s for s in self.state.splits if s.key != base)
        why = "`/depup split` was asked" if pr.branch in self.directives.split else "CI failed"
        self.state = replace(self.state, splits=(*others, entry)).closed(pr.number)
        listed = "; ".join(", ".join(f"`{p}`" for p in h) for h in halves)
        self._close_with(
            pr,
            f"{why} on this group of {len(packages)} upgrades, so depup splits it in two to find the package "
            f"that breaks it (round {entry.rounds}): {listed}. Each part gets its own pull request; the passing "
            "parts can be merged as usual.",
        )
        self._audit("pr_split", f"#{pr.number}", f"round {entry.rounds}: {listed}")

    def _culprit(self, pr: OpenPr, group: PlanGroup) -> None:
        item = group.items[0]
        base = group.key.split("-split-", 1)[0]
        entry = next((s for s in self.state.splits if s.key == base), None)
        origin = entry.origin if entry else pr.number
        reason = f"breaks CI: isolated by splitting #{origin}"
        state = self.state.with_ignored(IgnoredVersion(item.ecosystem, item.package, item.target, reason))
        if entry is not None:
            rest = tuple(p for p in entry.parts if item.package not in p)
            splits = tuple(s for s in state.splits if s.key != base)
            state = replace(state, splits=(*splits, replace(entry, parts=rest)) if rest else splits)
        self.state = state.closed(pr.number)
        change = f"`{item.name}` {item.current} → {item.target}"
        self._close_with(
            pr, f"CI fails with {change} alone: it is the culprit. depup will not propose this version again."
        )
        self._comment_once(
            origin,
            f"culprit-{item.package}-{item.target}",
            f"Culprit found: {change} breaks CI (isolated in #{pr.number}). depup ignores that version; the other "
            "upgrades of this group continue in their own pull requests.",
        )
        self._audit("culprit_found", f"#{origin}", f"{item.package} {item.target} breaks CI")

    def _close_with(self, pr: OpenPr, text: str) -> None:
        if self.settings.dry_run:
            return
        pulls.close_pull(self.gh, self.record, pr, text)
        self.result.closed.append(pr.number)

    def _closed(self, state: DashboardState, now: datetime) -> DashboardState:
        """Record merges (their post-merge CI gates the next phase) and PRs closed without merging (their
        versions are ignored until newer ones appear, and depup says so on the PR once)."""
        known_merges = {m.pr for m in state.merges}
        rejected = {(i.ecosystem, i.package, i.version) for i in state.ignored}
        for pr in reversed(recently_closed_depup_prs(self.gh, self.record)):
            assert pr.meta is not None
            if pr.number in state.closed_by_depup:
                continue
            if pr.branch in state.hands_off:
                state = replace(state, hands_off=tuple(b for b in state.hands_off if b != pr.branch))
            if pr.merged_sha is not None:
                if pr.number not in known_merges:
                    packages = tuple(c.package for c in pr.meta.packages)
                    merge = Merge(
                        pr.number, pr.merged_sha, pr.meta.phase, at=pr.closed_at or None, packages=packages,
                        revert_of=pr.meta.rollback_of,
                    )  # fmt: skip
                    state = state.with_merge(merge)
                    self._audit("pr_merged", f"#{pr.number}", f"merge {pr.merged_sha[:7]}, phase {pr.meta.phase}")
                continue
            if pr.meta.rollback_of is not None:
                continue  # a revert PR closed unmerged: the maintainers keep the upgrade
            versions = [
                IgnoredVersion(c.ecosystem, c.package, c.target, f"#{pr.number} was closed without merging")
                for c in pr.meta.packages
                if c.update_type != "lockfile" and (c.ecosystem, c.package, c.target) not in rejected
            ]
            if not versions:
                continue
            state = state.with_ignored(*versions)
            listed = ", ".join(f"`{v.package}` {v.version}" for v in versions)
            self._comment_once(
                pr.number,
                "ignored-versions",
                f"This pull request was closed without merging, so depup will not propose {listed} again. "
                "It will propose newer versions when they are released; `/depup unignore <package>` lifts this "
                "sooner.",
            )
            self._audit("versions_ignored", f"#{pr.number}", listed)
        return state

    # -- rollbacks ---------------------------------------------------------------------------------------
    def _rollback_failed_ci(self, config: Config) -> None:
        """Post-merge CI failed on the default branch for a depup merge: roll it back (``rollback.auto``; not
        while paused). A refused or finished rollback is not tried again."""
        if not config.rollback.auto or self.paused or self.settings.dry_run:
            return
        for merge in self.state.merges:
            if merge.ci != "failure" or merge.revert_of is not None or merge.health in ("rolled_back", "failing"):
                continue
            failed = [c for c in read_results(self.gh, self.record, merge.sha).checks if c.result == "failure"]
            evidence = Evidence(
                "ci",
                f"post-merge CI failed on the default branch for {merge.sha[:7]} (#{merge.pr})",
                tuple(f"- `{c.name}`: {c.detail}" + (f" ({c.link})" if c.link else "") for c in failed),
            )
            self.state, outcome = rollback(
                self.settings, self.redis, self.gh, self.record, self.state, config, merge, evidence,
                delivery=self.delivery,
            )  # fmt: skip
            if outcome.pr is not None and not outcome.existing:
                self.result.opened.append(outcome.pr)

    def _merge_rollbacks(self, rollbacks: list[OpenPr], config: Config) -> list[OpenPr]:
        if self.paused or self.settings.dry_run:
            return rollbacks
        left = []
        for pr in rollbacks:
            merged = merge_auto(self.gh, self.record, pr, config, self._ci(pr.head_sha))
            if merged is not None:  # recorded at once: the gate of this very scan waits for its post-merge checks
                self.state = self.state.with_merge(replace(merged, at=datetime.now(UTC).isoformat()))
                self.result.merged.append(pr.number)
                self._audit("rollback_merged", f"#{pr.number}", f"rollback.auto_merge, CI green on {pr.head_sha[:7]}")
            else:
                left.append(pr)
        return left

    def _comment_once(self, number: int, marker: str, text: str) -> None:
        """A comment carrying a hidden marker, posted unless an earlier attempt already posted it."""
        tag = f"<!-- depup:{marker} -->"
        if self.settings.dry_run:
            return
        comments = json_body(
            self.gh.rest.issues.list_comments(self.record.owner, self.record.name, number, per_page=100)
        )
        if any(tag in str(c.get("body") or "") for c in comments):
            return
        self.gh.rest.issues.create_comment(self.record.owner, self.record.name, number, body=f"{text}\n\n{tag}")

    def _hands_off(self, prs: list[OpenPr], state: DashboardState) -> DashboardState:
        recreate = self.directives.recreate
        state = replace(state, hands_off=tuple(b for b in state.hands_off if b not in recreate))
        for pr in prs:
            if pr.branch in recreate:
                continue
            if pr.branch in state.hands_off or pulls.authored_by_depup(self.gh, self.record, pr.head_sha):
                continue
            state = replace(state, hands_off=(*state.hands_off, pr.branch))
            self._comment_once(
                pr.number,
                "hands-off",
                f"Someone else pushed to `{pr.branch}` ({pr.head_sha[:7]}), so depup will not touch this pull "
                "request any more: no rebases, no updates, no closing. Close it to let depup propose the upgrade "
                "again.",
            )
            self._audit("hands_off", f"#{pr.number}", f"commit {pr.head_sha[:7]} not pushed by depup")
        return state

    # -- pull requests -----------------------------------------------------------------------------------
    def _reconcile(
        self,
        snapshot: Snapshot,
        plan: Plan,
        config: Config,
        prs: list[OpenPr],
        state: DashboardState,
        gate: Gate,
    ) -> list[OpenPr]:
        assert self._survey is not None
        manifests = {m.path: m for m in self._survey.manifests}
        planned = {g.branch: g for g in plan.groups}
        still_open: list[OpenPr] = []
        asked = self.directives.rebase | self.directives.recreate
        for pr in prs:
            group = planned.get(pr.branch)
            if pr.branch in state.hands_off:
                still_open.append(pr)
            elif group is None:
                if not self.paused:
                    self._close(pr)
                else:
                    still_open.append(pr)
            else:
                if not self.paused or pr.branch in asked:
                    self._refresh(snapshot, plan, group, pr, manifests, config)
                else:
                    self._gate_approval(pr.number, pr.head_sha, group.approvals)
                still_open.append(pr)
        existing = {pr.branch for pr in still_open}
        current = plan.current_phase
        if current is None or self.paused:
            return still_open
        blocked = gate.why(current)
        room = config.max_open_prs - len(still_open)
        for key in (*plan.opening, *plan.waiting):
            group = plan.group(key)
            if group is None or group.branch in existing:
                continue
            if blocked or room <= 0:
                break
            number = self._open(snapshot, plan, group, manifests, config)
            if number is not None:
                room -= 1
                body = group_markdown(group, plan)
                still_open.append(
                    OpenPr(
                        number, group.branch, "", snapshot.commit, group.title, body, tuple(config.labels),
                        parse_pr_meta(body),
                    )
                )  # fmt: skip
        return sorted(still_open, key=lambda p: p.number)

    def _open(
        self, snapshot: Snapshot, plan: Plan, group: PlanGroup, manifests: dict[str, Manifest], config: Config
    ) -> int | None:
        content = pulls.content_for(group, snapshot, manifests)
        if not self._usable(group, content):
            return None
        if self.settings.dry_run:
            log.info("dry run: would open a pull request", extra={"branch": group.branch, "title": group.title})
            return None
        head = pulls.push_commit(self.gh, self.record, snapshot, group.branch, content, _message(group))
        pulls.sync_risk_check(self.gh, self.record, head, group)
        gate = approval.ensure(self.gh, self.record, head, group.approvals) if group.approvals else None
        number = pulls.open_pull(
            self.gh, self.record, group.branch, group.title, group_markdown(group, plan),
            config.labels, config.reviewers, config.assignees,
        )  # fmt: skip
        if gate is not None:  # the dashboard of this very scan lists it among the pending approvals
            self._approvals[number] = gate
        self.result.opened.append(number)
        metrics.PRS_OPENED.inc()
        self._audit("pr_opened", f"#{number}", f"{group.title} (phase {group.phase}, risk {group.risk})")
        return number

    def _refresh(
        self,
        snapshot: Snapshot,
        plan: Plan,
        group: PlanGroup,
        pr: OpenPr,
        manifests: dict[str, Manifest],
        config: Config,
    ) -> None:
        content = pulls.content_for(group, snapshot, manifests)
        if not self._usable(group, content) or self.settings.dry_run:
            return
        changed = False
        head = pr.head_sha
        asked = pr.branch in self.directives.rebase or pr.branch in self.directives.recreate
        if asked or not pulls.same_content(self.gh, self.record, pr, content):
            head = pulls.push_commit(
                self.gh, self.record, snapshot, group.branch, content, _message(group), branch_exists=True
            )
            changed = head != pr.head_sha
            if asked:
                self.result.rebased[pr.branch] = head
        if not changed:  # the PR's CI tested exactly this content: its verdict joins the risk shown
            group = _with_ci(group, self._ci(head), config)
        pulls.sync_risk_check(self.gh, self.record, head, group)
        gate = self._gate_approval(pr.number, head, group.approvals, before=pr.head_sha)
        changed |= pulls.update_pull(self.gh, self.record, pr, group.title, group_markdown(group, plan))
        pulls.sync_labels(self.gh, self.record, pr.number, pr.labels, config.labels)
        if changed:
            self.result.updated.append(pr.number)
            self._audit("pr_updated", f"#{pr.number}", group.title)
        approved = gate is None or gate.met
        if head == pr.head_sha and group.automerge and approved and not self.paused and self._ci(head) == "success":
            self._automerge(pr, head, config)

    def _gate_approval(
        self, number: int, head: str, needed: int, before: str | None = None
    ) -> approval.Approval | None:
        """The approval check on the PR's head; a new head starts over, and the PR says so when approvals were
        given on the old one."""
        if self.settings.dry_run:
            return None
        gate = approval.ensure(self.gh, self.record, head, needed)
        if gate is not None:
            self._approvals[number] = gate
        if before and before != head and needed:
            old = approval.read(self.gh, self.record, before)
            if old is not None and old.by:
                names = ", ".join(f"@{b}" for b in old.by)
                self._comment_once(
                    number,
                    f"approvals-reset-{head}",
                    f"New commit {head[:7]}: the approvals given on {before[:7]} ({names}) no longer count. "
                    f"This pull request needs {needed} approval{'s' if needed != 1 else ''} again: `/depup approve`.",
                )
                self._audit("approvals_reset", f"#{number}", f"new commit {head[:7]}; approvals by {names} dropped")
        return gate

    def _automerge(self, pr: OpenPr, head: str, config: Config) -> None:
        """Merge a PR that may merge itself: CI green on exactly this head, no approval needed (PRs that need
        approvals merge once approved)."""
        try:
            self.gh.rest.pulls.merge(
                self.record.owner, self.record.name, pr.number, sha=head, merge_method=config.automerge.method
            )
        except GitHubRequestError as e:  # 405 not mergeable, 409 head moved: the next scan looks again
            log.info("automerge refused", extra={"pr": pr.number, "status": e.status, "error": str(e)})
            return
        self.result.merged.append(pr.number)
        self._audit("pr_merged", f"#{pr.number}", f"automerge ({config.automerge.method}), CI green on {head[:7]}")

    def _close(self, pr: OpenPr) -> None:
        if self.settings.dry_run:
            return
        self.state = self.state.closed(pr.number)
        pulls.close_pull(
            self.gh,
            self.record,
            pr,
            "depup closed this pull request: the upgrade it carries is no longer proposed (it is already on the "
            "default branch, a newer plan supersedes it, or the config now ignores it).",
        )
        self.result.closed.append(pr.number)
        self._audit("pr_closed", f"#{pr.number}", "no longer proposed")

    def _usable(self, group: PlanGroup, content: pulls.Content) -> bool:
        if content.problems:
            self.result.errors.extend(f"{group.title}: {p}" for p in content.problems)
            return False
        if not content.files:
            self.result.errors.append(f"{group.title}: the edit changes no file")
            return False
        return True

    # -- dashboard and bookkeeping -----------------------------------------------------------------------
    def _dashboard(self, dashboard: DashboardIssue | None, view: DashboardView) -> None:
        body = render(view)
        if self.settings.dry_run:
            return
        if dashboard is not None:
            self.result.dashboard = dashboard.number
            if dashboard.body != body:
                self.gh.rest.issues.update(self.record.owner, self.record.name, dashboard.number, body=body)
            return
        issue = json_body(
            self.gh.rest.issues.create(
                self.record.owner, self.record.name, title=TITLE, body=body, labels=[DASHBOARD_LABEL]
            )
        )
        self.result.dashboard = int(issue["number"])
        remember_dashboard(self.redis, self.record, self.result.dashboard)

    def _remember_schedule(self, config: Config) -> None:
        self.redis.hset(
            "depup:schedules",
            self.record.full_name,
            f"{config.schedule.cron}|{config.schedule.timezone}|{int(config.enabled)}",
        )

    def _audit(self, action: str, target: str, why: str) -> None:
        audit.record(
            self.redis,
            self.record.full_name,
            actor=ACTOR,
            action=action,
            target=target,
            why=why,
            delivery=self.delivery,
        )


def _audited(surveyed: Survey) -> list[tuple[str, str, str, str]]:
    """(ecosystem, package, current, target) for every proposal; a version in use with nothing newer proposed
    is audited as its own target, so that a vulnerable version held back by min_release_age is found."""
    out: list[tuple[str, str, str, str]] = []
    for p in surveyed.proposals:
        if p.current is None or p.dependency.skip_reason:
            continue
        dep = p.dependency
        targets = [u.version for u in p.updates] or [p.current]
        out.extend((dep.ecosystem.value, dep.key, p.current, target) for target in targets)
    return out


def _with_ci(group: PlanGroup, verdict: str, config: Config) -> PlanGroup:
    items = tuple(replace(i, risk=with_ci(i.risk, verdict, config.risk)) for i in group.items)
    top = riskiest(items)
    return replace(group, items=items, risk=top.risk.level, score=top.risk.score)


def _message(group: PlanGroup) -> str:
    lines = [group.title, ""]
    lines.extend(f"- {i.name}: {i.change.replace('->', '→')}" for i in group.items)
    return "\n".join(lines) + "\n"


def _next_scan(config: Config, now: datetime) -> str:
    zone = ZoneInfo(config.schedule.timezone)
    moment = croniter(config.schedule.cron, now.astimezone(zone)).get_next(datetime)
    return f"{moment.strftime('%Y-%m-%d %H:%M')} {config.schedule.timezone}"
