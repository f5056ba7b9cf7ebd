"""Find every manifest of a checkout and what belongs to it (includes, lockfiles, workspace members).

Several manifests (monorepos) are kept apart: one ``Manifest`` per file, each with its lockfile and the
locked versions read from it. Unreadable or malformed files become ``Problem``s (and ``Unread`` entries when
nothing of the file could be used); the rest proceeds. Each ecosystem finds its own files
(``bot.deps.python.discover``, ``bot.deps.npm.discover``) through one ``bot.deps.checkout.Checkout``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.deps.checkout import MAX_LOCKFILE_BYTES, MAX_MANIFEST_BYTES, Checkout
from bot.deps.model import Dependency, Manifest, Problem, Unread
from bot.deps.npm.discover import npm_manifests
from bot.deps.python.discover import python_manifests

# Vendored trees, tool and environment folders: never hold a project's own manifest, never scanned.
DEFAULT_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "vendor",
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
# Folders of test fixtures, examples and playgrounds (Renovate's default ignorePaths, and their usual names):
# scanned, and listed, but their manifests are not planned unless the config's ``directories`` names them.
SAMPLE_DIRS = frozenset(
    {
        "test",
        "tests",
        "__tests__",
        "__fixtures__",
        "fixtures",
        "__mocks__",
        "example",
        "examples",
        "playground",
        "playgrounds",
        "sandbox",
        "sandboxes",
        "demo",
        "demos",
        "samples",
        "testdata",
    }
)


def sample_dir(path: str) -> str | None:
    """The folder name that makes ``path`` (a repository-relative file) a fixture, example or playground."""
    return next((part for part in path.split("/")[:-1] if part in SAMPLE_DIRS), None)


# What the dependency engine reads, for callers that read files without a Checkout (fuzz tests, snapshots).
__all__ = [
    "DEFAULT_IGNORED_DIRS",
    "MAX_LOCKFILE_BYTES",
    "MAX_MANIFEST_BYTES",
    "SAMPLE_DIRS",
    "ScanResult",
    "sample_dir",
    "scan",
]


@dataclass(frozen=True)
class ScanResult:
    root: str
    manifests: tuple[Manifest, ...]
    problems: tuple[Problem, ...] = ()
    unread: tuple[Unread, ...] = ()  # dependency files seen but not read, with why

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        return tuple(d for m in self.manifests for d in m.dependencies)


# Dependency files by name: one that no manifest depup read uses (as itself or as its lockfile) is listed as unread.
_DEPENDENCY_FILE = re.compile(
    r"^(package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|pnpm-workspace\.yaml|"
    r"bun\.lockb?|pyproject\.toml|setup\.py|setup\.cfg|Pipfile|Pipfile\.lock|poetry\.lock|uv\.lock|pylock(\.[^./]+)?\.toml)$"
)


def scan(root: Path, ignored_dirs: Iterable[str] = DEFAULT_IGNORED_DIRS) -> ScanResult:
    checkout = Checkout.walk(root, ignored_dirs)
    manifests = python_manifests(checkout) + npm_manifests(checkout)
    manifests.sort(key=lambda m: m.path)
    locks = {m.lockfile for m in manifests if m.lockfile}
    used = {m.path for m in manifests} | locks
    for path in checkout.files:
        if _DEPENDENCY_FILE.match(posixpath.basename(path)) and path not in used:
            folder = posixpath.dirname(path)
            beside = sorted(lock for lock in locks if posixpath.dirname(lock) == folder)
            why = f"{beside[0]} beside it is the lockfile used" if beside else "no manifest depup reads uses it"
            checkout.not_read(path, f"not used: {why}")
    return ScanResult(str(root), tuple(manifests), tuple(checkout.problems), tuple(checkout.unread))
