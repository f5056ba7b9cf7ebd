"""The phased plan: which upgrades go into which pull request, in which order, under which gates.

Frozen values only; ``bot.plan.build`` makes them, renderers and the PR lifecycle read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.breaking.model import Breakage
from bot.deps.model import Dependency
from bot.deps.proposals import Update
from bot.risk.model import Assessment, Vulnerability
from config.model import RISK_LEVELS, RiskLevel, UpdateKind

FLOOR_PACKAGE = "python"  # the package of an item that raises a project's requires-python (``bot.plan.floor``)
FLOOR_NAME = "requires-python"


@dataclass(frozen=True)
class PlanItem:
    """One upgrade of one package from one version to another, in every dependency entry that has it.

    Lockfile maintenance is an item too: ``update_type == "lockfile"``, ``package`` is the lockfile's path,
    ``dependencies`` is empty and ``update`` is None.
    """

    ecosystem: str
    package: str  # canonical key (PEP 503 name, npm name) or the lockfile path
    name: str  # as written in the first manifest
    current: str
    target: str
    update_type: UpdateKind
    role: str
    core: bool
    risk: Assessment
    dependencies: tuple[Dependency, ...] = ()
    update: Update | None = None
    files: tuple[str, ...] = ()  # manifests (and lockfiles) the upgrade changes
    links: tuple[tuple[str, str], ...] = ()  # (kind, url): release_notes, changelog, source, homepage
    notes: tuple[str, ...] = ()  # e.g. newer versions held back, an in-line update superseded by a major
    fixes: tuple[Vulnerability, ...] = ()  # known vulnerabilities of the current version the target fixes
    vulnerable: tuple[Vulnerability, ...] = ()  # known vulnerabilities of the target itself
    breakage: Breakage | None = None  # the API diff and the code's uses of it (None: not analysed by policy)
    # The new text of each dependency entry when they differ (a Python floor: requires-python ``>=3.10`` and
    # Poetry's ``^3.10``); empty: ``update.constraint`` for all.
    constraints: tuple[str, ...] = ()

    @property
    def is_floor(self) -> bool:
        """Raises the project's requires-python (``bot.plan.floor``) rather than a package."""
        return self.ecosystem == "python" and self.package == FLOOR_PACKAGE and self.name == FLOOR_NAME

    def constraint_for(self, index: int) -> str | None:
        """The new constraint of ``dependencies[index]``."""
        if self.constraints:
            return self.constraints[index]
        return self.update.constraint if self.update else None

    @property
    def change(self) -> str:
        return "refresh" if self.update_type == "lockfile" else f"{self.current} -> {self.target}"


def riskiest(items: Sequence[PlanItem]) -> PlanItem:
    """The item that sets a group's risk: highest level, then highest score."""
    return max(items, key=lambda i: (RISK_LEVELS.index(i.risk.level), i.risk.score))


@dataclass(frozen=True)
class PlanGroup:
    """One pull request."""

    key: str  # unique in the plan, also the branch suffix: "<ecosystem>/<slug>"
    phase: str
    ecosystem: str
    kind: str  # "phase" (the phase's own PR per ecosystem), "group" (config groups), "package" (high risk)
    title: str
    branch: str
    items: tuple[PlanItem, ...]
    risk: RiskLevel  # the riskiest item's level
    score: int  # the riskiest item's score
    approvals: int  # approvals needed before it may merge
    automerge: bool  # may merge itself once CI is green (and approvals are in)
    security: bool = False  # some item fixes a known vulnerability


@dataclass(frozen=True)
class PlanPhase:
    index: int  # 1-based
    name: str
    title: str
    approvals: int  # the phase's minimum; groups may need more for their risk
    automerge: bool | None  # the phase's setting (None: as automerge.enabled)
    groups: tuple[PlanGroup, ...]


@dataclass(frozen=True)
class Skipped:
    item: PlanItem
    reason: str  # why it is not in the plan: an ignore rule, no phase matches, outside the directories


@dataclass(frozen=True)
class Plan:
    id: str  # stable: the same upgrades, grouping and gates give the same id
    phases: tuple[PlanPhase, ...]  # every configured phase, in order, empty ones included
    current_phase: str | None  # the first phase with work, None when there is nothing to do
    opening: tuple[str, ...]  # keys of the current phase's groups that fit within max_open_prs
    waiting: tuple[str, ...]  # keys of the current phase's groups held back by max_open_prs
    ignored: tuple[Skipped, ...]
    unplaced: tuple[Skipped, ...]
    deferred: tuple[Skipped, ...] = ()  # majors that wait for the in-line update of the same entry
    problems: tuple[str, ...] = ()  # files or lookups that failed, shown to maintainers
    unread: tuple[str, ...] = ()  # "path: why" of every managed dependency file depup saw but could not read
    unknown: tuple[str, ...] = ()  # "name (file): why" of dependencies whose version in use is unknown
    not_managed: tuple[str, ...] = ()  # "path: why" of manifests depup read but leaves alone
    notes: tuple[str, ...] = ()  # what depup could do if the config let it (raising requires-python)

    def group(self, key: str) -> PlanGroup | None:
        return next((g for p in self.phases for g in p.groups if g.key == key), None)

    @property
    def groups(self) -> tuple[PlanGroup, ...]:
        return tuple(g for p in self.phases for g in p.groups)
