"""Domain values shared by the dependency engine: dependencies as found in files, releases as registries list them.

Everything here is a frozen dataclass or an enum (``Release`` a frozen ``msgspec.Struct``: a warm 1,000-package plan
reads 100,000 of them from the cache, which msgspec builds in C); parsers produce them, the version chooser and
editors consume them, and the planner/risk model read them. Paths are repository-relative POSIX paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import msgspec


class Ecosystem(StrEnum):
    PYTHON = "python"
    NPM = "npm"


class Role(StrEnum):
    """What a dependency is for, which drives risk and phases."""

    RUNTIME = "runtime"
    DEV = "dev"  # dev and test tooling
    BUILD = "build"  # build-system requirements
    PEER = "peer"
    OPTIONAL = "optional"  # extras / optionalDependencies


@dataclass(frozen=True)
class Location:
    """Where a dependency's constraint is written.

    ``start``/``end`` are character offsets into the decoded file text of the constraint token an edit replaces
    (``start == end`` when the dependency has no constraint written, e.g. a bare ``requests`` line: the
    insertion point). ``line``/``column`` are 1-based and point at the start of the entry.
    """

    file: str
    line: int
    column: int
    start: int
    end: int
    section: str  # e.g. "requirements", "project.dependencies", "tool.poetry.group.dev.dependencies", "devDependencies"


@dataclass(frozen=True)
class Dependency:
    ecosystem: Ecosystem
    name: str  # as written
    key: str  # canonical name for lookups and comparisons (PEP 503 normalised for Python; as written for npm)
    constraint: str  # current constraint as written: "==1.1.2", ">=2,<3", "^4.17.1", "" when none
    role: Role
    location: Location
    group: str | None = None  # extra / dependency-group / poetry group / workspace package name
    extras: tuple[str, ...] = ()
    marker: str | None = None  # PEP 508 environment marker, as written
    locked: str | None = None  # version resolved in the lockfile, when one exists
    skip_reason: str | None = None  # set for entries depup keeps untouched (URL, editable, local path, git, alias)
    # What the lockfile says beyond one version, for the plan: e.g. "uv.lock locks 2 versions (2.0.2 for
    # python_full_version < '3.10'; 2.2.0 for python_full_version >= '3.10'): locked is the one for Python 3.9".
    lock_note: str | None = None
    # Why the version in use cannot be established although something should say it (a lockfile that cannot be
    # read, or that has no entry for this dependency): the current version is then unknown, never a guess.
    unknown_current: str | None = None
    patched: str | None = None  # the repository's patch file applied to the locked version (pnpm, yarn patch:)


@dataclass(frozen=True)
class Problem:
    """Something in a file depup could not use; reported with its place, never fatal."""

    file: str
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class Unread:
    """A dependency file depup found but could not read (or whose versions it could not establish), and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Manifest:
    path: str
    ecosystem: Ecosystem
    kind: str  # "requirements" | "pyproject" | "setup.cfg" | "package.json"
    dependencies: tuple[Dependency, ...] = ()
    problems: tuple[Problem, ...] = ()
    lockfile: str | None = None  # path of the lockfile that belongs to this manifest
    project_name: str | None = None
    requires_python: str | None = None  # the project's own requires-python
    engines_node: str | None = None  # the project's own engines.node
    # Where ``requires_python`` / ``engines_node`` was taken from, when not the manifest itself
    # (".python-version", "Dockerfile: FROM python:3.11-slim", "requires-python of pyproject.toml (-e .)").
    runtime_evidence: str | None = None
    # Where a pyproject.toml writes its own requires-python (``project.requires-python``, then Poetry's
    # ``tool.poetry.dependencies.python``), as dependency-like entries named ``python`` whose location is the
    # specifier inside its string: what raising the Python floor edits (``bot.deps.floor``).
    python_floor: tuple[Dependency, ...] = ()
    # For a manifest that declares requires-python: the Python its runtime evidence shows (``.python-version``,
    # ``.tool-versions``, a Dockerfile's FROM) as ``(X.Y, where)``; the floor is never raised above it.
    runtime_python: tuple[str, str] | None = None


class Release(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One published version. ``array_like``: stored in the registry cache as a row, not a map of field names."""

    version: str
    published: datetime | None = None  # upload / publish time, UTC
    yanked: bool = False
    yanked_reason: str | None = None
    deprecated: str | None = None  # npm deprecation message
    requires_python: str | None = None
    engines_node: str | None = None


@dataclass(frozen=True)
class PackageInfo:
    """What a registry says exists for one package."""

    ecosystem: Ecosystem
    name: str
    releases: tuple[Release, ...]
    dist_tags: tuple[tuple[str, str], ...] = ()  # npm dist-tags; PyPI: (("latest", info.version),)
    urls: tuple[tuple[str, str], ...] = ()  # homepage / repository / changelog / release notes, when given
    fetched_at: datetime | None = None
    # ``releases`` are sorted in the ecosystem's version order (PEP 440, semver precedence), oldest first, and
    # each version parses: what the registry parsers make. Consumers then find a version by bisection and
    # never parse the thousands of releases older than the one in use.
    ordered: bool = False
