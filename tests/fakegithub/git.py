"""Git's object model: blobs, trees and commits with the ids real git gives them.

Ids are SHA-1 over ``b"<type> <size>\\0" + body``; tree bodies list ``b"<mode> <name>\\0" + raw20``
sorted the way git sorts them (a tree's name compares as ``name + "/"``), with mode ``40000`` for trees;
commits use git's text format. tests/test_fakegithub_git.py checks the ids against the git binary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

BLOB_MODES = ("100644", "100755", "120000")
TREE_MODE = "040000"
SUBMODULE_MODE = "160000"
VALID_MODES = (*BLOB_MODES, TREE_MODE, SUBMODULE_MODE)


class GitError(ValueError):
    """A git operation that GitHub would refuse (unknown object, bad mode, ...)."""


def hash_object(kind: str, body: bytes) -> str:
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).hexdigest()


def entry_type(mode: str) -> str:
    if mode == TREE_MODE:
        return "tree"
    if mode == SUBMODULE_MODE:
        return "commit"
    return "blob"


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    timestamp: int
    tz: str = "+0000"

    def raw(self) -> bytes:
        return f"{self.name} <{self.email}> {self.timestamp} {self.tz}".encode()

    @property
    def iso(self) -> str:
        return datetime.fromtimestamp(self.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email, "date": self.iso}


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    name: str
    sha: str

    @property
    def type(self) -> str:
        return entry_type(self.mode)

    def sort_key(self) -> bytes:
        name = self.name.encode()
        return name + b"/" if self.mode == TREE_MODE else name


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


def tree_body(entries: Iterable[TreeEntry]) -> bytes:
    out = bytearray()
    for entry in sorted(entries, key=TreeEntry.sort_key):
        mode = "40000" if entry.mode == TREE_MODE else entry.mode
        out += b"%s %s\0" % (mode.encode(), entry.name.encode()) + bytes.fromhex(entry.sha)
    return bytes(out)


def commit_body(tree: str, parents: Iterable[str], author: Signature, committer: Signature, message: str) -> bytes:
    lines = [b"tree " + tree.encode()]
    lines += [b"parent " + p.encode() for p in parents]
    lines.append(b"author " + author.raw())
    lines.append(b"committer " + committer.raw())
    return b"\n".join(lines) + b"\n\n" + message.encode()


class ObjectStore:
    """One repository's object database (not thread-safe; the fake's lock guards it)."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._trees: dict[str, tuple[TreeEntry, ...]] = {}
        self._commits: dict[str, Commit] = {}

    # -- writing -------------------------------------------------------------------------------
    def add_blob(self, data: bytes) -> str:
        sha = hash_object("blob", data)
        self._blobs[sha] = data
        return sha

    def add_tree(self, entries: Iterable[TreeEntry]) -> str:
        ordered = tuple(sorted(entries, key=TreeEntry.sort_key))
        names = [e.name for e in ordered]
        if len(set(names)) != len(names):
            raise GitError("duplicate entry in tree")
        for entry in ordered:
            if entry.mode not in VALID_MODES:
                raise GitError(f"invalid mode {entry.mode!r}")
            if not entry.name or "/" in entry.name or entry.name in (".", ".."):
                raise GitError(f"invalid tree entry name {entry.name!r}")
        sha = hash_object("tree", tree_body(ordered))
        self._trees[sha] = ordered
        return sha

    def add_commit(
        self,
        tree: str,
        parents: Iterable[str],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        parents = tuple(parents)
        if tree not in self._trees:
            raise GitError(f"tree {tree} does not exist")
        for parent in parents:
            if parent not in self._commits:
                raise GitError(f"parent {parent} does not exist")
        committer = committer or author
        sha = hash_object("commit", commit_body(tree, parents, author, committer, message))
        self._commits[sha] = Commit(sha, tree, parents, author, committer, message)
        return sha

    # -- reading -------------------------------------------------------------------------------
    def kind(self, sha: str) -> str | None:
        if sha in self._blobs:
            return "blob"
        if sha in self._trees:
            return "tree"
        if sha in self._commits:
            return "commit"
        return None

    def blob(self, sha: str) -> bytes:
        try:
            return self._blobs[sha]
        except KeyError:
            raise GitError(f"blob {sha} does not exist") from None

    def tree(self, sha: str) -> tuple[TreeEntry, ...]:
        try:
            return self._trees[sha]
        except KeyError:
            raise GitError(f"tree {sha} does not exist") from None

    def commit(self, sha: str) -> Commit:
        try:
            return self._commits[sha]
        except KeyError:
            raise GitError(f"commit {sha} does not exist") from None

    def is_blob(self, sha: str) -> bool:
        return sha in self._blobs

    def is_tree(self, sha: str) -> bool:
        return sha in self._trees

    def is_commit(self, sha: str) -> bool:
        return sha in self._commits

    def resolve_prefix(self, prefix: str) -> str | None:
        """A full commit sha from an abbreviated one (at least 7 hex digits), if unambiguous."""
        if len(prefix) == 40:
            return prefix if prefix in self._commits else None
        if len(prefix) < 7:
            return None
        found = [sha for sha in self._commits if sha.startswith(prefix)]
        return found[0] if len(found) == 1 else None

    # -- paths ---------------------------------------------------------------------------------
    def flatten(self, tree_sha: str | None, prefix: str = "") -> dict[str, TreeEntry]:
        """Every non-tree entry under tree_sha by full path (TreeEntry.name holds the path)."""
        out: dict[str, TreeEntry] = {}
        if tree_sha is None:
            return out
        for entry in self.tree(tree_sha):
            path = f"{prefix}{entry.name}"
            if entry.mode == TREE_MODE:
                out.update(self.flatten(entry.sha, path + "/"))
            else:
                out[path] = TreeEntry(entry.mode, path, entry.sha)
        return out

    def walk(self, tree_sha: str, prefix: str = "") -> list[TreeEntry]:
        """Every entry (trees included) under tree_sha in git's order, names as full paths."""
        out: list[TreeEntry] = []
        for entry in self.tree(tree_sha):
            path = f"{prefix}{entry.name}"
            out.append(TreeEntry(entry.mode, path, entry.sha))
            if entry.mode == TREE_MODE:
                out.extend(self.walk(entry.sha, path + "/"))
        return out

    def tree_from_paths(self, files: Mapping[str, tuple[str, str]]) -> str:
        """Build (and store) nested trees from {path: (mode, sha)}; returns the root tree's sha."""
        children: dict[str, dict[str, tuple[str, str]]] = {}
        entries: list[TreeEntry] = []
        for path, (mode, sha) in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = (mode, sha)
            else:
                entries.append(TreeEntry(mode, head, sha))
        for name, sub in children.items():
            if any(e.name == name for e in entries):
                raise GitError(f"{name} is both a file and a directory")
            entries.append(TreeEntry(TREE_MODE, name, self.tree_from_paths(sub)))
        return self.add_tree(entries)

    def lookup(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The entry at path (a file, symlink, submodule or directory), or None."""
        path = path.strip("/")
        if not path:
            return TreeEntry(TREE_MODE, "", tree_sha)
        current = tree_sha
        parts = path.split("/")
        for i, part in enumerate(parts):
            match = next((e for e in self.tree(current) if e.name == part), None)
            if match is None:
                return None
            if i == len(parts) - 1:
                return match
            if match.mode != TREE_MODE:
                return None
            current = match.sha
        return None

    def read_path(self, commit_sha: str, path: str) -> bytes | None:
        entry = self.lookup(self.commit(commit_sha).tree, path)
        if entry is None or entry.type != "blob":
            return None
        return self.blob(entry.sha)

    # -- history -------------------------------------------------------------------------------
    def ancestors(self, sha: str) -> set[str]:
        """sha and every commit reachable from it."""
        seen: set[str] = set()
        stack = [sha]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self.commit(current).parents)
        return seen

    def is_ancestor(self, maybe_ancestor: str, of: str) -> bool:
        return maybe_ancestor in self.ancestors(of)

    def merge_base(self, a: str, b: str) -> str | None:
        common = self.ancestors(a) & self.ancestors(b)
        if not common:
            return None
        best = [c for c in common if not any(c != o and c in self.ancestors(o) for o in common)]
        # several best common ancestors (criss-cross): pick the newest, like a recursive merge would start
        return max(best, key=lambda s: (self.commit(s).committer.timestamp, s))

    def commits_between(self, base: str | None, head: str) -> list[str]:
        """Commits reachable from head but not from base, oldest first (parents before children)."""
        excluded = self.ancestors(base) if base else set()
        wanted = self.ancestors(head) - excluded
        ordered: list[str] = []
        done: set[str] = set()

        def visit(sha: str) -> None:
            stack: list[tuple[str, bool]] = [(sha, False)]
            while stack:
                current, expanded = stack.pop()
                if current in done:
                    continue
                if expanded:
                    done.add(current)
                    ordered.append(current)
                    continue
                stack.append((current, True))
                for parent in reversed(self.commit(current).parents):
                    if parent in wanted and parent not in done:
                        stack.append((parent, False))

        if head in wanted:
            visit(head)
        return ordered


def utc_signature(name: str, email: str, when: datetime) -> Signature:
    return Signature(name, email, int(when.timestamp()))
