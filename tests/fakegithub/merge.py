"""Diffs and three-way merges over the object store.

Files are merged per path; when both sides changed the same text file the lines are merged by the
real ``git merge-file -p`` (git is always installed where the tests run). A conflict leaves the path in
MergeResult.conflicts and no tree.
"""

from __future__ import annotations

import difflib
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .git import ObjectStore, TreeEntry


@dataclass(frozen=True)
class FileDiff:
    filename: str
    status: str  # added | removed | modified | renamed
    old_sha: str | None
    new_sha: str | None
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None = None
    old_mode: str | None = None
    new_mode: str | None = None

    @property
    def changes(self) -> int:
        return self.additions + self.deletions

    @property
    def sha(self) -> str:
        return self.new_sha or self.old_sha or "0" * 40


@dataclass
class MergeResult:
    tree: str | None
    conflicts: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.tree is not None and not self.conflicts


def _is_text(data: bytes) -> bool:
    return b"\0" not in data[:8000]


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def patch_and_stats(old: bytes | None, new: bytes | None) -> tuple[str | None, int, int]:
    """GitHub-like unified patch (hunks only, no file header), additions and deletions."""
    old = old or b""
    new = new or b""
    if not (_is_text(old) and _is_text(new)):
        return None, 0, 0
    old_lines, new_lines = _lines(old), _lines(new)
    hunks: list[str] = []
    additions = deletions = 0
    for i, line in enumerate(difflib.unified_diff(old_lines, new_lines, n=3, lineterm="")):
        if i < 2:  # the ---/+++ file header; GitHub's patch starts at the first hunk
            continue
        if line.startswith("+"):
            additions += 1
        elif line.startswith("-"):
            deletions += 1
        if not line.endswith("\n") and not line.startswith("@@"):
            line += "\n\\ No newline at end of file\n"
        hunks.append(line if line.endswith("\n") else line + "\n")
    return "".join(hunks).rstrip("\n") or None, additions, deletions


def diff_trees(store: ObjectStore, old_tree: str | None, new_tree: str | None) -> list[FileDiff]:
    old = store.flatten(old_tree)
    new = store.flatten(new_tree)
    diffs: list[FileDiff] = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a is not None and b is not None and a.sha == b.sha and a.mode == b.mode:
            continue
        status = "added" if a is None else "removed" if b is None else "modified"
        patch, adds, dels = patch_and_stats(_blob(store, a), _blob(store, b))
        diffs.append(
            FileDiff(
                filename=path,
                status=status,
                old_sha=a.sha if a else None,
                new_sha=b.sha if b else None,
                additions=adds,
                deletions=dels,
                patch=patch,
                old_mode=a.mode if a else None,
                new_mode=b.mode if b else None,
            )
        )
    return _detect_renames(diffs)


def _detect_renames(diffs: list[FileDiff]) -> list[FileDiff]:
    """Exact renames (same blob removed at one path, added at another) like git's default detection."""
    removed = {d.old_sha: d for d in diffs if d.status == "removed"}
    out: list[FileDiff] = []
    used: set[str] = set()
    for d in diffs:
        if d.status == "added" and d.new_sha in removed and d.new_sha not in used:
            used.add(d.new_sha or "")
            gone = removed[d.new_sha]
            out.append(
                FileDiff(
                    d.filename, "renamed", d.new_sha, d.new_sha, 0, 0, None, gone.filename, gone.old_mode, d.new_mode
                )
            )
        else:
            out.append(d)
    return [d for d in out if not (d.status == "removed" and d.old_sha in used)]


def _blob(store: ObjectStore, entry: TreeEntry | None) -> bytes | None:
    if entry is None or entry.type != "blob":
        return None
    return store.blob(entry.sha)


def merge_file(base: bytes | None, ours: bytes, theirs: bytes) -> tuple[bytes, bool]:
    """Line-level three-way merge with `git merge-file -p`; returns (content, conflicted)."""
    if not (_is_text(ours) and _is_text(theirs) and _is_text(base or b"")):
        return ours, True
    with tempfile.TemporaryDirectory(prefix="fakegithub-merge-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base or b""), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        proc = subprocess.run(["git", "merge-file", "-p", *paths], capture_output=True, check=False)
    if proc.returncode < 0 or proc.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout, proc.returncode != 0


def merge_trees(store: ObjectStore, base_tree: str | None, ours_tree: str, theirs_tree: str) -> MergeResult:
    base, ours, theirs = store.flatten(base_tree), store.flatten(ours_tree), store.flatten(theirs_tree)
    merged: dict[str, tuple[str, str]] = {}
    conflicts: list[str] = []
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        key_b, key_o, key_t = (_key(e) for e in (b, o, t))
        if key_o == key_t:
            chosen = o
        elif key_o == key_b:
            chosen = t
        elif key_t == key_b:
            chosen = o
        elif o is not None and t is not None and o.type == t.type == "blob" and o.mode == t.mode:
            content, conflicted = merge_file(_blob(store, b), store.blob(o.sha), store.blob(t.sha))
            if conflicted:
                conflicts.append(path)
                continue
            chosen = TreeEntry(o.mode, path, store.add_blob(content))
        else:  # modify/delete, add/add of different kinds, mode clash
            conflicts.append(path)
            continue
        if chosen is not None:
            merged[path] = (chosen.mode, chosen.sha)
    if conflicts:
        return MergeResult(None, conflicts)
    return MergeResult(store.tree_from_paths(merged))


def _key(entry: TreeEntry | None) -> tuple[str, str] | None:
    return None if entry is None else (entry.mode, entry.sha)
