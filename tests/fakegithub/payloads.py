"""Webhook payloads, one builder per event, filled from the fake's state.

Every builder assembles the whole payload from the REST object builders (responses.py) and then shapes
it on the newest real example payload of that event/action (tests/fixtures/github/webhooks/, Octokit
webhooks-examples 7.6.1, MIT) with templates.shape(strict=True): the example decides which keys each
object carries, the state decides every value. Top-level keys come from the builder (so optional
ones such as ``organization`` appear only when they apply). Where GitHub publishes no example for an
action, the nearest one is used and the difference is filled in explicitly:

- pull_request ``edited`` and ``unlabeled``: shaped on ``opened``/``labeled``, plus ``changes``/``label``;
- pull_request ``closed`` with ``merged: true``: the ``closed`` example with the merge fields from state;
- issue_comment on a pull request: ``issue.pull_request`` is added after shaping (no example has it);
- deployment_status ``failure``/``error``: the ``created`` example, state from the fake.

tests/test_fakegithub_webhooks.py validates each payload against webhook-schemas/<event>.schema.json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .merge import diff_trees
from .responses import (
    check_run_json,
    check_suite_json,
    comment_json,
    commit_json,
    deployment_json,
    deployment_status_json,
    installation_json,
    issue_json,
    label_json,
    pull_json,
    repo_json,
    ts,
    user_json,
)
from .state import (
    CheckRun,
    CheckSuite,
    Comment,
    Deployment,
    DeploymentStatus,
    Installation,
    Label,
    Pull,
    Repo,
    Status,
    User,
)
from .templates import shape, webhook_template

if TYPE_CHECKING:
    from .world import World

ZERO_SHA = "0" * 40
TEMPLATE_FALLBACK: dict[tuple[str, str | None], str] = {
    ("pull_request", "edited"): "opened",
    ("pull_request", "unlabeled"): "labeled",
}


def object_template(value: dict[str, Any]) -> dict[str, Any] | None:
    """The shape for an object whose place in the example is null or an empty list."""
    example = webhook_template("check_run", "completed")
    if "login" in value and "gravatar_id" in value:
        user: dict[str, Any] = example["sender"]
        return user
    if "slug" in value and "permissions" in value:
        app: dict[str, Any] = example["check_run"]["app"]
        return app
    return None


def finish(event: str, action: str | None, full: dict[str, Any]) -> dict[str, Any]:
    template = webhook_template(event, TEMPLATE_FALLBACK.get((event, action), action))
    return {key: shape(template.get(key), value, strict=True, fallback=object_template) for key, value in full.items()}


def org_json(w: World, org: User) -> dict[str, Any]:
    api = f"{w.api_url}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": org.node_id,
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{w.web_url}/avatars/u/{org.id}?v=4",
        "description": "",
    }


def webhook_repo(w: World, repo: Repo) -> dict[str, Any]:
    value = repo_json(w, repo, full=True)
    value["custom_properties"] = {}
    return value


def _common(w: World, repo: Repo | None, sender: User, inst: Installation) -> dict[str, Any]:
    common: dict[str, Any] = {}
    if repo is not None:
        common["repository"] = webhook_repo(w, repo)
        if repo.owner.type == "Organization":
            common["organization"] = org_json(w, repo.owner)
    common["sender"] = user_json(w, sender)
    common["installation"] = {"id": inst.id, "node_id": inst.node_id}
    return common


def _with_app_alias(obj: dict[str, Any]) -> dict[str, Any]:
    """Webhook objects name the API's performed_via_app performed_via_github_app."""
    obj["performed_via_github_app"] = obj.get("performed_via_app")
    return obj


# -- pull_request ------------------------------------------------------------------------------
def pull_request(
    w: World,
    repo: Repo,
    pull: Pull,
    action: str,
    sender: User,
    inst: Installation,
    *,
    changes: dict[str, Any] | None = None,
    label: Label | None = None,
    before: str | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    full: dict[str, Any] = {"action": action, "number": pull.number}
    if changes is not None:
        full["changes"] = changes
    if before is not None:
        full["before"] = before
        full["after"] = after
    pull_value = pull_json(w, repo, pull)
    # GitHub computes mergeability after delivering; webhooks carry null/"unknown" for an open PR
    if pull.state == "open":
        pull_value.update(mergeable=None, rebaseable=None, mergeable_state="unknown")
    full["pull_request"] = pull_value
    if label is not None:
        full["label"] = label_json(w, repo, label)
    full.update(_common(w, repo, sender, inst))
    return finish("pull_request", action, full)


# -- push ----------------------------------------------------------------------------------------
def _push_commit(w: World, repo: Repo, sha: str, distinct: bool = True) -> dict[str, Any]:
    store = repo.store
    commit = store.commit(sha)
    parent_tree = store.commit(commit.parents[0]).tree if commit.parents else None
    diffs = diff_trees(store, parent_tree, commit.tree)

    def person(email: str, name: str) -> dict[str, Any]:
        user = w.user_for_email(email)
        value: dict[str, Any] = {"name": name, "email": email}
        if user is not None:
            value["username"] = user.login
        return value

    return {
        "id": sha,
        "tree_id": commit.tree,
        "distinct": distinct,
        "message": commit.message,
        "timestamp": commit.committer.iso,
        "url": f"{w.web_url}/{repo.full_name}/commit/{sha}",
        "author": person(commit.author.email, commit.author.name),
        "committer": person(commit.committer.email, commit.committer.name),
        "added": [d.filename for d in diffs if d.status == "added"],
        "removed": [d.filename for d in diffs if d.status == "removed"],
        "modified": [d.filename for d in diffs if d.status in ("modified", "renamed")],
    }


def push(
    w: World,
    repo: Repo,
    ref: str,
    before: str | None,
    after: str | None,
    forced: bool,
    sender: User,
    pusher: User,
    inst: Installation,
) -> dict[str, Any]:
    store = repo.store
    commits: list[str] = []
    if after is not None and before is not None:
        commits = store.commits_between(before, after)
    elif after is not None:  # a new ref lists the commits the default branch does not have yet
        default_tip = repo.branch_sha(repo.default_branch)
        base = default_tip if ref != f"refs/heads/{repo.default_branch}" else None
        commits = store.commits_between(base, after)
    before_sha, after_sha = before or ZERO_SHA, after or ZERO_SHA
    full: dict[str, Any] = {
        "ref": ref,
        "before": before_sha,
        "after": after_sha,
        "created": before is None,
        "deleted": after is None,
        "forced": forced,
        "base_ref": None,
        "compare": f"{w.web_url}/{repo.full_name}/compare/{before_sha[:12]}...{after_sha[:12]}",
        "commits": [_push_commit(w, repo, sha) for sha in commits[-20:]],
        "head_commit": _push_commit(w, repo, after) if after else None,
        "pusher": {"name": pusher.login, "email": pusher.email or pusher.noreply_email},
    }
    full.update(_common(w, repo, sender, inst))
    repository = full["repository"]
    repository["created_at"] = int(repo.created_at.timestamp())
    repository["pushed_at"] = int(repo.pushed_at.timestamp())
    repository["stargazers"] = 0
    repository["master_branch"] = repo.default_branch
    owner = repo.owner
    repository["owner"]["name"] = owner.name or owner.login
    repository["owner"]["email"] = owner.email or (owner.noreply_email if owner.type == "User" else None)
    return finish("push", None, full)


# -- issue_comment ---------------------------------------------------------------------------------
def issue_comment(
    w: World,
    repo: Repo,
    comment: Comment,
    action: str,
    sender: User,
    inst: Installation,
    *,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    issue = repo.issues[comment.number]
    issue_value = _with_app_alias(issue_json(w, repo, issue))
    full: dict[str, Any] = {"action": action}
    if changes is not None:
        full["changes"] = changes
    full["issue"] = issue_value
    full["comment"] = _with_app_alias(comment_json(w, repo, comment))
    full.update(_common(w, repo, sender, inst))
    payload = finish("issue_comment", action, full)
    if "pull_request" in issue_value:  # no published example has it; GitHub sends it for PR comments
        payload["issue"]["pull_request"] = issue_value["pull_request"]
    return payload


# -- checks ---------------------------------------------------------------------------------------------
def check_run(w: World, repo: Repo, run: CheckRun, action: str, sender: User, inst: Installation) -> dict[str, Any]:
    run_value = check_run_json(w, repo, run)
    run_value["check_suite"] = check_suite_json(w, repo, run.suite)
    full: dict[str, Any] = {"action": action, "check_run": run_value}
    full.update(_common(w, repo, sender, inst))
    return finish("check_run", action, full)


def check_suite(
    w: World, repo: Repo, suite: CheckSuite, action: str, sender: User, inst: Installation
) -> dict[str, Any]:
    full: dict[str, Any] = {"action": action, "check_suite": check_suite_json(w, repo, suite)}
    full.update(_common(w, repo, sender, inst))
    return finish("check_suite", action, full)


# -- status ------------------------------------------------------------------------------------------------
def status(w: World, repo: Repo, st: Status, sender: User, inst: Installation) -> dict[str, Any]:
    branches = [
        {
            "name": branch,
            "commit": {"sha": tip, "url": f"{w.api_url}/repos/{repo.full_name}/commits/{tip}"},
            "protected": False,
        }
        for branch, tip in repo.branches.items()
        if repo.store.is_ancestor(st.sha, tip)
    ]
    full: dict[str, Any] = {
        "id": st.id,
        "sha": st.sha,
        "name": repo.full_name,
        "target_url": st.target_url,
        "avatar_url": f"{w.web_url}/avatars/u/{st.creator.id}?v=4",
        "context": st.context,
        "description": st.description,
        "state": st.state,
        "commit": commit_json(w, repo, st.sha),
        "branches": branches,
        "created_at": ts(st.created_at),
        "updated_at": ts(st.updated_at),
    }
    full.update(_common(w, repo, sender, inst))
    return finish("status", None, full)


# -- deployments ----------------------------------------------------------------------------------------------
def deployment(w: World, repo: Repo, dep: Deployment, sender: User, inst: Installation) -> dict[str, Any]:
    full: dict[str, Any] = {
        "action": "created",
        "deployment": _with_app_alias(deployment_json(w, repo, dep)),
        "workflow": None,
        "workflow_run": None,
    }
    full.update(_common(w, repo, sender, inst))
    return finish("deployment", "created", full)


def deployment_status(
    w: World, repo: Repo, dep: Deployment, st: DeploymentStatus, sender: User, inst: Installation
) -> dict[str, Any]:
    full: dict[str, Any] = {
        "action": "created",
        "deployment_status": _with_app_alias(deployment_status_json(w, repo, st)),
        "deployment": _with_app_alias(deployment_json(w, repo, dep)),
    }
    full.update(_common(w, repo, sender, inst))
    return finish("deployment_status", "created", full)


# -- installations -----------------------------------------------------------------------------------------------
def _with_app_slug(payload: dict[str, Any], inst: Installation) -> dict[str, Any]:
    """GitHub sends installation.app_slug; Octokit's schema allows it, its example predates it."""
    payload["installation"]["app_slug"] = inst.app.slug
    return payload


def _repo_stub(repo: Repo) -> dict[str, Any]:
    return {
        "id": repo.id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
    }


def installation(w: World, inst: Installation, action: str, sender: User) -> dict[str, Any]:
    full: dict[str, Any] = {
        "action": action,
        "installation": installation_json(w, inst),
        "repositories": [_repo_stub(r) for r in w.installation_repos(inst)],
        "sender": user_json(w, sender),
    }
    return _with_app_slug(finish("installation", action, full), inst)


def installation_repositories(
    w: World, inst: Installation, action: str, added: list[Repo], removed: list[Repo], sender: User
) -> dict[str, Any]:
    full: dict[str, Any] = {
        "action": action,
        "installation": installation_json(w, inst),
        "repository_selection": inst.repository_selection,
        "repositories_added": [_repo_stub(r) for r in added],
        "repositories_removed": [_repo_stub(r) for r in removed],
        "requester": None,
        "sender": user_json(w, sender),
    }
    return _with_app_slug(finish("installation_repositories", action, full), inst)
