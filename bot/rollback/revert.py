"""A true revert of a merged upgrade, built with the git data API on top of the default branch's current head.

``build_revert`` compares the upgrade's first parent with its merge commit (recursive tree listings, blobs
only), and for every file the upgrade changed decides what the revert writes. An upgrade PR's code migration
commits are part of the upgrade: squashed or merged they are in the merge commit, and after a rebase merge
(the merge SHA is then the last migration commit) the comparison starts before the upgrade commit they follow.

* the file is unchanged since the upgrade: the version before the upgrade (referenced by its blob, no read);
* the file is already back to its version before the upgrade: nothing;
* the file changed since: the upgrade's change is undone by a three-way merge (``git merge-file``, base =
  the file at the upgrade, ours = the file now, theirs = the file before the upgrade). A conflict, a binary
  or non-regular file, or a file deleted/added/re-created since refuses the file.

One refused file refuses the whole revert (``RevertRefused`` names each file and why) and nothing is
written. Otherwise one tree (on the current head's tree) and one commit (parent: the current head) are
created; no ref is touched. ``push_revert`` points a branch at that commit (created, or force-updated),
leaving a branch alone that already holds a commit with the same tree and parent.

Requests: one commit read and three recursive tree listings, blobs only for files changed since the upgrade
(three each, fewer with the Redis blob cache), then one tree and one commit.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis

from bot.errors import DepupError, GitHubError, GitHubRequestError, NotFound
from bot.github.client import InstallationClient, json_body
from bot.lifecycle.pulls import BOT_AUTHOR
from bot.lifecycle.snapshot import blob
from bot.migrate.model import MIGRATION_PREFIX
from bot.repos.registry import RepoRecord

BOT_EMAIL = f"{BOT_AUTHOR}@users.noreply.github.com"
_MERGEABLE_MODES = frozenset({"100644", "100755"})
_BINARY_PROBE = 8000  # git's own heuristic: a NUL byte in the first 8000 bytes makes a file binary
_MARKER_SIZE = 32  # conflict markers far longer than any line a manifest or lockfile holds
_GIT_TIMEOUT = 60.0
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class RevertError(DepupError):
    """The three-way merge of a file could not be run (git missing, failed or timed out)."""


@dataclass(frozen=True)
class Revert:
    """A revert commit written to GitHub but not yet on any branch."""

    commit: str
    tree: str
    onto: str  # the commit's parent: the default branch's head the revert was built on
    files: tuple[str, ...]  # every file the revert changes, sorted
    merged_files: tuple[str, ...]  # those that changed since the upgrade and needed a three-way merge


@dataclass(frozen=True)
class RevertRefused:
    """Why the revert cannot be built cleanly; nothing was written to GitHub."""

    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Entry:
    mode: str
    sha: str


@dataclass(frozen=True)
class _Listing:
    tree: str
    blobs: dict[str, _Entry]
    truncated: bool


@dataclass(frozen=True)
class _Merged:
    """A file's reverted text, or why it cannot be reverted, or neither (the merge leaves the file as it is)."""

    content: str | None = None
    mode: str = ""
    refused: str | None = None


def build_revert(
    gh: InstallationClient,
    record: RepoRecord,
    *,
    merge_sha: str,
    onto: str,
    paths: Collection[str] | None = None,
    message: str | None = None,
    redis: Redis | None = None,
) -> Revert | RevertRefused:
    """One commit on ``onto`` that undoes what ``merge_sha`` changed (first parent -> ``merge_sha``).

    ``merge_sha`` and ``onto`` are commit SHAs. ``paths`` limits the revert to those files (files the
    upgrade did not change are ignored). ``redis`` caches the blobs read for three-way merges.
    """
    owner, name = record.owner, record.name
    commit = json_body(gh.rest.git.get_commit(owner, name, merge_sha))
    parents = [str(p["sha"]) for p in commit.get("parents") or []]
    upgrade = commit
    while _migration(upgrade) and len(parents) == 1:
        # A rebase merge puts the PR's commits on the default branch one by one and its merge SHA is the last:
        # a migration commit (bot.migrate). The upgrade they migrate for is undone with them.
        upgrade = json_body(gh.rest.git.get_commit(owner, name, parents[0]))
        parents = [str(p["sha"]) for p in upgrade.get("parents") or []]
    if not parents:
        return RevertRefused((f"commit {_short(merge_sha)} has no parent: there is no earlier version to go back to",))
    before = _listing(gh, record, parents[0])
    after = _listing(gh, record, str(commit["tree"]["sha"]))
    now = _listing(gh, record, onto)
    too_big = [sha for sha, listing in ((parents[0], before), (merge_sha, after), (onto, now)) if listing.truncated]
    if too_big:
        return RevertRefused(
            tuple(f"the file list of commit {_short(sha)} is too large for GitHub to list at once" for sha in too_big)
        )

    changed = sorted(p for p in before.blobs.keys() | after.blobs.keys() if before.blobs.get(p) != after.blobs.get(p))
    if paths is not None:
        chosen = set(paths)
        changed = [p for p in changed if p in chosen]
    since = f"commit {_short(merge_sha)}..{_short(onto)}"
    entries: list[dict[str, Any]] = []
    files: list[str] = []
    merged: list[str] = []
    reasons: list[str] = []
    for path in changed:
        old, new, cur = before.blobs.get(path), after.blobs.get(path), now.blobs.get(path)
        if cur == old:
            continue  # already back to its version before the upgrade
        if cur == new:
            entries.append(_tree_entry(path, old))
            files.append(path)
            continue
        outcome = _merge_back(gh, record, path, old, new, cur, since, redis)
        if outcome.refused is not None:
            reasons.append(outcome.refused)
        elif outcome.content is not None:
            entries.append({"path": path, "mode": outcome.mode, "type": "blob", "content": outcome.content})
            files.append(path)
            merged.append(path)
    if reasons:
        return RevertRefused(tuple(reasons))
    if not entries:
        if not changed:
            what = "the given files" if paths is not None else "any file"
            return RevertRefused((f"nothing to revert: commit {_short(merge_sha)} did not change {what}",))
        return RevertRefused(
            (
                f"nothing to revert: every file commit {_short(merge_sha)} changed is back to its earlier version "
                f"at {_short(onto)}",
            )
        )

    tree = json_body(gh.rest.git.create_tree(owner, name, base_tree=now.tree, tree=entries))  # type: ignore[arg-type]
    author: Any = {"name": BOT_AUTHOR, "email": BOT_EMAIL}
    text = message if message is not None else default_message(str(commit.get("message") or ""), merge_sha)
    created = json_body(
        gh.rest.git.create_commit(owner, name, message=text, tree=str(tree["sha"]), parents=[onto], author=author)
    )
    return Revert(str(created["sha"]), str(tree["sha"]), onto, tuple(files), tuple(merged))


def push_revert(gh: InstallationClient, record: RepoRecord, branch: str, revert: Revert) -> str:
    """Point ``branch`` at the revert commit (created, or force-updated); the SHA the branch then points at.

    A branch already at a commit with the revert's tree and parent (an earlier attempt pushed it) is left alone.
    """
    owner, name = record.owner, record.name
    try:
        head: str | None = str(json_body(gh.rest.git.get_ref(owner, name, f"heads/{branch}"))["object"]["sha"])
    except NotFound:
        head = None
    if head is not None:
        if head == revert.commit or _same_commit(gh, record, head, revert):
            return head
        gh.rest.git.update_ref(owner, name, f"heads/{branch}", sha=revert.commit, force=True)
        return revert.commit
    try:
        gh.rest.git.create_ref(owner, name, ref=f"refs/heads/{branch}", sha=revert.commit)
    except GitHubRequestError as e:
        if e.status != 422:  # 422: the branch exists after all (an earlier attempt created it)
            raise
        gh.rest.git.update_ref(owner, name, f"heads/{branch}", sha=revert.commit, force=True)
    return revert.commit


def default_message(merge_message: str, merge_sha: str) -> str:
    first = merge_message.strip().splitlines()[0] if merge_message.strip() else _short(merge_sha)
    return f"Revert {first}\n\nThis reverts commit {merge_sha}."


def _same_commit(gh: InstallationClient, record: RepoRecord, sha: str, revert: Revert) -> bool:
    commit = json_body(gh.rest.git.get_commit(record.owner, record.name, sha))
    parents = [str(p.get("sha")) for p in commit.get("parents") or []]
    return str(commit["tree"]["sha"]) == revert.tree and parents == [revert.onto]


def _listing(gh: InstallationClient, record: RepoRecord, tree_ish: str) -> _Listing:
    """Every blob of a tree (a commit SHA is accepted too), in one recursive listing."""
    listing = json_body(gh.rest.git.get_tree(record.owner, record.name, tree_ish, recursive="1"))
    blobs = {
        str(e["path"]): _Entry(str(e["mode"]), str(e["sha"]))
        for e in listing.get("tree", [])
        if isinstance(e, dict) and e.get("type") == "blob"
    }
    return _Listing(str(listing["sha"]), blobs, bool(listing.get("truncated")))


def _tree_entry(path: str, entry: _Entry | None) -> dict[str, Any]:
    if entry is None:
        return {"path": path, "mode": "100644", "type": "blob", "sha": None}
    return {"path": path, "mode": entry.mode, "type": "blob", "sha": entry.sha}


def _merge_back(
    gh: InstallationClient,
    record: RepoRecord,
    path: str,
    old: _Entry | None,
    new: _Entry | None,
    cur: _Entry | None,
    since: str,
    redis: Redis | None,
) -> _Merged:
    """Undo the upgrade's change to a file that changed since (``cur`` differs from ``new`` and ``old``)."""
    if cur is None:
        return _Merged(refused=f"{path}: deleted since the upgrade ({since}); restoring it would undo that")
    if new is None:
        return _Merged(refused=f"{path}: deleted by the upgrade and added again since ({since}) with other content")
    if old is None:
        return _Merged(
            refused=f"{path}: added by the upgrade and changed since ({since}); deleting it would lose those changes"
        )
    if not {old.mode, new.mode, cur.mode} <= _MERGEABLE_MODES:
        return _Merged(refused=f"{path}: not a regular file, and changed since the upgrade ({since})")
    base, ours, theirs = (_read_blob(gh, record, e.sha, redis) for e in (new, cur, old))
    if not all(_is_text(data) for data in (base, ours, theirs)):
        return _Merged(refused=f"{path}: binary file changed since the upgrade ({since}); it cannot be merged")
    result, conflicts = three_way_merge(base, ours, theirs)
    if conflicts:
        where = ", ".join(conflicts)
        return _Merged(
            refused=f"{path}: changed since the upgrade ({since}) and the revert conflicts with those changes {where}"
        )
    if result == ours:
        return _Merged()
    mode = old.mode if cur.mode == new.mode else cur.mode
    return _Merged(content=result.decode("utf-8"), mode=mode)


def _read_blob(gh: InstallationClient, record: RepoRecord, sha: str, redis: Redis | None) -> bytes:
    if redis is not None:
        return blob(gh, record.owner, record.name, sha, redis)
    document = json_body(gh.rest.git.get_blob(record.owner, record.name, sha))
    if document.get("encoding") != "base64":
        raise GitHubError(f"blob {sha} came back as {document.get('encoding')!r}, not base64")
    return base64.b64decode(str(document.get("content", "")))


def _is_text(data: bytes) -> bool:
    if b"\0" in data[:_BINARY_PROBE]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def three_way_merge(base: bytes, ours: bytes, theirs: bytes) -> tuple[bytes, tuple[str, ...]]:
    """``git merge-file`` of theirs' change (base -> theirs) into ours: the merged bytes and, for each conflict,
    where it is in ours ("at lines 12-14", "at line 3", "after line 7"). No conflicts: the bytes are the result."""
    with tempfile.TemporaryDirectory(prefix="depup-revert-") as scratch:
        files = [Path(scratch, name) for name in ("ours", "base", "theirs")]
        for file, data in zip(files, (ours, base, theirs), strict=True):
            file.write_bytes(data)
        done = _git(
            [
                "merge-file",
                "-p",
                "--diff3",
                f"--marker-size={_MARKER_SIZE}",
                "-L",
                "now",
                "-L",
                "upgrade",
                "-L",
                "before",
            ]
            + [str(f) for f in files]
        )
        if done.returncode == 0:
            return done.stdout, ()
        if not 0 < done.returncode < 128:
            raise RevertError(
                f"git merge-file failed ({done.returncode}): {done.stderr.decode(errors='replace')[:300]}"
            )
        resolved, spans = _ours_side(done.stdout)
        resolved_file = Path(scratch, "resolved")
        resolved_file.write_bytes(b"".join(resolved))
        diff = _git(["diff", "--no-index", "--no-color", "--no-ext-diff", "-U0", str(files[0]), str(resolved_file)])
        if diff.returncode not in (0, 1):
            raise RevertError(f"git diff failed ({diff.returncode}): {diff.stderr.decode(errors='replace')[:300]}")
    if not spans:  # git counted conflicts but no marker was recognised: never take the output as clean
        return done.stdout, ("at a place git did not mark",)
    hunks = [_hunk(line) for line in diff.stdout.splitlines() if line.startswith(b"@@ ")]
    return done.stdout, tuple(_where(start, end, hunks) for start, end in spans)


def _git(args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise RevertError("git is not installed: it is needed to merge a revert into a file changed since")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
    try:
        return subprocess.run(  # noqa: S603 - fixed argv, git found on PATH, no shell; our own temporary files
            [git, *args], capture_output=True, timeout=_GIT_TIMEOUT, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RevertError(f"git {args[0]} could not run: {exc}") from exc


def _ours_side(merged: bytes) -> tuple[list[bytes], list[tuple[int, int]]]:
    """The merge output with every conflict resolved to ours, and each conflict's [start, end) line span in it."""
    start, middle, mid_ours, end = (c * _MARKER_SIZE for c in (b"<", b"|", b"=", b">"))
    lines: list[bytes] = []
    spans: list[tuple[int, int]] = []
    section = "plain"
    first = 0
    for line in merged.splitlines(keepends=True):
        bare = line.rstrip(b"\r\n")
        if section == "plain" and _is_marker(bare, start):
            section, first = "ours", len(lines)
        elif section == "ours" and _is_marker(bare, middle):
            section = "base"
        elif section in ("ours", "base") and bare == mid_ours:
            section = "theirs"
        elif section == "theirs" and _is_marker(bare, end):
            spans.append((first, len(lines)))
            section = "plain"
        elif section in ("plain", "ours"):
            lines.append(line)
    return lines, spans


def _is_marker(line: bytes, marker: bytes) -> bool:
    return line == marker or line.startswith(marker + b" ")


def _hunk(header: bytes) -> tuple[int, int, int, int]:
    found = _HUNK.match(header)
    if found is None:
        raise RevertError(f"unexpected diff hunk header {header[:80]!r}")
    old_start, old_count, new_start, new_count = found.groups()
    return int(old_start), int(old_count or b"1"), int(new_start), int(new_count or b"1")


def _where(start: int, end: int, hunks: Sequence[tuple[int, int, int, int]]) -> str:
    """A conflict's position in ours, from its span in ours-resolved and the (-U0) diff ours -> ours-resolved."""

    def in_ours(index: int) -> int | None:
        offset = 0
        for _old_start, old_count, new_start, new_count in hunks:
            first_new = new_start - 1 if new_count else new_start
            if index < first_new:
                break
            if index < first_new + new_count:
                return None
            offset += old_count - new_count
        return index + offset

    mapped = [m for m in (in_ours(i) for i in range(start, end)) if m is not None]
    if mapped:
        low, high = min(mapped) + 1, max(mapped) + 1
        return f"at line {low}" if low == high else f"at lines {low}-{high}"
    before = in_ours(start - 1) if start > 0 else None
    return f"after line {before + 1}" if before is not None else "at the start of the file"


def _migration(commit: dict[str, Any]) -> bool:
    """Whether ``commit`` is one of depup's code migration commits."""
    author = str((commit.get("author") or {}).get("name"))
    return author == BOT_AUTHOR and str(commit.get("message") or "").startswith(MIGRATION_PREFIX)


def _short(sha: str) -> str:
    return sha[:7]
