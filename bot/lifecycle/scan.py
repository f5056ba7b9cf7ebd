"""One scan of one repository: read it from GitHub, plan, and bring GitHub in line with the plan.

The scan is a pipeline of named steps (``STEPS``), each a function of ``bot.lifecycle.steps`` that takes the
scan's ``ScanContext`` (services, what the scan reports) and a frozen ``ScanState`` and returns the next state.
A new step is one module and one line in ``STEPS``. The reconciler is level-triggered and idempotent: every step
reads what GitHub holds and writes only what is missing or different, so a scan with nothing new writes nothing,
and a scan run twice, or after a worker died mid-scan, ends in the same state. A scan of a repository never runs
twice at once (a Redis lock, ``bot.lifecycle.lock``). When the config disables depup, only the steps marked
``when_disabled`` run (closed PRs are still recorded; the dashboard says depup is off).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis

from bot.core.settings import Settings
from bot.github.client import GitHubClients, InstallationClient
from bot.lifecycle.lock import installation_slot, repo_lock
from bot.lifecycle.steps.automerge import automerge
from bot.lifecycle.steps.closed import record_closed
from bot.lifecycle.steps.configure import decide_config
from bot.lifecycle.steps.context import NO_DIRECTIVES, Directives, ScanContext, ScanResult, ScanState
from bot.lifecycle.steps.culprits import split_failures
from bot.lifecycle.steps.dashboard import write_dashboard
from bot.lifecycle.steps.gate import phase_gate
from bot.lifecycle.steps.hands_off import hands_off
from bot.lifecycle.steps.open import open_missing
from bot.lifecycle.steps.plan import plan
from bot.lifecycle.steps.post_merge import merge_rollbacks, post_merge_ci, roll_back_failed_ci
from bot.lifecycle.steps.read import list_pull_requests, read_repository
from bot.lifecycle.steps.reconcile import reconcile_open_prs
from bot.repos.registry import RepoRecord

__all__ = ["STEPS", "Directives", "ScanResult", "Step", "scan_held", "scan_repository"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[ScanContext, ScanState], ScanState]
    when_disabled: bool = False  # also runs when the config disables depup


STEPS: tuple[Step, ...] = (
    Step("read the repository", read_repository, when_disabled=True),
    Step("decide the configuration", decide_config, when_disabled=True),
    Step("record closed pull requests", record_closed, when_disabled=True),
    Step("list open pull requests", list_pull_requests, when_disabled=True),
    Step("plan", plan),
    Step("hands off branches others pushed to", hands_off),
    Step("post-merge CI", post_merge_ci),
    Step("roll back merges whose CI failed", roll_back_failed_ci),
    Step("merge rollbacks", merge_rollbacks),
    Step("split failing groups", split_failures),
    Step("phase gate", phase_gate),
    Step("reconcile each open pull request", reconcile_open_prs),
    Step("open what is missing", open_missing),
    Step("automerge", automerge),
    Step("write the dashboard", write_dashboard, when_disabled=True),
)


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
    directives: Directives = NO_DIRECTIVES,
    steps: tuple[Step, ...] = STEPS,
) -> ScanResult:
    """A scan by a caller that holds ``repo_lock``."""
    with tempfile.TemporaryDirectory(prefix="depup-scan-") as tmp:
        moment = now or datetime.now(UTC)
        ctx = ScanContext(settings, redis, gh, record, delivery, directives, moment, Path(tmp), reason)
        state = ScanState()
        for step in steps:
            if state.halted and not step.when_disabled:
                continue
            state = step.run(ctx, state)
    result = ctx.result
    log.info(
        "scan done",
        extra={"repo": record.full_name, "opened": result.opened, "updated": result.updated, "closed": result.closed},
    )
    return result
