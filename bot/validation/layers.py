"""Test layers: each check run and commit status of a pull request's head falls in one layer (unit, integration,
e2e, performance, security, else other) by its name, and each layer gets one verdict and a duration.

A pattern is a case-insensitive glob matched against the whole check name and against each of its words (runs of
letters and digits: "Run IT tests (3.12)" has the words run, it, tests, 3, 12), so ``it`` finds an integration
job without matching "commit". Layers are tried from the most specific to the least (security, performance, e2e,
integration, unit): "integration tests" is integration although "tests" is a unit word. The defaults fit the job
names common in GitHub Actions workflows (pytest/tox/jest/vitest jobs, Cypress and Playwright suites, CodeQL's
"Analyze", CodSpeed, Snyk, pip-audit, ...); ``validation.layers`` in the config replaces a layer's patterns.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

LAYERS = ("unit", "integration", "e2e", "performance", "security")
ORDER = ("security", "performance", "e2e", "integration", "unit")  # the most specific first
DEFAULT_PATTERNS: dict[str, tuple[str, ...]] = {
    "unit": ("test", "tests", "testing", "pytest", "unit", "unittest", "unit-tests", "jest", "vitest", "mocha",
             "karma", "jasmine", "ava", "tox", "nox", "spec", "specs", "check-tests"),
    "integration": ("integration", "integration-*", "*-integration", "it", "functional", "acceptance", "contract",
                    "api-tests", "system"),
    "e2e": ("e2e", "e2e-*", "*-e2e", "*end-to-end*", "*end to end*", "cypress", "playwright", "selenium",
            "puppeteer", "webdriver", "wdio", "detox", "browser", "browsers"),
    "performance": ("bench", "benchmark", "benchmarks", "benchmarking", "perf", "performance", "codspeed*", "asv",
                    "k6", "lighthouse", "load-test", "*load test*"),
    "security": ("codeql", "analyze", "audit", "npm-audit", "pip-audit", "snyk*", "security", "bandit", "semgrep",
                 "trivy", "gitleaks", "dependency-review", "osv-scanner", "scorecard", "scorecards", "zizmor"),
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_ORDER_OF_RESULTS = ("failure", "pending", "success", "neutral", "skipped")


@dataclass(frozen=True)
class Check:
    """What layering needs of a check: its name, result and when it ran."""

    name: str
    result: str  # success | failure | pending | neutral | skipped
    started: datetime | None = None
    completed: datetime | None = None


@dataclass(frozen=True)
class Layer:
    name: str
    verdict: str  # passing | failing | pending | skipped | missing
    checks: tuple[str, ...]
    seconds: int | None  # first start to last finish of its checks, when every one of them reported both

    @property
    def duration(self) -> str:
        if self.seconds is None:
            return ""
        minutes, seconds = divmod(self.seconds, 60)
        return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def patterns_with(overrides: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    return {layer: tuple(overrides.get(layer, DEFAULT_PATTERNS[layer])) for layer in LAYERS}


def layer_of(name: str, patterns: Mapping[str, Sequence[str]]) -> str:
    lowered = name.lower()
    words = _WORD.findall(lowered)
    for layer in ORDER:
        for pattern in patterns.get(layer, ()):
            glob = pattern.lower()
            if fnmatch.fnmatchcase(lowered, glob) or any(fnmatch.fnmatchcase(w, glob) for w in words):
                return layer
    return "other"


def layers(checks: Sequence[Check], patterns: Mapping[str, Sequence[str]]) -> tuple[Layer, ...]:
    """Every layer (the five, then "other" when some check is in none), in the order of ``LAYERS``."""
    grouped: dict[str, list[Check]] = {}
    for check in checks:
        grouped.setdefault(layer_of(check.name, patterns), []).append(check)
    names = [*LAYERS, *(["other"] if "other" in grouped else [])]
    return tuple(_layer(name, grouped.get(name, [])) for name in names)


def _layer(name: str, checks: list[Check]) -> Layer:
    if not checks:
        return Layer(name, "missing", (), None)
    results = {c.result for c in checks}
    if "failure" in results:
        verdict = "failing"
    elif "pending" in results:
        verdict = "pending"
    elif "success" in results or "neutral" in results:
        verdict = "passing"
    else:
        verdict = "skipped"
    starts = [c.started for c in checks]
    ends = [c.completed for c in checks]
    seconds = None
    if all(s is not None for s in starts) and all(e is not None for e in ends):
        span = max(e for e in ends if e is not None) - min(s for s in starts if s is not None)
        seconds = max(int(span.total_seconds()), 0)
    return Layer(name, verdict, tuple(sorted(c.name for c in checks)), seconds)
