"""Events that change what depup should propose, or whether the next phase may open: each queues a scan of
the repository (the scan reads GitHub's state itself, so handlers only decide whether one is needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.context import Context
from bot.lifecycle.state import BRANCH_PREFIX
from bot.router import Delivery, Router
from bot.snapshot import wanted

router = Router()


@router.on("push")
def rescan_on_push(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.payload
    repo = _repo(payload)
    ref = str(payload.get("ref", ""))
    if repo is None or payload.get("deleted"):
        return
    full_name, default_branch = repo
    if ref == f"refs/heads/{default_branch}":
        if _touches_dependency_files(payload):
            ctx.request_scan(full_name, "push to the default branch", delivery.delivery_id)
        return
    if ref.startswith(f"refs/heads/{BRANCH_PREFIX}") and not _pushed_by_depup(payload, ctx):
        ctx.request_scan(full_name, "someone pushed to a depup branch", delivery.delivery_id)


@router.on("pull_request", "closed")
def rescan_on_closed_pull(delivery: Delivery, ctx: Context) -> None:
    pull = delivery.payload.get("pull_request") or {}
    head = pull.get("head") or {}
    repo = _repo(delivery.payload)
    if repo is not None and str(head.get("ref", "")).startswith(BRANCH_PREFIX):
        reason = "depup PR merged" if pull.get("merged") else "depup PR closed"
        ctx.request_scan(repo[0], reason, delivery.delivery_id)


@router.on("check_suite", "completed")
@router.on("check_run", "completed")
@router.on("workflow_run", "completed")
def rescan_on_default_branch_ci(delivery: Delivery, ctx: Context) -> None:
    """CI finished on the default branch: a merge's post-merge CI may now open the next phase."""
    payload = delivery.payload
    repo = _repo(payload)
    if repo is None:
        return
    subject = payload.get("check_suite") or payload.get("workflow_run") or {}
    if delivery.event == "check_run":
        run = payload.get("check_run") or {}
        if str(run.get("name", "")).startswith("depup/"):
            return  # depup's own checks say nothing about CI
        subject = run.get("check_suite") or {}
    if str((subject.get("app") or {}).get("id", "")) == ctx.settings.app_id:
        return
    if subject.get("head_branch") == repo[1]:
        ctx.request_scan(repo[0], f"{delivery.event} completed on the default branch", delivery.delivery_id)


@router.on("status")
def rescan_on_default_branch_status(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.payload
    repo = _repo(payload)
    if repo is None or payload.get("state") == "pending":
        return
    branches = {str(b.get("name")) for b in payload.get("branches") or [] if isinstance(b, Mapping)}
    if repo[1] in branches:
        ctx.request_scan(repo[0], "commit status on the default branch", delivery.delivery_id)
    elif any(b.startswith(BRANCH_PREFIX) for b in branches):
        ctx.request_scan(repo[0], "CI reported on a depup branch", delivery.delivery_id)


@router.on("check_run", "completed")
@router.on("check_suite", "completed")
@router.on("workflow_run", "completed")
def rescan_on_depup_branch_ci(delivery: Delivery, ctx: Context) -> None:
    """CI finished on a depup PR: its verdict joins the risk shown, and a failing group is split."""
    payload = delivery.payload
    repo = _repo(payload)
    subject = payload.get(delivery.event) or {}
    if repo is None or str(subject.get("name", "")).startswith("depup/"):
        return
    if str((subject.get("app") or {}).get("id", "")) == ctx.settings.app_id:
        return
    branch = subject.get("head_branch") or (subject.get("check_suite") or {}).get("head_branch") or ""
    pulls = [((p or {}).get("head") or {}).get("ref") or "" for p in subject.get("pull_requests") or []]
    if any(str(b).startswith(BRANCH_PREFIX) for b in [branch, *pulls]):
        ctx.request_scan(repo[0], f"{delivery.event} completed on a depup branch", delivery.delivery_id)


def _repo(payload: Mapping[str, Any]) -> tuple[str, str] | None:
    repo = payload.get("repository") or {}
    name, branch = repo.get("full_name"), repo.get("default_branch")
    return (str(name), str(branch)) if name and branch else None


def _touches_dependency_files(payload: Mapping[str, Any]) -> bool:
    commits = payload.get("commits")
    if not isinstance(commits, list) or not commits or len(commits) >= 20:
        return True  # GitHub lists at most 20 commits per push: when in doubt, scan
    for commit in commits:
        for key in ("added", "modified", "removed"):
            if any(isinstance(p, str) and wanted(p) for p in commit.get(key) or []):
                return True
    return False


def _pushed_by_depup(payload: Mapping[str, Any], ctx: Context) -> bool:
    sender = payload.get("sender") or {}
    return str(sender.get("type")) == "Bot" and str(sender.get("login", "")).startswith("depup")
