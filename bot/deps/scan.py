"""Find every manifest of a checkout and what belongs to it (includes, lockfiles, workspace members).

Several manifests (monorepos) are kept apart: one ``Manifest`` per file, each with its lockfile and the
locked versions read from it. Unreadable or malformed files become ``Problem``s (and ``Unread`` entries when
nothing of the file could be used); the rest proceeds. Each ecosystem finds its own files
(``bot.deps.python.discover``, ``bot.deps.npm.discover``) through one ``bot.deps.checkout.Checkout``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.deps.checkout import MAX_LOCKFILE_BYTES, MAX_MANIFEST_BYTES, Checkout
from bot.deps.model import Dependency, Manifest, Problem, Unread
from bot.deps.npm.discover import npm_manifests
from bot.deps.python.discover import python_manifests

# Like Renovate's default ignorePaths, plus tool and environment folders that never hold a project manifest.
DEFAULT_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "vendor",
        "examples",
        "__tests__",
        "test",
        "tests",
        "__fixtures__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        ".yarn",
        ".next",
    }
)
# What the dependency engine reads, for callers that read files without a Checkout (fuzz tests, snapshots).
__all__ = ["DEFAULT_IGNORED_DIRS", "MAX_LOCKFILE_BYTES", "MAX_MANIFEST_BYTES", "ScanResult", "scan"]


@dataclass(frozen=True)
class ScanResult:
    root: str
    manifests: tuple[Manifest, ...]
    problems: tuple[Problem, ...] = ()
    unread: tuple[Unread, ...] = ()  # dependency files seen but not read, with why

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        return tuple(d for m in self.manifests for d in m.dependencies)


def scan(root: Path, ignored_dirs: Iterable[str] = DEFAULT_IGNORED_DIRS) -> ScanResult:
    checkout = Checkout.walk(root, ignored_dirs)
    manifests = python_manifests(checkout) + npm_manifests(checkout)
    manifests.sort(key=lambda m: m.path)
    return ScanResult(str(root), tuple(manifests), tuple(checkout.problems), tuple(checkout.unread))
