"""Events that change what depup should propose, or whether the next phase may open: each queues a scan of
the repository (the scan reads GitHub's state itself, so handlers only decide whether one is needed)."""

from __future__ import annotations

from bot.core.delivery import Delivery
from bot.core.payload import Fields
from bot.events.context import Context
from bot.events.router import Router
from bot.lifecycle.snapshot import wanted
from bot.lifecycle.state import BRANCH_PREFIX

router = Router()


@router.on("push")
def rescan_on_push(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.fields
    repo = _repo(payload)
    ref = payload.text("ref")
    if repo is None or payload.flag("deleted"):
        return
    full_name, default_branch = repo
    if ref == f"refs/heads/{default_branch}":
        if _touches_dependency_files(payload):
            ctx.request_scan(full_name, "push to the default branch", delivery.delivery_id)
        return
    if ref.startswith(f"refs/heads/{BRANCH_PREFIX}") and not _pushed_by_depup(payload):
        ctx.request_scan(full_name, "someone pushed to a depup branch", delivery.delivery_id)


@router.on("pull_request", "closed")
def rescan_on_closed_pull(delivery: Delivery, ctx: Context) -> None:
    pull = delivery.fields.obj("pull_request")
    repo = _repo(delivery.fields)
    if repo is not None and pull.obj("head").text("ref").startswith(BRANCH_PREFIX):
        reason = "depup PR merged" if pull.flag("merged") else "depup PR closed"
        ctx.request_scan(repo[0], reason, delivery.delivery_id)


@router.on("check_suite", "completed")
@router.on("check_run", "completed")
@router.on("workflow_run", "completed")
def rescan_on_default_branch_ci(delivery: Delivery, ctx: Context) -> None:
    """CI finished on the default branch: a merge's post-merge CI may now open the next phase."""
    payload = delivery.fields
    repo = _repo(payload)
    if repo is None:
        return
    subject = payload.obj("workflow_run" if delivery.event == "workflow_run" else "check_suite")
    if delivery.event == "check_run":
        run = payload.obj("check_run")
        if run.text("name").startswith("depup/"):
            return  # depup's own checks say nothing about CI
        subject = run.obj("check_suite")
    if subject.obj("app").identifier("id") == ctx.settings.app_id:
        return
    if subject.text("head_branch") == repo[1]:
        ctx.request_scan(repo[0], f"{delivery.event} completed on the default branch", delivery.delivery_id)


@router.on("status")
def rescan_on_default_branch_status(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.fields
    repo = _repo(payload)
    if repo is None or payload.text("state") == "pending":
        return
    branches = {b.text("name") for b in payload.objs("branches")}
    if repo[1] in branches:
        ctx.request_scan(repo[0], "commit status on the default branch", delivery.delivery_id)
    elif any(b.startswith(BRANCH_PREFIX) for b in branches):
        ctx.request_scan(repo[0], "CI reported on a depup branch", delivery.delivery_id)


@router.on("check_run", "completed")
@router.on("check_suite", "completed")
@router.on("workflow_run", "completed")
def rescan_on_depup_branch_ci(delivery: Delivery, ctx: Context) -> None:
    """CI finished on a depup PR: its verdict joins the risk shown, and a failing group is split."""
    payload = delivery.fields
    repo = _repo(payload)
    subject = payload.obj(delivery.event)
    if repo is None or subject.text("name").startswith("depup/"):
        return
    if subject.obj("app").identifier("id") == ctx.settings.app_id:
        return
    branch = subject.text("head_branch") or subject.obj("check_suite").text("head_branch")
    pulls = [p.obj("head").text("ref") for p in subject.objs("pull_requests")]
    if any(b.startswith(BRANCH_PREFIX) for b in [branch, *pulls]):
        ctx.request_scan(repo[0], f"{delivery.event} completed on a depup branch", delivery.delivery_id)


def _repo(payload: Fields) -> tuple[str, str] | None:
    repo = payload.obj("repository")
    name, branch = repo.text("full_name"), repo.text("default_branch")
    return (name, branch) if name and branch else None


def _touches_dependency_files(payload: Fields) -> bool:
    commits = payload.data.get("commits")
    if not isinstance(commits, list) or not commits or len(commits) >= 20:
        return True  # GitHub lists at most 20 commits per push: when in doubt, scan
    return any(
        wanted(path) for commit in payload.objs("commits") for key in ("added", "modified", "removed")
        for path in commit.texts(key)
    )  # fmt: skip


def _pushed_by_depup(payload: Fields) -> bool:
    sender = payload.obj("sender")
    return sender.text("type") == "Bot" and sender.text("login").startswith("depup")
