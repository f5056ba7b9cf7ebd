"""Pull requests of upgrade groups, written through the git data API: one commit per PR (a tree with the new
file contents on top of the default branch's tree, a commit, a branch ref), then the PR, its labels,
reviewers and assignees. Every write is skipped when GitHub already holds what it would write.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.deps.apply import ChangeSet, Selected, apply_updates, refresh_lockfiles
from bot.deps.model import Manifest
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base
from bot.errors import GitHubRequestError, NotFound
from bot.github.client import InstallationClient, json_body
from bot.lifecycle.reads import OpenPr
from bot.lifecycle.snapshot import Snapshot, blob_sha
from bot.plan.model import PlanGroup
from bot.plan.render import risk_details, risk_table
from bot.repos.registry import RepoRecord

BOT_AUTHOR = "depup[bot]"


@dataclass(frozen=True)
class Content:
    """What a group's branch must hold: the changed files' new text, on top of ``base``."""

    files: dict[str, str]
    problems: tuple[str, ...]


def content_for(group: PlanGroup, snapshot: Snapshot, manifests: Mapping[str, Manifest]) -> Content:
    """Edit a scratch copy of the snapshot for ``group`` and regenerate lockfiles; unchanged files left out."""
    selected = [
        Selected(manifests[dep.location.file], dep, item.update)
        for item in group.items
        if item.update is not None
        for dep in item.dependencies
        if dep.location.file in manifests
    ]
    lockfiles = {i.package for i in group.items if i.update_type == "lockfile"}
    with tempfile.TemporaryDirectory(prefix="depup-apply-") as scratch:
        work = Path(scratch) / "repo"
        shutil.copytree(snapshot.root, work, symlinks=False)
        changes: ChangeSet = apply_updates(work, selected, npm_registry=npm_registry())
        if lockfiles:
            refreshed = refresh_lockfiles(
                work, [m for m in manifests.values() if m.lockfile in lockfiles], npm_registry=npm_registry()
            )
            changes = ChangeSet(changes.changes + refreshed.changes, changes.problems + refreshed.problems)
    return Content({c.path: c.after for c in changes.changes if c.after != c.before}, changes.problems)


def npm_registry() -> str | None:
    """The npm registry the engine reads (DEPUP_NPM_REGISTRY or npm's config), so locks resolve from the same."""
    try:
        return npm_registry_base()
    except RegistryConfigError:
        return None


def same_content(gh: InstallationClient, record: RepoRecord, pr: OpenPr, content: Content) -> bool:
    """Whether the PR already changes exactly these files to exactly this text (one read: its file list)."""
    files: list[dict[str, Any]] = json_body(
        gh.rest.pulls.list_files(record.owner, record.name, pr.number, per_page=100)
    )
    have = {str(f["filename"]): str(f.get("sha") or "") for f in files if f.get("status") != "removed"}
    want = {path: blob_sha(text.encode("utf-8")) for path, text in content.files.items()}
    return have == want


def authored_by_depup(gh: InstallationClient, record: RepoRecord, sha: str) -> bool:
    commit = json_body(gh.rest.git.get_commit(record.owner, record.name, sha))
    return str((commit.get("author") or {}).get("name")) == BOT_AUTHOR


def push_commit(
    gh: InstallationClient,
    record: RepoRecord,
    snapshot: Snapshot,
    branch: str,
    content: Content,
    message: str,
    *,
    branch_exists: bool | None = None,
) -> str:
    """One commit with ``content`` on top of the snapshot's commit, and the branch pointed at it (forced).

    A branch that already holds exactly that (an earlier attempt pushed it, then failed) is left as it is."""
    head = _branch_head(gh, record, branch) if branch_exists is not False else None
    if head is not None and _holds(gh, record, head, snapshot, content):
        return head
    entries = [
        {"path": path, "mode": "100644", "type": "blob", "content": text}
        for path, text in sorted(content.files.items())
    ]
    tree = json_body(gh.rest.git.create_tree(record.owner, record.name, base_tree=snapshot.tree, tree=entries))  # type: ignore[arg-type]
    author: Any = {"name": BOT_AUTHOR, "email": "depup[bot]@users.noreply.github.com"}
    commit = json_body(
        gh.rest.git.create_commit(
            record.owner, record.name, message=message, tree=tree["sha"], parents=[snapshot.commit], author=author
        )
    )
    sha = str(commit["sha"])
    if head is not None:
        gh.rest.git.update_ref(record.owner, record.name, f"heads/{branch}", sha=sha, force=True)
    else:
        try:
            gh.rest.git.create_ref(record.owner, record.name, ref=f"refs/heads/{branch}", sha=sha)
        except GitHubRequestError as e:
            if e.status != 422:  # 422: the branch exists after all (an earlier attempt created it)
                raise
            gh.rest.git.update_ref(record.owner, record.name, f"heads/{branch}", sha=sha, force=True)
    return sha


def _branch_head(gh: InstallationClient, record: RepoRecord, branch: str) -> str | None:
    try:
        ref = json_body(gh.rest.git.get_ref(record.owner, record.name, f"heads/{branch}"))
    except NotFound:
        return None
    return str(ref["object"]["sha"])


def _holds(gh: InstallationClient, record: RepoRecord, sha: str, snapshot: Snapshot, content: Content) -> bool:
    """Whether commit ``sha`` is one depup commit on the snapshot's commit with exactly ``content``."""
    commit = json_body(gh.rest.git.get_commit(record.owner, record.name, sha))
    parents = [str(p.get("sha")) for p in commit.get("parents") or []]
    if parents != [snapshot.commit] or str((commit.get("author") or {}).get("name")) != BOT_AUTHOR:
        return False
    tree = json_body(gh.rest.git.get_tree(record.owner, record.name, str(commit["tree"]["sha"]), recursive="1"))
    have = {str(e.get("path")): str(e.get("sha")) for e in tree.get("tree", []) if e.get("type") == "blob"}
    changed = {path for path, sha in have.items() if snapshot.files.get(path, sha) != sha}
    want = {path: blob_sha(text.encode("utf-8")) for path, text in content.files.items()}
    return all(have.get(path) == sha for path, sha in want.items()) and changed <= set(want)


def open_pull(
    gh: InstallationClient,
    record: RepoRecord,
    branch: str,
    title: str,
    body: str,
    labels: Sequence[str],
    reviewers: Sequence[str],
    assignees: Sequence[str],
) -> int:
    try:
        pull = json_body(
            gh.rest.pulls.create(
                record.owner, record.name, head=branch, base=record.default_branch, title=title, body=body
            )
        )
    except GitHubRequestError as e:
        if e.status != 422:
            raise
        # GitHub refuses a second PR for the same branch: one was opened by an earlier, interrupted attempt.
        existing = json_body(
            gh.rest.pulls.list(record.owner, record.name, state="open", head=f"{record.owner}:{branch}")
        )
        if not existing:
            raise
        pull = existing[0]
    number = int(pull["number"])
    sync_labels(gh, record, number, (), labels)
    users = [r for r in reviewers if "/" not in r]
    teams = [r.split("/", 1)[1] for r in reviewers if "/" in r]
    if users or teams:
        gh.rest.pulls.request_reviewers(record.owner, record.name, number, reviewers=users, team_reviewers=teams)
    if assignees:
        gh.rest.issues.update(record.owner, record.name, number, assignees=list(assignees))
    return number


def sync_labels(
    gh: InstallationClient, record: RepoRecord, number: int, have: Sequence[str], want: Sequence[str]
) -> None:
    missing = [label for label in want if label not in have]
    if missing:
        gh.rest.issues.add_labels(record.owner, record.name, number, labels=missing)


def update_pull(gh: InstallationClient, record: RepoRecord, pr: OpenPr, title: str, body: str) -> bool:
    if pr.title == title and pr.body == body:
        return False
    gh.rest.pulls.update(record.owner, record.name, pr.number, title=title, body=body)
    return True


def close_pull(gh: InstallationClient, record: RepoRecord, pr: OpenPr, why: str) -> None:
    gh.rest.issues.create_comment(record.owner, record.name, pr.number, body=why)
    gh.rest.pulls.update(record.owner, record.name, pr.number, state="closed")
    with contextlib.suppress(NotFound):
        gh.rest.git.delete_ref(record.owner, record.name, f"heads/{pr.branch}")


RISK_CHECK = "depup/risk"


def sync_risk_check(gh: InstallationClient, record: RepoRecord, head: str, group: PlanGroup) -> bool:
    """A ``depup/risk`` check run on the PR's head with the risk table as its summary (created, or edited when
    the assessment changed). High risk concludes ``neutral`` so it stands out without failing the commit."""
    title = f"Risk {group.risk} (score {group.score})" + (
        f": needs {group.approvals} approval{'s' if group.approvals != 1 else ''}" if group.approvals else ""
    )
    summary = risk_table(group.items) + "\n\n" + "\n".join(risk_details(item) for item in group.items)
    summary = summary[:65000]
    conclusion: Any = "neutral" if group.risk == "high" else "success"
    runs = json_body(gh.rest.checks.list_for_ref(record.owner, record.name, head, check_name=RISK_CHECK))
    existing = next(iter(runs.get("check_runs", [])), None)
    output: Any = {"title": title, "summary": summary}
    if existing is None:
        gh.rest.checks.create(
            record.owner, record.name, name=RISK_CHECK, head_sha=head, status="completed", conclusion=conclusion,
            output=output,
        )  # fmt: skip
        return True
    have = existing.get("output") or {}
    if have.get("title") == title and have.get("summary") == summary and existing.get("conclusion") == conclusion:
        return False
    gh.rest.checks.update(
        record.owner, record.name, int(existing["id"]), status="completed", conclusion=conclusion, output=output
    )
    return True
