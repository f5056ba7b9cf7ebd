"""After merge: which deployment carries which depup merge, the soak window's probe rounds, and the rollback
when the deploy fails (SPEC §7).

- A ``deployment_status`` of a watched environment (``health_check.environments``) concerns the depup merges
  its commit contains (compare API) that are not judged yet.
- ``success``: those merges start their soak, tied to that deployment; probe rounds run as scheduled rq jobs
  (``bot.jobs.probe_round``) every ``health_check.interval``; the soak is healthy once ``probes`` rounds passed
  and ``soak`` has elapsed, failing at two failed rounds in a row (``bot.health.store.soak_verdict``). With no
  URLs configured, the successful deployment is enough.
- A ``deployment`` created for a watched environment, whose commit carries depup merges not judged yet, first
  samples the running version (``bot.health.baseline``); each soak round then measures the deploy the same
  way, and a metric that regressed against that baseline fails the soak like failed probes do.
- ``failure``/``error``, or a failing soak: the merges are rolled back (``rollback.auto``; not while paused),
  one revert PR per merge. A revert's own deployment failing is reported, never reverted again; a later
  successful deployment judges such a failing merge again.

Decisions are taken under the repository's lock on freshly read state, so repeated events, redelivered
webhooks and concurrent probe rounds decide once; the rollback itself finds an existing revert PR by branch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from redis import Redis

from bot import audit
from bot.core.netguard import NetPolicy
from bot.core.queue import job_options, make_queue
from bot.core.settings import Settings
from bot.errors import NotFound
from bot.github.client import InstallationClient, json_body
from bot.health import baseline, store
from bot.health.probe import probe
from bot.lifecycle.dashboard import store_state
from bot.lifecycle.lock import repo_lock
from bot.lifecycle.reads import find_dashboard
from bot.lifecycle.repo_config import current_config
from bot.lifecycle.requests import request_scan
from bot.lifecycle.state import DashboardState, Merge
from bot.repos.registry import RepoRecord
from bot.rollback.service import Evidence, rollback
from config.model import Config

log = logging.getLogger(__name__)
JOB_PROBE_ROUND = "bot.jobs.probe_round"
LOCK_WAIT_SECONDS = 60
PROBE_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class DeploymentReport:
    """What a ``deployment_status`` says: which deployment of which commit to where, and how it went."""

    deployment_id: int
    sha: str  # the deployed commit
    environment: str
    state: str  # GitHub's: "success", "failure", "error", "pending", "in_progress", ...
    description: str = ""
    log_url: str = ""  # the status's log_url, else its target_url


def on_deployment_status(
    settings: Settings,
    redis: Redis,
    gh: InstallationClient,
    record: RepoRecord,
    report: DeploymentReport,
    *,
    delivery: str = "",
) -> list[int]:
    """React to a deployment status; returns the revert PRs it opened."""
    outcome = report.state
    if outcome not in ("success", "failure", "error"):
        return []
    deployment_id, sha, environment = report.deployment_id, report.sha, report.environment
    with repo_lock(redis, settings, record.full_name, wait=LOCK_WAIT_SECONDS):
        state, config = _read(gh, record, redis)
        if environment not in config.health_check.environments:
            return []
        # A failure concerns merges not judged yet; a success also those a failed deploy left failing (fixed since).
        judged = ("", "soaking") if outcome != "success" else ("", "failing")
        carried = [m for m in state.merges if m.health in judged and _contains(gh, record, sha, m.sha)]
        if outcome == "success":
            fresh = carried
            if not fresh:
                return []
            health = "soaking" if config.health_check.watched else "healthy"
            state = state.with_merges(*(replace(m, health=health, deployment=deployment_id) for m in fresh))
            _save(settings, gh, record, redis, state)
            for m in fresh:
                audit.record(
                    redis, record.full_name, actor="depup", action=f"deploy_{health}", target=f"#{m.pr}",
                    why=f"deployment {deployment_id} to {environment} succeeded with {sha[:7]}", delivery=delivery,
                )  # fmt: skip
            if config.health_check.watched:
                schedule_round(redis, settings, record.full_name, deployment_id, 0, delay=0)
            else:
                request_scan(
                    make_queue(redis, settings), settings, record.full_name, "deployment healthy", delivery=delivery
                )
            return []
        evidence = Evidence(
            "deployment",
            f"deployment {deployment_id} to {environment} reported {outcome}",
            tuple(
                line
                for line in (
                    f"- deployment {deployment_id} of {sha[:7]} to `{environment}`: **{outcome}**",
                    f"- description: {report.description}" if report.description else "",
                    f"- log: {report.log_url}" if report.log_url else "",
                )
                if line
            ),
        )  # fmt: skip
        return _fail(settings, redis, gh, record, state, config, carried, evidence, delivery)


def on_deployment_created(
    settings: Settings,
    redis: Redis,
    gh: InstallationClient,
    record: RepoRecord,
    deployment_id: int,
    sha: str,
    environment: str,
    *,
    delivery: str = "",
) -> bool:
    """Before a deploy goes live: sample the running version as its baseline when the deployed commit carries
    depup merges not judged yet. Returns whether a baseline was taken (or was there already)."""
    state, config = _read(gh, record, redis)
    check = config.health_check
    if environment not in check.environments or not baseline.enabled(check):
        return False
    carried = [m for m in state.merges if m.health == "" and _contains(gh, record, sha, m.sha)]
    if not carried:
        return False
    fresh = baseline.read_baseline(redis, record.full_name, deployment_id) is None
    taken = baseline.sample_baseline(settings, redis, record.full_name, deployment_id, check)
    if fresh:
        counts = ", ".join(f"{m.label}: {_count(taken.sides.get(m.id, baseline.Side()), m)}" for m in taken.metrics)
        why = f"deployment {deployment_id} of {sha[:7]}: baseline of the running version; {counts}"
        for m in carried:
            audit.record(redis, record.full_name, actor="depup", action="deploy_baseline", target=f"#{m.pr}",
                         why=why[:500], delivery=delivery)  # fmt: skip
    return True


def _count(side: baseline.Side, metric: baseline.Metric) -> str:
    if side.problem:
        return f"not measured ({side.problem})"
    return f"{side.count} values" if metric.kind == "latency" else f"{side.events} of {side.total} failed"


def probe_round(settings: Settings, redis: Redis, gh: InstallationClient, record: RepoRecord, deployment_id: int,
                number: int, *, now: datetime | None = None) -> str:  # fmt: skip
    """One probe round of a deployment's soak; schedules the next or decides. Returns the verdict."""
    state, config = _read(gh, record, redis)
    if not [m for m in state.merges if m.deployment == deployment_id and m.health == "soaking"]:
        return "decided"
    check = config.health_check
    policy = NetPolicy.parse(settings.probe_allow)
    results = [probe(url, policy, timeout=PROBE_TIMEOUT_SECONDS) for url in check.urls]
    at = now or datetime.now(UTC)
    store.record_round(redis, record.full_name, deployment_id, results, at)
    rounds = store.rounds(redis, record.full_name, deployment_id)
    verdict = store.soak_verdict(rounds, check)
    if verdict == "healthy" and at - rounds[0].at < check.soak:
        verdict = "pending"  # enough rounds passed, but the soak window is not over yet
    if verdict == "pending" and at >= rounds[0].at + check.soak + check.interval * (2 * check.probes + 2):
        verdict = "failing"  # the probes never settled (failures between passes): unhealthy, not forever
    comparisons: list[baseline.Comparison] = []
    if verdict != "failing" and baseline.enabled(check):
        taken = baseline.read_baseline(redis, record.full_name, deployment_id)
        judged = len(baseline.read_verdicts(redis, record.full_name, deployment_id))
        if taken is not None and judged < len(taken.metrics):  # once all are judged, no more samples are needed
            baseline.sample_round(settings, redis, record.full_name, deployment_id, check, results,
                                  live_at=rounds[0].at, now=at)  # fmt: skip
        comparisons = baseline.judge(redis, record.full_name, deployment_id, check, live_at=rounds[0].at, now=at,
                                     final=verdict == "healthy")  # fmt: skip
    regressed = [c for c in comparisons if c.outcome == "regressed"]
    comparisons = [c for c in comparisons if c.outcome != "pending" or regressed]  # shown with a regression only
    if regressed:
        verdict = "failing"
    elif verdict == "pending":
        schedule_round(redis, settings, record.full_name, deployment_id, number + 1, delay=check.interval)
        return "pending"
    with repo_lock(redis, settings, record.full_name, wait=LOCK_WAIT_SECONDS):
        state, config = _read(gh, record, redis)
        soaking = [m for m in state.merges if m.deployment == deployment_id and m.health == "soaking"]
        if not soaking:
            return "decided"
        if verdict == "healthy":
            state = state.with_merges(*(replace(m, health="healthy") for m in soaking))
            _save(settings, gh, record, redis, state)
            against = "; ".join(baseline.summary(c) for c in comparisons)
            why = f"deployment {deployment_id}: {len(rounds)} probe round(s), soak passed" + (
                f"; against the baseline: {against}" if against else ""
            )
            for m in soaking:
                audit.record(redis, record.full_name, actor="depup", action="deploy_healthy", target=f"#{m.pr}",
                             why=why[:1000])  # fmt: skip
            request_scan(make_queue(redis, settings), settings, record.full_name, "soak passed")
            return "healthy"
        if regressed:
            evidence = Evidence(
                "baseline",
                f"deployment {deployment_id} regressed against the version before it: "
                + ", ".join(c.metric.label for c in regressed),
                (
                    f"Measured before the deploy (baseline) and after it; each metric tested once, one-sided, at "
                    f"significance {check.baseline.significance:g} / {len(comparisons)} metrics, and a regression "
                    f"also needs a ratio of at least x{check.baseline.tolerance:g} (docs/health.md).",
                    "",
                    *baseline.evidence_lines(comparisons),
                ),
            )
        else:
            failed = [r for r in rounds if not r.passed][-2:]
            evidence = Evidence(
                "probes",
                f"health probes of deployment {deployment_id} failed during the soak window",
                tuple(f"- {r.at:%Y-%m-%d %H:%M:%S}Z {store.probe_line(p)}" for r in failed for p in r.results),
            )
        _fail(settings, redis, gh, record, state, config, soaking, evidence, "")
        return "failing"


def schedule_round(redis: Redis, settings: Settings, full_name: str, deployment_id: int, number: int, *,
                   delay: timedelta | float) -> None:  # fmt: skip
    """Enqueue a probe round; one job per (repository, deployment, round), so a repeated event adds none."""
    queue = make_queue(redis, settings)
    job_id = f"probe-{re.sub(r'[^A-Za-z0-9_-]', '_', full_name)}-{deployment_id}-{number}"
    if not redis.set(f"depup:probe-scheduled:{job_id}", 1, nx=True, ex=7 * 24 * 3600):
        return
    kwargs = {"full_name": full_name, "deployment_id": deployment_id, "number": number}
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
    if seconds > 0:
        queue.enqueue_in(timedelta(seconds=seconds), JOB_PROBE_ROUND, kwargs=kwargs, job_id=job_id,
                         **job_options(settings))  # fmt: skip
    else:
        queue.enqueue_call(JOB_PROBE_ROUND, kwargs=kwargs, job_id=job_id, **job_options(settings))  # type: ignore[arg-type]


def _fail(
    settings: Settings,
    redis: Redis,
    gh: InstallationClient,
    record: RepoRecord,
    state: DashboardState,
    config: Config,
    merges: Sequence[Merge],
    evidence: Evidence,
    delivery: str,
) -> list[int]:
    opened: list[int] = []
    for merge in merges:
        if merge.revert_of is None and config.rollback.auto and state.paused is None:
            state, outcome = rollback(settings, redis, gh, record, state, config, merge, evidence, delivery=delivery)
            if outcome.pr is not None and not outcome.existing:
                opened.append(outcome.pr)
            continue
        state = state.with_merges(replace(merge, health="failing"))
        why = "a revert's deploy is not reverted again" if merge.revert_of is not None else (
            "depup is paused" if state.paused is not None else "rollback.auto is off"
        )  # fmt: skip
        audit.record(redis, record.full_name, actor="depup", action="deploy_failing", target=f"#{merge.pr}",
                     why=f"{evidence.summary}; no automatic rollback: {why}", delivery=delivery)  # fmt: skip
    _save(settings, gh, record, redis, state)
    request_scan(make_queue(redis, settings), settings, record.full_name, "deploy failed", delivery=delivery)
    return opened


def _read(gh: InstallationClient, record: RepoRecord, redis: Redis) -> tuple[DashboardState, Config]:
    dashboard = find_dashboard(gh, record, redis)
    state = DashboardState.from_body(dashboard.body if dashboard else None)
    return state, current_config(gh, record, redis, state.config_blob)


def _save(settings: Settings, gh: InstallationClient, record: RepoRecord, redis: Redis, state: DashboardState) -> None:
    if settings.dry_run:
        log.info("dry run: deploy health not recorded", extra={"repo": record.full_name})
        return
    store_state(gh, record, redis, state)


def _contains(gh: InstallationClient, record: RepoRecord, deployed: str, merge_sha: str) -> bool:
    """Whether the deployed commit contains the merge (the merge is it, or one of its ancestors)."""
    if deployed == merge_sha:
        return True
    try:
        basehead = f"{merge_sha}...{deployed}"
        compared = json_body(gh.rest.repos.compare_commits(record.owner, record.name, basehead, per_page=1))
    except NotFound:
        return False
    return str(compared.get("status")) in ("identical", "ahead")


def rederive(settings: Settings, redis: Redis, gh: InstallationClient, record: RepoRecord) -> dict[str, int]:
    """After Redis lost its data: bring back from GitHub's state what the lost jobs were doing for ``record``.

    * merges the dashboard marks ``soaking`` get their probe rounds again, from round 0: the rounds already run were
      kept in Redis, so the soak window starts over now (never shorter than configured);
    * the latest deployment of each watched environment is judged again from its latest status, as if that
      ``deployment_status`` had just arrived: a failure whose delivery was lost still rolls its merges back, a
      success starts their soak. Merges already judged are left alone (``on_deployment_status`` only takes the
      ones not judged yet), so running this twice decides nothing twice.
    """
    state, config = _read(gh, record, redis)
    rounds = 0
    for merge in state.merges:
        if merge.health == "soaking" and merge.deployment:
            schedule_round(redis, settings, record.full_name, merge.deployment, 0, delay=0)
            rounds += 1
    judged = 0
    if any(m.health in ("", "failing") for m in state.merges):
        for environment in config.health_check.environments:
            report = _latest_report(gh, record, environment)
            if report is not None:
                on_deployment_status(settings, redis, gh, record, report)
                judged += 1
    return {"probe_rounds": rounds, "deployments": judged}


def _latest_report(gh: InstallationClient, record: RepoRecord, environment: str) -> DeploymentReport | None:
    deployments = json_body(
        gh.rest.repos.list_deployments(record.owner, record.name, environment=environment, per_page=1)
    )
    if not deployments:
        return None
    deployment = deployments[0]
    statuses = json_body(
        gh.rest.repos.list_deployment_statuses(record.owner, record.name, int(deployment["id"]), per_page=1)
    )
    if not statuses:
        return None
    status = statuses[0]
    return DeploymentReport(
        int(deployment["id"]),
        str(deployment["sha"]),
        environment,
        str(status.get("state") or ""),
        str(status.get("description") or ""),
        str(status.get("log_url") or status.get("target_url") or ""),
    )
