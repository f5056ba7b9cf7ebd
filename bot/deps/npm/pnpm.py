"""pnpm: ``pnpm-workspace.yaml`` (the workspace's packages, catalogs, overrides, patched dependencies),
``pnpm-lock.yaml`` and regenerating it with pnpm.

Lockfile formats read (``read_pnpm_lock``), each checked against files the pnpm versions of that format wrote:

- 5.3 / 5.4 (pnpm 6 / 7): ``importers`` with ``specifiers`` beside each section (or the sections at the top level
  for a single project); a dependency is ``1.2.3_peer@1``, an alias ``/real/1.2.3``; package keys
  ``/name/1.2.3_peer@1``.
- 6.0 (pnpm 8): ``importers`` (or top level) with ``{specifier, version: 1.2.3(peer@1)}``, an alias
  ``/real@1.2.3``; package keys ``/name@1.2.3(peer@1)``.
- 9.0 (pnpm 9, 10, 11, 12): ``importers`` as in 6.0, an alias ``real@1.2.3``; ``packages`` keys ``name@1.2.3``
  and ``snapshots`` with the peers.
- 13.0 (pnpm 12 with ``lockfile.format: v13``, tab-indented flow YAML): ``projects``, a dependency is
  ``{specifier, version}`` or the specifier alone when it says the version; ``settings`` holds the catalogs,
  overrides and patches.

pnpm 12 may write two YAML documents: the first (``packageManagerDependencies``, ``configDependencies``) is about
pnpm itself, the second the project's. The locked version of a dependency is its importer's ``version`` without
the peer suffix (``(react@18.3.1)``, ``(patch_hash=…)``; ``_react@18.3.1`` in 5.x); ``link:``, ``file:`` and
``workspace:`` ones resolve inside the repository (``JsLock.local``). ``catalogs`` (9.0; ``settings.catalogs`` in
13.0) give each catalog entry's locked version; ``patchedDependencies`` become ``Patch`` entries (pnpm 12 locks a
patch by hash only: its file comes from ``pnpm-workspace.yaml``, which discovery passes among ``manifests``).

``pnpm-workspace.yaml`` is a manifest of its own (``parse_pnpm_workspace``, kind ``pnpm-workspace``): its
``catalog``/``catalogs`` entries (the one place a ``catalog:`` dependency's range is written) and its
``overrides`` are dependencies, edited byte-exactly (``apply_workspace_edits``).

Regenerating (``PNPM``, a ``bot.deps.npm.relock.Relocker``): ``pnpm install --lockfile-only`` with scripts and
``.pnpmfile.cjs`` off, in a copy holding every package.json, the lockfile, ``pnpm-workspace.yaml`` filtered to
settings that shape the lockfile (nothing that runs code or names a folder: no ``configDependencies``,
``pnpmfile``, ``storeDir``...), the patch files ``patchedDependencies`` names, and of ``.npmrc`` the registry lines
and lockfile-shaping settings. Store, cache, state and configuration folders are in the scratch folder; pnpm does not
switch itself to another version (``manage-package-manager-versions``, ``pm-on-fail``).
"""

from __future__ import annotations

import functools
import json
import operator
import posixpath
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Literal

import yaml

from bot.deps.checkout import Checkout
from bot.deps.confine import Outside, escapes, outside_strings, walk_strings
from bot.deps.model import Dependency, Ecosystem, Location, Manifest, Problem, Role
from bot.deps.npm import semver, yamledit
from bot.deps.npm.confine import references_outside
from bot.deps.npm.edit import ManifestEditError
from bot.deps.npm.locks import JsLock, Patch
from bot.deps.npm.manifest import SKIP_REASONS, override_target
from bot.deps.npm.relock import Job, Step, copy_files, npmrc_registry_lines, package_files, read_json
from bot.deps.npm.specs import classify
from bot.deps.npm.tools import Tool

LOCK_NAME = "pnpm-lock.yaml"
WORKSPACE_NAME = "pnpm-workspace.yaml"
Style = Literal["v5", "v6", "v9", "v13"]

_EMPTY: Mapping[str, str] = MappingProxyType({})
_DEP_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_ALL_SECTIONS = (*_DEP_SECTIONS, "peerDependencies")
_LOCAL_PREFIXES = ("link:", "file:", "workspace:")
_MAX_PROBLEMS = 20
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: a 500 kB lockfile in 0.3 s, not 1.7 s


def workspace_packages(path: Path) -> list[str]:
    """The ``packages`` globs of a ``pnpm-workspace.yaml`` ([] when it has none or cannot be read)."""
    try:
        data = yamledit.load(path.read_bytes().decode("utf-8", "replace"))
    except (OSError, yaml.YAMLError, RecursionError):
        return []
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, list):
        return []
    return [p for p in packages if isinstance(p, str)]


def workspace_document(text: str) -> object:
    """A ``pnpm-workspace.yaml`` parsed (None when it cannot be): what ``read_pnpm_lock`` accepts among its
    ``manifests`` under the file's path, for the patch files ``patchedDependencies`` names."""
    try:
        return yamledit.load(text)
    except (yaml.YAMLError, RecursionError):
        return None


def with_workspace(checkout: Checkout, root: str, members: Mapping[str, object]) -> Mapping[str, object]:
    """``members`` (a project's package.json files, parsed) with the project's pnpm-workspace.yaml beside them
    when there is one: what discovery gives ``read_pnpm_lock``."""
    path = posixpath.join(root, WORKSPACE_NAME) if root else WORKSPACE_NAME
    text = checkout.read(path) if checkout.has(path) else None
    return {**members, path: workspace_document(text)} if text is not None else members


def workspace_manifest(
    checkout: Checkout, root: str, lock: JsLock | None, members: Mapping[str, object], local: frozenset[str]
) -> Manifest | None:
    """The project's ``pnpm-workspace.yaml`` as a manifest (None when the project has none): catalog entries and
    overrides, the workspace's own packages (``local``) skipped as siblings."""
    path = posixpath.join(root, WORKSPACE_NAME) if root else WORKSPACE_NAME
    text = checkout.read(path) if checkout.has(path) else None
    if text is None:
        return None
    manifest = parse_pnpm_workspace(path, text, lock, members)
    if manifest.problems and manifest.problems[0].message.startswith("invalid YAML"):
        checkout.not_read(path, manifest.problems[0].message)  # nothing of it could be read
    siblings = tuple(
        replace(d, skip_reason="workspace package", locked=None, unknown_current=None)
        if d.skip_reason is None and d.key in local
        else d
        for d in manifest.dependencies
    )
    return replace(manifest, dependencies=siblings)


# --- pnpm-lock.yaml ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PnpmLock(JsLock):
    """A ``JsLock`` with what pnpm's lockfile says beyond each importer's versions."""

    lockfile_version: str = ""
    # catalog name ("default", "react18") -> package -> locked version
    catalogs: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    # (catalog name, package) -> the package.json sections of the importers using it ("dependencies"...)
    catalog_uses: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # as the lock records them
    pnpm_version: str | None = None  # the pnpm the lock's first document pins (pnpm 12 packageManagerDependencies)
    patch_hashes_only: bool = False  # patchedDependencies locked by hash alone (pnpm 12)


def read_pnpm_lock(path: str, text: str, manifests: Mapping[str, object]) -> JsLock:
    """The versions ``path`` (a pnpm-lock.yaml, repository-relative) locks for each importer, as package.json paths.

    ``manifests`` maps the project's package.json paths to their parsed JSON; it may also hold the project's
    ``pnpm-workspace.yaml`` (parsed, ``workspace_document``) under its path. Never raises on bad input."""
    documents = _documents(path, text)
    if isinstance(documents, Problem):
        return PnpmLock(path, "pnpm", LOCK_NAME, problems=(documents,), readable=False)
    env = next((d for d in documents if _is_env_document(d)), None)
    project = [d for d in documents if isinstance(d, dict) and not _is_env_document(d)]
    if not project:
        if env is not None:
            return _Reader(path, text, {}, manifests, env).lock()
        line = 1
        problem = Problem(path, line, 1, f"{LOCK_NAME} is not a YAML mapping of lockfile sections")
        return PnpmLock(path, "pnpm", LOCK_NAME, problems=(problem,), readable=False)
    return _Reader(path, text, project[-1], manifests, env).lock()


def _documents(path: str, text: str) -> list[object] | Problem:
    source = text.removeprefix("\ufeff")
    if _LOADER is yaml.SafeLoader and source.lstrip().startswith("{"):
        source = source.replace("\t", "  ")  # v13 is indented with tabs, which only libyaml accepts
    try:
        documents = list(yaml.load_all(source, Loader=yamledit.checked_loader(_LOADER)))
        if yamledit.alias_growth(documents) > yamledit.MAX_ALIAS_GROWTH:
            return Problem(path, 1, 1, yamledit.ALIAS_BOMB)
        return documents
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return Problem(path, line, column, f"invalid YAML: {exc.problem or exc.context or 'cannot be parsed'}")
    except yaml.YAMLError as exc:
        return Problem(path, 1, 1, f"invalid YAML: {exc}")
    except RecursionError:
        return Problem(path, 1, 1, "invalid YAML: nested too deeply")


def _is_env_document(document: object) -> bool:
    """pnpm 12's first document: the importer ``.`` holds only pnpm's own and config dependencies."""
    if not isinstance(document, dict):
        return False
    importers = document.get("importers")
    if not isinstance(importers, dict) or set(importers) != {"."} or not isinstance(importers["."], dict):
        return False
    keys = set(importers["."])
    return bool(keys) and keys <= {"configDependencies", "packageManagerDependencies"}


def _style(version: str) -> Style:
    head = version.split(".", 1)[0]
    number = int(head) if head.isdigit() else 0
    if number >= 13:
        return "v13"
    if number >= 9:
        return "v9"
    if number >= 6:
        return "v6"
    return "v5"


def locked_version(reference: str, style: Style) -> str | None:
    """The version an importer's (or a package's) dependency reference names, without peers and patch hashes;
    None for local, git and tarball references."""
    value = reference.strip()
    if not value or value.startswith(_LOCAL_PREFIXES):
        return None
    if style == "v5":
        value = value.rsplit("/", 1)[-1] if value.startswith("/") else value
        value = value.split("_", 1)[0]
    else:
        value = value.split("(", 1)[0].removeprefix("npm:").removeprefix("/")
        if "@" in value[1:]:
            value = value[value.rindex("@") + 1 :]
    return semver.valid(value)


def _package_name_version(key: str, style: Style) -> tuple[str, str] | None:
    """``(name, version)`` of a ``packages``/``snapshots`` key (peers and patch hashes left out)."""
    if style == "v5":
        base = key.lstrip("/")
        name, _, rest = base.rpartition("/")
        version = rest.split("_", 1)[0]
    else:
        base = key.split("(", 1)[0].lstrip("/")
        if "@" not in base[1:]:
            return None
        name, _, version = base.rpartition("@")
    valid = semver.valid(version)
    if not name or valid is None:
        return None
    return name, valid


def _split_selector(key: str) -> tuple[str, str | None]:
    """``name@1.2.3`` -> (name, "1.2.3"); ``@scope/name`` -> ("@scope/name", None)."""
    if "@" in key[1:]:
        name, _, version = key.rpartition("@")
        return name, version or None
    return key, None


class _Reader:
    def __init__(
        self, path: str, text: str, document: Mapping[str, Any], manifests: Mapping[str, object], env: object
    ) -> None:
        self.path = path
        self.text = text
        self.doc = document
        self.manifests = manifests
        self.env = env
        self.directory = posixpath.dirname(path)
        self.problems: list[Problem] = []
        self.unlisted = 0  # problems past _MAX_PROBLEMS, counted in the last one
        raw_version = document.get("lockfileVersion")
        self.version = str(raw_version).strip() if isinstance(raw_version, str | int | float) else ""
        self.style: Style = _style(self.version)
        self.local: set[str] = set()
        self.catalog_uses: dict[tuple[str, str], set[str]] = {}

    def lock(self) -> PnpmLock:
        fmt = f"{LOCK_NAME} {self.version}" if self.version else LOCK_NAME
        if not self.version and self.doc:
            self.problem("lockfileVersion", f"{LOCK_NAME} has no lockfileVersion: read as lockfile 9.0")
            self.style = "v9"
        catalogs = self._catalogs()
        importers = self._importers(catalogs)
        if importers is None:
            return PnpmLock(path=self.path, manager="pnpm", format=fmt, problems=tuple(self.problems), readable=False)
        raw_settings = self.doc.get("settings")
        settings: Mapping[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
        overrides = self.doc.get("overrides", settings.get("overrides"))
        patched = self.doc.get("patchedDependencies", settings.get("patchedDependencies"))
        versions = self._versions()
        patches, hashes_only = self._patches(patched, versions)
        return PnpmLock(
            path=self.path,
            manager="pnpm",
            format=fmt,
            importers=MappingProxyType(importers),
            problems=tuple(self.problems),
            patches=patches,
            local=frozenset(self.local),
            versions=MappingProxyType(versions),
            lockfile_version=self.version,
            catalogs=MappingProxyType({k: MappingProxyType(v) for k, v in catalogs.items()}),
            catalog_uses=MappingProxyType({k: frozenset(v) for k, v in self.catalog_uses.items()}),
            overrides=MappingProxyType(
                {str(k): str(v) for k, v in overrides.items() if isinstance(v, str | int | float)}
                if isinstance(overrides, dict)
                else {}
            ),
            pnpm_version=self._pnpm_version(),
            patch_hashes_only=hashes_only,
        )

    def problem(self, key: str, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(self.path, _line_of(self.text, key), 1, message))
            return
        # Each line is searched for in the whole text: thousands of problems would take quadratic time.
        self.unlisted += 1
        last = self.problems[_MAX_PROBLEMS - 1].line
        self.problems[_MAX_PROBLEMS:] = [Problem(self.path, last, 1, f"and {self.unlisted} more such problems")]

    def _importers(self, catalogs: Mapping[str, Mapping[str, str]]) -> dict[str, Mapping[str, str]] | None:
        section = "projects" if self.style == "v13" else "importers"
        raw = self.doc.get(section)
        if raw is None and self.style in ("v5", "v6"):
            raw = {".": {k: self.doc[k] for k in (*_DEP_SECTIONS, "specifiers") if k in self.doc}}
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.problem(section, f"`{section}` of {LOCK_NAME} is not a mapping of project folders")
            return None
        importers: dict[str, Mapping[str, str]] = {}
        for folder, entry in raw.items():
            if not isinstance(entry, dict):
                if entry is not None:
                    self.problem(str(folder), f"{section} entry {folder!r} of {LOCK_NAME} is not a mapping")
                entry = {}
            manifest = posixpath.normpath(posixpath.join(self.directory, str(folder), "package.json"))
            importers[manifest] = MappingProxyType(self._importer(entry, catalogs))
        return importers

    def _importer(self, entry: Mapping[str, Any], catalogs: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
        raw_specifiers = entry.get("specifiers")
        specifiers: Mapping[str, Any] = raw_specifiers if isinstance(raw_specifiers, dict) else {}
        locked: dict[str, str] = {}
        for section in _DEP_SECTIONS:
            table = entry.get(section)
            if not isinstance(table, dict):
                continue
            for raw_name, value in table.items():
                name = str(raw_name)
                specifier, reference = self._reference(value, specifiers.get(name))
                if specifier is not None and specifier.startswith("catalog:"):
                    catalog = specifier[len("catalog:") :].strip() or "default"
                    self.catalog_uses.setdefault((catalog, name), set()).add(section)
                    if reference is None:
                        reference = catalogs.get(catalog, _EMPTY).get(name)
                if (specifier or "").startswith(_LOCAL_PREFIXES) or (reference or "").startswith(_LOCAL_PREFIXES):
                    self.local.add(name)
                    continue
                version = locked_version(reference, self.style) if reference is not None else None
                if version is not None:
                    locked[name] = version
        return locked

    def _reference(self, value: object, specifier: object) -> tuple[str | None, str | None]:
        """(specifier, version reference) of one importer dependency, whatever the format writes."""
        if isinstance(value, dict):
            spec, ref = value.get("specifier"), value.get("version")
            return (_text(spec), _text(ref))
        text = _text(value)
        if self.style == "v13" and text is not None:
            # the specifier alone: it says the version (exact, catalog:, workspace:, link:)
            if text.startswith("catalog:"):
                return text, None
            return text, text
        return (_text(specifier), text)

    def _catalogs(self) -> dict[str, dict[str, str]]:
        settings = self.doc.get("settings")
        raw = self.doc.get("catalogs")
        if raw is None and isinstance(settings, dict):
            raw = settings.get("catalogs")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem("catalogs", f"`catalogs` of {LOCK_NAME} is not a mapping of catalogs")
            return {}
        found: dict[str, dict[str, str]] = {}
        for catalog, entries in raw.items():
            if not isinstance(entries, dict):
                continue
            for name, entry in entries.items():
                reference = _text(entry.get("version")) if isinstance(entry, dict) else None
                version = locked_version(reference, "v9") if reference else None
                if version is not None:
                    found.setdefault(str(catalog), {})[str(name)] = version
        return found

    def _versions(self) -> dict[str, tuple[str, ...]]:
        """Every registry package the lock holds -> its versions (sorted)."""
        sections = ["packages"] if self.style != "v9" else ["packages", "snapshots"]
        found: dict[str, set[str]] = {}
        for section in sections:
            table = self.doc.get(section)
            if not isinstance(table, dict):
                continue
            for key in table:
                parsed = _package_name_version(str(key), self.style)
                if parsed is not None:
                    found.setdefault(parsed[0], set()).add(parsed[1])
        return {name: tuple(semver.sort_versions(v)) for name, v in found.items()}

    def _patches(self, patched: object, versions: Mapping[str, tuple[str, ...]]) -> tuple[tuple[Patch, ...], bool]:
        """The patches the lock applies (a patch the configuration declares but the lock lacks is not applied);
        a patch locked by its hash alone (pnpm 12) takes its file from the configuration."""
        declared = self._declared_patches() if isinstance(patched, dict) else {}
        entries: dict[str, str | None] = {}
        hashes_only = False
        if isinstance(patched, dict):
            for key, value in patched.items():
                file = _text(value.get("path")) if isinstance(value, dict) else None
                hashes_only = hashes_only or not isinstance(value, dict)
                entries[str(key)] = file or declared.get(str(key))
        patches: list[Patch] = []
        for key, file in entries.items():
            if file is None:
                continue
            repository_file = posixpath.normpath(posixpath.join(self.directory, file))
            name, selector = _split_selector(key)
            if selector is None:
                patches.append(Patch(name, None, repository_file))
            elif semver.valid(selector) is not None:
                patches.append(Patch(name, semver.valid(selector), repository_file))
            else:  # a range (pnpm 10+): every locked version it covers is patched
                patches.extend(
                    Patch(name, v, repository_file) for v in versions.get(name, ()) if semver.satisfies(v, selector)
                )
        return tuple(patches), hashes_only

    def _declared_patches(self) -> dict[str, str]:
        """``patchedDependencies`` as the configuration declares them: key -> patch file (relative to the root)."""
        found: dict[str, str] = {}
        root = posixpath.join(self.directory, "package.json") if self.directory else "package.json"
        package = self.manifests.get(root)
        pnpm = package.get("pnpm") if isinstance(package, dict) else None
        sources = [pnpm.get("patchedDependencies") if isinstance(pnpm, dict) else None]
        workspace = self.manifests.get(
            posixpath.join(self.directory, WORKSPACE_NAME) if self.directory else WORKSPACE_NAME
        )
        if isinstance(workspace, dict):
            sources.append(workspace.get("patchedDependencies"))
        for source in sources:
            if isinstance(source, dict):
                found.update({str(k): v for k, v in source.items() if isinstance(v, str)})
        return found

    def _pnpm_version(self) -> str | None:
        if not isinstance(self.env, dict):
            return None
        entry = self.env["importers"]["."].get("packageManagerDependencies")
        pnpm = entry.get("pnpm") if isinstance(entry, dict) else None
        reference = _text(pnpm.get("version")) if isinstance(pnpm, dict) else None
        return locked_version(reference, "v9") if reference else None


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _line_of(text: str, key: str) -> int:
    """The first line where ``key`` starts a YAML (or JSON) mapping key, 1 when none does."""
    pattern = re.compile(rf"^[ \t]*['\"]?{re.escape(key)}['\"]?\s*:", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


# --- pnpm-workspace.yaml as a manifest ---------------------------------------------------------------------------


def parse_pnpm_workspace(
    path: str, text: str, lock: JsLock | None = None, manifests: Mapping[str, object] | None = None
) -> Manifest:
    """The catalog entries and overrides of a ``pnpm-workspace.yaml`` as dependencies (kind ``pnpm-workspace``).

    ``lock`` is the workspace's lockfile (catalog entries' and overrides' locked versions); ``manifests`` the
    workspace's package.json files (path -> parsed JSON), which say who uses each catalog entry: its role is
    runtime when a ``dependencies`` or ``optionalDependencies`` entry uses it, peer when only peers do, else dev
    (runtime when only the lock's ``catalogs`` say it is used). A catalog entry no package uses is skipped
    ("unused catalog entry")."""
    lockfile = lock.path if lock is not None else None
    root = yamledit.compose(text)
    if isinstance(root, yamledit.YamlProblem):
        problem = Problem(path, root.line, root.column, root.message)
        return Manifest(path, Ecosystem.NPM, "pnpm-workspace", problems=(problem,), lockfile=lockfile)
    if root is None:
        return Manifest(path, Ecosystem.NPM, "pnpm-workspace", lockfile=lockfile)
    if not isinstance(root, yaml.MappingNode):
        problem = Problem(
            path, root.start_mark.line + 1, root.start_mark.column + 1, f"{WORKSPACE_NAME} is not a mapping"
        )
        return Manifest(path, Ecosystem.NPM, "pnpm-workspace", problems=(problem,), lockfile=lockfile)
    reader = _WorkspaceReader(path, text, root, lock, _catalog_uses(manifests or {}, lock))
    reader.read()
    return Manifest(
        path,
        Ecosystem.NPM,
        "pnpm-workspace",
        dependencies=tuple(reader.dependencies),
        problems=tuple(reader.problems),
        lockfile=lockfile,
    )


def _catalog_uses(manifests: Mapping[str, object], lock: JsLock | None) -> dict[tuple[str, str], set[str]]:
    """(catalog, package) -> the package.json sections that use it, from the package.json files and the lock."""
    uses: dict[tuple[str, str], set[str]] = {}
    for document in manifests.values():
        if not isinstance(document, dict):
            continue
        for section in _ALL_SECTIONS:
            table = document.get(section)
            if not isinstance(table, dict):
                continue
            for name, value in table.items():
                if isinstance(value, str) and value.startswith("catalog:"):
                    catalog = value[len("catalog:") :].strip() or "default"
                    uses.setdefault((catalog, str(name)), set()).add(section)
    if isinstance(lock, PnpmLock):
        for key, sections in lock.catalog_uses.items():
            uses.setdefault(key, set()).update(sections)
    return uses


class _WorkspaceReader:
    def __init__(
        self,
        path: str,
        text: str,
        root: yaml.MappingNode,
        lock: JsLock | None,
        uses: Mapping[tuple[str, str], set[str]],
    ) -> None:
        self.path = path
        self.text = text
        self.root = root
        self.lock = lock
        self.uses = uses
        self.shared = yamledit.shared_nodes(root)
        self.dependencies: list[Dependency] = []
        self.problems: list[Problem] = []

    def read(self) -> None:
        top = self.effective(self.root, "the top level")
        if "catalog" in top and "catalogs" in top:
            kept, _ = yamledit.effective(top["catalogs"].node)
            catalogs_default = next((e for e in kept if e.key == "default"), None)
            if catalogs_default is not None:
                self.problem_at(
                    catalogs_default,
                    "the default catalog is written twice (`catalog` and "
                    "`catalogs.default`); pnpm refuses such a workspace",
                )
        for key, entry in top.items():
            if key == "catalog":
                self.read_catalog(entry, ("catalog",), "default")
            elif key == "catalogs":
                if not isinstance(entry.node, yaml.MappingNode):
                    self.problem_at(entry, "`catalogs` should be a mapping of catalog names to catalogs")
                    continue
                for name, catalog in self.effective(entry.node, "`catalogs`").items():
                    self.read_catalog(catalog, ("catalogs", name), name)
            elif key == "overrides":
                self.read_overrides(entry)
            elif key == "packages" and not isinstance(entry.node, yaml.SequenceNode):
                self.problem_at(entry, "`packages` should be a list of globs")

    def effective(self, node: yaml.Node, where: str) -> dict[str, yamledit.Entry]:
        kept, duplicates = yamledit.effective(node)
        for earlier, later in duplicates:
            self.problem_at(
                earlier, f'duplicate key "{earlier.key}" in {where}; pnpm uses the later one (line {later.line})'
            )
        return {entry.key: entry for entry in kept}

    def problem_at(self, entry: yamledit.Entry, message: str) -> None:
        self.problems.append(Problem(self.path, entry.line, entry.column, message))

    def read_catalog(self, entry: yamledit.Entry, path: tuple[str, ...], catalog: str) -> None:
        section = ".".join(path)
        if entry.node is None or (isinstance(entry.node, yaml.ScalarNode) and entry.node.tag.endswith(":null")):
            return
        if not isinstance(entry.node, yaml.MappingNode):
            self.problem_at(entry, f"`{section}` should be a mapping of package names to version ranges")
            return
        for name, item in self.effective(entry.node, f"`{section}`").items():
            found = yamledit.scalar(self.text, item, (*path, name), self.shared)
            if found is None or found.style in ("|", ">"):
                self.problem_at(item, f'`{section}`: the version of "{name}" should be a string')
                continue
            dep = self.dependency(found, section, name, name, self._catalog_role(catalog, name))
            if dep.skip_reason is None:
                dep = self._catalog_current(dep, catalog, name)
            self.dependencies.append(dep)

    def _catalog_role(self, catalog: str, name: str) -> Role | None:
        sections = self.uses.get((catalog, name), set())
        if not sections:
            locked = isinstance(self.lock, PnpmLock) and name in self.lock.catalogs.get(catalog, _EMPTY)
            return Role.RUNTIME if locked else None  # the lock says some package uses it, not which
        if sections & {"dependencies", "optionalDependencies"}:
            return Role.RUNTIME
        if sections == {"peerDependencies"}:
            return Role.PEER
        return Role.DEV

    def _catalog_current(self, dep: Dependency, catalog: str, name: str) -> Dependency:
        if dep.role is Role.PEER:
            return dep
        lock = self.lock
        if lock is None:
            return dep
        if not lock.readable:
            return replace(dep, unknown_current=f"{lock.path} could not be read")
        version = lock.catalogs.get(catalog, _EMPTY).get(name) if isinstance(lock, PnpmLock) else None
        if version is None:
            return replace(dep, unknown_current=f"{lock.path} has no entry for {name} in catalog {catalog}")
        dep = replace(dep, locked=version)
        patch = lock.patch_for(dep.key, version)
        return replace(dep, patched=patch.file) if patch is not None else dep

    def read_overrides(self, entry: yamledit.Entry) -> None:
        if not isinstance(entry.node, yaml.MappingNode):
            self.problem_at(entry, "`overrides` should be a mapping of package selectors to versions")
            return
        for key, item in self.effective(entry.node, "`overrides`").items():
            found = yamledit.scalar(self.text, item, ("overrides", key), self.shared)
            target = override_target(key)
            if found is None or target is None:
                self.problem_at(item, f'`overrides`: "{key}" should name a package and map it to a string')
                continue
            skip = None
            if found.value.startswith("$"):
                skip = "reference to a direct dependency"
            elif found.value.strip() == "-":
                skip = "removes the dependency"
            dep = self.dependency(found, "overrides", target, key, Role.RUNTIME, skip)
            if dep.skip_reason is None:
                dep = self._forced(dep)
            self.dependencies.append(dep)

    def _forced(self, dep: Dependency) -> Dependency:
        """An override's version in use: the one version of the package the lock holds (the range it forces
        decides when the lock holds several)."""
        lock = self.lock
        if lock is None:
            return dep
        if not lock.readable:
            return replace(dep, unknown_current=f"{lock.path} could not be read")
        versions = lock.versions.get(dep.key, ())
        matching = [v for v in versions if semver.satisfies(v, dep.constraint)] if len(versions) > 1 else versions
        if len(matching) == 1:
            dep = replace(dep, locked=matching[0])
            patch = lock.patch_for(dep.key, matching[0])
            return replace(dep, patched=patch.file) if patch is not None else dep
        if versions:
            return replace(dep, unknown_current=f"{lock.path} locks {dep.key} at {', '.join(versions)}")
        return replace(dep, unknown_current=f"{lock.path} has no {dep.key} (the override forces nothing today)")

    def dependency(
        self,
        found: yamledit.Scalar,
        section: str,
        name: str,
        written: str,
        role: Role | None,
        skip: str | None = None,
    ) -> Dependency:
        """One entry; ``written`` is the key as written (an override selector), ``name`` the package it is for;
        ``skip`` a reason already known to keep the entry as it is."""
        value = found.value
        start, end, constraint, key = found.inner_start, found.inner_end, value, name
        if role is None:
            skip, role = skip or "unused catalog entry", Role.DEV
        spec = classify(value)
        if spec.kind == "alias" and spec.package is not None:
            key = spec.package
            if not spec.range_text or spec.detail == "tag":
                skip = skip or ("dist-tag" if spec.detail == "tag" else "alias")
            else:
                start, constraint = found.inner_start + spec.range_offset, spec.range_text
        elif spec.kind in SKIP_REASONS and skip is None:
            skip = SKIP_REASONS[spec.kind]
            if spec.kind == "invalid":
                message = f'`{section}`: "{written}": {spec.detail}'
                self.problems.append(Problem(self.path, found.line, found.column, message))
        if skip is None and found.shared:
            skip = "YAML alias"
        if skip is None and not found.exact:
            skip = "written with YAML escapes"
        return Dependency(
            ecosystem=Ecosystem.NPM,
            name=name,
            key=key,
            constraint=constraint,
            role=role,
            location=Location(self.path, found.line, found.column, start, end, section),
            skip_reason=skip,
        )


def _overrides_key(name: str, key: str) -> bool:
    return override_target(key) == name


def apply_workspace_edits(text: str, edits: Sequence[tuple[Dependency, str]]) -> str:
    """``text`` (a pnpm-workspace.yaml) with each dependency's constraint replaced, every other character kept;
    raises ``ManifestEditError`` (nothing half-applied) when an edit cannot be made exactly."""
    changes = []
    for dependency, new_value in edits:
        location = dependency.location
        section = location.section
        path: tuple[str, ...]
        if section == "catalog" or section == "overrides":
            path = (section,)
        elif section.startswith("catalogs."):
            path = ("catalogs", section[len("catalogs.") :])
        else:
            raise ManifestEditError(f"{dependency.name}: {section} is not a section of {WORKSPACE_NAME} depup edits")
        name = dependency.name
        if section == "overrides":
            matches = functools.partial(_overrides_key, name)
        else:
            matches = functools.partial(operator.eq, name)
        changes.append(yamledit.Edit(path, matches, location.start, location.end, dependency.constraint, new_value))
    try:
        return yamledit.apply_edits(text, changes)
    except yamledit.YamlEditError as exc:
        raise ManifestEditError(str(exc)) from exc


# --- regenerating pnpm-lock.yaml ---------------------------------------------------------------------------------

# pnpm-workspace.yaml settings given to pnpm: the workspace's packages and catalogs, and what shapes the lockfile.
# Anything else is left out: settings that run programs (pnpmfile, configDependencies, scriptShell, nodeOptions,
# executionEnv, updateConfig hooks), name folders or files (storeDir, modulesDir, patchesDir, lockfileDir,
# virtualStoreDir, include files) or have no bearing on the lockfile (allowBuilds, onlyBuiltDependencies).
_WORKSPACE_KEPT = frozenset(
    {
        "packages", "catalog", "catalogs", "overrides", "patchedDependencies", "packageExtensions",
        "peerDependencyRules", "allowedDeprecatedVersions", "allowUnusedPatches", "allowNonAppliedPatches",
        "ignoredOptionalDependencies", "supportedArchitectures", "autoInstallPeers", "dedupePeerDependents",
        "dedupePeers", "dedupeDirectDeps", "dedupeInjectedDeps", "excludeLinksFromLockfile", "resolutionMode",
        "linkWorkspacePackages", "preferWorkspacePackages", "injectWorkspacePackages", "sharedWorkspaceLockfile",
        "saveWorkspaceProtocol", "lockfileIncludeTarballUrl", "lockfile", "strictPeerDependencies",
        "resolvePeersFromWorkspaceRoot", "peersSuffixMaxLength", "minimumReleaseAge", "minimumReleaseAgeExclude",
        "trustPolicy", "trustPolicyExclude", "trustPolicyIgnoreAfter", "blockExoticSubdeps", "catalogMode",
        "includeWorkspaceRoot", "ignoreWorkspaceCycles", "disallowWorkspaceCycles", "autoInstallPeersFromHighestMatch",
        "registrySupportsTimeField",
    }
)  # fmt: skip
# The same settings as pnpm 7-10 read them from .npmrc (kebab-case); only plain values (no paths) are kept.
_NPMRC_KEPT = frozenset(
    re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), key)
    for key in _WORKSPACE_KEPT - {"packages", "catalog", "catalogs", "overrides", "patchedDependencies",
                                  "packageExtensions", "peerDependencyRules", "allowedDeprecatedVersions", "lockfile",
                                  "ignoredOptionalDependencies", "supportedArchitectures", "minimumReleaseAgeExclude",
                                  "trustPolicyExclude"}
)  # fmt: skip
_NPMRC_SETTING = re.compile(r"^\s*([a-z][a-z0-9-]*)\s*=\s*([A-Za-z0-9._-]*)\s*$")
_LOCAL_REFERENCE = re.compile(r"(?:git\+)?(?:file|link):[^\s()]+")
_LOCKFILE_VERSION = re.compile(r"""^[ \t]*["']?lockfileVersion["']?\s*:\s*["']?([0-9][0-9.]*)""", re.MULTILINE)
_PNPM9_PATCH_HASH = re.compile(r"^[ \t]+hash:\s*['\"]?[a-z2-7]{26}['\"]?\s*$", re.MULTILINE)
_HASH_ONLY_PATCH = re.compile(
    r"^patchedDependencies:[ \t]*\n(?:  \S.*\n)*?  \S+:[ \t]*['\"]?[0-9a-f]{64}['\"]?[ \t]*$", re.MULTILINE
)


class _Pnpm:
    """pnpm's part in ``bot.deps.npm.relock``.

    - ``pnpm install --lockfile-only --ignore-scripts --ignore-pnpmfile --no-frozen-lockfile``, with the
      registry depup uses (``--registry``): every importer of the workspace is locked, whichever package.json
      or catalog was edited.
    - In-range updates (``Job.packages``): the package.json entry (or, for a ``catalog:`` dependency, every
      package.json entry using that catalog entry) asks for the exact version, pnpm locks it; the package.json
      files are restored and pnpm installs again: a range that still admits the locked version keeps it (pnpm
      prefers what its lockfile holds), so only the named packages move and every range stays as written.
      (``pnpm update --no-save`` was not used: pnpm 9 and 10 drop the lockfile's ``catalogs`` section with it, and
      pnpm 12 resolves ``alias@npm:pkg@1.2.3`` to the newest version.)
    - Lockfile maintenance (``Job.refresh``): the lockfile is left out of the copy (but for pnpm 12's own first
      document), so pnpm resolves every range to its newest version (what Renovate does), with the workspace's
      settings, overrides and patches.
    """

    manager: str = "pnpm"
    env_prefixes: tuple[str, ...] = ("npm_config_", "pnpm_config_")

    def default_versions(self, lock_text: str) -> str:
        match = _LOCKFILE_VERSION.search(lock_text)
        version = match.group(1) if match else "9.0"
        head, _, rest = version.partition(".")
        major = int(head) if head.isdigit() else 9
        minor = int(rest.split(".")[0]) if rest.split(".")[0].isdigit() else 0
        if major >= 13:
            return "^12"  # lockfile.format: v13
        if major >= 7:
            if re.search(r"^[ \t]+packageManagerDependencies:", lock_text, re.MULTILINE) or _HASH_ONLY_PATCH.search(
                lock_text
            ):
                return "^12"  # patches locked by hash alone, pnpm's own document first: pnpm 12
            if _PNPM9_PATCH_HASH.search(lock_text):
                return "^9"  # pnpm 10 hashes patches with SHA-256, pnpm 9 with base32 MD5
            return "^10"  # 9.0 is written by pnpm 9 to 12; pnpm 10 runs on every Node depup supports
        if major == 6:
            return "^8"
        if major == 5 and minor >= 4:
            return "^7"
        if major == 5 and minor == 3:
            return "^6"
        return "^5"

    def outside(self, project: Path, lock_name: str) -> list[Outside]:
        found = references_outside(project, lock_name, npmrc_registry_lines(project))
        for path in package_files(project):
            document = read_json(path)
            if not isinstance(document, dict):
                continue
            relative = path.relative_to(project).as_posix()
            pnpm = document.get("pnpm")
            tables = [("resolutions", document.get("resolutions"))]
            if isinstance(pnpm, dict):
                tables += [
                    (f"pnpm.{k}", pnpm.get(k)) for k in ("overrides", "patchedDependencies", "packageExtensions")
                ]
            for where, table in tables:
                if table is not None:
                    found.extend(outside_strings(project, path.parent, relative, walk_strings(table, where)))
        for name in (WORKSPACE_NAME, lock_name):
            line = _alias_line(project / name)
            if line is not None:  # expanding aliases can take any time and memory (a "billion laughs" file)
                return [*found, Outside(name, str(line), "a YAML alias: depup does not expand them for pnpm")]
        workspace = _workspace_data(project)
        if workspace:
            for key in ("catalog", "catalogs", "overrides", "patchedDependencies", "packageExtensions"):
                if key in workspace:
                    found.extend(outside_strings(project, project, WORKSPACE_NAME, walk_strings(workspace[key], key)))
            for index, glob in enumerate(_strings(workspace.get("packages"))):
                if escapes(project, project, glob.removeprefix("!")):
                    found.append(Outside(WORKSPACE_NAME, f"packages[{index}]", glob))
        found.extend(_lock_outside(project, lock_name))
        return found

    def prepare(self, project: Path, work: Path, job: Job) -> None:
        workspace = _workspace_data(project)
        kept = {k: v for k, v in workspace.items() if k in _WORKSPACE_KEPT} if workspace else {}
        if isinstance(kept.get("lockfile"), dict):
            kept["lockfile"] = {k: v for k, v in kept["lockfile"].items() if isinstance(v, str | bool | int)}
        if kept:
            (work / WORKSPACE_NAME).write_text(yaml.safe_dump(kept, sort_keys=False, allow_unicode=True))
        lines = npmrc_registry_lines(project) + _npmrc_settings(project)
        if lines:
            (work / ".npmrc").write_text("\n".join(lines) + "\n")
        copy_files(project, work, _patch_files(project, job.lock_name, workspace))
        if job.refresh:
            _drop_project_document(work / job.lock_name)

    def steps(self, tool: Tool, work: Path, job: Job) -> list[Step] | str:
        refused = _node_refusal(tool) or _code_refusal(work)
        if refused is not None:
            return refused
        install = (*tool.argv, "install", "--lockfile-only", "--ignore-scripts", "--ignore-pnpmfile")
        install += ("--no-frozen-lockfile",)
        if not (work / WORKSPACE_NAME).is_file():  # else pnpm looks for one in the folders above the copy
            install += ("--ignore-workspace",)
        if job.registry:
            install += (f"--registry={job.registry}",)
        env = _environment(work, job)
        if job.packages and not job.refresh:
            specs = tuple(job.packages)
            member = job.member
            return [
                Step(install, env=env, edit=lambda copy: _pin(copy, member, specs)),
                Step(install, restore_manifests=True, env=env),
            ]
        return [Step(install, env=env)]


PNPM = _Pnpm()


def _environment(work: Path, job: Job) -> dict[str, str]:
    """Settings for every pnpm version (pnpm 7-10 read ``npm_config_*``, 11 and later ``pnpm_config_*``): folders in
    the scratch copy, no self-management of pnpm's version, no scripts, no hooks."""
    scratch = work.parent
    settings = {
        "store-dir": str(scratch / "pnpm-store"),
        "cache-dir": str(scratch / "pnpm-cache"),
        "state-dir": str(scratch / "pnpm-state"),
        "global-dir": str(scratch / "pnpm-global"),
        "manage-package-manager-versions": "false",
        "package-manager-strict": "false",
        "package-manager-strict-version": "false",
        "pm-on-fail": "ignore",
        "ignore-scripts": "true",
        "ignore-pnpmfile": "true",
        "enable-pre-post-scripts": "false",
        "strict-dep-builds": "false",
        "verify-deps-before-run": "false",
        "frozen-lockfile": "false",
        "prefer-frozen-lockfile": "false",
        "side-effects-cache": "false",
        "update-notifier": "false",
        "color": "false",
    }
    if job.registry:
        settings["registry"] = job.registry
    env: dict[str, str] = {}
    for key, value in settings.items():
        name = key.replace("-", "_")
        env[f"npm_config_{name}"] = value
        env[f"pnpm_config_{name}"] = value
    folders = {"XDG_CONFIG_HOME": "xdg-config", "XDG_CACHE_HOME": "xdg-cache", "XDG_DATA_HOME": "xdg-data"}
    folders |= {"XDG_STATE_HOME": "xdg-state", "PNPM_HOME": "pnpm-home"}
    env |= {name: str(scratch / folder) for name, folder in folders.items()}
    return env | {"COREPACK_ENABLE_STRICT": "0", "COREPACK_ENABLE_AUTO_PIN": "0", "CI": "false"}


def _node_refusal(tool: Tool) -> str | None:
    """Why ``tool`` cannot run on this worker's Node (pnpm 11 needs Node 22.13), or None."""
    if len(tool.argv) < 2 or not tool.argv[1].endswith((".cjs", ".js", ".mjs")):
        return None
    manifest = Path(tool.argv[1]).parent.parent / "package.json"
    engines = read_json(manifest)
    wanted = engines.get("engines", {}).get("node") if isinstance(engines, dict) else None
    if not isinstance(wanted, str):
        return None
    node = _node_version(tool.argv[0])
    if node is None or semver.satisfies(node, wanted):
        return None
    return f"{tool.label} needs Node {wanted} and this worker runs Node {node}: the lockfile is left to CI"


@lru_cache(maxsize=8)
def _node_version(node: str) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [node, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return semver.valid(done.stdout.strip()) if done.returncode == 0 else None


def _code_refusal(work: Path) -> str | None:
    """pnpm's config dependencies are packages whose code pnpm loads: never installed for depup."""
    for path in package_files(work):
        document = read_json(path)
        pnpm = document.get("pnpm") if isinstance(document, dict) else None
        if isinstance(pnpm, dict) and pnpm.get("configDependencies"):
            relative = path.relative_to(work).as_posix()
            return f"{relative} has pnpm.configDependencies (packages whose code pnpm runs): the lockfile is left to CI"
    return None


def _workspace_data(project: Path) -> dict[str, Any]:
    path = project / WORKSPACE_NAME
    if not path.is_file() or path.is_symlink():
        return {}
    data = workspace_document(path.read_bytes().decode("utf-8", "replace"))
    return data if isinstance(data, dict) else {}


def _npmrc_settings(project: Path) -> list[str]:
    """The lockfile-shaping pnpm settings of the project's ``.npmrc`` (plain values only)."""
    npmrc = project / ".npmrc"
    if not npmrc.is_file() or npmrc.is_symlink():
        return []
    kept = []
    for line in npmrc.read_text(errors="replace").splitlines():
        match = _NPMRC_SETTING.match(line)
        if match and match.group(1) in _NPMRC_KEPT:
            kept.append(f"{match.group(1)}={match.group(2)}")
    return kept


def _patch_files(project: Path, lock_name: str, workspace: Mapping[str, Any]) -> list[str]:
    """The patch files the project's configuration and lockfile name (relative to the project)."""
    files: list[str] = []
    sources: list[object] = [workspace.get("patchedDependencies")]
    root = read_json(project / "package.json")
    pnpm = root.get("pnpm") if isinstance(root, dict) else None
    if isinstance(pnpm, dict):
        sources.append(pnpm.get("patchedDependencies"))
    for source in sources:
        if isinstance(source, dict):
            files.extend(v for v in source.values() if isinstance(v, str))
    lock = project / lock_name
    if lock.is_file() and not lock.is_symlink():
        documents = _documents(lock_name, lock.read_bytes().decode("utf-8", "replace"))
        for document in documents if isinstance(documents, list) else []:
            patched = document.get("patchedDependencies") if isinstance(document, dict) else None
            for entry in patched.values() if isinstance(patched, dict) else ():
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    files.append(entry["path"])
    return [f for f in dict.fromkeys(files) if not escapes(project, project, f)]


def _drop_project_document(lock: Path) -> None:
    """Lockfile maintenance starts from no lockfile, but keeps pnpm 12's own first document (the pnpm that
    packageManager pins), which pnpm does not write again when it does not manage its own version."""
    text = lock.read_bytes().decode("utf-8", "replace") if lock.is_file() else ""
    head, separator, _ = text.removeprefix("---\n").partition("\n---\n")
    documents = _documents(lock.name, text) if separator else None
    if isinstance(documents, list) and len(documents) > 1 and _is_env_document(documents[0]):
        lock.write_text(f"---\n{head}\n")
    else:
        lock.unlink(missing_ok=True)


def _alias_line(path: Path) -> int | None:
    """The line of the first YAML alias (``*name``) of ``path``, None when it has none (or cannot be read)."""
    if not path.is_file() or path.is_symlink():
        return None
    text = path.read_bytes().decode("utf-8", "replace")
    if "*" not in text:
        return None
    try:
        for token in yaml.scan(text, Loader=_LOADER):
            if isinstance(token, yaml.AliasToken):
                return int(token.start_mark.line) + 1
    except yaml.YAMLError:
        return None  # pnpm stops at a file it cannot parse
    return None


def _lock_outside(project: Path, lock_name: str) -> list[Outside]:
    """Local references of the lockfile that lead outside the project: importer folders, ``link:``/``file:``
    references (in ``importers`` from the importer's folder, but a ``version: file:`` from the project, as pnpm
    writes them), directory resolutions and patch paths."""
    lock = project / lock_name
    if not lock.is_file() or lock.is_symlink():
        return []
    documents = _documents(lock_name, lock.read_bytes().decode("utf-8", "replace"))
    if not isinstance(documents, list):
        return []  # pnpm stops at a lockfile it cannot parse
    found: list[Outside] = []
    for document in (d for d in documents if isinstance(d, dict)):
        for section in ("importers", "projects"):
            importers = document.get(section)
            if not isinstance(importers, dict):
                continue
            for folder, entry in importers.items():
                where = f"{section}.{folder}"
                if escapes(project, project, str(folder)):
                    found.append(Outside(lock_name, where, str(folder)))
                    continue
                # ``link:`` and specifiers are relative to the importer, ``version: file:...`` to the lockfile
                strings = list(walk_strings(entry, where))
                rooted = [(w, v) for w, v in strings if w.endswith(".version") and v.startswith("file:")]
                found.extend(_references(project, project, lock_name, rooted))
                relative = [(w, v) for w, v in strings if (w, v) not in rooted]
                found.extend(_references(project, project / str(folder), lock_name, relative))
        rest = {k: v for k, v in document.items() if k not in ("importers", "projects")}
        found.extend(_references(project, project, lock_name, walk_strings(rest, "")))
    return found


def _references(project: Path, base: Path, file: str, strings: Iterable[tuple[str, str]]) -> Iterator[Outside]:
    for where, value in strings:
        candidates = _LOCAL_REFERENCE.findall(value)
        if where.endswith(".directory") or (where.endswith(".path") and "patchedDependencies" in where):
            candidates.append(value)
        if any(escapes(project, base, candidate) for candidate in candidates):
            yield Outside(file, where, value)


def _pin(work: Path, member: PurePosixPath | None, specs: Sequence[str]) -> str | None:
    """Write each ``name@version`` spec as an exact version where the workspace asks for ``name``: the edited
    package.json's entry, or every package.json entry using the catalog entry it comes from."""
    documents = {path: read_json(path) for path in package_files(work)}
    target = work / (str(member) if member is not None else "") / "package.json"
    catalogs = _catalog_ranges(_workspace_data(work))
    changed: set[Path] = set()
    for spec in specs:
        name, real, version = _parse_spec(spec)
        if name is None or version is None:
            return f"{spec} is not a package@version depup can record"
        pinned = f"npm:{real}@{version}" if real else version
        wanted_catalogs: set[str] = set()
        found = False
        document = documents.get(target)
        for section in _DEP_SECTIONS:
            table = document.get(section) if isinstance(document, dict) else None
            value = table.get(name) if isinstance(table, dict) else None
            if not isinstance(value, str):
                continue
            if value.startswith("catalog:"):
                wanted_catalogs.add(value[len("catalog:") :].strip() or "default")
            elif classify(value).kind in ("range", "version", "alias"):
                assert isinstance(table, dict)
                table[name] = pinned
                changed.add(target)
                found = True
        if not found and not wanted_catalogs and member is None:
            wanted_catalogs = {c for c, entries in catalogs.items() if _admits(entries.get(name), version)}
        for path, other in documents.items():
            for section in _DEP_SECTIONS:
                table = other.get(section) if isinstance(other, dict) else None
                value = table.get(name) if isinstance(table, dict) else None
                catalog = _catalog_of(value)
                if catalog is not None and catalog in wanted_catalogs:
                    assert isinstance(table, dict)
                    alias = classify(catalogs.get(catalog, {}).get(name, ""))
                    table[name] = f"npm:{alias.package}@{version}" if alias.kind == "alias" else pinned
                    changed.add(path)
                    found = True
        if not found:
            where = target.relative_to(work).as_posix()
            return f"{name} is neither in {where} nor a catalog entry in use: pnpm cannot record {spec} in its range"
    for path in changed:
        path.write_text(json.dumps(documents[path], indent=2, ensure_ascii=False) + "\n")
    return None


def _parse_spec(spec: str) -> tuple[str | None, str | None, str | None]:
    """``name@1.2.3`` -> (name, None, 1.2.3); ``alias@npm:real@1.2.3`` -> (alias, real, 1.2.3)."""
    if "@npm:" in spec:
        name, _, rest = spec.partition("@npm:")
        real, _, version = rest.rpartition("@")
        return name or None, real or None, semver.valid(version)
    name, _, version = spec.rpartition("@")
    return name or None, None, semver.valid(version)


def _catalog_of(value: object) -> str | None:
    """The catalog a ``catalog:`` / ``catalog:name`` value names, None for any other value."""
    if not isinstance(value, str) or not value.startswith("catalog:"):
        return None
    return value[len("catalog:") :].strip() or "default"


def _catalog_ranges(workspace: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    catalogs: dict[str, dict[str, str]] = {}
    if isinstance(workspace.get("catalog"), dict):
        catalogs["default"] = {str(k): str(v) for k, v in workspace["catalog"].items() if isinstance(v, str)}
    if isinstance(workspace.get("catalogs"), dict):
        for name, entries in workspace["catalogs"].items():
            if isinstance(entries, dict):
                catalogs.setdefault(str(name), {}).update({str(k): v for k, v in entries.items() if isinstance(v, str)})
    return catalogs


def _admits(range_: str | None, version: str) -> bool:
    if range_ is None:
        return False
    spec = classify(range_)
    return semver.satisfies(version, spec.range_text if spec.kind == "alias" else range_)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
