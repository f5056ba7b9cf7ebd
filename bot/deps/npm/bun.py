"""bun: the text lockfile ``bun.lock`` read into a ``JsLock``, and regenerated with bun itself (``BUN``).

``bun.lock`` (bun 1.1.39 and later; the default since bun 1.2) is JSON with trailing commas, which bun's parser
reads like the JSONC of its config files (comments included):

- ``lockfileVersion``: 0 (bun 1.1.39-1.1.45), 1 (bun 1.2 and 1.3), 2 (bun 1.4; same layout as 1), 3 (bun 1.4
  with nested or version-scoped overrides). ``configVersion`` (bun 1.3.2 and later) only picks the default
  linker.
- ``workspaces``: folder (``""`` for the root) -> that package.json's name, version and dependencies as written.
- ``packages``: key -> ``["name@version", registry, {dependencies...}, integrity]`` for a registry package;
  ``["name@workspace:path"]``, ``["name@link:path", {...}]``, ``["name@file:path", {...}]``, ``["name@root:",
  {...}]``, ``["name@git+url", {...}, tag]``, ``["name@github:user/repo", {...}, tag]`` and tarballs
  otherwise. A key is the node_modules path of that copy: ``react`` is the hoisted copy, ``@acme/b/react`` the
  copy that workspace ``@acme/b`` (by its package name) or package ``@acme/b`` uses instead, ``a/b/c`` deeper.
  An alias is a key naming another package (``"pad": ["left-pad@1.2.0", ...]``).
- ``overrides``, ``catalog``, ``catalogs``, ``patchedDependencies`` (``"name@version": "patches/x.patch"``),
  ``trustedDependencies``: copies of what package.json says.

Locked version per importer (bun's own rule, ``bun.lock.zig``): a dependency of the root resolves to the
hoisted key ``name``; one of workspace ``W`` to ``W/name`` when that key exists, else ``name``. Each importer's
mapping holds every package visible that way (the hoisted ones, overlaid with the workspace's own copies).
``JsLock.versions`` has every registry package of the lock (by its real name, aliases resolved) with the versions
locked anywhere in the tree: what an ``overrides`` / ``resolutions`` entry forces today.

Regenerating (``BUN``): ``bun install --lockfile-only --ignore-scripts`` (bun 1.1.43 and later: nothing is
downloaded but packuments, nothing installed, no script run) in a copy holding every package.json, the lock,
``.npmrc`` registry lines and the ``[install]`` settings of ``bunfig.toml`` that only say where packages come
from and how they are resolved. An in-range update is ``bun add name@version`` (in the member's folder) then
the original package.json files restored and ``bun install`` again: bun keeps a locked version its range still
allows, so only the named packages move. Lockfile maintenance gives bun a lockfile with nothing locked but the
original ``lockfileVersion`` and ``configVersion`` (so the linker default does not change), which re-resolves
every package to the newest its range allows, transitive ones included (``bun update`` leaves those alone and
rewrites the ranges in package.json).
"""

from __future__ import annotations

import os
import posixpath
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import tomlkit

from bot.deps.confine import Outside, outside_strings, walk_strings
from bot.deps.model import Problem
from bot.deps.npm import semver
from bot.deps.npm.confine import references_outside
from bot.deps.npm.jsonspan import Document, JsonError, Member, load_document
from bot.deps.npm.locks import JsLock, Patch, unreadable
from bot.deps.npm.relock import Job, Step, copy_files, npmrc_registry_lines, package_files, read_json
from bot.deps.npm.tools import Tool

__all__ = ["BUN", "parse_jsonc", "read_bun_lock"]

KNOWN_VERSIONS = (0, 1, 2, 3)
LOCKFILE_ONLY_SINCE = "1.1.43"  # the first bun with `bun install --lockfile-only`
_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)')
_TRAILING_COMMA = re.compile(r'"(?:[^"\\\n]|\\.)*"|,(?=\s*[}\]])')
_NOT_NEWLINE = re.compile(r"[^\n]")
_LOCKFILE_VERSION = re.compile(r'"lockfileVersion"\s*:\s*(\d+)')
_CONFIG_VERSION = re.compile(r'"configVersion"\s*:\s*(\d+)')
_EMPTY: Mapping[str, str] = MappingProxyType({})

# [install] settings of bunfig.toml given to bun: where packages come from and how versions are chosen. Left
# out: everything that runs code or names files (`preload`, `[run]`, `install.security.scanner`, `cafile`,
# `cache`, `globalDir`, `lockfile.print`...).
BUNFIG_KEPT = frozenset(
    {"registry", "scopes", "linker", "peer", "optional", "dev", "exact", "minimumReleaseAge",
     "minimumReleaseAgeExcludes"}
)  # fmt: skip
_PACKAGE_SECTIONS = ("patchedDependencies", "resolutions", "catalog", "catalogs")


# --- reading ---------------------------------------------------------------------------------------------------


def parse_jsonc(text: str) -> Document | JsonError:
    """Parse JSON with comments and trailing commas (bun's lockfile and config syntax).

    Comments and trailing commas are blanked with spaces (newlines kept), so every offset, line and column of
    the returned document, or of the error, is the one in ``text``."""
    unterminated: list[int] = []

    def blank_comment(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith('"'):
            return token
        if token.startswith("/*") and not token.endswith("*/"):
            unterminated.append(match.start())
        return _NOT_NEWLINE.sub(" ", token)

    def blank_comma(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token.startswith('"') else " "

    cleaned = _TRAILING_COMMA.sub(blank_comma, _COMMENT.sub(blank_comment, text))
    if unterminated:
        line = text.count("\n", 0, unterminated[0]) + 1
        column = unterminated[0] - (text.rfind("\n", 0, unterminated[0]) + 1) + 1
        return JsonError("unterminated /* comment", line, column)
    return load_document(cleaned)


@dataclass(frozen=True)
class _Entry:
    """One ``packages`` entry: the package it is and how it is resolved."""

    package: str  # the real package name ("left-pad" for an alias key "pad")
    resolution: str  # after the "@": "1.2.0", "workspace:packages/a", "link:../x", "github:user/repo#sha"...

    @property
    def version(self) -> str | None:
        """The registry version, None for anything not from a registry (workspace, link, file, git, tarball)."""
        return self.resolution if semver.valid(self.resolution) is not None else None

    @property
    def local(self) -> bool:
        return self.resolution.startswith(("workspace:", "link:", "file:", "root:"))


def read_bun_lock(path: str, text: str, manifests: Mapping[str, object]) -> JsLock:
    """The versions ``bun.lock`` at ``path`` (repository-relative) locks for each of ``manifests`` (package.json
    path -> its parsed JSON) that it has a workspace entry for. Never raises: problems have file, line, column."""
    name = posixpath.basename(path)
    loaded = parse_jsonc(text)
    if isinstance(loaded, JsonError):
        message = f"{name} is not valid JSON (trailing commas allowed): {loaded.message}"
        return unreadable(path, "bun", name, Problem(path, loaded.line, loaded.column, message))
    reader = _Reader(path, loaded)
    return reader.read(manifests)


class _Reader:
    def __init__(self, path: str, document: Document) -> None:
        self.path = path
        self.document = document
        self.problems: list[Problem] = []

    def problem(self, member: Member | None, message: str) -> Problem:
        line, column = self.document.position(member.key_start) if member else (1, 1)
        found = Problem(self.path, line, column, message)
        self.problems.append(found)
        return found

    def read(self, manifests: Mapping[str, object]) -> JsLock:
        name = posixpath.basename(self.path)
        data = self.document.data
        if not isinstance(data, dict):
            return unreadable(self.path, "bun", name, Problem(self.path, 1, 1, f"{name} is not a JSON object"))
        top = {member.key: member for member in self.document.members()}
        version = data.get("lockfileVersion")
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            written = "has no lockfileVersion" if version is None else "has a lockfileVersion that is not a number"
            return unreadable(self.path, "bun", name, self.problem(top.get("lockfileVersion"), f"{name} {written}"))
        fmt = f"{name} v{version}"
        if version not in KNOWN_VERSIONS:
            self.problem(
                top["lockfileVersion"],
                f"lockfileVersion {version} is newer than the formats depup knows (0 to 3): read as version 3",
            )
        workspaces = data.get("workspaces")
        if not isinstance(workspaces, dict):
            message = f"{name} has no `workspaces` object, so it locks no package.json"
            return unreadable(self.path, "bun", fmt, self.problem(top.get("workspaces"), message))
        entries = self.entries(data.get("packages"), top.get("packages"))
        children: dict[str, dict[str, _Entry]] = {}
        for key, entry in entries.items():
            parent, child = _split_key(key)
            children.setdefault(parent, {})[child] = entry
        hoisted = {child: v for child, entry in children.get("", {}).items() if (v := entry.version) is not None}
        directory = posixpath.dirname(self.path)
        local = {entry.package for entry in entries.values() if entry.local}
        local |= {key for key, entry in children.get("", {}).items() if entry.local}
        importers: dict[str, Mapping[str, str]] = {}
        for member in self.document.members(top["workspaces"].value_start):
            folder, value = member.key, workspaces[member.key]
            if not isinstance(value, dict):
                self.problem(member, f'workspace "{folder}" should be an object')
                continue
            workspace_name = value.get("name")
            if folder and not isinstance(workspace_name, str):
                self.problem(member, f'workspace "{folder}" has no name (bun needs one to resolve its dependencies)')
                continue
            manifest = posixpath.normpath(posixpath.join(directory, folder, "package.json"))
            if folder and isinstance(workspace_name, str):
                local.add(workspace_name)
            if manifest in manifests:
                own = children.get(workspace_name, {}) if folder and isinstance(workspace_name, str) else {}
                importers[manifest] = _visible(hoisted, own)
        patches = self.patches(data.get("patchedDependencies"), top.get("patchedDependencies"), directory)
        versions: dict[str, set[str]] = {}
        for entry in entries.values():
            if (version := entry.version) is not None:
                versions.setdefault(entry.package, set()).add(version)
        return JsLock(
            self.path,
            "bun",
            fmt,
            MappingProxyType(importers),
            tuple(self.problems),
            patches=patches,
            local=frozenset(local),
            versions=MappingProxyType({name: tuple(semver.sort_versions(v)) for name, v in versions.items()}),
        )

    def entries(self, packages: object, where: Member | None) -> dict[str, _Entry]:
        if packages is None or where is None:
            return {}
        if not isinstance(packages, dict) or where.kind != "object":
            self.problem(where, "`packages` should be an object")
            return {}
        entries: dict[str, _Entry] = {}
        seen: set[str] = set()
        twice: set[str] = set()
        for member in self.document.members(where.value_start):
            key = member.key
            if key in seen:
                self.problem(member, f'package "{key}" is listed twice (bun refuses a lockfile like that)')
                twice.add(key)
                continue
            seen.add(key)
            value = packages[key]
            first = value[0] if isinstance(value, list) and value else None
            split = _split_resolution(first) if isinstance(first, str) else None
            if split is None:
                self.problem(member, f'package "{key}" should be ["name@version", ...]')
                continue
            entries[key] = _Entry(*split)
        return {key: entry for key, entry in entries.items() if key not in twice}

    def patches(self, patched: object, where: Member | None, directory: str) -> tuple[Patch, ...]:
        if patched is None:
            return ()
        if not isinstance(patched, dict) or where is None or where.kind != "object":
            self.problem(where, "`patchedDependencies` should be an object")
            return ()
        found: list[Patch] = []
        for member in self.document.members(where.value_start):
            file = patched[member.key]
            if not isinstance(file, str):
                self.problem(member, f'patchedDependencies "{member.key}" should name a patch file')
                continue
            package, version = _split_patched(member.key)
            found.append(Patch(package, version, posixpath.normpath(posixpath.join(directory, file))))
        return tuple(found)


def _visible(hoisted: Mapping[str, str], own: Mapping[str, _Entry]) -> Mapping[str, str]:
    """The hoisted versions overlaid with a workspace's own copies (a non-registry copy hides the hoisted one)."""
    if not own:
        return MappingProxyType(hoisted) if hoisted else _EMPTY
    view = dict(hoisted)
    for child, entry in own.items():
        version = entry.version
        if version is None:
            view.pop(child, None)
        else:
            view[child] = version
    return MappingProxyType(view)


def _split_key(key: str) -> tuple[str, str]:
    """``@acme/b/react`` -> (``@acme/b``, ``react``); ``a/@types/node`` -> (``a``, ``@types/node``)."""
    parts = key.split("/")
    if len(parts) >= 2 and parts[-2].startswith("@"):
        return "/".join(parts[:-2]), "/".join(parts[-2:])
    return "/".join(parts[:-1]), parts[-1]


def _split_resolution(written: str) -> tuple[str, str] | None:
    """``@scope/name@1.0.0`` -> (``@scope/name``, ``1.0.0``); ``name@root:`` / ``@root:`` kept whole."""
    if written.startswith("@root:"):
        return "", written[1:]
    at = written.find("@", 1)
    if at <= 0:
        return None
    return written[:at], written[at + 1 :]


def _split_patched(key: str) -> tuple[str, str | None]:
    at = key.rfind("@")
    if at <= 0:
        return key, None
    return key[:at], key[at + 1 :] or None


# --- regenerating ----------------------------------------------------------------------------------------------


class _Bun:
    manager: str = "bun"
    env_prefixes: tuple[str, ...] = ("npm_config_", "BUN_CONFIG_")

    def default_versions(self, lock_text: str) -> str:
        """bun 1.1.43-1.1.45 write lockfileVersion 0 (and bun 1.2+ rewrite it as 1, which bun 1.1 cannot read);
        bun 1.2 and 1.3 write 1; bun 1.4 writes 2 or 3. The bun versions that keep the lockfile's format."""
        match = _LOCKFILE_VERSION.search(lock_text)
        version = int(match.group(1)) if match else 1
        if version == 0:
            return f">={LOCKFILE_ONLY_SINCE} <1.2.0"
        if version == 1:
            return ">=1.2.0 <1.4.0"
        return ">=1.4.0 <2.0.0"

    def outside(self, project: Path, lock_name: str) -> list[Outside]:
        found = references_outside(project, lock_name, npmrc_registry_lines(project))
        for path in package_files(project):
            document = read_json(path)
            if isinstance(document, dict):
                relative = Path(os.path.relpath(path, project)).as_posix()
                strings = (p for key in _PACKAGE_SECTIONS if key in document for p in walk_strings(document[key], key))
                found.extend(outside_strings(project, path.parent, relative, strings))
        lock = project / lock_name
        if lock_name == "bun.lock" and lock.is_file() and not lock.is_symlink():
            found.extend(outside_strings(project, project, lock_name, _lock_strings(_read(lock))))
        kept = bunfig_install(project)
        found.extend(outside_strings(project, project, "bunfig.toml", walk_strings(kept, "install")))
        return found

    def prepare(self, project: Path, work: Path, job: Job) -> None:
        kept = npmrc_registry_lines(project)
        if kept:
            (work / ".npmrc").write_text("\n".join(kept) + "\n")
        install = bunfig_install(project)
        if install:
            document = tomlkit.document()
            document["install"] = install
            (work / "bunfig.toml").write_text(tomlkit.dumps(document))
        copy_files(project, work, _patch_files(project, job.lock_name))
        if job.refresh:
            lock = work / job.lock_name
            (work / job.lock_name).write_text(refresh_seed(_read(lock) if lock.is_file() else ""))

    def steps(self, tool: Tool, work: Path, job: Job) -> list[Step] | str:
        if job.lock_name != "bun.lock":
            return f"{job.lock_name} is binary: depup regenerates only bun's text lockfile (bun.lock); left to CI"
        if semver.valid(tool.version) is None or semver.compare(tool.version, LOCKFILE_ONLY_SINCE) < 0:
            return (
                f"{tool.label} cannot write a lockfile without installing packages (bun install --lockfile-only "
                f"arrived in bun {LOCKFILE_ONLY_SINCE}); the lockfile is left to CI"
            )
        flags: tuple[str, ...] = ("--lockfile-only", "--ignore-scripts", "--no-progress", "--no-summary")
        if job.registry:
            flags = (*flags, f"--registry={job.registry}")
        env = _environment(work, job.registry)
        install = Step((*tool.argv, "install", *flags), env=env)
        if job.packages and not job.refresh:
            manifest = (work / str(job.member) if job.member is not None else work) / "package.json"
            direct = _direct_dependencies(manifest)
            transitive = [spec for spec in job.packages if _spec_name(spec) not in direct]
            if transitive:
                # `bun add` makes it direct, and the install after package.json is restored moves it back.
                return (
                    f"bun keeps an in-range version only for a direct dependency: {', '.join(transitive)} "
                    f"is not one of {manifest.relative_to(work).as_posix()}; the lockfile is left to CI"
                )
            where = (f"--cwd={job.member}",) if job.member is not None else ()
            add = Step((*tool.argv, "add", *flags, *where, *job.packages), env=env)
            return [add, Step(install.argv, restore_manifests=True, env=env)]
        return [install]


BUN = _Bun()


def refresh_seed(lock_text: str) -> str:
    """A bun.lock locking nothing, in the format of ``lock_text``: bun re-resolves every package from it and
    keeps its ``lockfileVersion`` and ``configVersion`` (without one, bun writes 0: the hoisted linker)."""
    version = _LOCKFILE_VERSION.search(lock_text)
    config = _CONFIG_VERSION.search(lock_text)
    lines = ["{", f'  "lockfileVersion": {version.group(1) if version else 1},']
    if config:
        lines.append(f'  "configVersion": {config.group(1)},')
    # An empty `packages` object, not none: without it bun starts from an empty lockfile and forgets configVersion.
    lines += ['  "workspaces": {', '    "": {},', "  },", '  "packages": {},', "}", ""]
    return "\n".join(lines)


def bunfig_install(project: Path) -> dict[str, Any]:
    """The ``[install]`` settings of the project's ``bunfig.toml`` that bun is given (``BUNFIG_KEPT``); {} when
    there is none, it is a link, or it is not valid TOML (bun would refuse it)."""
    path = project / "bunfig.toml"
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        document = tomllib.loads(_read(path))
    except (ValueError, RecursionError):  # TOMLDecodeError, or a number past Python's digit limit
        return {}
    install = document.get("install")
    if not isinstance(install, dict):
        return {}
    return {key: value for key, value in install.items() if key in BUNFIG_KEPT}


def _environment(work: Path, registry: str | None) -> dict[str, str]:
    env = {
        "BUN_INSTALL_CACHE_DIR": str(work.parent / "bun-cache"),  # inside the throw-away copy
        "BUN_ENABLE_CRASH_REPORTING": "0",
        "DO_NOT_TRACK": "1",
        "NO_COLOR": "1",
    }
    if registry:
        # bun 1.2.8 and 1.2.9 ignore --registry; the environment says it too.
        env |= {"BUN_CONFIG_REGISTRY": registry, "NPM_CONFIG_REGISTRY": registry}
    return env


def _spec_name(spec: str) -> str:
    """``left-pad@1.2.0`` -> ``left-pad``; ``@scope/x@1.0.0`` -> ``@scope/x``; ``pad@npm:left-pad@1.2.0`` -> ``pad``."""
    at = spec.find("@", 1)
    return spec[:at] if at > 0 else spec


def _direct_dependencies(manifest: Path) -> set[str]:
    document = read_json(manifest)
    if not isinstance(document, dict):
        return set()
    sections = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
    return {name for key in sections if isinstance(part := document.get(key), dict) for name in part}


def _lock_strings(text: str) -> Iterable[tuple[str, str]]:
    """Every string of a bun.lock that bun may read as a path: all its strings, the resolution part of each
    package (``name@file:../x`` -> ``file:../x``) and the workspace folders."""
    loaded = parse_jsonc(text)
    if isinstance(loaded, JsonError) or not isinstance(loaded.data, dict):
        return []  # bun stops at it without following anything
    data = loaded.data
    strings = list(walk_strings(data, ""))
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, value in packages.items():
            first = value[0] if isinstance(value, list) and value else None
            split = _split_resolution(first) if isinstance(first, str) else None
            if split is not None:
                resolution = split[1]
                for prefix in ("workspace:", "link:", "file:", "root:"):
                    resolution = resolution.removeprefix(prefix)
                strings.append((f"packages.{key}", resolution))
    workspaces = data.get("workspaces")
    if isinstance(workspaces, dict):
        strings.extend(("workspaces", folder) for folder in workspaces)
    return strings


def _patch_files(project: Path, lock_name: str) -> list[str]:
    """Project-relative patch files named by the root package.json and the lockfile (bun reads them)."""
    files: list[str] = []
    document = read_json(project / "package.json")
    patched = document.get("patchedDependencies") if isinstance(document, dict) else None
    if isinstance(patched, dict):
        files += [value for value in patched.values() if isinstance(value, str)]
    lock = project / lock_name
    if lock_name == "bun.lock" and lock.is_file():
        loaded = parse_jsonc(_read(lock))
        data = loaded.data if isinstance(loaded, Document) else None
        patched = data.get("patchedDependencies") if isinstance(data, dict) else None
        if isinstance(patched, dict):
            files += [value for value in patched.values() if isinstance(value, str)]
    relative = (posixpath.normpath(PurePosixPath(f).as_posix()) for f in dict.fromkeys(files))
    return [f for f in relative if not f.startswith(("/", "../")) and f != ".."]  # outside() refuses the others


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""
