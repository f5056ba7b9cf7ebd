"""The planner: plan items and a config in, a phased plan out. Pure: no I/O, no clock.

1. Ignore rules (the config's and those depup keeps for closed PRs and rollbacks) drop items, listed with why.
2. Each item goes to the first phase whose ``match`` accepts it; items no phase accepts are listed as unplaced.
   A security update (it fixes a known vulnerability) goes to the first phase in a PR of its own, titled
   ``[security] ...``; with ``security.block_new`` an update whose target has known vulnerabilities is left out.
3. Within a phase, a dependency entry gets one update: the one within its release line. A major of the same
   entry would edit the same line in a second open PR, so it is deferred until the in-line update merges.
4. Within a phase, items raising requires-python (``bot.plan.floor``) form a PR of their own; items matching a
   config group form that group's PR; otherwise high-risk items get a PR per package, and the rest one PR per
   ecosystem.
5. Gates per PR: approvals needed = max(phase approvals, approvals for the PR's risk level); automerge when
   the phase allows it (or ``automerge.enabled`` when the phase does not say) and the risk is at most
   ``automerge.max_risk``.
6. The current phase is the first with work; its PRs open in order (security first, then lowest risk) up to
   ``max_open_prs`` minus the PRs already open.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bot.deps.npm import semver
from bot.plan.model import FLOOR_NAME, Plan, PlanGroup, PlanItem, PlanPhase, Skipped, riskiest
from bot.plan.together import ItemKey, key_of
from config.globs import glob_matches
from config.model import RISK_LEVELS, Config, Group, IgnoreRule, Match, Phase

_ECOSYSTEM_WORD = {"python": "Python", "npm": "npm"}
_PEP503 = re.compile(r"[-_.]+")


def build_plan(
    items: Sequence[PlanItem],
    config: Config,
    *,
    extra_ignores: Sequence[IgnoreRule] = (),
    open_prs: int = 0,
    problems: Sequence[str] = (),
    splits: Mapping[str, Sequence[Sequence[str]]] | None = None,
    together: Sequence[frozenset[ItemKey]] = (),
) -> Plan:
    """``splits``: for a group key, the package sets its pull request was split into to find a CI culprit.
    ``together``: sets of items (``bot.plan.together``) that share one phase and one pull request, and are held
    back together when one of them is."""
    partners = _Partners(together)
    ignored: list[Skipped] = []
    kept: list[PlanItem] = []
    rules = [*config.ignore, *extra_ignores]
    for item in sorted(items, key=_item_order):
        rule = next((r for r in rules if ignores(r, item)), None)
        if rule is not None:
            ignored.append(Skipped(item, _ignore_reason(rule)))
        elif item.vulnerable and config.security.block_new:
            ids = ", ".join(v.id for v in item.vulnerable)
            ignored.append(Skipped(item, f"{item.target} has known vulnerabilities ({ids}): security.block_new"))
        elif patch := next((d.patched for d in item.dependencies if d.patched), None):
            ignored.append(Skipped(item, f"patched by {patch}: the patch must be moved to {item.target} too"))
        else:
            kept.append(item)
    kept, held = partners.hold(kept, ignored, "ignored")
    ignored.extend(held)

    by_phase: dict[str, list[PlanItem]] = {phase.name: [] for phase in config.phases}
    unplaced: list[Skipped] = []
    placed: dict[ItemKey, int] = {}
    for item in kept:
        # A security update jumps ahead: the first phase takes it, whatever its own phase would be.
        phase = config.phases[0] if item.risk.security and config.phases else None
        phase = phase or next((p for p in config.phases if matches(p.match, item)), None)
        if phase is None:
            unplaced.append(Skipped(item, "no phase matches it"))
        else:
            placed[key_of(item)] = config.phases.index(phase)
    kept, held = partners.hold([i for i in kept if key_of(i) in placed], unplaced, "not planned")
    unplaced.extend(held)
    for item in kept:
        by_phase[config.phases[partners.phase(item, placed)].name].append(item)

    phases = []
    deferred: list[Skipped] = []
    for index, phase in enumerate(config.phases, start=1):
        newest, later = _one_per_dependency(by_phase[phase.name])
        newest, held = partners.hold(newest, later, "waiting")
        deferred.extend([*later, *held])
        phases.append(
            PlanPhase(
                index=index,
                name=phase.name,
                title=phase.title,
                approvals=phase.approvals,
                automerge=phase.automerge,
                groups=tuple(_split(_groups(phase, index, newest, config, partners), splits or {}, partners)),
            )
        )
    current = next((p for p in phases if p.groups), None)
    ordered = sorted(current.groups, key=_open_order) if current else []
    room = max(config.max_open_prs - open_prs, 0)
    opening = tuple(g.key for g in ordered[:room])
    waiting = tuple(g.key for g in ordered[room:])
    plan = Plan(
        id="",
        phases=tuple(phases),
        current_phase=current.name if current else None,
        opening=opening,
        waiting=waiting,
        ignored=tuple(ignored),
        unplaced=tuple(unplaced),
        deferred=tuple(deferred),
        problems=tuple(problems),
    )
    return replace(plan, id=plan_id(plan))


def matches(match: Match, item: PlanItem) -> bool:
    if match.ecosystems and item.ecosystem not in match.ecosystems:
        return False
    if match.dependency_types and item.role not in match.dependency_types:
        return False
    if match.update_types and item.update_type not in match.update_types:
        return False
    if match.packages and not package_matches(match.packages, item):
        return False
    if match.risk and item.risk.level not in match.risk:
        return False
    return match.core is None or match.core == item.core


def ignores(rule: IgnoreRule, item: PlanItem) -> bool:
    if rule.ecosystems and item.ecosystem not in rule.ecosystems:
        return False
    if not package_matches(rule.packages, item):
        return False
    if rule.update_types and item.update_type not in rule.update_types:
        return False
    if rule.versions and item.update_type != "lockfile":
        return any(_in_range(item.ecosystem, item.target, spec) for spec in rule.versions)
    return True


def package_matches(patterns: Sequence[str], item: PlanItem) -> bool:
    """Package globs; for Python both sides are compared as PEP 503 names (``Django``, ``typing_extensions``)."""
    if item.ecosystem == "python":
        patterns = [_PEP503.sub("-", p.lower()) for p in patterns]
    return glob_matches(patterns, item.package)


def _in_range(ecosystem: str, version: str, spec: str) -> bool:
    if ecosystem == "npm":
        return semver.satisfies(version, spec, loose=True, include_prerelease=True)
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return False  # the loader rejects such ranges; an unreadable one ignores nothing


def _ignore_reason(rule: IgnoreRule) -> str:
    what = ", ".join(rule.packages)
    if rule.versions:
        what += f" {' || '.join(rule.versions)}"
    if rule.update_types:
        what += f" ({'/'.join(rule.update_types)} updates)"
    return f"ignored by rule {what}" + (f": {rule.reason}" if rule.reason else "")


def _item_order(item: PlanItem) -> tuple[str, str, str, str]:
    return (item.ecosystem, item.package, item.target, item.current)


def _one_per_dependency(items: list[PlanItem]) -> tuple[list[PlanItem], list[Skipped]]:
    """Within one phase, a dependency entry gets one update: the one within its release line. A major of the
    same entry would edit the same line in a second open PR; it is deferred, and the next scan after the
    in-line update merges proposes it from the new version."""
    in_line: dict[tuple[str, int], PlanItem] = {}
    for item in items:
        if item.update_type != "major":
            for dep in item.dependencies:
                in_line.setdefault((dep.location.file, dep.location.start), item)
    kept: list[PlanItem] = []
    deferred: list[Skipped] = []
    for item in items:
        first = next(
            (
                in_line[where]
                for d in item.dependencies
                if (where := (d.location.file, d.location.start)) in in_line and in_line[where] is not item
            ),
            None,
        )
        if item.update_type == "major" and first is not None:
            deferred.append(Skipped(item, f"after {first.name} {first.target} of this phase is merged"))
        else:
            kept.append(item)
    notes = {id(first): s.item for s in deferred for first in kept if _same_entries(first, s.item)}
    kept = [
        replace(i, notes=(*i.notes, f"next: {notes[id(i)].target} ({notes[id(i)].update_type})"))
        if id(i) in notes
        else i
        for i in kept
    ]
    return kept, deferred


def _same_entries(a: PlanItem, b: PlanItem) -> bool:
    where = {(d.location.file, d.location.start) for d in a.dependencies}
    return any((d.location.file, d.location.start) in where for d in b.dependencies)


def _groups(phase: Phase, index: int, items: list[PlanItem], config: Config, partners: _Partners) -> list[PlanGroup]:
    own: dict[ItemKey, tuple[str, str, str]] = {}
    for item in items:
        group = next((g for g in config.groups if matches(g.match, item)), None)
        if item.is_floor:
            bucket = ("floor", item.ecosystem, FLOOR_NAME)  # raising requires-python is a change of its own
        elif item.risk.security:
            bucket = ("security", item.ecosystem, item.package)  # security fixes travel alone, to land first
        elif group is not None:
            bucket = ("group", item.ecosystem, group.name)
        elif item.risk.level == "high" and item.update_type != "lockfile":
            bucket = ("package", item.ecosystem, item.package)
        else:
            bucket = ("phase", item.ecosystem, phase.name)
        own[key_of(item)] = bucket
    buckets: dict[tuple[str, str, str], list[PlanItem]] = {}
    for item in items:
        # Items that move together share the pull request of the first of them by kind: a security fix, a
        # config group, a package of its own (named for the first package), the phase's.
        mates = [k for k in partners.of(key_of(item)) if k in own] or [key_of(item)]
        bucket = min((own[k] for k in mates), key=lambda b: (_BUCKET_ORDER.index(b[0]), b[2]))
        buckets.setdefault(bucket, []).append(item)
    groups = [
        _group(phase, index, kind, ecosystem, name, members, config, _config_group(config.groups, name, kind))
        for (kind, ecosystem, name), members in buckets.items()
    ]
    return sorted(groups, key=lambda g: g.key)


def _config_group(groups: Sequence[Group], name: str, kind: str) -> Group | None:
    return next((g for g in groups if g.name == name), None) if kind == "group" else None


def _group(
    phase: Phase,
    index: int,
    kind: str,
    ecosystem: str,
    name: str,
    items: list[PlanItem],
    config: Config,
    group: Group | None,
) -> PlanGroup:
    top = riskiest(items)
    level = top.risk.level
    if kind == "phase":
        slug = phase.name
    elif kind == "group":
        slug = f"{phase.name}-{name}"
    elif kind == "security":
        slug = "security-" + _slug(name)
    elif kind == "floor":
        slug = FLOOR_NAME
    else:
        slug = _slug(name)
    automerge = phase.automerge if phase.automerge is not None else config.automerge.enabled
    automerge = automerge and RISK_LEVELS.index(level) <= RISK_LEVELS.index(config.automerge.max_risk)
    return PlanGroup(
        key=f"{ecosystem}/{slug}",
        phase=phase.name,
        ecosystem=ecosystem,
        kind=kind,
        title=_title(kind, index, ecosystem, name, items, level, config),
        branch=f"depup/{ecosystem}/{slug}",
        items=tuple(sorted(items, key=_item_order)),
        risk=level,
        score=top.risk.score,
        approvals=max(phase.approvals, config.approvals.required(level)),
        automerge=automerge,
        security=any(i.risk.security for i in items),
    )


def _split(
    groups: list[PlanGroup], splits: Mapping[str, Sequence[Sequence[str]]], partners: _Partners
) -> list[PlanGroup]:
    """Replace each split group by one group per part (named by its packages, so names survive further
    splits of other parts); items no part names stay in the group under its own name. Items that move
    together stay in one part."""
    out: list[PlanGroup] = []
    for group in groups:
        parts = splits.get(group.key)
        if not parts:
            out.append(group)
            continue
        placed: set[str] = set()
        for packages in parts:
            wanted = {p for i in group.items if i.package in set(packages) for p in partners.packages(i)}
            members = tuple(i for i in group.items if i.package in wanted and i.package not in placed)
            if not members:
                continue
            placed.update(i.package for i in members)
            suffix = "split-" + hashlib.sha1(",".join(sorted(packages)).encode(), usedforsecurity=False).hexdigest()[:7]
            top = riskiest(members)
            names = ", ".join(i.name for i in members[:3]) + (
                f" and {len(members) - 3} more" if len(members) > 3 else ""
            )
            title = (
                f"Upgrade {members[0].name} from {members[0].current} to {members[0].target}"
                if len(members) == 1
                else f"Upgrade {names}"
            )
            out.append(
                replace(
                    group,
                    key=f"{group.key}-{suffix}",
                    branch=f"{group.branch}-{suffix}",
                    kind="split",
                    title=f"{title} (split of {group.title})",
                    items=members,
                    risk=top.risk.level,
                    score=top.risk.score,
                    security=any(i.risk.security for i in members),
                )
            )
        rest = tuple(i for i in group.items if i.package not in placed)
        if rest:
            out.append(replace(group, items=rest))
    return sorted(out, key=lambda g: g.key)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower().lstrip("@")).strip("-.") or "package"


def _title(kind: str, index: int, ecosystem: str, name: str, items: list[PlanItem], level: str, config: Config) -> str:
    if kind == "floor":
        title = _floor_title(items)
    elif len(items) == 1 and items[0].update_type != "lockfile":
        item = items[0]
        title = f"Upgrade {item.name} from {item.current} to {item.target}"
    elif all(i.update_type == "lockfile" for i in items):
        title = f"Phase {index}: {_ECOSYSTEM_WORD[ecosystem]} lockfile maintenance"
    elif kind == "group":
        title = f"Upgrade {name} ({len(items)} packages)"
    elif kind in ("package", "security"):  # packages that move together
        targets = {i.target for i in items}
        names = ", ".join(i.name for i in items[:-1]) + f" and {items[-1].name}"
        title = f"Upgrade {names} to {items[0].target}" if len(targets) == 1 else f"Upgrade {names} together"
    else:
        title = f"Phase {index}: {len(items)} {level}-risk {_ECOSYSTEM_WORD[ecosystem]} upgrades"
    if any(i.risk.security for i in items):
        title = f"[security] {title}"
    if config.commit_style == "conventional":
        scope = "deps-dev" if all(i.role in ("dev", "build") for i in items) else "deps"
        title = f"chore({scope}): {title[0].lower()}{title[1:]}"
    return title


def _floor_title(items: list[PlanItem]) -> str:
    entries = [
        (d.location.file, d.constraint, i.constraint_for(n)) for i in items for n, d in enumerate(i.dependencies)
    ]
    files = {file for file, _, _ in entries}
    if len(files) == 1:
        _, old, new = entries[0]
        return f"Raise requires-python from {old} to {new}"
    return f"Raise requires-python of {len(files)} projects"


_BUCKET_ORDER = ("floor", "security", "group", "package", "phase")


class _Partners:
    """The sets of items that move together, asked by item."""

    def __init__(self, together: Sequence[frozenset[ItemKey]]) -> None:
        self._set: dict[ItemKey, frozenset[ItemKey]] = {k: s for s in together for k in s}

    def of(self, key: ItemKey) -> frozenset[ItemKey]:
        return self._set.get(key, frozenset((key,)))

    def packages(self, item: PlanItem) -> set[str]:
        return {package for _, package, _, _ in self.of(key_of(item))}

    def phase(self, item: PlanItem, placed: Mapping[ItemKey, int]) -> int:
        """The phase of a set: the first when one member fixes a vulnerability, else the latest of its members'
        (the stricter gates apply to all)."""
        indexes = [placed[k] for k in self.of(key_of(item)) if k in placed]
        return 0 if item.risk.security else max(indexes)

    def hold(self, items: list[PlanItem], left: Sequence[Skipped], what: str) -> tuple[list[PlanItem], list[Skipped]]:
        """Items whose partner was left out (ignored, not planned, waiting) are left out with it."""
        gone = {key_of(s.item): s for s in left}
        kept: list[PlanItem] = []
        held: list[Skipped] = []
        for item in items:
            partner = next((gone[k] for k in sorted(self.of(key_of(item))) if k in gone), None)
            if partner is None:
                kept.append(item)
            else:
                other = partner.item
                held.append(Skipped(item, f"moves together with {other.name} {other.target}, which is {what}"))
        if held:  # holding one can hold its partners in turn
            more_kept, more_held = self.hold(kept, [*left, *held], what)
            return more_kept, [*held, *more_held]
        return kept, held


def _open_order(group: PlanGroup) -> tuple[bool, int, int, str]:
    return (not group.security, RISK_LEVELS.index(group.risk), group.score, group.key)


def plan_id(plan: Plan) -> str:
    """A digest of what would be pushed and how it is gated (not of explanations or problems)."""
    shape = [
        [
            phase.name,
            [
                [
                    g.key,
                    g.title,
                    g.risk,
                    g.approvals,
                    g.automerge,
                    [
                        [i.ecosystem, i.package, i.current, i.target, i.update_type, list(i.files), _edits(i)]
                        for i in g.items
                    ],
                ]
                for g in phase.groups
            ],
        ]
        for phase in plan.phases
    ]
    digest = hashlib.sha256(json.dumps([shape, plan.opening], separators=(",", ":")).encode()).hexdigest()
    return digest[:16]


def _edits(item: PlanItem) -> list[list[object]]:
    return [
        [d.location.file, d.location.start, d.constraint, item.constraint_for(n)]
        for n, d in enumerate(item.dependencies)
    ]
