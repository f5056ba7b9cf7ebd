"""Version choice: for each dependency, the newest acceptable version within its current release line and the
newest acceptable major, each with the constraint to write.

Release lines: ``1.x`` for majors >= 1, ``0.N.x`` for 0.x (a 0.x minor is a major, as semver says and as the
risk model needs). Not acceptable, and noted when that hides a newer version: invalid versions, prereleases
(unless the version in use is one), yanked releases, deprecated npm versions, releases younger than
``min_release_age``, and releases that drop the Python or Node version the project must keep supporting
(see ``bot.deps.targets``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from packaging.version import InvalidVersion, Version

from bot.deps.model import Dependency, Ecosystem, PackageInfo, Release, Role
from bot.deps.npm import semver
from bot.deps.npm.ranges import RangeRewriteError, rewrite_range
from bot.deps.proposals import Proposal, Strategy, StrategySetting, Update, UpdateType
from bot.deps.python import allows, current_version, rewrite_constraint
from bot.deps.python.errors import ConstraintRewriteError
from bot.deps.targets import node_supported, node_target, python_supported, python_target


@dataclass(frozen=True)
class Policy:
    range_strategy: StrategySetting = "auto"
    min_release_age: timedelta = timedelta(0)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The runtime the project really runs on (config ``runtime``), when its declared floor is lower: an
    # ``engines.node`` of ``14.*`` with ``runtime.node: "14.21"`` admits releases that need Node 14.21.
    node_runtime: str | None = None
    python_runtime: str | None = None


@dataclass(frozen=True)
class Project:
    """What the manifest says about the project itself."""

    requires_python: str | None = None
    engines_node: str | None = None
    has_lockfile: bool = False


V = TypeVar("V")


class _Scheme(Protocol[V]):  # what differs between PEP 440 and npm semver
    def parse(self, text: str) -> V | None: ...
    def line(self, v: V) -> tuple[int, ...]: ...
    def update_type(self, old: V, new: V) -> UpdateType: ...
    def is_prerelease(self, v: V) -> bool: ...
    def core(self, v: V) -> tuple[int, ...]: ...
    def admits(self, dep: Dependency, v: V) -> bool: ...
    def pinned(self, dep: Dependency) -> V | None: ...
    def rewrite(self, dep: Dependency, version: str, strategy: Strategy) -> str | None: ...
    def is_exact(self, dep: Dependency) -> bool: ...


def _style(dep: Dependency) -> str:
    return "poetry" if dep.location.section.startswith("tool.poetry") else "pep440"


class _Pep440:
    def parse(self, text: str) -> Version | None:
        return _pep440(text)

    def line(self, v: Version) -> tuple[int, ...]:
        first = v.release[0]
        return (v.epoch, first) if first else (v.epoch, 0, v.release[1] if len(v.release) > 1 else 0)

    def update_type(self, old: Version, new: Version) -> UpdateType:
        if self.line(old) != self.line(new):
            return "major"
        if old.release[0] and _segment(old.release, 1) != _segment(new.release, 1):
            return "minor"
        return "patch"

    def is_prerelease(self, v: Version) -> bool:
        return v.is_prerelease

    def core(self, v: Version) -> tuple[int, ...]:
        release = list(v.release)
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        return (v.epoch, *release)

    def admits(self, dep: Dependency, v: Version) -> bool:
        try:
            return allows(dep.constraint, str(v), _style(dep))  # type: ignore[arg-type]
        except ConstraintRewriteError:
            return False

    def pinned(self, dep: Dependency) -> Version | None:
        text = dep.constraint.strip()
        if text.startswith("===") or (text.startswith("==") and "*" not in text and "," not in text):
            return self.parse(text.lstrip("="))
        if _style(dep) == "poetry" and self.parse(text) is not None:
            return self.parse(text)
        return None

    def is_exact(self, dep: Dependency) -> bool:
        return self.pinned(dep) is not None

    def rewrite(self, dep: Dependency, version: str, strategy: Strategy) -> str | None:
        return rewrite_constraint(dep.constraint, version, strategy, _style(dep))  # type: ignore[arg-type]


class _NpmVersion(NamedTuple):
    """An npm version ordered by semver precedence (as text, 16.9.0 would sort after 16.14.0): major, minor,
    patch, 1 without prerelease else 0, then the prerelease identifiers with numeric ones before alphanumeric
    ones, which is semver 2.0's precedence and node's ``compare``; the text only breaks ties (build metadata).
    A named tuple, because a survey makes tens of thousands of them."""

    major: int
    minor: int
    patch: int
    release: int
    ids: tuple[tuple[int, int | str], ...]
    text: str

    @classmethod
    def of(cls, text: str) -> _NpmVersion:
        core, _, pre = text.split("+", 1)[0].partition("-")
        major, minor, patch = core.split(".")
        ids = tuple((0, int(i)) if i.isdigit() else (1, i) for i in pre.split(".")) if pre else ()
        return cls(int(major), int(minor), int(patch), 0 if pre else 1, ids, text)

    def __str__(self) -> str:
        return self.text


_PLAIN_SEMVER = re.compile(
    r"^(0|[1-9]\d{0,15})\.(0|[1-9]\d{0,15})\.(0|[1-9]\d{0,15})(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)


# Parsed versions are kept per process: version strings repeat across packages ("1.0.0") and a worker surveys
# many repositories that share packages, so most parses are answered from here.
@lru_cache(maxsize=1 << 17)
def _pep440(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


@lru_cache(maxsize=1 << 17)
def _npm(text: str) -> _NpmVersion | None:
    if _PLAIN_SEMVER.match(text):  # registries list normalised versions: skip the full parser for those
        return _NpmVersion.of(text)
    valid = semver.valid(text)
    return _NpmVersion.of(valid) if valid is not None else None


class _NpmSemver:
    def parse(self, text: str) -> _NpmVersion | None:
        return _npm(text)

    def line(self, v: _NpmVersion) -> tuple[int, ...]:
        return (v.major,) if v.major else (0, v.minor)

    def update_type(self, old: _NpmVersion, new: _NpmVersion) -> UpdateType:
        if self.line(old) != self.line(new):
            return "major"
        if old.major and old.minor != new.minor:
            return "minor"
        return "patch"

    def is_prerelease(self, v: _NpmVersion) -> bool:
        return not v.release

    def core(self, v: _NpmVersion) -> tuple[int, ...]:
        return (v.major, v.minor, v.patch)

    def admits(self, dep: Dependency, v: _NpmVersion) -> bool:
        return semver.satisfies(v.text, dep.constraint, loose=True, include_prerelease=semver.is_prerelease(v.text))

    def pinned(self, dep: Dependency) -> _NpmVersion | None:
        valid = semver.valid(dep.constraint.strip(), loose=True)
        return _NpmVersion.of(valid) if valid is not None else None

    def is_exact(self, dep: Dependency) -> bool:
        return self.pinned(dep) is not None

    def rewrite(self, dep: Dependency, version: str, strategy: Strategy) -> str | None:
        return rewrite_range(dep.constraint, version, strategy)


def _segment(release: tuple[int, ...], index: int) -> int:
    return release[index] if len(release) > index else 0


class _Candidate(NamedTuple, Generic[V]):
    """A release with its parsed version. A named tuple, not a frozen dataclass: a warm 1,000-package survey
    makes 100,000 of them, and a frozen dataclass costs several times as much to make."""

    version: V
    release: Release


class _InOrder(Generic[V]):
    """A package's releases in version order, each version parsed the first time it is looked at: with the
    registry's order (``PackageInfo.ordered``) a choice parses the releases newer than the one in use and a
    dozen more to find it, not the thousands before it."""

    def __init__(self, scheme: _Scheme[V], info: PackageInfo) -> None:
        self._parse = scheme.parse
        if info.ordered:
            self.releases: Sequence[Release] = info.releases
            self._versions: list[V | None] = [None] * len(info.releases)
        else:
            pairs = [(v, r) for r in info.releases if (v := scheme.parse(r.version)) is not None]
            pairs.sort(key=lambda pair: pair[0])  # type: ignore[arg-type, return-value]
            self.releases = [r for _, r in pairs]
            self._versions = [v for v, _ in pairs]

    def __bool__(self) -> bool:
        return bool(self.releases)

    def version(self, index: int) -> V:
        known = self._versions[index]
        if known is None:
            known = self._versions[index] = self._parse(self.releases[index].version)
            assert known is not None, "an ordered PackageInfo lists only versions that parse"
        return known

    def candidate(self, index: int) -> _Candidate[V]:
        return _Candidate(self.version(index), self.releases[index])

    def newer(self, current: V) -> list[_Candidate[V]]:
        """The releases newer than ``current``, oldest first."""
        start = bisect.bisect_right(range(len(self.releases)), current, key=self.version)  # type: ignore[call-overload]
        return [self.candidate(index) for index in range(start, len(self.releases))]

    def newest_first(self) -> Iterator[_Candidate[V]]:
        return (self.candidate(index) for index in reversed(range(len(self.releases))))


class Chooser:
    """Chooses updates under one policy; a package's releases are put in order once, however many manifests
    depend on it."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._sorted: dict[int, tuple[PackageInfo, _InOrder[Any]]] = {}  # id(info) -> (info kept alive, releases)

    def choose(self, dep: Dependency, info: PackageInfo, project: Project) -> Proposal:
        """The updates to offer for ``dep`` given what the registry lists (``info``)."""
        if dep.skip_reason:
            return Proposal(dep, None, reason=f"skipped: {dep.skip_reason}")
        if dep.unknown_current:
            return Proposal(dep, None, reason=f"current version unknown: {dep.unknown_current}")
        scheme = _scheme_for(dep.ecosystem)
        cached = self._sorted.get(id(info))
        if cached is None or cached[0] is not info:
            cached = self._sorted[id(info)] = (info, _InOrder(scheme, info))
        # npm: versions above the `latest` dist-tag are published for early adopters (next, beta); like npm
        # itself and Renovate, do not move past `latest` unless the version in use is already beyond it.
        tag = dict(info.dist_tags).get("latest") if dep.ecosystem is Ecosystem.NPM else None
        latest = scheme.parse(tag) if tag else None
        return _choose(scheme, dep, cached[1], project, self.policy, latest)


def _scheme_for(ecosystem: Ecosystem) -> _Scheme[Any]:
    return _Pep440() if ecosystem is Ecosystem.PYTHON else _NpmSemver()


def parse_version(ecosystem: Ecosystem, text: str) -> Any | None:
    """A version ordered as its ecosystem orders them (PEP 440, npm semver precedence), with ``major``; or None."""
    return _scheme_for(ecosystem).parse(text)


def release_line(ecosystem: Ecosystem, text: str) -> tuple[int, ...] | None:
    """The release line of a version, as the chooser sees it (``1.x``; ``0.N.x`` before 1.0), or None."""
    scheme = _scheme_for(ecosystem)
    parsed = scheme.parse(text)
    return scheme.line(parsed) if parsed is not None else None


def update_type_of(ecosystem: Ecosystem, current: str, target: str) -> UpdateType | None:
    """``major`` (a 0.x minor included), ``minor`` or ``patch`` from ``current`` to ``target``; None if unparsable."""
    scheme = _scheme_for(ecosystem)
    old, new = scheme.parse(current), scheme.parse(target)
    return scheme.update_type(old, new) if old is not None and new is not None else None


def is_prerelease(ecosystem: Ecosystem, text: str) -> bool:
    scheme = _scheme_for(ecosystem)
    parsed = scheme.parse(text)
    return parsed is not None and scheme.is_prerelease(parsed)


def stable_between(ecosystem: Ecosystem, info: PackageInfo, low: str, high: str) -> list[str] | None:
    """The stable releases strictly between two versions, oldest first; None when either does not parse."""
    scheme = _scheme_for(ecosystem)
    lower, upper = scheme.parse(low), scheme.parse(high)
    if lower is None or upper is None:
        return None
    releases = _InOrder(scheme, info)
    found: list[str] = []
    for candidate in releases.newer(lower):
        if not candidate.version < upper:
            break
        if not scheme.is_prerelease(candidate.version):
            found.append(candidate.release.version)
    return found


def choose(dep: Dependency, info: PackageInfo, project: Project, policy: Policy) -> Proposal:
    """The updates to offer for one dependency (see ``Chooser`` to choose for many)."""
    return Chooser(policy).choose(dep, info, project)


def _choose(
    scheme: _Scheme[V],
    dep: Dependency,
    releases: _InOrder[V],
    project: Project,
    policy: Policy,
    latest: V | None = None,
) -> Proposal:
    if not releases:
        return Proposal(dep, None, reason="the registry lists no valid version")
    current = _current(scheme, dep, releases)
    if current is None:
        reason = (
            "no constraint: every version is allowed"
            if not dep.constraint.strip()
            else (f"no published version satisfies {dep.constraint!r}")
        )
        return Proposal(dep, None, reason=reason)
    accept = _acceptance(scheme, dep, project, policy, current, latest)
    if isinstance(accept, str):
        return Proposal(dep, str(current), reason=accept)
    newer = releases.newer(current)
    notes: list[tuple[V, str]] = []
    allowed = [c for c in newer if _accepted(accept, c, notes)]
    line = scheme.line(current)
    within = [c for c in allowed if scheme.line(c.version) == line]
    beyond = [c for c in allowed if scheme.line(c.version) > line]
    picks = [p for p in (within[-1] if within else None, beyond[-1] if beyond else None) if p is not None]
    updates: list[Update] = []
    for pick in picks:
        update = _update(scheme, dep, project, policy, current, pick, notes)
        if update is not None:
            updates.append(update)
    shown_notes = _relevant(
        notes, scheme, current, within[-1].version if within else None, beyond[-1].version if beyond else None
    )
    if not updates:
        return Proposal(
            dep,
            str(current),
            reason="up to date" if not shown_notes else "no acceptable newer version",
            notes=shown_notes,
        )
    return Proposal(dep, str(current), tuple(updates), notes=shown_notes)


def _current(scheme: _Scheme[V], dep: Dependency, releases: _InOrder[V]) -> V | None:
    if dep.locked and (locked := scheme.parse(dep.locked)) is not None:
        return locked
    pinned = scheme.pinned(dep)
    if pinned is not None:
        return pinned
    if not dep.constraint.strip():
        return None
    # A range without a lockfile: the newest stable release it admits is what an install gets today.
    for c in releases.newest_first():
        if not c.release.yanked and not scheme.is_prerelease(c.version) and scheme.admits(dep, c.version):
            return c.version
    if dep.ecosystem is Ecosystem.PYTHON:
        floor = current_version(dep.constraint, _style(dep))  # type: ignore[arg-type]
        return scheme.parse(floor) if floor else None
    return None


Check = Callable[[_Candidate[V]], str | None]


def _acceptance(
    scheme: _Scheme[V], dep: Dependency, project: Project, policy: Policy, current: V, latest: V | None
) -> list[Check[V]] | str:
    """The checks a newer release must pass, each returning why it fails (or None)."""
    checks: list[Check[V]] = []
    if latest is not None and not current > latest:  # type: ignore[operator]
        checks.append(lambda c: f"above the latest dist-tag {latest}" if c.version > latest else None)  # type: ignore[operator]
    # A prerelease in use moves within its prerelease line (2.0.0-alpha.19 -> 2.0.0-beta.2, as npm's ranges do),
    # never to another line's prerelease; once its line has a stable release that is newer anyway.
    line_of_current = scheme.core(current) if scheme.is_prerelease(current) else None
    checks.append(
        lambda c: (
            None if not scheme.is_prerelease(c.version) or scheme.core(c.version) == line_of_current else "prerelease"
        )
    )
    checks.append(
        lambda c: (
            f"yanked{': ' + c.release.yanked_reason if c.release.yanked_reason else ''}" if c.release.yanked else None
        )
    )
    checks.append(lambda c: f"deprecated: {c.release.deprecated}" if c.release.deprecated else None)
    if policy.min_release_age > timedelta(0):
        cutoff = policy.now - policy.min_release_age

        def old_enough(c: _Candidate[V]) -> str | None:
            if c.release.published is None or c.release.published <= cutoff:
                return None
            age = policy.now - c.release.published
            return f"younger than min_release_age {_days(policy.min_release_age)} (released {_days(age)} ago)"

        checks.append(old_enough)
    if dep.ecosystem is Ecosystem.PYTHON:
        target = python_target(project.requires_python, dep.marker, policy.python_runtime)
        if target.excluded:
            return f"never installed: {target.because}"
        checks.append(
            lambda c: (
                None
                if python_supported(c.release.requires_python, target)
                else f"requires Python {c.release.requires_python}; {target.because} needs {target.version}"
            )
        )
    else:
        node = node_target(project.engines_node, policy.node_runtime)
        because = f"runtime.node {policy.node_runtime}" if policy.node_runtime else "engines.node"
        checks.append(
            lambda c: (
                None
                if node_supported(c.release.engines_node, node)
                else f"requires Node {c.release.engines_node}; {because} needs {node}"
            )
        )
    return checks


def _accepted(checks: list[Check[V]], candidate: _Candidate[V], notes: list[tuple[V, str]]) -> bool:
    for check in checks:
        why = check(candidate)
        if why is not None:
            if why != "prerelease":  # prereleases are skipped silently, as every tool does
                notes.append((candidate.version, why))
            return False
    return True


def _relevant(
    notes: list[tuple[V, str]], scheme: _Scheme[V], current: V, within: V | None, beyond: V | None
) -> tuple[str, ...]:
    """Notes a maintainer needs: versions newer than what is offered in their bucket (the current line, or the
    majors beyond it), grouped by reason so a run of releases held back for one cause is one line."""
    line = scheme.line(current)
    groups: dict[str, list[str]] = {}
    for version, why in sorted(notes, key=lambda n: n[0], reverse=True):  # type: ignore[arg-type, return-value]
        best = within if scheme.line(version) == line else beyond
        if best is None or version > best:  # type: ignore[operator]
            groups.setdefault(why, []).append(str(version))
    shown = []
    for why, versions in list(groups.items())[:3]:
        listed = ", ".join(versions[:3]) + (f" and {len(versions) - 3} more" if len(versions) > 3 else "")
        shown.append(f"{listed}: {why}")
    return tuple(shown)


def _update(
    scheme: _Scheme[V],
    dep: Dependency,
    project: Project,
    policy: Policy,
    current: V,
    pick: _Candidate[V],
    notes: list[tuple[V, str]],
) -> Update | None:
    version = pick.release.version
    strategy = _strategy(scheme, dep, project, policy, pick.version)
    try:
        constraint = scheme.rewrite(dep, version, strategy)
    except (ConstraintRewriteError, RangeRewriteError) as e:
        notes.append((pick.version, f"cannot rewrite {dep.constraint!r} ({e})"))
        return None
    if constraint is None and not project.has_lockfile:
        # The constraint already admits the version and no lockfile records what is installed: nothing to do.
        return None
    return Update(
        version=version,
        constraint=constraint,
        update_type=scheme.update_type(current, pick.version),
        is_major=scheme.line(pick.version) != scheme.line(current),
        strategy=strategy,
        published=pick.release.published,
    )


def _strategy(scheme: _Scheme[V], dep: Dependency, project: Project, policy: Policy, version: V) -> Strategy:
    if policy.range_strategy != "auto":
        return policy.range_strategy
    # auto, like Renovate's: peers widen (consumers keep older versions), pins stay pins, a range that already
    # admits the version only moves the lockfile when there is one, anything else bumps its floor.
    if dep.role is Role.PEER:
        return "widen"
    if scheme.is_exact(dep):
        return "pin"
    if _forces_versions(dep):  # an override's range is what decides: a lockfile-only move would not hold
        return "bump"
    if project.has_lockfile and scheme.admits(dep, version):
        return "lockfile-only"
    return "bump"


def _forces_versions(dep: Dependency) -> bool:
    """An npm ``overrides`` / yarn ``resolutions`` / pnpm ``overrides`` entry (package.json or workspace file)."""
    section = dep.location.section
    return dep.ecosystem is Ecosystem.NPM and section.split(".", 1)[0] in ("overrides", "resolutions", "pnpm")


def _days(delta: timedelta) -> str:
    days = round(delta.total_seconds() / 86400)
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = round(delta.total_seconds() / 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"
