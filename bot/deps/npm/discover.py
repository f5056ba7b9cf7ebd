"""JavaScript dependency files of a checkout: every ``package.json``, grouped into projects (a workspace root with
its members, or a lone package), each project with its lockfile and the versions locked there per importer.

- Workspaces: ``workspaces`` of a package.json (npm, yarn, bun) or ``packages`` of a ``pnpm-workspace.yaml``
  make the folders they match members of the root's project; members share the root's lockfile.
- Lockfile: the one in the project root (``bot.deps.npm.locks.LOCKFILES``; ``packageManager`` decides when
  several are there), else a member's own. Each manager's reader gives the locked version per importer.
- Workspace siblings (dependencies named like a package of the same workspace, or that the lockfile resolves
  inside the repository) are never looked up nor upgraded: ``skip_reason`` "workspace package".
- Honesty: a dependency of a locked importer that its lockfile does not lock, or whose lockfile cannot be read,
  has ``unknown_current`` set: its version in use is unknown, never guessed from the range.
- Runtime evidence: without ``engines.node``, ``.nvmrc``, ``.node-version``, ``.tool-versions`` (``nodejs``) or a
  Dockerfile's ``FROM node:X`` in the package's folder or the project root say which Node the project runs on.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from bot.deps.checkout import MAX_LOCKFILE_BYTES, Checkout
from bot.deps.model import Dependency, Manifest, Role
from bot.deps.npm.lockinfo import read_npm_lock
from bot.deps.npm.locks import LOCKFILES, JsLock, Manager
from bot.deps.npm.manifest import OVERRIDE_SECTIONS, parse_package_json, workspace_globs
from bot.deps.npm.tools import declared
from bot.deps.npm.workspaces import workspace_match

LockReader = Callable[[str, str, Mapping[str, object]], JsLock]
_RUNTIME_FILES = (".nvmrc", ".node-version", ".tool-versions")
_DOCKERFILE = re.compile(r"(^|/)(Dockerfile([.-][\w.-]+)?|[\w.-]+\.Dockerfile)$")
_FROM_NODE = re.compile(
    r"^\s*FROM\s+(?:--platform=\S+\s+)?(?:[\w.-]+(?::\d+)?/)*node:(\d+(?:\.\d+){0,2})\b", re.IGNORECASE | re.MULTILINE
)
_LTS = {"argon": "4", "boron": "6", "carbon": "8", "dubnium": "10", "erbium": "12", "fermium": "14"}
_LTS |= {"gallium": "16", "hydrogen": "18", "iron": "20", "jod": "22", "krypton": "24"}
# What discovery reads, and what the package managers need beside the manifests to regenerate a lockfile (their
# settings, filtered before a tool sees them, and the patch files of patched dependencies).
_READS = frozenset(
    {
        "package.json",
        "pnpm-workspace.yaml",
        ".yarnrc.yml",
        ".yarnrc",
        ".npmrc",
        "bunfig.toml",
        *LOCKFILES,
        *_RUNTIME_FILES,
    }
)
_PATCH = re.compile(r"(^|/)(patches|\.yarn/patches)/[^/]+\.(patch|diff)$")


def reads(path: str) -> bool:
    """Whether discovery or a lockfile tool may read ``path`` (a manifest, lockfile, workspace file, tool
    settings, a patch of a patched dependency, or runtime evidence)."""
    return posixpath.basename(path) in _READS or bool(_DOCKERFILE.search(path) or _PATCH.search(path))


def _reader(manager: Manager) -> LockReader | None:
    if manager == "npm":
        return read_npm_lock
    if manager == "yarn":
        from bot.deps.npm.yarn import read_yarn_lock

        return read_yarn_lock
    if manager == "pnpm":
        from bot.deps.npm.pnpm import read_pnpm_lock

        return read_pnpm_lock
    from bot.deps.npm.bun import read_bun_lock

    return read_bun_lock


def npm_manifests(checkout: Checkout) -> list[Manifest]:
    package_files = [p for p in checkout.files if posixpath.basename(p) == "package.json"]
    texts = {p: t for p in package_files if (t := checkout.read(p)) is not None}
    data = {p: _json(t) for p, t in texts.items()}
    root_of = _workspace_roots(checkout, texts)
    projects: dict[str, list[str]] = {}
    for path in texts:
        directory = posixpath.dirname(path)
        projects.setdefault(root_of.get(directory, directory), []).append(path)

    manifests: list[Manifest] = []
    for root, paths in sorted(projects.items()):
        members = {p: data[p] for p in paths}
        lock = _project_lock(checkout, root, members)
        local = frozenset(n for p in paths if isinstance(n := _field(data[p], "name"), str)) | (
            lock.local if lock else frozenset()
        )
        for path in sorted(paths):
            directory = posixpath.dirname(path)
            own = lock
            if own is None and directory != root:
                own = _project_lock(checkout, directory, {path: data[path]})  # a member with a lockfile of its own
            elif lock is not None and directory != root:
                for name in LOCKFILES:  # a member's own lockfile: the package manager uses the root's
                    mine = posixpath.join(directory, name)
                    if checkout.has(mine):
                        checkout.not_read(mine, f"not used: {path} is a workspace member, locked by {lock.path}")
            manifest = parse_package_json(path, texts[path], own.locked_for(path) if own else None)
            manifest = _settled(manifest, own, local, path)
            if directory != root:
                name = manifest.project_name or directory
                manifest = replace(manifest, dependencies=tuple(replace(d, group=name) for d in manifest.dependencies))
            if manifest.engines_node is None:
                manifest = _with_runtime_evidence(checkout, manifest, root, data[path])
            manifests.append(manifest)
        from bot.deps.npm.pnpm import workspace_manifest

        workspace = workspace_manifest(checkout, root, lock, members, local)  # catalogs and overrides
        if workspace is not None:
            manifests.append(workspace)
    return manifests


def _settled(manifest: Manifest, lock: JsLock | None, local: frozenset[str], path: str) -> Manifest:
    """The manifest with its lockfile, workspace siblings skipped and unknown versions said."""
    if lock is None:
        return replace(manifest, dependencies=tuple(_sibling(d, local) for d in manifest.dependencies))
    problems = manifest.problems + (lock.problems if lock.directory == posixpath.dirname(path) else ())
    locked = lock.locked_for(path)
    deps = []
    for dep in manifest.dependencies:
        dep = _sibling(dep, local)
        if dep.skip_reason is None and dep.locked is None and _forces(dep):
            dep = _forced(dep, lock)
        elif dep.skip_reason is None and dep.locked is None and dep.role is not Role.PEER:
            if not lock.readable:
                dep = replace(dep, unknown_current=f"{lock.path} could not be read")
            elif not lock.locks(path):
                dep = replace(dep, unknown_current=f"{lock.path} does not lock {path}")
            elif dep.name not in locked:
                dep = replace(dep, unknown_current=f"{lock.path} has no entry for {dep.name}")
        forced = lock.forced_for(path).get(dep.name)
        if dep.skip_reason is None and forced is not None and not _forces(dep):
            dep = replace(dep, lock_note=f"version forced by {forced}")
        if dep.skip_reason is None and dep.locked is not None:
            patch = lock.patch_for(dep.key, dep.locked)
            if patch is not None:
                dep = replace(dep, patched=patch.file)
        deps.append(dep)
    return replace(manifest, dependencies=tuple(deps), problems=problems, lockfile=lock.path)


def _forces(dep: Dependency) -> bool:
    """An ``overrides`` / ``resolutions`` / ``pnpm.overrides`` entry (it may force a transitive dependency)."""
    section = dep.location.section
    return section.split(".", 1)[0] in OVERRIDE_SECTIONS or section == "pnpm.overrides"


def _forced(dep: Dependency, lock: JsLock) -> Dependency:
    """An override entry's version in use: the one version the lock holds for that package anywhere."""
    versions = lock.versions.get(dep.key, ())
    if len(versions) == 1:
        return replace(dep, locked=versions[0])
    if not lock.readable:
        return replace(dep, unknown_current=f"{lock.path} could not be read")
    if versions:
        return replace(dep, unknown_current=f"{lock.path} locks {dep.key} at {', '.join(versions)}")
    return replace(dep, unknown_current=f"{lock.path} has no {dep.key} (the override forces nothing today)")


def _sibling(dep: Dependency, local: frozenset[str]) -> Dependency:
    if dep.skip_reason is None and dep.key in local:
        return replace(dep, skip_reason="workspace package")
    return dep


def _project_lock(checkout: Checkout, root: str, members: Mapping[str, object]) -> JsLock | None:
    present = [n for n in LOCKFILES if checkout.has(posixpath.join(root, n) if root else n)]
    if not present:
        return None
    named = declared(members.get(posixpath.join(root, "package.json") if root else "package.json"))
    preferred = [n for n in present if named is not None and LOCKFILES[n] == named[0]]
    name = (preferred or present)[0]
    path = posixpath.join(root, name) if root else name
    if name == "bun.lockb":
        checkout.fail(path, "bun.lockb is binary: depup reads bun's text lockfile (bun.lock, bun 1.2 and later)")
        return JsLock(path, "bun", "bun.lockb", readable=False)
    text = checkout.read(path, MAX_LOCKFILE_BYTES)
    if text is None:
        return JsLock(path, LOCKFILES[name], name, readable=False)
    reader = _reader(LOCKFILES[name])
    assert reader is not None
    if LOCKFILES[name] == "pnpm":
        from bot.deps.npm.pnpm import with_workspace

        members = with_workspace(checkout, root, members)  # pnpm 12 locks patches by hash: their files are there
    lock = reader(path, text, members)
    if not lock.readable:
        reason = lock.problems[0].message if lock.problems else "cannot be read"
        checkout.not_read(path, reason)
    return lock


def _workspace_roots(checkout: Checkout, texts: Mapping[str, str]) -> dict[str, str]:
    """Member directory -> the directory of the package.json (or pnpm-workspace.yaml) whose globs include it."""
    directories = [posixpath.dirname(p) for p in texts]
    globs: list[tuple[str, str]] = []
    for path, text in texts.items():
        globs.extend((posixpath.dirname(path), g) for g in workspace_globs(text))
    for path in (p for p in checkout.files if posixpath.basename(p) == "pnpm-workspace.yaml"):
        from bot.deps.npm.pnpm import workspace_packages

        globs.extend((posixpath.dirname(path), g) for g in workspace_packages(checkout.root / path))
    members: dict[str, str] = {}
    for base, glob in globs:
        if glob.startswith("!"):
            continue
        for directory in directories:
            relative = _relative(directory, base)
            if directory == base or relative is None or not workspace_match(relative, glob):
                continue
            if any(b == base and workspace_match(relative, g[1:]) for b, g in globs if g.startswith("!")):
                continue
            members.setdefault(directory, base)
    return members


def _relative(directory: str, base: str) -> str | None:
    if not base:
        return directory
    return directory[len(base) + 1 :] if directory.startswith(base + "/") else None


def _json(text: str) -> object:
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return None


def _field(document: object, key: str) -> object:
    return document.get(key) if isinstance(document, dict) else None


def _with_runtime_evidence(checkout: Checkout, manifest: Manifest, root: str, document: object) -> Manifest:
    """``engines_node`` from the files that say which Node the project runs on, when package.json says nothing."""
    folder = posixpath.dirname(manifest.path)
    for directory in dict.fromkeys([folder, root, ""]):
        for name in _RUNTIME_FILES:
            path = posixpath.join(directory, name) if directory else name
            if not checkout.has(path):
                continue
            version = _node_version(name, checkout.read(path) or "")
            if version is not None:
                return replace(manifest, engines_node=f">={version}", runtime_evidence=f"{path}: {version}")
        for path in (p for p in checkout.files if posixpath.dirname(p) == directory and _DOCKERFILE.search(p)):
            found = _FROM_NODE.findall(checkout.read(path) or "")
            if found:
                version = min(found, key=lambda v: tuple(int(x) for x in v.split(".")))
                return replace(manifest, engines_node=f">={version}", runtime_evidence=f"{path}: FROM node:{version}")
    return manifest


def _node_version(name: str, text: str) -> str | None:
    """The Node version a version file names (``20``, ``v18.17.1``, ``lts/iron``), as ``X[.Y[.Z]]``."""
    if name == ".tool-versions":
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 2 and words[0] in ("nodejs", "node"):
                return _plain(words[1])
        return None
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    if first.lower().startswith("lts/"):
        return _LTS.get(first[4:].lower())
    return _plain(first)


def _plain(value: str) -> str | None:
    match = re.fullmatch(r"v?(\d+(?:\.\d+){0,2})(?:\.x)?", value.strip())
    return match.group(1) if match else None
