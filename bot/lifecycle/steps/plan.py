"""Plan: survey the snapshot's dependencies against the registries (known vulnerabilities audited when the config
asks), gather the facts risk needs (the API diffs of majors and the snapshot's uses of them within a time budget
included), and make the phased plan under the config and the state's ignore rules and splits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.breaking.service import BreakageService
from bot.deps.registry.client import RegistryClient
from bot.deps.survey import Survey, rechoose, survey
from bot.deps.versions import Policy
from bot.lifecycle.steps.context import ScanContext, ScanState
from bot.plan import Sources, make_plan, policy_for, scope_for
from bot.plan.model import Plan
from bot.risk.changelog import ChangelogReader
from bot.risk.facts import Audit
from bot.risk.imports import index_imports
from bot.security.audit import Auditor, audit_for


def plan(ctx: ScanContext, s: ScanState) -> ScanState:
    assert s.snapshot is not None and s.config is not None
    policy = policy_for(s.config, ctx.now)
    with RegistryClient(ctx.redis) as registry:
        surveyed = survey(s.snapshot.root, registry, policy, scope=scope_for(s.config))
    found = None
    if s.config.security.audit:
        surveyed, found = _security_audit(ctx, surveyed, policy)
    complete = s.snapshot.sources_complete
    sources = Sources(
        imports=index_imports(s.snapshot.root) if complete else None,
        notes=ChangelogReader(ctx.gh, redis=ctx.redis),
        audit=found,
        breakage=BreakageService(s.snapshot.root if complete else None, ctx.redis, s.config.core_packages),
    )
    s = replace(s, survey=surveyed, sources=sources)
    made = replan(ctx, s)
    ctx.result.errors.extend(made.problems)
    return replace(s, plan=made)


def replan(ctx: ScanContext, s: ScanState) -> Plan:
    """The plan again from the same survey, under the state as it is now (new ignore rules, new splits)."""
    assert s.survey is not None and s.config is not None
    return make_plan(
        s.survey, s.config, ctx.now, s.sources, extra_ignores=s.state.ignore_rules(), splits=s.state.split_map()
    )


def _security_audit(ctx: ScanContext, surveyed: Survey, policy: Policy) -> tuple[Survey, Audit]:
    """Known vulnerabilities of the versions in use and of the proposed targets. A version in use with known
    vulnerabilities is re-proposed without ``min_release_age``: a fix must not wait."""
    auditor = Auditor(ctx.redis, ctx.settings.osv_url)
    found, failures = audit_for(auditor, _audited(surveyed))
    vulnerable = {
        (p.dependency.ecosystem, p.dependency.key)
        for p in surveyed.proposals
        if p.current
        and (known := found(p.dependency.ecosystem.value, p.dependency.key, p.current, p.current))
        and known[1]
    }
    if vulnerable and policy.min_release_age:
        surveyed = rechoose(surveyed, vulnerable, replace(policy, min_release_age=timedelta(0)))
        found, failures = audit_for(auditor, _audited(surveyed))
    ctx.result.errors.extend(f"security audit: {failure}" for failure in failures)
    return surveyed, found


def _audited(surveyed: Survey) -> list[tuple[str, str, str, str]]:
    """(ecosystem, package, current, target) for every proposal; a version in use with nothing newer proposed
    is audited as its own target, so that a vulnerable version held back by min_release_age is found."""
    out: list[tuple[str, str, str, str]] = []
    for p in surveyed.proposals:
        if p.current is None or p.dependency.skip_reason:
            continue
        dep = p.dependency
        targets = [u.version for u in p.updates] or [p.current]
        out.extend((dep.ecosystem.value, dep.key, p.current, target) for target in targets)
    return out
