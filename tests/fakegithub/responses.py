"""REST response bodies, built from the fake's state over GitHub's official examples (api-responses/).

Each builder returns the complete object GitHub would send; the example of the operation is the
template (shape(..., strict=False)), so a field the builder forgets is still present with the
example's neutral data. Webhook payloads (payloads.py) reuse these builders.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .git import TreeEntry
from .merge import FileDiff
from .state import (
    App,
    Artifact,
    CheckRun,
    CheckSuite,
    Comment,
    Deployment,
    DeploymentStatus,
    Installation,
    Issue,
    Label,
    Pull,
    Reaction,
    Repo,
    Status,
    User,
    WorkflowRun,
    node_id,
)
from .templates import example, shape

if TYPE_CHECKING:
    from .world import World

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
ROLES = {  # role -> (permission as GitHub reports it, role_name)
    "admin": ("admin", "admin"),
    "maintain": ("write", "maintain"),
    "write": ("write", "write"),
    "triage": ("read", "triage"),
    "read": ("read", "read"),
    "none": ("none", "none"),
}
VERIFICATION = {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


def ts(when: datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def b64_lines(data: bytes) -> str:
    """Base64 with a newline every 60 characters, as GitHub sends file contents."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def q(path: str) -> str:
    return quote(path, safe="/")


# -- users, apps, installations ----------------------------------------------------------------
def user_json(w: World, user: User) -> dict[str, Any]:
    login = quote(user.login, safe="")  # GitHub escapes bots' brackets: depup%5Bbot%5D
    api = f"{w.api_url}/users/{login}"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": user.node_id,
        "avatar_url": f"{w.web_url}/avatars/u/{user.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{w.web_url}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": user.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def app_json(w: World, app: App) -> dict[str, Any]:
    value = {
        "id": app.id,
        "slug": app.slug,
        "client_id": app.client_id,
        "node_id": app.node_id,
        "owner": user_json(w, app.owner),
        "name": app.name,
        "description": app.description,
        "external_url": f"{w.web_url}/apps/{app.slug}/home",
        "html_url": f"{w.web_url}/apps/{app.slug}",
        "created_at": ts(app.created_at),
        "updated_at": ts(app.created_at),
        "permissions": dict(app.permissions),
        "events": list(app.events),
        "installations_count": len([i for i in w.installations.values() if i.app is app and not i.deleted]),
    }
    return value


def installation_json(w: World, inst: Installation) -> dict[str, Any]:
    value = {
        "id": inst.id,
        "client_id": inst.app.client_id,
        "account": user_json(w, inst.account),
        "access_tokens_url": f"{w.api_url}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{w.api_url}/installation/repositories",
        "html_url": f"{w.web_url}/organizations/{inst.account.login}/settings/installations/{inst.id}",
        "app_id": inst.app.id,
        "app_slug": inst.app.slug,
        "target_id": inst.account.id,
        "target_type": "Organization" if inst.account.type == "Organization" else "User",
        "permissions": dict(inst.permissions),
        "events": list(inst.events),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "repository_selection": inst.repository_selection,
        "created_at": ts(inst.created_at),
        "updated_at": ts(inst.updated_at),
        "suspended_at": None,
        "suspended_by": None,
    }
    return value


def token_json(
    w: World, token: str, expires_at: datetime, inst: Installation, repos: list[Repo] | None
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "token": token,
        "expires_at": ts(expires_at),
        "permissions": dict(inst.permissions),
        "repository_selection": inst.repository_selection,
    }
    if repos is not None:
        value["repositories"] = [repo_json(w, r) for r in repos]
    return value


# -- repositories --------------------------------------------------------------------------------
def repo_json(w: World, repo: Repo, *, full: bool = False, for_user: User | None = None) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    web = f"{w.web_url}/{repo.full_name}"
    open_issues = len([i for i in repo.issues.values() if i.state == "open"])
    value: dict[str, Any] = {
        "id": repo.id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": user_json(w, repo.owner),
        "private": repo.private,
        "html_url": web,
        "description": repo.description,
        "fork": False,
        "url": api,
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{api}/assignees{{/user}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "contributors_url": f"{api}/contributors",
        "deployments_url": f"{api}/deployments",
        "downloads_url": f"{api}/downloads",
        "events_url": f"{api}/events",
        "forks_url": f"{api}/forks",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_url": f"git://{w.web_host}/{repo.full_name}.git",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "keys_url": f"{api}/keys{{/key_id}}",
        "labels_url": f"{api}/labels{{/name}}",
        "languages_url": f"{api}/languages",
        "merges_url": f"{api}/merges",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "releases_url": f"{api}/releases{{/id}}",
        "ssh_url": f"git@{w.web_host}:{repo.full_name}.git",
        "stargazers_url": f"{api}/stargazers",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "tags_url": f"{api}/tags",
        "teams_url": f"{api}/teams",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "clone_url": f"{web}.git",
        "mirror_url": None,
        "hooks_url": f"{api}/hooks",
        "svn_url": web,
        "homepage": None,
        "language": None,
        "forks_count": 0,
        "forks": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues_count": open_issues,
        "open_issues": open_issues,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.private else "public",
        "pushed_at": ts(repo.pushed_at),
        "created_at": ts(repo.created_at),
        "updated_at": ts(repo.updated_at),
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
    }
    if for_user is not None or full:
        value["permissions"] = {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True}
    if full:
        value.update(
            {
                "allow_rebase_merge": True,
                "allow_squash_merge": True,
                "allow_merge_commit": True,
                "allow_auto_merge": False,
                "delete_branch_on_merge": False,
                "allow_update_branch": False,
                "use_squash_pr_title_as_default": False,
                "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                "squash_merge_commit_message": "COMMIT_MESSAGES",
                "merge_commit_title": "MERGE_MESSAGE",
                "merge_commit_message": "PR_TITLE",
                "subscribers_count": 0,
                "network_count": 0,
                "temp_clone_token": "",
                "custom_properties": {},
            }
        )
        if repo.owner.type == "Organization":
            value["organization"] = user_json(w, repo.owner)
        template = example("repos/get")
        for key in (
            "parent",
            "source",
            "template_repository",
            "organization",
            "security_and_analysis",
            "code_of_conduct",
        ):
            template.pop(key, None)
        result: dict[str, Any] = shape(template, value, strict=False)
        return result
    return value


def collaborator_permission_json(w: World, repo: Repo, user: User) -> dict[str, Any]:
    role = w.role_of(repo, user)
    permission, role_name = ROLES[role]
    order = ["read", "triage", "write", "maintain", "admin"]
    level = order.index(role_name) if role_name in order else -1
    user_value = user_json(w, user)
    user_value["permissions"] = {
        "pull": level >= 0,
        "triage": level >= 1,
        "push": level >= 2,
        "maintain": level >= 3,
        "admin": level >= 4,
    }
    user_value["role_name"] = role_name
    return {"permission": permission, "role_name": role_name, "user": user_value}


# -- git data ------------------------------------------------------------------------------------
def ref_json(w: World, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    kind = repo.store.kind(sha) or "commit"
    return {
        "ref": ref,
        "node_id": node_id("Ref", int(hashlib.sha1(f"{repo.id}:{ref}".encode()).hexdigest()[:8], 16)),
        "url": f"{api}/git/{q(ref)}",
        "object": {"type": kind, "sha": sha, "url": f"{api}/git/{kind}s/{sha}"},
    }


def blob_json(w: World, repo: Repo, sha: str, *, created: bool = False) -> dict[str, Any]:
    url = f"{w.api_url}/repos/{repo.full_name}/git/blobs/{sha}"
    if created:
        return {"url": url, "sha": sha}
    data = repo.store.blob(sha)
    return {
        "content": b64_lines(data),
        "encoding": "base64",
        "url": url,
        "sha": sha,
        "size": len(data),
        "node_id": node_id("Blob", int(sha[:8], 16)),
    }


def tree_json(w: World, repo: Repo, sha: str, *, recursive: bool = False) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}/git"
    entries = repo.store.walk(sha) if recursive else list(repo.store.tree(sha))
    return {
        "sha": sha,
        "url": f"{api}/trees/{sha}",
        "tree": [_tree_entry(w, repo, api, e) for e in entries],
        "truncated": False,
    }


def _tree_entry(w: World, repo: Repo, api: str, entry: TreeEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"path": entry.name, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
    if entry.type == "blob":
        item["size"] = len(repo.store.blob(entry.sha))
        item["url"] = f"{api}/blobs/{entry.sha}"
    elif entry.type == "tree":
        item["url"] = f"{api}/trees/{entry.sha}"
    return item


def git_commit_json(w: World, repo: Repo, sha: str) -> dict[str, Any]:
    commit = repo.store.commit(sha)
    api = f"{w.api_url}/repos/{repo.full_name}"
    web = f"{w.web_url}/{repo.full_name}"
    return {
        "sha": sha,
        "node_id": node_id("Commit", int(sha[:8], 16)),
        "url": f"{api}/git/commits/{sha}",
        "html_url": f"{web}/commit/{sha}",
        "author": commit.author.as_json(),
        "committer": commit.committer.as_json(),
        "message": commit.message,
        "tree": {"url": f"{api}/git/trees/{commit.tree}", "sha": commit.tree},
        "parents": [
            {"url": f"{api}/git/commits/{p}", "sha": p, "html_url": f"{web}/commit/{p}"} for p in commit.parents
        ],
        "verification": dict(VERIFICATION),
    }


def commit_json(
    w: World, repo: Repo, sha: str, *, files: list[FileDiff] | None = None, with_stats: bool = False
) -> dict[str, Any]:
    """The "commit" schema (repos/get-commit, compare, pulls/list-commits)."""
    commit = repo.store.commit(sha)
    api = f"{w.api_url}/repos/{repo.full_name}"
    web = f"{w.web_url}/{repo.full_name}"
    author = w.user_for_email(commit.author.email)
    committer = w.user_for_email(commit.committer.email)
    value: dict[str, Any] = {
        "url": f"{api}/commits/{sha}",
        "sha": sha,
        "node_id": node_id("Commit", int(sha[:8], 16)),
        "html_url": f"{web}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "commit": {
            "url": f"{api}/git/commits/{sha}",
            "author": commit.author.as_json(),
            "committer": commit.committer.as_json(),
            "message": commit.message,
            "tree": {"url": f"{api}/git/trees/{commit.tree}", "sha": commit.tree},
            "comment_count": 0,
            "verification": dict(VERIFICATION),
        },
        "author": user_json(w, author) if author else None,
        "committer": user_json(w, committer) if committer else None,
        "parents": [{"url": f"{api}/commits/{p}", "sha": p, "html_url": f"{web}/commit/{p}"} for p in commit.parents],
    }
    if files is not None:
        value["files"] = [diff_entry_json(w, repo, sha, d) for d in files]
    if with_stats and files is not None:
        additions = sum(d.additions for d in files)
        deletions = sum(d.deletions for d in files)
        value["stats"] = {"additions": additions, "deletions": deletions, "total": additions + deletions}
    return value


def diff_entry_json(w: World, repo: Repo, ref: str, diff: FileDiff) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    web = f"{w.web_url}/{repo.full_name}"
    value: dict[str, Any] = {
        "sha": diff.sha,
        "filename": diff.filename,
        "status": diff.status,
        "additions": diff.additions,
        "deletions": diff.deletions,
        "changes": diff.changes,
        "blob_url": f"{web}/blob/{ref}/{q(diff.filename)}",
        "raw_url": f"{web}/raw/{ref}/{q(diff.filename)}",
        "contents_url": f"{api}/contents/{q(diff.filename)}?ref={ref}",
    }
    if diff.patch is not None:
        value["patch"] = diff.patch
    if diff.previous_filename:
        value["previous_filename"] = diff.previous_filename
    return value


def content_json(w: World, repo: Repo, ref: str, entry: TreeEntry, path: str, *, with_content: bool) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    web = f"{w.web_url}/{repo.full_name}"
    name = path.rsplit("/", 1)[-1]
    kind = {"tree": "dir", "commit": "submodule"}.get(entry.type, "symlink" if entry.mode == "120000" else "file")
    git_url = f"{api}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
    html_url = f"{web}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{q(path)}"
    value: dict[str, Any] = {
        "type": kind,
        "size": len(repo.store.blob(entry.sha)) if entry.type == "blob" else 0,
        "name": name,
        "path": path,
        "sha": entry.sha,
        "url": f"{api}/contents/{q(path)}?ref={ref}",
        "git_url": git_url if kind != "submodule" else None,
        "html_url": html_url if kind != "submodule" else None,
        "download_url": f"{web}/raw/{ref}/{q(path)}" if kind in ("file", "symlink") else None,
        "_links": {"self": f"{api}/contents/{q(path)}?ref={ref}", "git": git_url, "html": html_url},
    }
    if with_content and kind == "file":
        value["content"] = b64_lines(repo.store.blob(entry.sha))
        value["encoding"] = "base64"
    if with_content and kind == "symlink":
        value["target"] = repo.store.blob(entry.sha).decode(errors="replace")
    if kind == "submodule":
        value["submodule_git_url"] = ""
    return value


# -- issues, pull requests, comments ---------------------------------------------------------------
def label_json(w: World, repo: Repo, label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "node_id": node_id("Label", label.id),
        "url": f"{w.api_url}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
        "name": label.name,
        "color": label.color,
        "default": label.default,
        "description": label.description,
        # required by githubkit's models (API version 2026-03-10), not in the 2022-11-28 description
        "archived_at": None,
        "archived_by": None,
    }


def reactions_rollup(w: World, url: str, reactions: list[Reaction]) -> dict[str, Any]:
    rollup: dict[str, Any] = {"url": f"{url}/reactions", "total_count": len(reactions)}
    for content in REACTIONS:
        rollup[content] = len([r for r in reactions if r.content == content])
    return rollup


def reaction_json(w: World, reaction: Reaction) -> dict[str, Any]:
    return {
        "id": reaction.id,
        "node_id": node_id("Reaction", reaction.id),
        "user": user_json(w, reaction.user),
        "content": reaction.content,
        "created_at": ts(reaction.created_at),
    }


def issue_json(w: World, repo: Repo, issue: Issue) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}/issues/{issue.number}"
    value: dict[str, Any] = {
        "id": issue.id,
        "node_id": node_id("Issue", issue.id),
        "url": api,
        "repository_url": f"{w.api_url}/repos/{repo.full_name}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{w.web_url}/{repo.full_name}/{'pull' if issue.pull else 'issues'}/{issue.number}",
        "number": issue.number,
        "state": issue.state,
        "title": issue.title,
        "body": issue.body,
        "user": user_json(w, issue.user),
        "labels": [label_json(w, repo, label) for label in issue.labels],
        "assignee": user_json(w, issue.assignees[0]) if issue.assignees else None,
        "assignees": [user_json(w, u) for u in issue.assignees],
        "milestone": None,
        "locked": issue.locked,
        "active_lock_reason": None,
        "comments": len(issue.comment_ids),
        "closed_at": ts(issue.closed_at),
        "created_at": ts(issue.created_at),
        "updated_at": ts(issue.updated_at),
        "closed_by": user_json(w, issue.closed_by) if issue.closed_by else None,
        "author_association": w.author_association(repo, issue.user),
        "state_reason": issue.state_reason,
        "reactions": reactions_rollup(w, api, issue.reactions),
        "timeline_url": f"{api}/timeline",
        "performed_via_app": app_json(w, issue.app) if issue.app else None,
    }
    if issue.pull is not None:
        pulls = f"{w.api_url}/repos/{repo.full_name}/pulls/{issue.number}"
        web = f"{w.web_url}/{repo.full_name}/pull/{issue.number}"
        value["pull_request"] = {
            "url": pulls,
            "html_url": web,
            "diff_url": f"{web}.diff",
            "patch_url": f"{web}.patch",
            "merged_at": ts(issue.pull.merged_at),
        }
        value["draft"] = issue.pull.draft
    return value


def comment_json(w: World, repo: Repo, comment: Comment) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}/issues/comments/{comment.id}"
    issue = repo.issues[comment.number]
    kind = "pull" if issue.pull else "issues"
    return {
        "id": comment.id,
        "node_id": node_id("IssueComment", comment.id),
        "url": api,
        "html_url": f"{w.web_url}/{repo.full_name}/{kind}/{comment.number}#issuecomment-{comment.id}",
        "body": comment.body,
        "user": user_json(w, comment.user),
        "created_at": ts(comment.created_at),
        "updated_at": ts(comment.updated_at),
        "issue_url": f"{w.api_url}/repos/{repo.full_name}/issues/{comment.number}",
        "author_association": w.author_association(repo, comment.user),
        "performed_via_app": app_json(w, comment.app) if comment.app else None,
        "reactions": reactions_rollup(w, api, comment.reactions),
    }


def _branch_json(w: World, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{repo.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user_json(w, repo.owner),
        "repo": repo_json(w, repo, full=False) | _merge_settings(),
    }


def _merge_settings() -> dict[str, Any]:
    return {
        "allow_rebase_merge": True,
        "allow_squash_merge": True,
        "allow_merge_commit": True,
        "allow_auto_merge": False,
        "allow_update_branch": False,
        "delete_branch_on_merge": False,
        "use_squash_pr_title_as_default": False,
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
        "squash_merge_commit_message": "COMMIT_MESSAGES",
        "merge_commit_title": "MERGE_MESSAGE",
        "merge_commit_message": "PR_TITLE",
        "temp_clone_token": "",
    }


SIMPLE_PULL_DROPS = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)


def pull_json(w: World, repo: Repo, pull: Pull, *, simple: bool = False, consume: bool = False) -> dict[str, Any]:
    """consume=True for GET pulls/get: counts towards FakeGitHub.mergeability_lag."""
    issue = pull.issue
    api = f"{w.api_url}/repos/{repo.full_name}"
    web = f"{w.web_url}/{repo.full_name}/pull/{issue.number}"
    self_url = f"{api}/pulls/{issue.number}"
    base_sha = repo.branch_sha(pull.base_ref) or pull.base_sha
    if pull.merged or issue.state == "closed":
        base_sha = pull.base_sha
    value: dict[str, Any] = {
        "url": self_url,
        "id": pull.id,
        "node_id": node_id("PullRequest", pull.id),
        "html_url": web,
        "diff_url": f"{web}.diff",
        "patch_url": f"{web}.patch",
        "issue_url": f"{api}/issues/{issue.number}",
        "commits_url": f"{self_url}/commits",
        "review_comments_url": f"{self_url}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "comments_url": f"{api}/issues/{issue.number}/comments",
        "statuses_url": f"{api}/statuses/{pull.head_sha}",
        "number": issue.number,
        "state": issue.state,
        "locked": issue.locked,
        "title": issue.title,
        "user": user_json(w, issue.user),
        "body": issue.body,
        # The description types a pull request's label descriptions as non-nullable strings.
        "labels": [{**label_json(w, repo, label), "description": label.description or ""} for label in issue.labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": ts(issue.created_at),
        "updated_at": ts(issue.updated_at),
        "closed_at": ts(issue.closed_at),
        "merged_at": ts(pull.merged_at),
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": user_json(w, issue.assignees[0]) if issue.assignees else None,
        "assignees": [user_json(w, u) for u in issue.assignees],
        "requested_reviewers": [user_json(w, u) for u in pull.requested_reviewers],
        "requested_teams": [],
        "head": _branch_json(w, repo, pull.head_ref, pull.head_sha),
        "base": _branch_json(w, repo, pull.base_ref, base_sha),
        "_links": {
            "self": {"href": self_url},
            "html": {"href": web},
            "issue": {"href": f"{api}/issues/{issue.number}"},
            "comments": {"href": f"{api}/issues/{issue.number}/comments"},
            "review_comments": {"href": f"{self_url}/comments"},
            "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
            "commits": {"href": f"{self_url}/commits"},
            "statuses": {"href": f"{api}/statuses/{pull.head_sha}"},
        },
        "author_association": w.author_association(repo, issue.user),
        "auto_merge": None,
        "draft": pull.draft,
    }
    if simple:
        return value
    mergeable, mergeable_state, test_merge = w.mergeability(repo, pull, consume=consume)
    if pull.merge_commit_sha is None and test_merge:
        value["merge_commit_sha"] = test_merge
    commits = w.pull_commits(repo, pull)
    files = w.pull_files(repo, pull)
    value.update(
        {
            "merged": pull.merged,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": mergeable_state,
            "merged_by": user_json(w, pull.merged_by) if pull.merged_by else None,
            "comments": len(issue.comment_ids),
            "review_comments": 0,
            "maintainer_can_modify": pull.maintainer_can_modify,
            "commits": len(commits),
            "additions": sum(d.additions for d in files),
            "deletions": sum(d.deletions for d in files),
            "changed_files": len(files),
        }
    )
    return value


# -- checks, statuses, deployments ------------------------------------------------------------------
def check_run_json(w: World, repo: Repo, run: CheckRun) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    output = {
        "title": run.output.get("title"),
        "summary": run.output.get("summary"),
        "text": run.output.get("text"),
        "annotations_count": len(run.output.get("annotations", [])),
        "annotations_url": f"{api}/check-runs/{run.id}/annotations",
    }
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": node_id("CheckRun", run.id),
        "external_id": run.external_id or "",
        "url": f"{api}/check-runs/{run.id}",
        "html_url": f"{w.web_url}/{repo.full_name}/runs/{run.id}",
        "details_url": run.details_url or f"{w.web_url}/{repo.full_name}/runs/{run.id}",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": ts(run.started_at),
        "completed_at": ts(run.completed_at),
        "output": output,
        "name": run.name,
        "check_suite": {"id": run.suite.id},
        "app": app_json(w, run.app),
        "pull_requests": [minimal_pull_json(w, repo, p) for p in w.pulls_for_sha(repo, run.head_sha)],
    }


def minimal_pull_json(w: World, repo: Repo, pull: Pull) -> dict[str, Any]:
    repo_ref = {"id": repo.id, "url": f"{w.api_url}/repos/{repo.full_name}", "name": repo.name}
    return {
        "url": f"{w.api_url}/repos/{repo.full_name}/pulls/{pull.number}",
        "id": pull.id,
        "number": pull.number,
        "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": repo_ref},
        "base": {"ref": pull.base_ref, "sha": repo.branch_sha(pull.base_ref) or pull.base_sha, "repo": repo_ref},
    }


def check_suite_json(w: World, repo: Repo, suite: CheckSuite) -> dict[str, Any]:
    status, conclusion = w.suite_state(repo, suite)
    runs = [r for r in repo.check_runs.values() if r.suite is suite]
    head = repo.store.commit(suite.head_sha) if repo.store.is_commit(suite.head_sha) else None
    return {
        "id": suite.id,
        "node_id": node_id("CheckSuite", suite.id),
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "status": status,
        "conclusion": conclusion,
        "url": f"{w.api_url}/repos/{repo.full_name}/check-suites/{suite.id}",
        "before": suite.before,
        "after": suite.after or suite.head_sha,
        "pull_requests": [minimal_pull_json(w, repo, p) for p in w.pulls_for_sha(repo, suite.head_sha)],
        "app": app_json(w, suite.app),
        "created_at": ts(suite.created_at),
        "updated_at": ts(suite.updated_at),
        "latest_check_runs_count": len(runs),
        "check_runs_url": f"{w.api_url}/repos/{repo.full_name}/check-suites/{suite.id}/check-runs",
        "head_commit": simple_commit_json(w, repo, suite.head_sha) if head else None,
        "rerequestable": True,
        "runs_rerequestable": True,
    }


def simple_commit_json(w: World, repo: Repo, sha: str) -> dict[str, Any]:
    commit = repo.store.commit(sha)
    return {
        "id": sha,
        "tree_id": commit.tree,
        "message": commit.message,
        "timestamp": commit.committer.iso,
        "author": {"name": commit.author.name, "email": commit.author.email},
        "committer": {"name": commit.committer.name, "email": commit.committer.email},
    }


def status_json(w: World, repo: Repo, status: Status) -> dict[str, Any]:
    return {
        "url": f"{w.api_url}/repos/{repo.full_name}/statuses/{status.sha}",
        "avatar_url": f"{w.web_url}/avatars/u/{status.creator.id}?v=4",
        "id": status.id,
        "node_id": node_id("StatusContext", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": ts(status.created_at),
        "updated_at": ts(status.updated_at),
        "creator": user_json(w, status.creator),
    }


def combined_status_json(w: World, repo: Repo, sha: str) -> dict[str, Any]:
    latest = w.latest_statuses(repo, sha)
    statuses = [status_json(w, repo, s) for s in latest]
    for item in statuses:
        item.pop("creator")
    return {
        "state": w.combined_state(latest),
        "statuses": statuses,
        "sha": sha,
        "total_count": len(latest),
        "repository": repo_json(w, repo),
        "commit_url": f"{w.api_url}/repos/{repo.full_name}/commits/{sha}",
        "url": f"{w.api_url}/repos/{repo.full_name}/commits/{sha}/status",
    }


def deployment_json(w: World, repo: Repo, deployment: Deployment) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    return {
        "url": f"{api}/deployments/{deployment.id}",
        "id": deployment.id,
        "node_id": node_id("Deployment", deployment.id),
        "sha": deployment.sha,
        "ref": deployment.ref,
        "task": deployment.task,
        "payload": deployment.payload,
        "original_environment": deployment.original_environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": user_json(w, deployment.creator),
        "created_at": ts(deployment.created_at),
        "updated_at": ts(deployment.updated_at),
        "statuses_url": f"{api}/deployments/{deployment.id}/statuses",
        "repository_url": api,
        "transient_environment": deployment.transient_environment,
        "production_environment": deployment.production_environment,
        "performed_via_app": app_json(w, deployment.app) if deployment.app else None,
    }


def deployment_status_json(w: World, repo: Repo, status: DeploymentStatus) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    return {
        "url": f"{api}/deployments/{status.deployment_id}/statuses/{status.id}",
        "id": status.id,
        "node_id": node_id("DeploymentStatus", status.id),
        "state": status.state,
        "creator": user_json(w, status.creator),
        "description": status.description,
        "environment": status.environment,
        "target_url": status.target_url,
        "created_at": ts(status.created_at),
        "updated_at": ts(status.updated_at),
        "deployment_url": f"{api}/deployments/{status.deployment_id}",
        "repository_url": api,
        "environment_url": status.environment_url,
        "log_url": status.log_url,
        "performed_via_app": app_json(w, status.app) if status.app else None,
    }


def error_json(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": str(status),
    }
    if errors:
        body["errors"] = errors
    return body


def artifact_size(artifact: Artifact) -> int:
    return artifact.size_in_bytes if artifact.size_in_bytes is not None else len(artifact.data)


def artifact_json(w: World, repo: Repo, run: WorkflowRun, artifact: Artifact) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}/actions/artifacts/{artifact.id}"
    return {
        "id": artifact.id,
        "node_id": node_id("Artifact", artifact.id),
        "name": artifact.name,
        "size_in_bytes": artifact_size(artifact),
        "url": api,
        "archive_download_url": f"{api}/zip",
        "expired": artifact.expired,
        "created_at": ts(artifact.created_at),
        "expires_at": ts(artifact.created_at.replace(year=artifact.created_at.year + 1)),
        "updated_at": ts(artifact.created_at),
        "digest": "sha256:" + hashlib.sha256(artifact.data).hexdigest(),
        "workflow_run": {
            "id": run.id,
            "repository_id": repo.id,
            "head_repository_id": repo.id,
            "head_branch": run.head_branch or "",
            "head_sha": run.head_sha,
        },
    }


def workflow_run_json(w: World, repo: Repo, run: WorkflowRun) -> dict[str, Any]:
    api = f"{w.api_url}/repos/{repo.full_name}"
    template = example("actions/list-workflow-runs-for-repo")["workflow_runs"][0]
    suite = next((s for s in repo.check_suites.values() if s.head_sha == run.head_sha), None)
    suite_id = suite.id if suite is not None else run.id
    value = {
        "id": run.id,
        "name": run.name,
        "node_id": node_id("WorkflowRun", run.id),
        "check_suite_id": suite_id,
        "check_suite_node_id": node_id("CheckSuite", suite_id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "run_number": run.run_number,
        "event": run.event,
        "display_title": repo.store.commit(run.head_sha).message.splitlines()[0]
        if repo.store.is_commit(run.head_sha)
        else run.name,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "url": f"{api}/actions/runs/{run.id}",
        "html_url": f"{w.web_url}/{repo.full_name}/actions/runs/{run.id}",
        "pull_requests": [minimal_pull_json(w, repo, p) for p in w.pulls_for_sha(repo, run.head_sha)],
        "created_at": ts(run.created_at),
        "updated_at": ts(run.updated_at),
        "actor": user_json(w, repo.owner),
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": ts(run.created_at),
        "triggering_actor": user_json(w, repo.owner),
        "jobs_url": f"{api}/actions/runs/{run.id}/jobs",
        "logs_url": f"{api}/actions/runs/{run.id}/logs",
        "check_suite_url": f"{api}/check-suites/{suite_id}",
        "artifacts_url": f"{api}/actions/runs/{run.id}/artifacts",
        "cancel_url": f"{api}/actions/runs/{run.id}/cancel",
        "rerun_url": f"{api}/actions/runs/{run.id}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{api}/actions/workflows/{run.workflow_id}",
        "head_commit": simple_commit_json(w, repo, run.head_sha),
        "repository": repo_json(w, repo),
        "head_repository": repo_json(w, repo),
    }
    shaped: dict[str, Any] = shape(template, value, strict=False)
    return shaped
