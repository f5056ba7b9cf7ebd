"""Phased upgrade plans: plan items with their risk (``items``), the planner (``build``), renderers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.deps.model import Manifest
from bot.deps.proposals import StrategySetting
from bot.deps.registry.failures import LookupFailure
from bot.deps.survey import Survey
from bot.deps.versions import Policy
from bot.plan.build import build_plan
from bot.plan.floor import floor_items, floor_notes
from bot.plan.items import Sources, in_scope, not_managed, plan_items
from bot.plan.model import Plan, PlanGroup, PlanItem, PlanPhase, Skipped
from bot.plan.together import ItemKey, Link, key_of, links, sets
from config.model import Config, IgnoreRule

__all__ = [
    "Plan",
    "PlanGroup",
    "PlanItem",
    "PlanPhase",
    "Skipped",
    "Sources",
    "make_plan",
    "policy_for",
    "scope_for",
    "survey_problems",
]


def policy_for(
    config: Config,
    now: datetime,
    *,
    range_strategy: StrategySetting | None = None,
    min_release_age: timedelta | None = None,
) -> Policy:
    """The version-choice policy of a configuration (``range_strategy``/``min_release_age`` override it)."""
    return Policy(
        range_strategy=range_strategy or config.range_strategy,
        min_release_age=config.min_release_age if min_release_age is None else min_release_age,
        now=now,
        node_runtime=config.runtime.node,
        python_runtime=config.runtime.python,
    )


def scope_for(config: Config) -> Callable[[Manifest], str | None]:
    """Why the config leaves a manifest unmanaged (None when it manages it), for ``survey(scope=...)``."""
    return lambda manifest: not_managed(manifest.path, manifest.ecosystem.value, config)


def make_plan(
    survey: Survey,
    config: Config,
    now: datetime,
    sources: Sources | None = None,
    *,
    extra_ignores: Sequence[IgnoreRule] = (),
    open_prs: int = 0,
    splits: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> Plan:
    """The phased plan for a surveyed checkout under ``config``."""
    items = plan_items(survey, config, now, sources)
    found = links(items, survey.packages, survey.peers)
    items = _with_partner_notes(items, found)
    raising = config.runtime.python_floor == "raise" and "python" in config.ecosystems
    if raising:
        items.extend(floor_items(survey.floors, config, now))
    plan = build_plan(
        items,
        config,
        extra_ignores=extra_ignores,
        open_prs=open_prs,
        problems=survey_problems(survey, config),
        splits=splits,
        together=sets((key_of(i) for i in items), found),
    )
    managed = {m.path for m in survey.manifests if in_scope(m.path, m.ecosystem.value, config)}
    unread = [u for u in survey.unread if not _beside_unmanaged(u.path, survey, managed)]
    unknown = [
        f"{p.dependency.name} ({p.dependency.location.file}): {p.dependency.unknown_current}"
        for p in survey.proposals
        if p.dependency.unknown_current and p.dependency.location.file in managed
    ]
    left_out = [
        f"{m.path}: {why}"
        for m in survey.manifests
        if (why := not_managed(m.path, m.ecosystem.value, config)) is not None
    ]
    return replace(
        plan,
        unread=tuple(f"{u.path}: {u.reason}" for u in unread),
        unknown=tuple(dict.fromkeys(unknown)),
        not_managed=tuple(left_out),
        notes=() if raising else floor_notes(survey.floors),
    )


def _with_partner_notes(items: Sequence[PlanItem], found: Sequence[Link]) -> list[PlanItem]:
    by_key = {key_of(i): i for i in items}
    notes: dict[ItemKey, list[str]] = {}
    for link in found:
        for mine, other in ((link.a, link.b), (link.b, link.a)):
            partner = by_key[other]
            notes.setdefault(mine, []).append(f"moves together with {partner.name} {partner.target}: {link.why}")
    return [replace(i, notes=(*i.notes, *notes[key_of(i)])) if key_of(i) in notes else i for i in items]


def _beside_unmanaged(path: str, survey: Survey, managed: set[str]) -> bool:
    """Whether an unread file sits only with manifests the config leaves alone (a lockfile of an example)."""
    folder = path.rpartition("/")[0]
    beside = [m.path for m in survey.manifests if m.path.rpartition("/")[0] == folder]
    return bool(beside) and not any(p in managed for p in beside)


def survey_problems(survey: Survey, config: Config) -> list[str]:
    """What went wrong reading files or asking registries, for the managed manifests, one line each."""
    problems = [f"{p.file}:{p.line}:{p.column}: {p.message}" for p in survey.problems]
    for manifest in survey.manifests:
        if in_scope(manifest.path, manifest.ecosystem.value, config):
            problems.extend(f"{p.file}:{p.line}:{p.column}: {p.message}" for p in manifest.problems)
    failed = sorted(
        {(f.ecosystem.value, f.name, f.reason) for f in survey.packages.values() if isinstance(f, LookupFailure)}
    )
    problems.extend(f"{ecosystem} package {name}: lookup failed: {reason}" for ecosystem, name, reason in failed)
    return problems
