"""Resolved versions from ``package-lock.json`` / ``npm-shrinkwrap.json``.

lockfileVersion 2 and 3 (npm 7+) list every installed folder in ``packages``: ``""`` is the root project,
``node_modules/<name>`` a hoisted dependency, ``<dir>`` a workspace member or a ``file:`` folder (reached from
the root through a ``node_modules/<member name>`` entry with ``link: true``) and ``<dir>/node_modules/<name>`` a
dependency that could not be hoisted. A manifest's dependency resolves like node's ``require``: the nearest
``node_modules/<name>`` walking up from the manifest's folder. lockfileVersion 1 (npm 5/6) only has the
nested ``dependencies`` tree, with a problem saying it is old: it locks its own folder's package.json and the
folders it links with ``file:`` (whose dependencies npm 6 nests under the link's entry); npm 6 had no
workspaces, so a member it does not link is not locked by it.

The importers of the lock (``read_npm_lock``) are the package.json files of its folder and of the folders it
installs from inside the project; another package.json below it (a member added since the lock was written)
is not locked by it, so its versions are unknown rather than borrowed from the root.
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
_NO_FOLDERS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LockInfo:
    path: str  # repository-relative path of the lockfile
    lockfile_version: int | None
    # Installed folder relative to the lockfile ("node_modules/a", "packages/x/node_modules/b") -> version.
    installed: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    problems: tuple[Problem, ...] = ()
    # Installed folders that link into the project (workspace members, ``file:`` targets) -> the linked folder.
    links: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    # Installed folder -> the package installed there, when it is not the folder's name (an ``npm:`` alias).
    names: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    # Project folders (relative to the lockfile) the lock installs a package.json of, besides its own folder.
    folders: frozenset[str] = _NO_FOLDERS
    # lockfileVersion 1: a linked project folder -> the folder of the tree it is installed as.
    tree_paths: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

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

    def locks(self, manifest_path: str) -> bool:
        """Whether the package.json at ``manifest_path`` is one the lock installs (its own, a member's, a
        ``file:`` folder's)."""
        folder = self._folder(manifest_path)
        return folder is not None and (folder == "" or folder in self.folders)

    def version_for(self, manifest_path: str, name: str) -> str | None:
        """The version node would load for ``name`` from the package.json at ``manifest_path``."""
        folder = self._folder(manifest_path)
        if folder is None:
            return None
        for ancestor in _ancestors(self.tree_paths.get(folder, folder)):
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
        for ancestor in reversed(_ancestors(self.tree_paths.get(folder, folder))):  # root first, nearer override
            prefix = f"{ancestor}/node_modules/" if ancestor else "node_modules/"
            for key, version in self.installed.items():
                if key.startswith(prefix):
                    name = key[len(prefix) :]
                    if name.count("/") == (1 if name.startswith("@") else 0):
                        visible[name] = version
        return MappingProxyType(visible)

    def versions(self) -> Mapping[str, tuple[str, ...]]:
        """Every registry package anywhere in the tree (by its real name) -> its locked versions, sorted."""
        found: dict[str, set[str]] = {}
        for key, version in self.installed.items():
            if key not in self.links and semver.valid(version) is not None:
                found.setdefault(self.names.get(key, key.rsplit("node_modules/", 1)[1]), set()).add(version)
        return MappingProxyType({name: tuple(semver.sort_versions(v)) for name, v in found.items()})


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
        folders = frozenset(k for k, v in packages.items() if k and isinstance(v, dict) and not _is_installed_folder(k))
        return LockInfo(
            path,
            lock_version,
            _from_packages(packages),
            links=_links(packages),
            names=_aliases(packages),
            folders=folders,
        )
    dependencies = data.get("dependencies")
    if isinstance(dependencies, dict):
        old = Problem(
            path,
            1,
            1,
            f"lockfileVersion {lock_version} (npm 6 or older): read best effort; "
            "npm 7+ rewrites it as version 3 on the next lockfile update",
        )
        return _from_v1(path, lock_version, dependencies, old)
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


def _aliases(packages: Mapping[str, Any]) -> Mapping[str, str]:
    """Installed folder -> the real package name, for ``npm:`` aliases (``node_modules/pad``: ``left-pad``)."""
    aliases: dict[str, str] = {}
    for key, entry in packages.items():
        if isinstance(entry, dict) and _is_installed_folder(key) and entry.get("link") is not True:
            name = entry.get("name")
            if isinstance(name, str) and name != key.rsplit("node_modules/", 1)[1]:
                aliases[key] = name
    return MappingProxyType(aliases)


def _is_installed_folder(folder: str) -> bool:
    return folder.startswith("node_modules/") or "/node_modules/" in folder


def _from_v1(path: str, lock_version: int | None, dependencies: Mapping[str, Any], old: Problem) -> LockInfo:
    installed: dict[str, str] = {}
    links: dict[str, str] = {}
    names: dict[str, str] = {}
    pending: list[tuple[str, Mapping[str, Any]]] = [("", dependencies)]
    while pending:
        prefix, level = pending.pop()
        for name, entry in level.items():
            if not isinstance(entry, dict):
                continue
            key = f"{prefix}node_modules/{name}"
            version = entry.get("version")
            if isinstance(version, str):
                if version.startswith("file:"):  # npm 6 links a local folder; its version is not recorded
                    links[key] = posixpath.normpath(version[len("file:") :])
                elif version.startswith("npm:"):  # an alias: "npm:real-name@1.2.3"
                    real, _, version = version[len("npm:") :].rpartition("@")
                    names[key] = real
                    installed[key] = version
                else:
                    installed[key] = version
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                pending.append((key + "/", nested))
    # Top-level links only: a folder linked deeper down is not a package.json the project installs itself.
    tree_paths = {target: key for key, target in links.items() if key.count("node_modules/") == 1}
    return LockInfo(
        path,
        lock_version,
        MappingProxyType(installed),
        (old,),
        links=MappingProxyType(links),
        names=MappingProxyType(names),
        folders=frozenset(tree_paths),
        tree_paths=MappingProxyType(tree_paths),
    )


def read_npm_lock(path: str, text: str, manifests: Mapping[str, object]) -> JsLock:
    """``read_lock`` in the shape every lockfile reader gives: the versions visible from each of ``manifests``
    (package.json path -> its parsed JSON) that the lock installs (``LockInfo.locks``)."""
    info = read_lock(path, text)
    fmt = f"{posixpath.basename(path)} v{info.lockfile_version}" if info.lockfile_version else posixpath.basename(path)
    if info.lockfile_version is None and not info.installed:
        return JsLock(path, "npm", fmt, problems=info.problems, readable=False)
    importers = {m: info.locked_for(m) for m in manifests if info.locks(m)}
    local = frozenset(key.rsplit("node_modules/", 1)[1] for key in info.links if "node_modules/" in key)
    return JsLock(path, "npm", fmt, MappingProxyType(importers), info.problems, local=local, versions=info.versions())
