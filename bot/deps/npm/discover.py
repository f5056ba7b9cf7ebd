"""JavaScript dependency files of a checkout: every ``package.json`` with the lockfile that belongs to it (its
own, or its workspace root's) and the versions locked there for it."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import replace
from fnmatch import fnmatchcase

from bot.deps.checkout import MAX_LOCKFILE_BYTES, Checkout
from bot.deps.model import Manifest
from bot.deps.npm.lockinfo import LockInfo, read_lock
from bot.deps.npm.manifest import parse_package_json, workspace_globs

_NPM_LOCKS = ("npm-shrinkwrap.json", "package-lock.json")  # npm prefers the shrinkwrap when both exist
_READS = frozenset({"package.json", *_NPM_LOCKS})


def reads(path: str) -> bool:
    """Whether discovery may read ``path`` (a manifest, lockfile, workspace file or runtime evidence)."""
    return posixpath.basename(path) in _READS


def npm_manifests(checkout: Checkout) -> list[Manifest]:
    package_files = [p for p in checkout.files if posixpath.basename(p) == "package.json"]
    texts = {p: t for p in package_files if (t := checkout.read(p)) is not None}
    workspace_root = _workspace_roots(texts)
    locks: dict[str, LockInfo | None] = {}

    def lock_for(directory: str) -> LockInfo | None:
        if directory not in locks:
            locks[directory] = None
            for name in _NPM_LOCKS:
                path = posixpath.join(directory, name) if directory else name
                if checkout.has(path):
                    text = checkout.read(path, MAX_LOCKFILE_BYTES)
                    locks[directory] = read_lock(path, text) if text is not None else None
                    break
        return locks[directory]

    manifests = []
    for path, text in texts.items():
        directory = posixpath.dirname(path)
        lock = lock_for(directory)
        member_of = workspace_root.get(directory)
        if lock is None and member_of is not None:
            lock = lock_for(member_of)
        manifest = parse_package_json(path, text, lock)
        if member_of is not None:
            name = manifest.project_name or directory
            manifest = replace(manifest, dependencies=tuple(replace(d, group=name) for d in manifest.dependencies))
        manifests.append(manifest)
    return manifests


def _workspace_roots(texts: Mapping[str, str]) -> dict[str, str]:
    """Member directory -> the directory of the package.json whose ``workspaces`` globs include it."""
    directories = [posixpath.dirname(p) for p in texts]
    members: dict[str, str] = {}
    for path, text in texts.items():
        base = posixpath.dirname(path)
        for glob in workspace_globs(text):
            pattern = posixpath.normpath(posixpath.join(base, glob)).rstrip("/")
            for directory in directories:
                if directory != base and (fnmatchcase(directory, pattern) or _under_globstar(directory, pattern)):
                    members.setdefault(directory, base)
    return members


def _under_globstar(directory: str, pattern: str) -> bool:
    if "**" not in pattern:
        return False
    prefix = pattern.split("**", 1)[0].rstrip("/")
    return directory == prefix or directory.startswith(prefix + "/") if prefix else True
