"""What opening and refreshing a PR share: whether its content can be pushed, its commit message, and the risk of
a group whose CI verdict is known."""

from __future__ import annotations

from dataclasses import replace

from bot.lifecycle import pulls
from bot.lifecycle.steps.context import ScanContext
from bot.plan.model import PlanGroup, riskiest
from bot.risk.assess import with_ci as risk_with_ci
from bot.risk.assess import with_validation as risk_with_validation
from bot.validation.report import Validation
from config.model import Config


def usable(ctx: ScanContext, group: PlanGroup, content: pulls.Content) -> bool:
    if content.problems:
        ctx.result.errors.extend(f"{group.title}: {p}" for p in content.problems)
        return False
    if not content.files:
        ctx.result.errors.append(f"{group.title}: the edit changes no file")
        return False
    return True


def message(group: PlanGroup) -> str:
    lines = [group.title, ""]
    lines.extend(f"- {i.name}: {i.change.replace('->', '→')}" for i in group.items)
    return "\n".join(lines) + "\n"


def with_ci(group: PlanGroup, verdict: str, config: Config) -> PlanGroup:
    items = tuple(replace(i, risk=risk_with_ci(i.risk, verdict, config.risk)) for i in group.items)
    top = riskiest(items)
    return replace(group, items=items, risk=top.risk.level, score=top.risk.score)


def with_validation(group: PlanGroup, validation: Validation, config: Config) -> PlanGroup:
    """The group's risk with what validating its PR's CI found against it (coverage drop, benchmark regression)."""
    findings = validation.risk_findings
    if not findings:
        return group
    items = tuple(replace(i, risk=risk_with_validation(i.risk, findings, config.risk)) for i in group.items)
    top = riskiest(items)
    return replace(group, items=items, risk=top.risk.level, score=top.risk.score)
