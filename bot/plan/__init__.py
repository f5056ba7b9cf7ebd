"""Phased upgrade plans: plan items with their risk (``items``), the planner (``build``), renderers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.deps.registry.failures import LookupFailure
from bot.deps.survey import Survey
from bot.plan.build import build_plan
from bot.plan.items import Sources, in_scope, plan_items
from bot.plan.model import Plan, PlanGroup, PlanItem, PlanPhase, Skipped
from config.model import Config, IgnoreRule

__all__ = ["Plan", "PlanGroup", "PlanItem", "PlanPhase", "Skipped", "Sources", "make_plan", "survey_problems"]


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
    return build_plan(
        items,
        config,
        extra_ignores=extra_ignores,
        open_prs=open_prs,
        problems=survey_problems(survey, config),
        splits=splits,
    )


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
