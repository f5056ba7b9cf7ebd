"""Rolling back a merged upgrade (SPEC §7): a revert PR built with the git data API on top of the current
default branch, with the evidence of why; a comment on the original PR; the reverted versions marked bad
(ignored until a newer version exists or ``/depup unignore``); the later phases held back by the gate until the
revert is merged and healthy.

Exactly once: the caller holds the repository's lock, and a merge that already has a revert PR (open or
merged, found by its branch on GitHub, not only in the dashboard state) gets that PR back instead of another.
A whole-upgrade rollback is a true revert (``build_revert``); ``/depup rollback <package>`` sets only that
package back to its previous version in the manifests and regenerates the lockfiles.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from redis import Redis

from bot import audit
from bot.core import metrics
from bot.core.settings import Settings
from bot.deps.apply import Selected, apply_updates
from bot.deps.model import Dependency, Manifest
from bot.deps.proposals import Update
from bot.deps.scan import scan
from bot.errors import GitHubRequestError
from bot.github.client import InstallationClient, json_body
from bot.lifecycle import pulls
from bot.lifecycle.reads import OpenPr
from bot.lifecycle.snapshot import read_snapshot
from bot.lifecycle.state import (
    ROLLBACK_PREFIX,
    Carried,
    DashboardState,
    IgnoredVersion,
    Merge,
    parse_pr_meta,
    same_package,
)
from bot.plan.render import META_PREFIX
from bot.repos.registry import RepoRecord
from bot.rollback.revert import Revert, RevertRefused, build_revert, push_revert
from config.model import Config

log = logging.getLogger(__name__)
ROLLBACK_LABEL = "depup-rollback"


@dataclass(frozen=True)
class Evidence:
    """Why depup rolls back: one line for titles and logs, and the details for the PR body."""

    trigger: str  # deployment | probes | ci | command
    summary: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    pr: int | None  # the revert PR (new or existing)
    existing: bool = False  # it was there already
    refused: tuple[str, ...] = ()  # why no revert could be built (nothing was pushed)


def rollback(
    settings: Settings,
    redis: Redis,
    gh: InstallationClient,
    record: RepoRecord,
    state: DashboardState,
    config: Config,
    merge: Merge,
    evidence: Evidence,
    *,
    package: str | None = None,
    actor: str = "depup",
    delivery: str = "",
) -> tuple[DashboardState, Outcome]:
    """Revert ``merge`` (or only ``package`` of it). The caller holds the repository's lock and stores the
    returned state."""
    branch = f"{ROLLBACK_PREFIX}pr-{merge.pr}" + (f"-{_slug(package)}" if package else "")
    original = json_body(gh.rest.pulls.get(record.owner, record.name, merge.pr))
    meta = parse_pr_meta(original.get("body"))
    carried = tuple(meta.packages if meta else ())
    if package is not None:
        carried = tuple(c for c in carried if same_package(c.ecosystem, c.package, package))
    number = _existing(gh, record, branch)
    existing = number is not None
    if number is None:
        if settings.dry_run:
            return state, Outcome(None, refused=("dry run: nothing is written",))
        opened = _open(redis, gh, record, config, merge, evidence, original, carried, branch, package)
        if isinstance(opened, RevertRefused):
            return _refused(redis, gh, record, state, merge, opened.reasons, actor, delivery)
        number = opened
        metrics.ROLLBACKS_OPENED.inc()
        audit.record(redis, record.full_name, actor=actor, action="rollback_opened", target=f"#{number}",
                     why=f"{evidence.summary}: rolled back in #{number}", delivery=delivery)  # fmt: skip
        log.info("rollback opened", extra={"repo": record.full_name, "pr": merge.pr, "revert": number})
    # Also when an earlier attempt opened the revert and stopped before the rest: the state is the caller's to
    # store, and the comment is made once.
    state = state.with_merges(replace(merge, health="rolled_back", reverted_by=number)).with_ignored(
        *(IgnoredVersion(c.ecosystem, c.package, c.target, f"rolled back in #{number}: {evidence.summary}")
          for c in carried if c.update_type != "lockfile")
    )  # fmt: skip
    if not settings.dry_run:
        _comment_once(
            gh, record, merge.pr, f"rollback-{branch}",
            f"depup rolls this upgrade back{f' (only `{package}`)' if package else ''}: {evidence.summary}. The "
            f"revert is #{number}" + (", and it merges itself once its CI is green." if config.rollback.auto_merge
                                      else "; a maintainer merges it.")
            + " Later phases wait until it is merged and healthy; the reverted versions are not proposed again "
            "until a newer release exists or `/depup unignore <package>`.",
        )  # fmt: skip
    return state, Outcome(number, existing=existing)


def _open(
    redis: Redis,
    gh: InstallationClient,
    record: RepoRecord,
    config: Config,
    merge: Merge,
    evidence: Evidence,
    original: dict[str, Any],
    carried: tuple[Carried, ...],
    branch: str,
    package: str | None,
) -> int | RevertRefused:
    """Build the revert (all of the upgrade, or one package), push its branch and open its PR."""
    ref = json_body(gh.rest.git.get_ref(record.owner, record.name, f"heads/{record.default_branch}"))
    head = str(ref["object"]["sha"])
    if package is None:
        message = _message(original, evidence)
        built = build_revert(gh, record, merge_sha=merge.sha, onto=head, redis=redis, message=message)
    else:
        built = _partial(gh, record, redis, merge, head, carried, _message(original, evidence, package))
    if isinstance(built, RevertRefused):
        return built
    push_revert(gh, record, branch, built)
    title = (
        f"Roll back {package} to {carried[0].current} (from #{merge.pr})"
        if package
        else f'Revert "{original.get("title", f"#{merge.pr}")}"'
    )
    body = _body(merge, original, carried, evidence, built.files, config, package)
    return pulls.open_pull(gh, record, branch, title, body, (*config.labels, ROLLBACK_LABEL), (), ())


def merge_auto(gh: InstallationClient, record: RepoRecord, pr: OpenPr, config: Config, ci: str) -> Merge | None:
    """Merge an open revert PR when ``rollback.auto_merge`` allows it and its CI is green; the merge made."""
    if not config.rollback.auto_merge or ci != "success" or pr.meta is None:
        return None
    try:
        merged = json_body(
            gh.rest.pulls.merge(
                record.owner, record.name, pr.number, sha=pr.head_sha, merge_method=config.automerge.method
            )
        )
    except GitHubRequestError as e:
        log.info("revert merge refused", extra={"pr": pr.number, "status": e.status})
        return None
    metrics.ROLLBACKS_MERGED.inc()
    packages = tuple(c.package for c in pr.meta.packages)
    return Merge(pr.number, str(merged["sha"]), pr.meta.phase, packages=packages, revert_of=pr.meta.rollback_of)


def _existing(gh: InstallationClient, record: RepoRecord, branch: str) -> int | None:
    """An open or merged PR of ``branch`` (a revert made by an earlier attempt or trigger)."""
    found: list[dict[str, Any]] = json_body(
        gh.rest.pulls.list(record.owner, record.name, state="all", head=f"{record.owner}:{branch}", per_page=10)
    )
    for pull in found:
        if pull.get("state") == "open" or pull.get("merged_at"):
            return int(pull["number"])
    return None


def _refused(
    redis: Redis,
    gh: InstallationClient,
    record: RepoRecord,
    state: DashboardState,
    merge: Merge,
    reasons: tuple[str, ...],
    actor: str,
    delivery: str,
) -> tuple[DashboardState, Outcome]:
    listed = "\n".join(f"- {r}" for r in reasons)
    _comment_once(
        gh, record, merge.pr, f"rollback-refused-{merge.sha[:12]}",
        "depup cannot roll this upgrade back cleanly, so it pushed nothing:\n\n" + listed + "\n\nRevert it by "
        "hand, or fix the conflicting files and comment `/depup rollback` again.",
    )  # fmt: skip
    audit.record(redis, record.full_name, actor=actor, action="rollback_refused", target=f"#{merge.pr}",
                 why="; ".join(reasons)[:300], delivery=delivery)  # fmt: skip
    return state.with_merges(replace(merge, health="failing")), Outcome(None, refused=reasons)


def _partial(
    gh: InstallationClient,
    record: RepoRecord,
    redis: Redis,
    merge: Merge,
    head: str,
    carried: tuple[Carried, ...],
    message: str,
) -> Revert | RevertRefused:
    """One commit on ``head`` that puts the package back to its version before ``merge`` (its constraint as it
    was then; lockfiles regenerated), refused when the package has moved since."""
    if not carried:
        return RevertRefused((f"#{merge.pr} did not upgrade that package",))
    package = carried[0]
    commit = json_body(gh.rest.git.get_commit(record.owner, record.name, merge.sha))
    parent = str(commit["parents"][0]["sha"])
    with tempfile.TemporaryDirectory(prefix="depup-rollback-") as tmp:
        now = read_snapshot(gh, record.owner, record.name, head, Path(tmp) / "now", redis, source_budget=0)
        before = read_snapshot(gh, record.owner, record.name, parent, Path(tmp) / "before", redis, source_budget=0)
        now_manifests = scan(now.root).manifests
        old = {(m.path, d.key): d for m in scan(before.root).manifests for d in m.dependencies}
        selected: list[Selected] = []
        moved: list[str] = []
        for manifest in now_manifests:
            for dep in _entries(manifest, package):
                was = old.get((manifest.path, dep.key))
                if was is None:
                    continue
                if dep.locked not in (None, package.target) and not _pins(dep, package.target):
                    moved.append(f"{manifest.path}: `{dep.name}` is {dep.locked} now, not {package.target}")
                    continue
                constraint = was.constraint if was.constraint != dep.constraint else None
                update = Update(package.current, constraint, "patch", False, "pin")
                selected.append(Selected(manifest, dep, update))
        if moved:
            return RevertRefused(tuple(f"{m}: it changed since the upgrade" for m in moved))
        if not selected:
            return RevertRefused((f"`{package.package}` is no longer a dependency on the default branch",))
        changes = apply_updates(now.root, selected, npm_registry=pulls.npm_registry())
        files = {c.path: c.after for c in changes.changes if c.after != c.before}
        if changes.problems:
            return RevertRefused(changes.problems)
        if not files:
            return RevertRefused((f"`{package.package}` is already back to {package.current}",))
        entries: Any = [
            {"path": path, "mode": "100644", "type": "blob", "content": text} for path, text in sorted(files.items())
        ]
        tree = json_body(gh.rest.git.create_tree(record.owner, record.name, base_tree=now.tree, tree=entries))
        author: Any = {"name": pulls.BOT_AUTHOR, "email": f"{pulls.BOT_AUTHOR}@users.noreply.github.com"}
        made = json_body(
            gh.rest.git.create_commit(
                record.owner, record.name, message=message, tree=tree["sha"], parents=[head], author=author
            )
        )
        return Revert(str(made["sha"]), str(tree["sha"]), head, tuple(sorted(files)), ())


def _entries(manifest: Manifest, package: Carried) -> list[Dependency]:
    if manifest.ecosystem.value != package.ecosystem:
        return []
    return [d for d in manifest.dependencies if same_package(package.ecosystem, d.key, package.package)]


def _pins(dep: Dependency, version: str) -> bool:
    return dep.constraint.lstrip("=^~v ") == version


def _message(original: dict[str, Any], evidence: Evidence, package: str | None = None) -> str:
    title = str(original.get("title") or f"#{original.get('number')}")
    head = f"Roll back {package} (from #{original.get('number')})" if package else f'Revert "{title}"'
    source = f"#{original.get('number')} ({original.get('merge_commit_sha')})"
    return f"{head}\n\n{evidence.summary}\n\nThis reverts {source}.\n"


def _body(
    merge: Merge,
    original: dict[str, Any],
    carried: tuple[Carried, ...],
    evidence: Evidence,
    files: tuple[str, ...],
    config: Config,
    package: str | None,
) -> str:
    what = f"`{package}` of #{merge.pr}" if package else f"#{merge.pr} ({_md(str(original.get('title', '')))})"
    lines = [
        f"depup rolls back {what}, merged as {merge.sha[:7]}.",
        "",
        f"**Why:** {_md(evidence.summary)}",
        "",
    ]
    if evidence.details:
        lines.extend(["<details open><summary>Evidence</summary>", "", *evidence.details, "", "</details>", ""])
    lines.extend(["| Package | Back to | From |", "|---|---|---|"])
    lines.extend(f"| `{c.package}` | {c.current} | {c.target} |" for c in carried if c.update_type != "lockfile")
    lines.extend(["", "Files: " + ", ".join(f"`{f}`" for f in files), ""])
    lines.append(
        "This pull request merges itself once its CI is green (`rollback.auto_merge`)."
        if config.rollback.auto_merge
        else "A maintainer merges it (`rollback.auto_merge` is off)."
    )
    lines.append(
        "Later phases wait until it is merged and healthy. The reverted versions are not proposed again until a "
        "newer release exists, or `/depup unignore <package>`."
    )
    meta = {
        "plan": "rollback",
        "phase": merge.phase,
        "group": f"rollback-{merge.pr}" + (f"-{package}" if package else ""),
        "rollback_of": merge.pr,
        "packages": [
            {"ecosystem": c.ecosystem, "package": c.package, "from": c.target, "to": c.current, "type": "rollback"}
            for c in carried
        ],
    }
    lines.extend(["", META_PREFIX + json.dumps(meta, separators=(",", ":")).replace("--", "-\\u002d") + " -->"])
    return "\n".join(lines) + "\n"


def _comment_once(gh: InstallationClient, record: RepoRecord, number: int, marker: str, text: str) -> None:
    tag = f"<!-- depup:{marker} -->"
    comments = json_body(gh.rest.issues.list_comments(record.owner, record.name, number, per_page=100))
    if any(tag in str(c.get("body") or "") for c in comments):
        return
    gh.rest.issues.create_comment(record.owner, record.name, number, body=f"{text}\n\n{tag}")


def _slug(package: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", package.lstrip("@")).strip("-").lower()


def _md(text: str) -> str:
    return text.replace("@", "@\u200b").replace("<", "&lt;").replace(">", "&gt;")
