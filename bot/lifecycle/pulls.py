"""Pull requests of upgrade groups, written through the git data API: the upgrade commit (a tree with the new
file contents on top of the default branch's tree, a commit), then one commit per code migration on top of it
(``bot.migrate``), the branch ref at the last, then the PR, its labels, reviewers and assignees. Every write is
skipped when GitHub already holds what it would write.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from redis import Redis

from bot.deps.apply import ChangeSet, Selected, apply_updates, refresh_lockfiles
from bot.deps.model import Manifest
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base
from bot.errors import GitHubRequestError, NotFound
from bot.github.client import InstallationClient, json_body
from bot.lifecycle.reads import OpenPr
from bot.lifecycle.snapshot import Snapshot, blob_sha
from bot.migrate.model import Migration, Outcome
from bot.migrate.render import migrations_markdown
from bot.migrate.rewriters import PYTHON_RUNTIME, Upgrade, floor_raised
from bot.migrate.run import migrate
from bot.plan.model import Plan, PlanGroup
from bot.plan.render import group_markdown, risk_details, risk_table
from bot.repos.registry import RepoRecord
from config.model import Migrations

BOT_AUTHOR = "depup[bot]"


@dataclass(frozen=True)
class Content:
    """What a group's branch must hold: the upgrade's changed files' new text, on top of ``base``, then each
    migration's edits in a commit of its own. ``migration_problems`` are the rewriters that applied and made no
    migration (they never stop the upgrade); ``problems`` stop it."""

    files: dict[str, str]
    problems: tuple[str, ...]
    migrations: tuple[Migration, ...] = ()
    migration_problems: tuple[str, ...] = ()

    @property
    def final(self) -> dict[str, str]:
        """Every changed file's text at the branch's head: the upgrade's, then each migration's over it."""
        files = dict(self.files)
        for migration in self.migrations:
            files.update(migration.files)
        return files


def content_for(
    group: PlanGroup,
    snapshot: Snapshot,
    manifests: Mapping[str, Manifest],
    migrations: Migrations | None = None,
    redis: Redis | None = None,
) -> Content:
    """Edit a scratch copy of the snapshot for ``group`` and regenerate lockfiles; unchanged files left out.
    With ``migrations`` settings, the allowed rewriters then run on the upgraded copy (``bot.migrate.run``)."""
    selected = [
        Selected(manifests[dep.location.file], dep, replace(item.update, constraint=item.constraint_for(n)))
        for item in group.items
        if item.update is not None
        for n, dep in enumerate(item.dependencies)
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
        files = {c.path: c.after for c in changes.changes if c.after != c.before}
        outcome = Outcome()
        if migrations is not None and migrations.enabled and files and not changes.problems:
            outcome = _migrate(group, snapshot, work, files, migrations, redis)
    return Content(files, changes.problems, outcome.migrations, outcome.problems)


def _migrate(
    group: PlanGroup, snapshot: Snapshot, work: Path, files: Mapping[str, str], settings: Migrations,
    redis: Redis | None,
) -> Outcome:  # fmt: skip
    upgrades = [
        Upgrade(item.ecosystem, item.package, item.current, item.target)
        for item in group.items
        if item.update is not None and item.update_type != "lockfile"
    ]
    for path, text in files.items():
        raised = floor_raised(snapshot.text(path), text) if path.endswith("pyproject.toml") else None
        if raised is not None:
            upgrades.append(Upgrade("python", PYTHON_RUNTIME, *raised))
    # a floor item (``bot.plan.floor``) is the same Upgrade as the raise its edit makes: once is enough
    outcome = migrate(work, list(dict.fromkeys(upgrades)), settings, base=snapshot.commit, redis=redis)
    if outcome.migrations and not snapshot.sources_complete:
        # only part of the source was read: a migration of that part would leave the rest unmigrated
        names = ", ".join(m.rewriter for m in outcome.migrations)
        return Outcome((), (f"{names}: not committed: the repository is too large for depup to read all of its "
                            "source files, so a migration would be partial",))  # fmt: skip
    return outcome


def pr_body(group: PlanGroup, plan: Plan, content: Content) -> str:
    """The PR body: the group's markdown, then what each rewriter changed or why it did not."""
    return group_markdown(group, plan, [migrations_markdown(content.migrations, content.migration_problems)])


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
    want = {path: blob_sha(text.encode("utf-8")) for path, text in content.final.items()}
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
    """The upgrade commit with ``content`` on top of the snapshot's commit, one commit per migration on top of
    it, and the branch pointed at the last (forced).

    A branch that already holds exactly that (an earlier attempt pushed it, then failed) is left as it is."""
    head = _branch_head(gh, record, branch) if branch_exists is not False else None
    if head is not None and _holds(gh, record, head, snapshot, content):
        return head
    sha, tree = _commit(gh, record, snapshot.tree, snapshot.commit, content.files, message)
    for migration in content.migrations:
        sha, tree = _commit(gh, record, tree, sha, migration.files, migration.message + "\n")
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


def _commit(
    gh: InstallationClient, record: RepoRecord, base_tree: str, parent: str, files: Mapping[str, str], message: str
) -> tuple[str, str]:
    """A depup commit of ``files`` over ``base_tree`` with the one parent ``parent``: (commit sha, tree sha)."""
    entries = [
        {"path": path, "mode": "100644", "type": "blob", "content": text} for path, text in sorted(files.items())
    ]
    tree = json_body(gh.rest.git.create_tree(record.owner, record.name, base_tree=base_tree, tree=entries))  # type: ignore[arg-type]
    author: Any = {"name": BOT_AUTHOR, "email": "depup[bot]@users.noreply.github.com"}
    commit = json_body(
        gh.rest.git.create_commit(
            record.owner, record.name, message=message, tree=tree["sha"], parents=[parent], author=author
        )
    )
    return str(commit["sha"]), str(tree["sha"])


def _branch_head(gh: InstallationClient, record: RepoRecord, branch: str) -> str | None:
    try:
        ref = json_body(gh.rest.git.get_ref(record.owner, record.name, f"heads/{branch}"))
    except NotFound:
        return None
    return str(ref["object"]["sha"])


def _holds(gh: InstallationClient, record: RepoRecord, sha: str, snapshot: Snapshot, content: Content) -> bool:
    """Whether commit ``sha`` is depup's migration commits (messages as they would be written, newest last) on
    one depup upgrade commit on the snapshot's commit, the upgrade commit with exactly ``content.files`` and the
    head with exactly ``content.final``."""
    head = json_body(gh.rest.git.get_commit(record.owner, record.name, sha))
    commit = head
    for migration in reversed(content.migrations):
        if not _by_depup(commit) or str(commit.get("message", "")).strip() != migration.message:
            return False
        parents = [str(p.get("sha")) for p in commit.get("parents") or []]
        if len(parents) != 1:
            return False
        commit = json_body(gh.rest.git.get_commit(record.owner, record.name, parents[0]))
    parents = [str(p.get("sha")) for p in commit.get("parents") or []]
    if parents != [snapshot.commit] or not _by_depup(commit):
        return False
    if not _tree_holds(gh, record, str(commit["tree"]["sha"]), snapshot, content.files):
        return False
    return commit is head or _tree_holds(gh, record, str(head["tree"]["sha"]), snapshot, content.final)


def _by_depup(commit: Mapping[str, Any]) -> bool:
    return str((commit.get("author") or {}).get("name")) == BOT_AUTHOR


def _tree_holds(
    gh: InstallationClient, record: RepoRecord, tree_sha: str, snapshot: Snapshot, files: Mapping[str, str]
) -> bool:
    """Whether the tree changes exactly ``files`` of the snapshot's (files it did not read are not compared)."""
    tree = json_body(gh.rest.git.get_tree(record.owner, record.name, tree_sha, recursive="1"))
    have = {str(e.get("path")): str(e.get("sha")) for e in tree.get("tree", []) if e.get("type") == "blob"}
    changed = {path for path, sha in have.items() if snapshot.files.get(path, sha) != sha}
    want = {path: blob_sha(text.encode("utf-8")) for path, text in files.items()}
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
