"""Locked versions read from ``uv.lock``, ``poetry.lock`` and ``pylock.toml`` (PEP 751), and matched to the
dependencies of the manifest they lock.

A package may be locked at several versions: uv forks its resolution (``resolution-markers`` on each
``[[package]]`` entry), and PEP 751 files may list one entry per environment (``marker``). A dependency's
current version is the one of the fork its installs fall in: the Python version the chooser checks releases
against (``targets.python_target`` of the project's ``requires-python`` and the dependency's marker) on a common
platform. When that still leaves several versions (forks by platform), the current version is unknown and says
so; every dependency of such a package carries a ``lock_note`` naming the versions and their markers.

A dependency absent from a lockfile that locks its manifest gets ``unknown_current`` (the lockfile is out of
date, or was made for another platform), never a version guessed from its constraint. Build requirements
(``[build-system]``) are never in these lockfiles and are left alone.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName, default_environment
from packaging.utils import canonicalize_name

from bot.deps.model import Dependency, Manifest, Role
from bot.deps.targets import KNOWN_PYTHONS, python_target

_PLATFORMS = (
    {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
    {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
)


@dataclass(frozen=True)
class Locked:
    version: str
    markers: tuple[str, ...] = ()  # the environments this entry is for (any of them); () means every one


@dataclass(frozen=True)
class LockContents:
    """Every locked entry by canonical name; ``tool`` is what wrote it (``created-by`` for PEP 751 files)."""

    packages: dict[str, tuple[Locked, ...]]
    tool: str | None = None


class LockReadError(ValueError):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        found = re.search(r"\(at line (\d+), column (\d+)\)$", str(exc))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        raise LockReadError(f"not valid TOML: {exc}", line, column) from exc
    except ValueError as exc:  # an integer past Python's int/str digit limit: no TOMLDecodeError, no position
        raise LockReadError(f"not valid TOML: {exc}") from exc
    except RecursionError as exc:  # tomllib recurses once per nested array or inline table
        raise LockReadError("not readable: arrays or tables nested too deeply") from exc


def read_uv_or_poetry_lock(text: str) -> LockContents:
    """``[[package]]`` entries of ``uv.lock`` or ``poetry.lock``."""
    data = _toml(text)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise LockReadError("no [[package]] entries")
    found: dict[str, list[Locked]] = {}
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        version = entry.get("version")
        if not isinstance(version, str):
            continue  # a workspace member or path project without a version
        markers = entry.get("resolution-markers")
        forks = tuple(m for m in markers if isinstance(m, str)) if isinstance(markers, list) else ()
        found.setdefault(canonicalize_name(entry["name"]), []).append(Locked(version, forks))
    return LockContents({name: tuple(entries) for name, entries in found.items()})


def read_pylock(text: str) -> LockContents:
    """PEP 751: ``lock-version``, ``created-by`` and ``[[packages]]`` (name, version, marker)."""
    data = _toml(text)
    if not isinstance(data.get("lock-version"), str):
        raise LockReadError("not a PEP 751 lock file: no lock-version")
    packages = data.get("packages")
    if not isinstance(packages, list):
        raise LockReadError("no [[packages]] entries")
    found: dict[str, list[Locked]] = {}
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        version = entry.get("version")
        if not isinstance(version, str):
            continue  # a directory or VCS entry: PEP 751 makes the version optional there
        marker = entry.get("marker")
        markers = (marker,) if isinstance(marker, str) and marker.strip() else ()
        found.setdefault(canonicalize_name(entry["name"]), []).append(Locked(version, markers))
    created = data.get("created-by")
    return LockContents({n: tuple(e) for n, e in found.items()}, created if isinstance(created, str) else None)


def apply_lock(
    manifest: Manifest, lock_path: str, contents: LockContents, requires_python: str | None = None
) -> Manifest:
    """``manifest`` with ``lockfile`` set and each dependency's version from ``contents``."""
    python = requires_python if requires_python is not None else manifest.requires_python
    deps = tuple(_match(dep, lock_path, contents.packages.get(dep.key, ()), python) for dep in manifest.dependencies)
    return replace(manifest, dependencies=deps, lockfile=lock_path)


def unreadable(manifest: Manifest, lock_path: str, why: str) -> Manifest:
    """``manifest`` whose lockfile could not be read: every current version it should say is unknown."""
    reason = f"{lock_path} could not be read ({why})"
    deps = tuple(d if not _expected(d) else replace(d, unknown_current=reason) for d in manifest.dependencies)
    return replace(manifest, dependencies=deps, lockfile=lock_path)


def _expected(dep: Dependency) -> bool:
    return dep.skip_reason is None and dep.role is not Role.BUILD


def _match(dep: Dependency, lock_path: str, entries: Sequence[Locked], requires_python: str | None) -> Dependency:
    if not _expected(dep):
        return dep
    if not entries:
        return replace(dep, locked=None, unknown_current=f"{dep.name} is not locked in {lock_path}")
    if len({e.version for e in entries}) == 1:
        return replace(dep, locked=entries[0].version)
    target = python_target(requires_python, dep.marker)
    pythons = [target.version] if target.version is not None else list(KNOWN_PYTHONS)
    versions = sorted({e.version for e in entries if any(_holds(e.markers, p) for p in pythons)})
    listing = "; ".join(f"{e.version} for {' or '.join(e.markers) or 'every environment'}" for e in entries)
    where = f"Python {target.version}" if target.version is not None else "any Python"
    note = f"{lock_path} locks {len(entries)} versions of {dep.name} ({listing})"
    if len(versions) == 1:
        return replace(dep, locked=versions[0], lock_note=f"{note}: the current one is {versions[0]}, for {where}")
    why = f"{note}: which one is installed depends on the environment" if versions else f"{note}: none for {where}"
    return replace(dep, locked=None, unknown_current=why, lock_note=note)


def _holds(markers: Sequence[str], python: Any) -> bool:
    if not markers:
        return True
    base = {key: str(value) for key, value in default_environment().items()}
    for platform in _PLATFORMS:
        env = {**base, **platform, "python_version": str(python), "python_full_version": f"{python}.0",
               "implementation_name": "cpython", "platform_python_implementation": "CPython"}  # fmt: skip
        for text in markers:
            marker = _marker(text)
            try:
                if marker is not None and marker.evaluate(env):
                    return True
            except (UndefinedComparison, UndefinedEnvironmentName):
                continue
    return False


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker | None:
    try:
        return Marker(text)
    except InvalidMarker:
        return None
