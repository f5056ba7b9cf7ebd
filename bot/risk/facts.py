"""Establish the facts of one proposed update from what the survey found (registry data, the manifest, the code).

Release notes and vulnerability audits come from services outside the engine; they are passed in as
callables, and a missing one leaves its fact unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bot.breaking.model import Breakage
from bot.deps.model import Dependency, Ecosystem, PackageInfo, Release, Role
from bot.deps.npm import semver
from bot.deps.proposals import Update
from bot.deps.registry.parsed import PeerDependency
from bot.deps.targets import KNOWN_NODES, KNOWN_PYTHONS
from bot.deps.versions import is_prerelease, parse_version, release_line, stable_between
from bot.risk.imports import ImportIndex
from bot.risk.model import BreakingNotes, UpdateFacts, Vulnerability
from config.globs import glob_matches
from config.model import CorePackages

NotesSource = Callable[[PackageInfo, str, str], BreakingNotes | None]  # (package, current, target)
Audit = Callable[[str, str, str, str], tuple[tuple[Vulnerability, ...], tuple[Vulnerability, ...]] | None]
# Audit(ecosystem, package, current, target) -> (fixed by the update, present in the target), None: not audited


class BreakageSource(Protocol):
    """The API-change evidence of updates (``bot.breaking.service.BreakageService``): ``prefetch`` is told every
    update of a plan first (one cache round trip), then each is asked for; None: not analysed by policy."""

    def prefetch(self, updates: Sequence[tuple[str, str, str, str]]) -> None: ...

    def __call__(self, ecosystem: str, package: str, current: str, target: str) -> Breakage | None: ...


_ROLE_ORDER = (Role.RUNTIME, Role.PEER, Role.BUILD, Role.OPTIONAL, Role.DEV)
PeersByVersion = Mapping[str, tuple[PeerDependency, ...]]


@dataclass(frozen=True)
class Neighbour:
    """Another dependency of the same manifest, for peer-conflict checks."""

    key: str
    version: str | None  # locked, pinned or lowest admitted version; None when unknown
    constraint: str


def riskiest_role(dependencies: Sequence[Dependency]) -> Role:
    roles = {d.role for d in dependencies}
    return next(role for role in _ROLE_ORDER if role in roles)


def is_core(ecosystem: Ecosystem, key: str, core: CorePackages) -> bool:
    if ecosystem is Ecosystem.PYTHON:
        return glob_matches([re.sub(r"[-_.]+", "-", p.lower()) for p in core.python], key)
    return glob_matches(core.npm, key)


def gather(
    *,
    ecosystem: Ecosystem,
    key: str,
    current: str,
    update: Update,
    dependencies: Sequence[Dependency],
    info: PackageInfo | None,
    core: CorePackages,
    now: datetime,
    neighbours: Sequence[Neighbour] = (),
    peers: Mapping[str, PeersByVersion] | None = None,
    project_runtime: str | None = None,  # the project's requires-python / engines.node
    imports: ImportIndex | None = None,
    notes: NotesSource | None = None,
    audit: Audit | None = None,
    breakage: BreakageSource | None = None,
) -> UpdateFacts:
    releases = {r.version: r for r in info.releases} if info is not None else {}
    target_release = releases.get(update.version)
    current_release = releases.get(current)
    python = ecosystem is Ecosystem.PYTHON
    target_notes = notes(info, current, update.version) if notes is not None and info is not None else None
    audited = audit(ecosystem.value, key, current, update.version) if audit is not None else None
    return UpdateFacts(
        ecosystem=ecosystem.value,
        package=key,
        role=riskiest_role(dependencies).value,
        current=current,
        target=update.version,
        update_type=update.update_type,
        majors_crossed=_lines_crossed(ecosystem, info, current, update.version) if update.is_major else 0,
        releases_skipped=_skipped(ecosystem, info, current, update.version),
        zero_x=_major(ecosystem, current) == 0 or _major(ecosystem, update.version) == 0,
        core=is_core(ecosystem, key, core),
        now=now,
        target_published=update.published or (target_release.published if target_release else None),
        target_prerelease=is_prerelease(ecosystem, update.version),
        target_yanked=_yanked(target_release),
        target_deprecated=target_release.deprecated if target_release else None,
        current_yanked=_yanked(current_release),
        current_deprecated=current_release.deprecated if current_release else None,
        runtime_dropped=_dropped(python, current_release, target_release, project_runtime),
        runtime_floor=_floor(python, target_release),
        peer_conflicts=_peer_conflicts(key, current, update.version, neighbours, peers) if not python else None,
        vulnerabilities_fixed=audited[0] if audited is not None else None,
        vulnerabilities_in_target=audited[1] if audited is not None else None,
        breaking_notes=target_notes,
        imports=imports.count(ecosystem.value, key) if imports is not None else None,
        breakage=breakage(ecosystem.value, key, current, update.version) if breakage is not None else None,
    )


def _yanked(release: Release | None) -> str | None:
    if release is None or not release.yanked:
        return None
    return release.yanked_reason or "no reason given"


def _major(ecosystem: Ecosystem, text: str) -> int | None:
    parsed = parse_version(ecosystem, text)
    return int(parsed.major) if parsed is not None else None


def _skipped(ecosystem: Ecosystem, info: PackageInfo | None, current: str, target: str) -> int | None:
    if info is None:
        return None
    between = stable_between(ecosystem, info, current, target)
    return len(between) if between is not None else None


def _lines_crossed(ecosystem: Ecosystem, info: PackageInfo | None, current: str, target: str) -> int:
    """Release lines between the current one (excluded) and the target's (included) that have releases."""
    start = release_line(ecosystem, current)
    end = release_line(ecosystem, target)
    lines = {end}
    if info is not None:
        lines.update(release_line(ecosystem, v) for v in stable_between(ecosystem, info, current, target) or ())
    lines.discard(start)
    lines.discard(None)
    return max(len(lines), 1)


def _dropped(
    python: bool, current: Release | None, target: Release | None, project_runtime: str | None
) -> tuple[str, ...] | None:
    """Runtime versions the current release supports, the project still supports, and the target does not."""
    if current is None or target is None:
        return None
    now_required = current.requires_python if python else current.engines_node
    then_required = target.requires_python if python else target.engines_node
    if not then_required or then_required == now_required:
        return ()
    known = [str(v) for v in KNOWN_PYTHONS] if python else [v.split(".")[0] for v in KNOWN_NODES]
    admits = _python_admits if python else _node_admits
    dropped = [
        v
        for v in known
        if admits(now_required, v) and not admits(then_required, v) and admits(project_runtime, v, lenient=True)
    ]
    return tuple(_ranges(dropped, known))


@lru_cache(maxsize=4096)  # the same few specifiers, asked of every known runtime, for every update
def _python_admits(spec: str | None, version: str, *, lenient: bool = False) -> bool:
    if not spec:
        return True
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        return lenient
    return any(specifier.contains(f"{version}.{patch}", prereleases=True) for patch in (0, 99))


@lru_cache(maxsize=4096)
def _node_admits(spec: str | None, major: str, *, lenient: bool = False) -> bool:
    if not spec:
        return True
    base = major if "." in major else f"{major}.0"
    candidates = (f"{base}.0", f"{base.split('.')[0]}.999.0")
    if semver.valid_range(spec, loose=True) is None:
        return lenient
    return any(semver.satisfies(v, spec, loose=True) for v in candidates)


def _ranges(dropped: list[str], known: list[str]) -> list[str]:
    """["3.6", "3.7", "3.8"] as ["3.6-3.8"]: consecutive known versions joined."""
    out: list[list[str]] = []
    for v in dropped:
        if out and known.index(v) == known.index(out[-1][-1]) + 1:
            out[-1].append(v)
        else:
            out.append([v])
    return [run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in out]


def _floor(python: bool, target: Release | None) -> str | None:
    if target is None:
        return None
    return target.requires_python if python else target.engines_node


def _peer_conflicts(
    key: str,
    current: str,
    target: str,
    neighbours: Sequence[Neighbour],
    peers: Mapping[str, PeersByVersion] | None,
) -> tuple[str, ...] | None:
    """Conflicts both ways within the manifest: the target's peer ranges against the versions the manifest has,
    and the other packages' peer ranges for this package against the target."""
    if peers is None:
        return None
    conflicts: list[str] = []
    by_key = {n.key: n for n in neighbours if n.key != key}
    for peer in peers.get(key, {}).get(target, ()):
        other = by_key.get(peer.name)
        if other is None or other.version is None:
            continue
        if not _satisfies(other.version, peer.range):
            conflicts.append(
                f"{key} {target} needs {peer.name} {peer.range}; the manifest has {peer.name} {other.version}"
            )
    for other in by_key.values():
        if other.version is None:
            continue
        for peer in peers.get(other.key, {}).get(other.version, ()):
            if peer.name == key and _satisfies(current, peer.range) and not _satisfies(target, peer.range):
                conflicts.append(f"{other.key} {other.version} needs {key} {peer.range}, which excludes {target}")
    return tuple(conflicts)


def _satisfies(version: str, spec: str) -> bool:
    if semver.valid_range(spec, loose=True) is None:
        return True  # an unreadable peer range is npm's problem, not evidence of a conflict
    return semver.satisfies(version, spec, loose=True)
