"""What depup reads back from GitHub about a repository: its open depup pull requests and its dashboard issue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import Redis

from bot.errors import NotFound
from bot.github.client import InstallationClient, json_body
from bot.lifecycle.state import BRANCH_PREFIX, DASHBOARD_LABEL, DASHBOARD_PREFIX, PrMeta, parse_pr_meta
from bot.repos.registry import RepoRecord

_DASHBOARD_CACHE = "depup:dashboard:"


@dataclass(frozen=True)
class OpenPr:
    number: int
    branch: str
    head_sha: str
    base_sha: str
    title: str
    body: str
    labels: tuple[str, ...]
    meta: PrMeta | None


@dataclass(frozen=True)
class DashboardIssue:
    number: int
    body: str


def open_depup_prs(gh: InstallationClient, record: RepoRecord) -> list[OpenPr]:
    """depup's open pull requests (its branches in the repository itself, based on the default branch)."""
    found: list[OpenPr] = []
    page = 1
    while True:
        pulls: list[dict[str, Any]] = json_body(
            gh.rest.pulls.list(
                record.owner, record.name, state="open", base=record.default_branch, per_page=100, page=page
            )
        )
        for pull in pulls:
            head = pull.get("head") or {}
            branch = str(head.get("ref", ""))
            head_repo = (head.get("repo") or {}).get("full_name")
            if not branch.startswith(BRANCH_PREFIX) or head_repo != record.full_name:
                continue
            found.append(
                OpenPr(
                    number=int(pull["number"]),
                    branch=branch,
                    head_sha=str(head.get("sha", "")),
                    base_sha=str((pull.get("base") or {}).get("sha", "")),
                    title=str(pull.get("title") or ""),
                    body=str(pull.get("body") or ""),
                    labels=tuple(str(label.get("name")) for label in pull.get("labels") or []),
                    meta=parse_pr_meta(pull.get("body")),
                )
            )
        if len(pulls) < 100:
            return sorted(found, key=lambda p: p.number)
        page += 1


def find_dashboard(gh: InstallationClient, record: RepoRecord, redis: Redis) -> DashboardIssue | None:
    """The repository's dashboard issue: the number remembered in Redis, else found by its label and marker."""
    cached = redis.get(_DASHBOARD_CACHE + record.full_name)
    if cached is not None:
        try:
            issue = json_body(gh.rest.issues.get(record.owner, record.name, int(cached)))
        except NotFound:
            issue = None
        if issue is not None and DASHBOARD_PREFIX in str(issue.get("body") or "") and issue.get("state") == "open":
            return DashboardIssue(int(issue["number"]), str(issue.get("body") or ""))
    issues: list[dict[str, Any]] = json_body(
        gh.rest.issues.list_for_repo(record.owner, record.name, labels=DASHBOARD_LABEL, state="open", per_page=100)
    )
    for issue in sorted(issues, key=lambda i: int(i["number"])):
        if "pull_request" not in issue and DASHBOARD_PREFIX in str(issue.get("body") or ""):
            remember_dashboard(redis, record, int(issue["number"]))
            return DashboardIssue(int(issue["number"]), str(issue.get("body") or ""))
    return None


def remember_dashboard(redis: Redis, record: RepoRecord, number: int) -> None:
    redis.set(_DASHBOARD_CACHE + record.full_name, number, ex=30 * 24 * 3600)


@dataclass(frozen=True)
class ClosedPr:
    number: int
    branch: str
    merged_sha: str | None  # the merge commit, None when closed without merging
    closed_at: str
    meta: PrMeta | None


def recently_closed_depup_prs(gh: InstallationClient, record: RepoRecord, count: int = 30) -> list[ClosedPr]:
    """The most recently updated closed depup PRs (one read): merges and rejections since the last scans."""
    pulls: list[dict[str, Any]] = json_body(
        gh.rest.pulls.list(
            record.owner, record.name, state="closed", base=record.default_branch, sort="updated",
            direction="desc", per_page=count,
        )
    )  # fmt: skip
    closed = []
    for pull in pulls:
        head = pull.get("head") or {}
        branch = str(head.get("ref", ""))
        meta = parse_pr_meta(pull.get("body"))
        if not branch.startswith(BRANCH_PREFIX) or meta is None:
            continue
        merged = pull.get("merged_at") is not None
        closed.append(
            ClosedPr(
                number=int(pull["number"]),
                branch=branch,
                merged_sha=str(pull.get("merge_commit_sha")) if merged and pull.get("merge_commit_sha") else None,
                closed_at=str(pull.get("closed_at") or ""),
                meta=meta,
            )
        )
    return closed
