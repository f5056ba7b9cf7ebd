"""Apply chosen updates to a scratch checkout: edit manifests byte-exactly, then regenerate their lockfiles.

``root`` is modified in place (callers pass a scratch copy: a clone-free checkout built from the API, or a
temporary directory). A lockfile that cannot be regenerated (tool missing, failure, time limit) leaves the
manifest edit in place and is reported as a problem on the change set: never a silent half-update.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.deps.model import Dependency, Ecosystem, Manifest
from bot.deps.npm import edit as npm_edit
from bot.deps.npm import lockfile as npm_lock
from bot.deps.npm.pnpm import apply_workspace_edits
from bot.deps.proposals import Update
from bot.deps.python import apply_edits as python_edit
from bot.deps.python import regenerate_lock as python_lock
from bot.deps.python.lockfiles import REFRESH_ALL
from bot.deps.python.pyproject import FLOOR_SECTIONS
from bot.errors import DepupError


@dataclass(frozen=True)
class FileChange:
    path: str
    before: str | None  # None: a new file
    after: str


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[FileChange, ...]
    problems: tuple[str, ...] = ()

    def text(self, path: str) -> str | None:
        return next((c.after for c in self.changes if c.path == path), None)


@dataclass(frozen=True)
class Selected:
    manifest: Manifest
    dependency: Dependency
    update: Update


def apply_updates(
    root: Path, selected: Sequence[Selected], *, lock_timeout: float = 300.0, npm_registry: str | None = None
) -> ChangeSet:
    by_manifest: dict[str, list[Selected]] = defaultdict(list)
    for item in selected:
        by_manifest[item.manifest.path].append(item)
    changes: dict[str, FileChange] = {}
    problems: list[str] = []
    for path, items in sorted(by_manifest.items()):
        manifest = items[0].manifest
        before = _read(root, path)
        edits = [(i.dependency, i.update.constraint) for i in items if i.update.constraint is not None]
        try:
            after = _edit(manifest, before, edits) if edits else before
        except DepupError as e:
            problems.append(f"{path}: not edited: {e}")
            continue
        if after != before:
            (root / path).write_bytes(after.encode("utf-8"))
            changes[path] = FileChange(path, before, after)
        if manifest.lockfile is None:
            continue
        lock_path, lock_text, problem, also = _relock(root, manifest, items, lock_timeout, npm_registry)
        if problem is not None:
            problems.append(f"{lock_path}: not regenerated, the manifest edit is kept: {problem}")
            continue
        for path_written, text_written in ((lock_path, lock_text), *also):  # also: files the tool wrote with it
            lock_before = _read(root, path_written) if (root / path_written).is_file() else None
            if text_written is not None and text_written != lock_before:
                (root / path_written).write_bytes(text_written.encode("utf-8"))
                previous = changes.get(path_written)
                before_text = previous.before if previous else lock_before
                changes[path_written] = FileChange(path_written, before_text, text_written)
    return ChangeSet(tuple(changes[p] for p in sorted(changes)), tuple(problems))


def refresh_lockfiles(
    root: Path, manifests: Sequence[Manifest], *, lock_timeout: float = 300.0, npm_registry: str | None = None
) -> ChangeSet:
    """Lockfile maintenance: every locked version moves to the newest its manifest allows; manifests untouched."""
    changes: list[FileChange] = []
    problems: list[str] = []
    seen: set[str] = set()
    for manifest in manifests:
        if manifest.lockfile is None or manifest.lockfile in seen:
            continue
        seen.add(manifest.lockfile)
        before = _read(root, manifest.lockfile) if (root / manifest.lockfile).is_file() else None
        if manifest.ecosystem is Ecosystem.NPM:
            result = npm_lock.regenerate_lock(
                root, posixpath.dirname(manifest.path), [], lock_timeout, npm_registry, refresh=True
            )
            path, text, problem = result.lockfile or manifest.lockfile, result.text, result.problem
        else:
            py = python_lock(root, manifest.path, manifest.lockfile, [REFRESH_ALL], lock_timeout)
            path, text, problem = py.lockfile, py.text, py.problem
            for other, other_text in py.also if problem is None else ():  # pylock.toml written with it
                other_before = _read(root, other) if (root / other).is_file() else None
                (root / other).write_bytes(other_text.encode("utf-8"))
                changes.append(FileChange(other, other_before, other_text))
        if problem is not None:
            problems.append(f"{path}: not refreshed: {problem}")
        elif text is not None and text != before:
            (root / path).write_bytes(text.encode("utf-8"))
            changes.append(FileChange(path, before, text))
    return ChangeSet(tuple(sorted(changes, key=lambda c: c.path)), tuple(problems))


def is_floor_entry(dep: Dependency) -> bool:
    """Whether ``dep`` is where a pyproject.toml writes requires-python rather than a package."""
    return dep.location.section in FLOOR_SECTIONS


def _read(root: Path, path: str) -> str:
    return (root / path).read_bytes().decode("utf-8")


def _edit(manifest: Manifest, text: str, edits: list[tuple[Dependency, str]]) -> str:
    if manifest.ecosystem is Ecosystem.PYTHON:
        return python_edit(text, edits)
    if manifest.kind == "pnpm-workspace":  # catalogs and overrides of pnpm-workspace.yaml
        return apply_workspace_edits(text, edits)
    return npm_edit.apply_edits(text, edits)


def _relock(
    root: Path, manifest: Manifest, items: list[Selected], timeout: float, npm_registry: str | None
) -> tuple[str, str | None, str | None, tuple[tuple[str, str], ...]]:
    assert manifest.lockfile is not None
    in_range = [i for i in items if i.update.constraint is None]
    if manifest.ecosystem is Ecosystem.NPM:
        specs = [npm_lock.install_spec(i.dependency, i.update.version) for i in in_range]
        result = npm_lock.regenerate_lock(root, posixpath.dirname(manifest.path), specs, timeout, npm_registry)
        return result.lockfile or manifest.lockfile, result.text, result.problem, ()
    # requires-python entries (``Manifest.python_floor``) move no package: the lock is only re-resolved
    packages = [f"{i.dependency.name}=={i.update.version}" for i in items if not is_floor_entry(i.dependency)]
    py = python_lock(root, manifest.path, manifest.lockfile, packages, timeout)
    return py.lockfile, py.text, py.problem, py.also
