"""The phase gate: which phases may open new PRs (earlier phases merged or closed, their merges green on the
default branch and, with health probes or a Prometheus baseline configured, healthy after their deploy)."""

from __future__ import annotations

from dataclasses import replace

from bot.lifecycle.gate import evaluate
from bot.lifecycle.steps.context import ScanContext, ScanState


def phase_gate(ctx: ScanContext, s: ScanState) -> ScanState:
    assert s.config is not None
    health_required = s.config.health_check.watched
    gate = evaluate(s.config.phases, s.state, [*s.prs, *s.rollbacks], health_required=health_required)
    return replace(s, gate=gate)
