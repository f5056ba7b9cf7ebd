"""repos/*: the repository, contents, commits, compare, merges, statuses, deployments, permissions."""

from __future__ import annotations

import base64
import binascii

from ..merge import diff_trees
from ..responses import (
    collaborator_permission_json,
    combined_status_json,
    commit_json,
    content_json,
    deployment_json,
    deployment_status_json,
    diff_entry_json,
    git_commit_json,
    repo_json,
    status_json,
)
from ..state import ApiError, Repo, validation_failed
from .base import Ctx, Reply, created, op, paginate
from .git_data import resolve_or_422


@op("repos/get")
def get_repo(ctx: Ctx) -> Reply:
    return Reply(200, repo_json(ctx.world, ctx.repo, full=True))


@op("repos/get-content")
def get_content(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    ref = ctx.query.get("ref") or repo.default_branch
    path = ctx.params.get("path", "").strip("/")
    found = w.lookup_content(repo, ref, path)
    if found is None:
        raise ApiError(404, "Not Found")
    _, entry = found
    if entry.type == "tree":
        items = [
            content_json(w, repo, ref, child, f"{path}/{child.name}" if path else child.name, with_content=False)
            for child in repo.store.tree(entry.sha)
        ]
        return Reply(200, items)
    return Reply(200, content_json(w, repo, ref, entry, path, with_content=True))


@op("repos/create-or-update-file-contents")
def put_content(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    path = ctx.params["path"].strip("/")
    branch = ctx.arg("branch") or repo.default_branch
    parent = repo.branch_sha(branch)
    if parent is None:
        raise ApiError(404, f"Branch {branch} not found")
    try:
        data = base64.b64decode(str(ctx.arg("content")), validate=False)
    except (binascii.Error, ValueError):
        raise validation_failed("Content", "content is not valid Base64", field="content") from None
    existing = repo.store.lookup(repo.store.commit(parent).tree, path)
    given = ctx.arg("sha")
    if existing is not None:
        if given is None:
            raise validation_failed("Content", '"sha" wasn\'t supplied.', field="sha")
        if given != existing.sha:
            raise ApiError(409, f"{path} does not match {given}")
    author_user = ctx.actor
    sha = w.commit_files(repo, parent, {path: data}, str(ctx.arg("message")), author_user)
    w.set_ref(repo, f"refs/heads/{branch}", sha, ctx.actor)
    entry = repo.store.lookup(repo.store.commit(sha).tree, path)
    assert entry is not None
    body = {
        "content": content_json(w, repo, branch, entry, path, with_content=False),
        "commit": git_commit_json(w, repo, sha),
    }
    return Reply(201 if existing is None else 200, body)


@op("repos/get-commit")
def get_commit(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    sha = resolve_or_422(repo, ctx.params["ref"])
    commit = repo.store.commit(sha)
    parent_tree = repo.store.commit(commit.parents[0]).tree if commit.parents else None
    files = diff_trees(repo.store, parent_tree, commit.tree)
    return Reply(200, commit_json(w, repo, sha, files=files, with_stats=True))


def _split_basehead(repo: Repo, basehead: str) -> tuple[str, str, bool]:
    if "..." in basehead:
        base, head = basehead.split("...", 1)
        three_dot = True
    elif ".." in basehead:
        base, head = basehead.split("..", 1)
        three_dot = False
    else:
        raise ApiError(404, "Not Found")

    def strip_owner(ref: str) -> str:
        owner, sep, rest = ref.partition(":")
        if sep and owner.lower() == repo.owner.login.lower():
            return rest
        return ref

    return strip_owner(base), strip_owner(head), three_dot


@op("repos/compare-commits-with-basehead")
def compare(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    base_name, head_name, three_dot = _split_basehead(repo, ctx.params["basehead"])
    base, head = repo.resolve(base_name), repo.resolve(head_name)
    if base is None or head is None:
        raise ApiError(404, "Not Found")
    store = repo.store
    merge_base = store.merge_base(base, head)
    ahead = store.commits_between(base, head)
    behind = store.commits_between(head, base)
    if base == head:
        status = "identical"
    elif not behind:
        status = "ahead"
    elif not ahead:
        status = "behind"
    else:
        status = "diverged"
    old_tree = store.commit(merge_base if three_dot and merge_base else base).tree
    files = diff_trees(store, old_tree, store.commit(head).tree)
    api = f"{w.api_url}/repos/{repo.full_name}"
    web = f"{w.web_url}/{repo.full_name}"
    basehead = ctx.params["basehead"]
    page, headers = paginate(ctx, ahead)
    body = {
        "url": f"{api}/compare/{basehead}",
        "html_url": f"{web}/compare/{basehead}",
        "permalink_url": f"{web}/compare/{repo.owner.login}:{base[:7]}...{repo.owner.login}:{head[:7]}",
        "diff_url": f"{web}/compare/{basehead}.diff",
        "patch_url": f"{web}/compare/{basehead}.patch",
        "base_commit": commit_json(w, repo, base),
        "merge_base_commit": commit_json(w, repo, merge_base or base),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [commit_json(w, repo, sha) for sha in page],
        "files": [diff_entry_json(w, repo, head, d) for d in files],
    }
    return Reply(200, body, headers)


@op("repos/merge")
def merge(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    sha = w.merge_branches(repo, str(ctx.arg("base")), str(ctx.arg("head")), ctx.arg("commit_message"), ctx.actor)
    if sha is None:
        return Reply(204)
    commit = repo.store.commit(sha)
    files = diff_trees(repo.store, repo.store.commit(commit.parents[0]).tree, commit.tree)
    body = commit_json(w, repo, sha, files=files, with_stats=True)
    return created(body, body["url"])


@op("repos/get-combined-status-for-ref")
def combined_status(ctx: Ctx) -> Reply:
    repo = ctx.repo
    sha = repo.resolve(ctx.params["ref"])
    if sha is None:
        raise ApiError(404, "Not Found")
    return Reply(200, combined_status_json(ctx.world, repo, sha))


@op("repos/create-commit-status")
def create_status(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    sha = ctx.params["sha"]
    full = repo.store.resolve_prefix(sha) if len(sha) >= 7 else None
    if full is None:
        raise validation_failed("Status", f"No commit found for SHA: {sha}", field="sha")
    status = w.add_status(
        repo,
        full,
        str(ctx.arg("state")),
        str(ctx.arg("context") or "default"),
        ctx.actor,
        description=ctx.arg("description"),
        target_url=ctx.arg("target_url"),
    )
    body = status_json(w, repo, status)
    return created(body, body["url"])


@op("repos/get-collaborator-permission-level")
def collaborator_permission(ctx: Ctx) -> Reply:
    user = ctx.world.find_user(ctx.params["username"])
    if user is None:
        raise ApiError(404, "Not Found")
    return Reply(200, collaborator_permission_json(ctx.world, ctx.repo, user))


@op("repos/list-deployments")
def list_deployments(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    items = sorted(repo.deployments.values(), key=lambda d: d.id, reverse=True)
    for key in ("sha", "ref", "task", "environment"):
        if ctx.query.get(key):
            items = [d for d in items if getattr(d, key) == ctx.query[key]]
    page, headers = paginate(ctx, items)
    return Reply(200, [deployment_json(w, repo, d) for d in page], headers)


@op("repos/create-deployment")
def create_deployment(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    ref = str(ctx.arg("ref"))
    sha = repo.resolve(ref)
    if sha is None:
        raise validation_failed("Deployment", f"No ref found for: {ref}", field="ref")
    required = ctx.arg("required_contexts")
    latest = w.latest_statuses(repo, sha)
    checked = latest if required is None else [s for s in latest if s.context in required]
    missing = [] if required is None else [c for c in required if c not in {s.context for s in latest}]
    if missing or any(s.state != "success" for s in checked):
        raise ApiError(409, f"Conflict: Commit status checks failed for {ref}.")
    deployment = w.create_deployment(
        repo,
        ref,
        ctx.actor,
        environment=ctx.arg("environment", "production"),
        task=ctx.arg("task", "deploy"),
        payload=ctx.arg("payload"),
        description=ctx.arg("description"),
        transient_environment=bool(ctx.arg("transient_environment", False)),
        production_environment=ctx.arg("production_environment"),
        app=ctx.app,
    )
    body = deployment_json(w, repo, deployment)
    return created(body, body["url"])


@op("repos/list-deployment-statuses")
def list_deployment_statuses(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    deployment = repo.deployments.get(ctx.int_param("deployment_id"))
    if deployment is None:
        raise ApiError(404, "Not Found")
    items = sorted(deployment.statuses, key=lambda s: s.id, reverse=True)
    page, headers = paginate(ctx, items)
    return Reply(200, [deployment_status_json(w, repo, s) for s in page], headers)
