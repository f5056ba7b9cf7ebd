"""Raising a project's Python floor: the lowest ``requires-python`` that unlocks the updates it alone holds back.

A ``pyproject.toml`` that writes its own requires-python (``Manifest.python_floor``) holds back releases that
need a newer Python (``bot.deps.versions``: "requires Python >=3.9; requires-python >=3.8 needs 3.8"). For such
a project, its dependencies are chosen again as if the project required no Python (markers still apply): the
updates offered then and not now are the held-back ones, and the floor is the highest of their lowest supported
Pythons, never above the Python the project is known to run (config ``runtime.python``, else its
``.python-version``, ``.tool-versions`` or Dockerfile ``FROM``). Chosen again under that floor, the updates it
really unlocks are what the proposal names; when it unlocks nothing there is no proposal.

The specifier keeps its shape: ``>=3.8`` -> ``>=3.10``, ``>=3.8,<4`` -> ``>=3.10,<4``, ``~=3.8`` -> ``~=3.10``,
Poetry's ``^3.8`` -> ``^3.10``; ``>3.7`` becomes ``>=3.10`` and a specifier with no lower bound (``<4``) gets
one. A project pinned to one Python line (``==3.8.*``) or with alternatives (``^3.8 || ^4``) is not raised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from packaging.version import InvalidVersion, Version

from bot.deps.model import Dependency, Ecosystem, Manifest, PackageInfo, Release
from bot.deps.proposals import Proposal
from bot.deps.python import allows
from bot.deps.python.errors import ConstraintRewriteError
from bot.deps.registry.failures import LookupFailure
from bot.deps.versions import Chooser, Policy, Project

PEP621_FLOOR = "project.requires-python"
_MINORS = tuple(f"3.{minor}" for minor in range(0, 30))
_CLAUSE = re.compile(
    r"^(?P<lead>\s*)(?P<op>===|==|~=|!=|<=|>=|<|>|\^|~|=)?(?P<gap>\s*)(?P<version>[0-9][^\s,]*)(?P<trail>\s*)$"
)


@dataclass(frozen=True)
class FloorProposal:
    """Raising one project's requires-python from ``current`` to ``target`` (Python minors, "3.8" -> "3.10")."""

    manifest: str
    entries: tuple[Dependency, ...]  # where requires-python is written (``Manifest.python_floor``)
    constraints: tuple[str, ...]  # the new specifier of each entry, in the same order
    current: str
    target: str
    dropped: tuple[str, ...]  # Python versions the current specifier admits and the new one does not
    unlocks: tuple[tuple[str, str], ...]  # (dependency as written, the newest version the new floor allows)
    capped: str | None = None  # what keeps the floor lower than every held-back release needs ("runtime.python 3.11")
    still_held: tuple[tuple[str, str], ...] = ()  # (dependency, version) still needing a Python above the cap

    def unlocks_text(self) -> str:
        return ", ".join(f"{name} {version}" for name, version in self.unlocks)


def style_of(entry: Dependency) -> str:
    return "poetry" if entry.location.section.startswith("tool.poetry") else "pep440"


def lowest_python(spec: str | None, style: str = "pep440") -> str | None:
    """The lowest Python 3 minor (``"3.9"``) that ``spec`` admits (``3.X.0`` or a later patch), else None."""
    if not spec or not spec.strip():
        return None
    try:
        for minor in _MINORS:
            if any(allows(spec, f"{minor}.{patch}", style) for patch in (0, 99)):  # type: ignore[arg-type]
                return minor
    except ConstraintRewriteError:
        return None
    return None


def raise_spec(spec: str, floor: str, style: str = "pep440") -> str | None:
    """``spec`` with its lower bound raised to ``floor`` ("3.10"), keeping its shape; None when it cannot be."""
    if "|" in spec:
        return None
    clauses = []
    bounded = False
    for clause in spec.split(",") if spec.strip() else []:
        match = _CLAUSE.match(clause)
        if match is None:
            return None
        lead, op, gap, version, trail = (match.group(g) or "" for g in ("lead", "op", "gap", "version", "trail"))
        if op in (">=", ">"):
            clause, bounded = f"{lead}>={gap}{floor}{trail}", True
        elif op in ("~=", "^", "~"):
            extra = max(len(version.split(".")) - 2, 0)  # ~=3.8.1 pins a minor line: ~=3.10.0 keeps doing so
            clause, bounded = f"{lead}{op}{gap}{'.'.join([floor, *['0'] * extra])}{trail}", True
        elif op not in ("<", "<=", "!="):
            return None  # ==, ===, a bare version: one Python line, not a floor
        clauses.append(clause)
    text = ",".join(clauses)
    if not bounded:
        text = f">={floor}" + (f", {text.strip()}" if text.strip() else "")
    return text if lowest_python(text, style) == floor else None


def dropped_pythons(old: str, new: str, style: str = "pep440") -> tuple[str, ...]:
    """The Python 3 minors ``old`` admits and ``new`` does not ("3.8", "3.9")."""
    try:
        return tuple(
            minor
            for minor in _MINORS
            if any(allows(old, f"{minor}.{p}", style) for p in (0, 99))  # type: ignore[arg-type]
            and not any(allows(new, f"{minor}.{p}", style) for p in (0, 99))  # type: ignore[arg-type]
        )
    except ConstraintRewriteError:
        return ()


def propose_floors(
    manifests: Iterable[Manifest],
    proposals: Sequence[Proposal],
    packages: Mapping[tuple[Ecosystem, str], PackageInfo | LookupFailure],
    policy: Policy,
    left_out: Iterable[str] = (),
) -> tuple[FloorProposal, ...]:
    """One proposal per managed pyproject.toml whose requires-python alone holds back some update."""
    skipped = set(left_out)
    by_file: dict[str, list[Proposal]] = {}
    for proposal in proposals:
        by_file.setdefault(proposal.dependency.location.file, []).append(proposal)
    found = []
    for manifest in manifests:
        if manifest.path in skipped or manifest.runtime_evidence is not None:
            continue
        if not manifest.python_floor or manifest.python_floor[0].location.section != PEP621_FLOOR:
            continue  # the chooser reads [project] requires-python: without it located, nothing to raise
        floor = _floor(manifest, by_file.get(manifest.path, []), packages, policy)
        if floor is not None:
            found.append(floor)
    return tuple(found)


def _floor(
    manifest: Manifest,
    proposals: Sequence[Proposal],
    packages: Mapping[tuple[Ecosystem, str], PackageInfo | LookupFailure],
    policy: Policy,
) -> FloorProposal | None:
    entries = manifest.python_floor
    style = style_of(entries[0])
    current = lowest_python(entries[0].constraint, style)
    if current is None:
        return None
    free = Chooser(replace(policy, python_runtime=None))
    unpinned = Project(None, None, manifest.lockfile is not None)
    held: list[tuple[Proposal, PackageInfo, str, str]] = []  # proposal, info, held-back version, its lowest Python
    for proposal in proposals:
        dep = proposal.dependency
        info = packages.get((dep.ecosystem, dep.key))
        if not isinstance(info, PackageInfo) or proposal.current is None:
            continue
        offered = {u.version for u in proposal.updates}
        for update in free.choose(dep, info, unpinned).updates:
            release = _release(info, update.version)
            need = lowest_python(release.requires_python) if release is not None else None
            if update.version not in offered and need is not None and _minor(need) > _minor(current):
                held.append((proposal, info, update.version, need))
    if not held:
        return None
    target = max((need for *_, need in held), key=_minor)
    cap, capped = _cap(manifest, policy)
    if cap is not None and _minor(target) > _minor(cap):
        target = cap
    else:
        capped = None
    if _minor(target) <= _minor(current):
        return None
    constraints = tuple(raise_spec(e.constraint, target, style_of(e)) for e in entries)
    if any(c is None for c in constraints):
        return None
    written = tuple(c for c in constraints if c is not None)
    raised = Project(written[0], None, manifest.lockfile is not None)
    chooser = Chooser(policy)
    unlocks: dict[str, str] = {}  # dependency -> the newest version unlocked (``_minor`` orders any PEP 440 text)
    for proposal in dict.fromkeys(p for p, *_ in held):
        dep = proposal.dependency
        info = packages[(dep.ecosystem, dep.key)]
        assert isinstance(info, PackageInfo)
        offered = {u.version for u in proposal.updates}
        newly = [u.version for u in chooser.choose(dep, info, raised).updates if u.version not in offered]
        if newly:
            known = [unlocks[dep.name]] if dep.name in unlocks else []
            unlocks[dep.name] = max([*newly, *known], key=_minor)
    if not unlocks:
        return None
    still = tuple(
        dict.fromkeys((p.dependency.name, version) for p, _, version, need in held if _minor(need) > _minor(target))
    )
    return FloorProposal(
        manifest=manifest.path,
        entries=entries,
        constraints=written,
        current=current,
        target=target,
        dropped=dropped_pythons(entries[0].constraint, written[0], style),
        unlocks=tuple(sorted(unlocks.items())),
        capped=capped,
        still_held=still,
    )


def _cap(manifest: Manifest, policy: Policy) -> tuple[str | None, str | None]:
    """The highest floor the project's runtime allows, and what says so (config first, then its files)."""
    if policy.python_runtime:
        minor = ".".join(policy.python_runtime.strip().split(".")[:2])
        return minor, f"runtime.python {policy.python_runtime}"
    if manifest.runtime_python is not None:
        return manifest.runtime_python
    return None, None


def _release(info: PackageInfo, version: str) -> Release | None:
    return next((r for r in info.releases if r.version == version), None)


def _minor(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")
