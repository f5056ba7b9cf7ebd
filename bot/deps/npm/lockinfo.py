"""Resolved versions from ``package-lock.json`` / ``npm-shrinkwrap.json``.

lockfileVersion 2 and 3 (npm 7+) list every installed folder in ``packages``: ``""`` is the root project,
``node_modules/<name>`` a hoisted dependency, ``<dir>`` a workspace member (reached from the root through a
``node_modules/<member name>`` entry with ``link: true``) and ``<dir>/node_modules/<name>`` a dependency that
could not be hoisted. A manifest's dependency resolves like node's ``require``: the nearest
``node_modules/<name>`` walking up from the manifest's folder. lockfileVersion 1 (npm 5/6) only has the
nested ``dependencies`` tree, read best effort for the root project, with a problem saying it is old.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.deps.model import Problem
from bot.deps.npm import semver
from bot.deps.npm.jsonspan import JsonError, load_document
from bot.deps.npm.locks import JsLock

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class LockInfo:
    path: str  # repository-relative path of the lockfile
    lockfile_version: int | None
    # Installed folder relative to the lockfile ("node_modules/a", "packages/x/node_modules/b") -> version.
    installed: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    problems: tuple[Problem, ...] = ()
    # Installed folders that link into the project (workspace members, ``file:`` targets) -> the linked folder.
    links: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    def _folder(self, manifest_path: str) -> str | None:
        folder = posixpath.dirname(manifest_path)
        base = self.directory
        if not base:
            return folder
        if folder != base and not folder.startswith(base + "/"):
            return None
        return folder[len(base) :].lstrip("/")

    def version_for(self, manifest_path: str, name: str) -> str | None:
        """The version node would load for ``name`` from the package.json at ``manifest_path``."""
        folder = self._folder(manifest_path)
        if folder is None:
            return None
        for ancestor in _ancestors(folder):
            version = self.installed.get(f"{ancestor}/node_modules/{name}" if ancestor else f"node_modules/{name}")
            if version is not None:
                return version
        return None

    def locked_for(self, manifest_path: str) -> Mapping[str, str]:
        """Every package visible from the package.json at ``manifest_path`` -> its locked version (nearest wins)."""
        folder = self._folder(manifest_path)
        if folder is None:
            return _EMPTY
        visible: dict[str, str] = {}
        for ancestor in reversed(_ancestors(folder)):  # root first, nearer folders override
            prefix = f"{ancestor}/node_modules/" if ancestor else "node_modules/"
            for key, version in self.installed.items():
                if key.startswith(prefix):
                    name = key[len(prefix) :]
                    if name.count("/") == (1 if name.startswith("@") else 0):
                        visible[name] = version
        return MappingProxyType(visible)


def _ancestors(folder: str) -> list[str]:
    """``a/b`` -> [``a/b``, ``a``, ``""``]."""
    chain = [folder]
    while chain[-1]:
        chain.append(posixpath.dirname(chain[-1]))
    return chain


def read_lock(path: str, text: str) -> LockInfo:
    """Read a lockfile; never raises: what cannot be read becomes a ``Problem``."""
    loaded = load_document(text)
    if isinstance(loaded, JsonError):
        return LockInfo(path, None, problems=(Problem(path, loaded.line, loaded.column, loaded.message),))
    data = loaded.data
    if not isinstance(data, dict):
        return LockInfo(path, None, problems=(Problem(path, 1, 1, "lockfile is not a JSON object"),))
    version = data.get("lockfileVersion")
    lock_version = version if isinstance(version, int) and not isinstance(version, bool) else None
    packages = data.get("packages")
    if isinstance(packages, dict):
        return LockInfo(path, lock_version, _from_packages(packages), links=_links(packages))
    dependencies = data.get("dependencies")
    if isinstance(dependencies, dict):
        old = Problem(
            path,
            1,
            1,
            f"lockfileVersion {lock_version} (npm 6 or older): read best effort; "
            "npm 7+ rewrites it as version 3 on the next lockfile update",
        )
        return LockInfo(path, lock_version, _from_v1(dependencies), (old,))
    return LockInfo(
        path, lock_version, problems=(Problem(path, 1, 1, "lockfile has neither `packages` nor `dependencies`"),)
    )


def _from_packages(packages: Mapping[str, Any]) -> Mapping[str, str]:
    installed: dict[str, str] = {}
    for key, entry in packages.items():
        if not isinstance(entry, dict) or not _is_installed_folder(key):
            continue
        if entry.get("link") is True and isinstance(entry.get("resolved"), str):
            target = packages.get(entry["resolved"])  # a workspace member or file: link
            entry = target if isinstance(target, dict) else {}
        version = entry.get("version")
        if isinstance(version, str):
            installed[key] = version
    return MappingProxyType(installed)


def _links(packages: Mapping[str, Any]) -> Mapping[str, str]:
    return MappingProxyType(
        {
            key: entry["resolved"]
            for key, entry in packages.items()
            if isinstance(entry, dict)
            and entry.get("link") is True
            and isinstance(entry.get("resolved"), str)
            and _is_installed_folder(key)
        }
    )


def _is_installed_folder(folder: str) -> bool:
    return folder.startswith("node_modules/") or "/node_modules/" in folder


def _from_v1(dependencies: Mapping[str, Any]) -> Mapping[str, str]:
    installed: dict[str, str] = {}
    pending: list[tuple[str, Mapping[str, Any]]] = [("", dependencies)]
    while pending:
        prefix, level = pending.pop()
        for name, entry in level.items():
            if not isinstance(entry, dict):
                continue
            key = f"{prefix}node_modules/{name}"
            version = entry.get("version")
            if isinstance(version, str):
                if version.startswith("npm:"):  # an alias: "npm:real-name@1.2.3"
                    version = version.rsplit("@", 1)[-1]
                installed[key] = version
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                pending.append((key + "/", nested))
    return MappingProxyType(installed)


def read_npm_lock(path: str, text: str, manifests: Mapping[str, object]) -> JsLock:
    """``read_lock`` in the shape every lockfile reader gives: the versions visible from each of ``manifests``
    (package.json path -> its parsed JSON) that the lockfile's folder holds."""
    info = read_lock(path, text)
    fmt = f"{posixpath.basename(path)} v{info.lockfile_version}" if info.lockfile_version else posixpath.basename(path)
    if info.lockfile_version is None and not info.installed:
        return JsLock(path, "npm", fmt, problems=info.problems, readable=False)
    importers = {m: info.locked_for(m) for m in manifests if info._folder(m) is not None}
    local = frozenset(
        key.rsplit("node_modules/", 1)[1]
        for key, version in info.links.items()
        if version is not None and "node_modules/" in key
    )
    versions: dict[str, set[str]] = {}
    for key, version in info.installed.items():
        if key not in info.links:
            versions.setdefault(key.rsplit("node_modules/", 1)[1], set()).add(version)
    return JsLock(
        path,
        "npm",
        fmt,
        MappingProxyType(importers),
        info.problems,
        local=local,
        versions=MappingProxyType({name: tuple(semver.sort_versions(v)) for name, v in versions.items()}),
    )
