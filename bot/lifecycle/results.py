"""Test results on a depup pull request: one sticky comment per PR, edited in place as checks report, with every
check run and commit status of the PR's head, the overall verdict, and what depup does next."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis

from bot.github.client import InstallationClient, json_body
from bot.lifecycle.state import parse_pr_meta
from bot.repos.registry import RepoRecord
from bot.validation.report import Validation, markdown, validate
from config.model import Validation as ValidationSettings

MARKER = "<!-- depup:test-results -->"
OWN_CHECKS = frozenset({"depup/config", "depup/risk", "depup/approval"})  # depup's checks, not test results
FAILED = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"})
_COMMENT_CACHE = "depup:results-comment:"
_ICONS = {"success": "✅", "failure": "❌", "pending": "⏳", "neutral": "⚪", "skipped": "⚪"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    result: str  # success | failure | pending | neutral | skipped
    detail: str  # GitHub's conclusion or state, as it said it
    duration: str  # "1m 12s", or "" when unknown
    link: str | None
    started: datetime | None = None
    completed: datetime | None = None
    text: str = ""  # a status's description, or a check run's output title and summary (coverage, CodSpeed)


@dataclass(frozen=True)
class Results:
    head: str
    checks: tuple[CheckResult, ...]

    @property
    def verdict(self) -> str:
        """failing, pending, passing, or none (nothing reported yet)."""
        if any(c.result == "failure" for c in self.checks):
            return "failing"
        if any(c.result == "pending" for c in self.checks):
            return "pending"
        return "passing" if self.checks else "none"


def read_results(gh: InstallationClient, record: RepoRecord, head: str) -> Results:
    runs: dict[str, Any] = json_body(gh.rest.checks.list_for_ref(record.owner, record.name, head, per_page=100))
    status: dict[str, Any] = json_body(gh.rest.repos.get_combined_status_for_ref(record.owner, record.name, head))
    checks: list[CheckResult] = []
    latest: dict[str, dict[str, Any]] = {}
    for run in runs.get("check_runs", []):  # a re-run replaces the earlier run of the same name
        name = str(run.get("name"))
        if name in OWN_CHECKS:
            continue
        if name not in latest or int(run.get("id", 0)) > int(latest[name].get("id", 0)):
            latest[name] = run
    for name, run in sorted(latest.items()):
        conclusion = run.get("conclusion")
        if run.get("status") != "completed":
            result, detail = "pending", str(run.get("status"))
        elif conclusion in FAILED:
            result, detail = "failure", str(conclusion)
        elif conclusion == "success":
            result, detail = "success", "success"
        else:
            result, detail = "skipped" if conclusion == "skipped" else "neutral", str(conclusion)
        output = run.get("output") or {}
        checks.append(
            CheckResult(
                name, result, detail, _duration(run.get("started_at"), run.get("completed_at")),
                run.get("details_url") or run.get("html_url"),
                _when(run.get("started_at")), _when(run.get("completed_at")),
                "\n".join(str(output.get(k) or "") for k in ("title", "summary")).strip(),
            )
        )  # fmt: skip
    for entry in sorted(status.get("statuses", []), key=lambda s: str(s.get("context"))):
        context = str(entry.get("context"))
        if context in OWN_CHECKS:
            continue
        state = str(entry.get("state"))
        result = {"success": "success", "pending": "pending"}.get(state, "failure")
        checks.append(
            CheckResult(
                context, result, state, "", entry.get("target_url"), None, None,
                str(entry.get("description") or ""),  # a status says when it was set, not how long its job ran
            )
        )  # fmt: skip
    return Results(head, tuple(checks))


def validate_head(
    gh: InstallationClient, record: RepoRecord, redis: Redis, results: Results, settings: ValidationSettings
) -> Validation:
    """The head's test layers, coverage and benchmarks against the commit the pull request was made on."""
    return validate(
        gh, record, redis, results.head, results.checks, lambda sha: read_results(gh, record, sha).checks, settings
    )


def _duration(started: object, completed: object) -> str:
    if not isinstance(started, str) or not isinstance(completed, str):
        return ""
    try:
        seconds = int((_time(completed) - _time(started)).total_seconds())
    except ValueError:
        return ""
    minutes, seconds = divmod(max(seconds, 0), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _time(value)
    except ValueError:
        return None


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def render(results: Results, pr_body: str, validation: Validation | None = None) -> str:
    """The comment: every check, then (with ``validation``) the test layers, coverage and benchmarks, the verdict
    and what depup does next, which names what keeps it from merging the pull request itself."""
    meta = _gates(pr_body)
    lines = [f"### Test results for {results.head[:7]}", ""]
    if results.checks:
        lines.extend(["| Check | Result | Duration | Link |", "|---|---|---|---|"])
        for c in results.checks:
            link = f"[details]({c.link})" if c.link else ""
            name = c.name.replace("|", "\\|")
            lines.append(f"| {name} | {_ICONS[c.result]} {c.detail} | {c.duration} | {link} |")
    else:
        lines.append("No check or status has reported on this commit yet.")
    pending = [c for c in results.checks if c.result == "pending"]
    failed = [c for c in results.checks if c.result == "failure"]
    verdict = results.verdict
    if validation is not None:
        lines.extend(["", *markdown(validation)])
    then = _next(verdict, len(pending), failed, meta)
    blockers = validation.blockers if validation is not None else ()
    if blockers and verdict != "failing":
        then = "depup does not merge it: " + "; ".join(blockers) + "."
    lines.extend(["", f"**Verdict: {verdict}.** " + then])
    security = _security_section(pr_body)
    if security:
        lines.extend(["", "#### Security", "", *security])
    lines.extend(["", MARKER])
    return "\n".join(lines) + "\n"


def _security_section(pr_body: str) -> list[str]:
    """The PR body's list of vulnerabilities fixed and remaining (depup wrote it from the audit)."""
    if "\n### Security\n" not in pr_body:
        return []
    section = pr_body.split("\n### Security\n", 1)[1]
    return [line for line in section.split("\n### ", 1)[0].splitlines() if line.startswith("- ")]


def _gates(pr_body: str) -> dict[str, Any]:
    meta = parse_pr_meta(pr_body)
    raw = pr_body.split("<!-- depup:meta ", 1)[1].split(" -->", 1)[0] if meta is not None else "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        data = {}
    return {
        "packages": len(meta.packages) if meta else 1,
        "approvals": int(data.get("approvals", 0) or 0),
        "automerge": bool(data.get("automerge", False)),
    }


def _next(verdict: str, pending: int, failed: list[CheckResult], gates: dict[str, Any]) -> str:
    if verdict == "pending":
        return f"Waiting for {pending} check{'s' if pending != 1 else ''} to finish."
    if verdict == "failing":
        names = ", ".join(f"`{c.name}`" for c in failed)
        if gates["packages"] > 1:
            return (
                f"{names} failed. depup finds the package that breaks it by splitting the group into smaller pull "
                "requests until the culprit is isolated: at once when `split_failing_groups` is on (the default), "
                "else on a `/depup split` comment."
            )
        return f"{names} failed. Close this pull request to skip this version, or fix the code on the default branch."
    if verdict == "none":
        return "depup waits for CI to report."
    approvals = gates["approvals"]
    if gates["automerge"]:
        waiting = f" once it has {approvals} approval{'s' if approvals != 1 else ''}" if approvals else ""
        return f"CI is green: depup merges it{waiting}."
    if approvals:
        return f"CI is green: it needs {approvals} approval{'s' if approvals != 1 else ''} (`/depup approve`)."
    return "CI is green: a maintainer can merge it."


def results_comment_key(record: RepoRecord, number: int) -> str:
    return f"{_COMMENT_CACHE}{record.full_name}#{number}"


def sync_comment(gh: InstallationClient, record: RepoRecord, redis: Redis, number: int, text: str) -> bool:
    """Create the PR's results comment, or edit it when its text changed. True when something was written."""
    key = results_comment_key(record, number)
    comments = json_body(gh.rest.issues.list_comments(record.owner, record.name, number, per_page=100))
    comment: dict[str, Any] | None = next((c for c in comments if MARKER in str(c.get("body") or "")), None)
    if comment is None:
        created = json_body(gh.rest.issues.create_comment(record.owner, record.name, number, body=text))
        redis.set(key, int(created["id"]), ex=90 * 24 * 3600)
        return True
    redis.set(key, int(comment["id"]), ex=90 * 24 * 3600)
    if str(comment.get("body") or "") == text:
        return False
    gh.rest.issues.update_comment(record.owner, record.name, int(comment["id"]), body=text)
    return True
