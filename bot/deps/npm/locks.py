"""What every JavaScript lockfile says, in one shape: the version locked for each dependency of each importer.

An importer is a ``package.json`` the lockfile locks: the project root, and each workspace member. Each package
manager's reader (``lockinfo`` for npm, ``yarn``, ``pnpm``, ``bun``) turns its file into a ``JsLock``; the
manifest parser then takes each dependency's locked version from ``JsLock.locked_for(manifest path)``, so the
current version of a dependency is the one locked for that importer, never a guess.

A reader never raises on bad input: what it cannot read becomes a ``Problem`` (file, line, column), and a
lockfile it cannot read at all has ``readable`` False, so its dependencies' versions are unknown.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from bot.deps.model import Problem

Manager = Literal["npm", "yarn", "pnpm", "bun"]

# File name -> the package manager that writes it; the order is the preference when several sit in one folder
# and ``packageManager`` does not decide (npm prefers its shrinkwrap to package-lock.json).
LOCKFILES: Mapping[str, Manager] = MappingProxyType(
    {
        "npm-shrinkwrap.json": "npm",
        "package-lock.json": "npm",
        "pnpm-lock.yaml": "pnpm",
        "yarn.lock": "yarn",
        "bun.lock": "bun",
        "bun.lockb": "bun",
    }
)

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Patch:
    """A dependency the repository patches (pnpm ``patchedDependencies``, yarn ``patch:`` resolutions)."""

    package: str
    version: str | None  # the patched version, None when the patch applies to every version
    file: str  # repository-relative path of the patch file


@dataclass(frozen=True)
class JsLock:
    path: str  # repository-relative path of the lockfile
    manager: Manager
    format: str  # what the file is, for messages: "package-lock.json v3", "yarn.lock v1", "pnpm-lock.yaml 9.0"
    # package.json path (repository-relative) -> dependency name as written -> locked version
    importers: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    problems: tuple[Problem, ...] = ()
    readable: bool = True  # False: nothing could be read (versions of its importers are unknown)
    patches: tuple[Patch, ...] = ()
    # Names the lock resolves from inside the repository (workspace members, link:/file: targets): never looked
    # up on a registry.
    local: frozenset[str] = frozenset()
    # Every registry package of the lock, anywhere in the tree -> the versions locked for it (sorted): what an
    # ``overrides``/``resolutions`` entry of a transitive dependency currently forces.
    versions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # package.json path -> dependency name -> what forces its version (yarn ``resolutions``): editing its range
    # alone does not change the version in use; the forcing entry moves with it.
    forced: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    def locked_for(self, manifest_path: str) -> Mapping[str, str]:
        return self.importers.get(manifest_path, _EMPTY)

    def locks(self, manifest_path: str) -> bool:
        """Whether ``manifest_path`` is one of this lockfile's importers."""
        return manifest_path in self.importers

    def forced_for(self, manifest_path: str) -> Mapping[str, str]:
        return self.forced.get(manifest_path, _EMPTY)

    def patch_for(self, package: str, version: str | None) -> Patch | None:
        return next(
            (p for p in self.patches if p.package == package and (p.version is None or p.version == version)), None
        )


def unreadable(path: str, manager: Manager, fmt: str, problem: Problem) -> JsLock:
    """A lockfile of which nothing could be read."""
    return JsLock(path, manager, fmt, problems=(problem,), readable=False)
