"""A checkout as the dependency engine reads it: its file list, bounded reads, and what could not be read.

Every ecosystem's discovery (``bot.deps.python.discover``, ``bot.deps.npm.discover``) reads files through one
``Checkout``, so size limits, decoding and the lists of problems and unread files are the same for every format.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.deps.model import Problem, Unread

MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MAX_LOCKFILE_BYTES = 64 * 1024 * 1024


@dataclass
class Checkout:
    """The files under ``root`` (repository-relative POSIX paths, sorted) and what reading them went wrong."""

    root: Path
    files: list[str]
    problems: list[Problem] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._present = frozenset(self.files)

    @classmethod
    def walk(cls, root: Path, ignored: Iterable[str]) -> Checkout:
        skipped = frozenset(ignored)
        found: list[str] = []
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in skipped and not Path(directory, d).is_symlink())
            rel = Path(directory).relative_to(root).as_posix()
            for name in sorted(filenames):
                found.append(name if rel == "." else f"{rel}/{name}")
        return cls(root, found)

    def has(self, path: str) -> bool:
        return path in self._present

    def read(self, path: str, limit: int = MAX_MANIFEST_BYTES) -> str | None:
        """The decoded text of ``path``, or None with a problem and an unread entry saying why."""
        full = self.root / path
        try:
            if full.stat().st_size > limit:
                self.fail(path, f"file is larger than {limit // (1024 * 1024)} MB; skipped")
                return None
            # Decode the bytes ourselves: read_text() would turn CRLF into LF and break byte-exact edits.
            return full.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(path, f"not UTF-8 text ({e.reason} at byte {e.start}); skipped")
        except OSError as e:
            self.fail(path, f"cannot read: {e.strerror}")
        return None

    def fail(self, path: str, reason: str, line: int = 1, column: int = 1) -> None:
        """``path`` could not be read at all: a problem at its place, and an unread entry."""
        self.problems.append(Problem(path, line, column, reason))
        self.not_read(path, reason)

    def not_read(self, path: str, reason: str) -> None:
        if not any(u.path == path for u in self.unread):
            self.unread.append(Unread(path, reason))


def is_file(path: Path) -> bool:
    """``path.is_file()``, False also for names the file system refuses (too long, a NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False
