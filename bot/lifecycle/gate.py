"""Phase gating: a later phase opens only when the earlier phases' PRs are merged or closed and their merges
passed CI on the default branch (SPEC §4; deployments and health probes join this gate later)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.github.client import InstallationClient
from bot.lifecycle.reads import OpenPr
from bot.lifecycle.results import read_results
from bot.lifecycle.state import DashboardState, Merge
from bot.repos.registry import RepoRecord
from config.model import Phase

NO_CI_GRACE = timedelta(minutes=10)  # a merge with no CI at all after this long counts as passed


@dataclass(frozen=True)
class Gate:
    blocked: dict[str, str]  # phase name -> why it may not open new PRs

    def why(self, phase: str) -> str | None:
        return self.blocked.get(phase)


def ci_state(gh: InstallationClient, record: RepoRecord, sha: str) -> str:
    """success, failure, pending, or none (nothing reported) for a commit: the verdict of its check runs and
    commit statuses, read as the test-results comment reads them (a re-run replaces the earlier run)."""
    return _STATE[read_results(gh, record, sha).verdict]


_STATE = {"passing": "success", "failing": "failure", "pending": "pending", "none": "none"}


def refresh_merges(gh: InstallationClient, record: RepoRecord, state: DashboardState, now: datetime) -> DashboardState:
    """Look up the post-merge CI of merges still waiting for it."""
    merges = []
    for merge in state.merges:
        if merge.ci == "pending":
            result = ci_state(gh, record, merge.sha)
            if result == "none":
                merged_at = datetime.fromisoformat(merge.at) if merge.at else now
                result = "success" if now - merged_at >= NO_CI_GRACE else "pending"
            merge = replace(merge, ci=result)
        merges.append(merge)
    return replace(state, merges=tuple(merges))


def evaluate(
    phases: Sequence[Phase], state: DashboardState, open_prs: Sequence[OpenPr], *, health_required: bool = False
) -> Gate:
    """Why each phase may not open new PRs: earlier phases' PRs still open (revert PRs included), their merges'
    post-merge CI, and, when health checks are configured (``health_required``), the health of the deploy that
    carried them (SPEC §4)."""
    index = {p.name: i for i, p in enumerate(phases)}
    blocked: dict[str, str] = {}
    for phase in phases:
        here = index[phase.name]
        earlier_open = [pr for pr in open_prs if pr.meta and index.get(pr.meta.phase, here) < here]
        earlier = [m for m in state.merges if index.get(m.phase, here) < here and not m.settled]
        waiting = [m for m in earlier if m.ci != "success"]
        unhealthy = [m for m in earlier if m.health in ("soaking", "failing") or (health_required and not m.health)]
        if earlier_open:
            numbers = ", ".join(f"#{pr.number}" for pr in earlier_open)
            blocked[phase.name] = f"waiting for earlier phases' PRs to be merged or closed: {numbers}"
        elif waiting:
            failed = [m for m in waiting if m.ci == "failure"]
            if failed:
                blocked[phase.name] = "post-merge CI failed on the default branch for " + ", ".join(
                    f"#{m.pr} ({m.sha[:7]})" for m in failed
                )
            else:
                blocked[phase.name] = "waiting for post-merge CI on the default branch: " + ", ".join(
                    f"#{m.pr} ({m.sha[:7]})" for m in waiting
                )
        elif unhealthy:
            blocked[phase.name] = "waiting for the deploy of earlier upgrades to prove healthy: " + ", ".join(
                f"#{m.pr} ({_health(m)})" for m in unhealthy
            )
    return Gate(blocked)


def _health(merge: Merge) -> str:
    if merge.health == "soaking":
        return f"deployment {merge.deployment} in its soak window"
    if merge.health == "failing":
        return f"deployment {merge.deployment} failing"
    return "no deployment yet"


__all__ = ["Gate", "Merge", "ci_state", "evaluate", "refresh_merges"]
