"""The breakage source: which updates it analyses, the time budget, the cache shared between scans, analysers
found by module path (absent ones say so), and the uses found in the repository's code."""

from __future__ import annotations

import re
from pathlib import Path

from redis import Redis

from bot.breaking.fetch import AnalysisError
from bot.breaking.model import ApiChange, ApiDiff, Use
from bot.breaking.service import ANALYSERS, Analyser, BreakageService, should_analyse
from config.model import CorePackages

CORE = CorePackages(python=("flask", "django"), npm=("express", "react"))
FLASK_3 = (
    ApiChange("removed", "flask.Markup", "removed"),
    ApiChange("removed", "flask.escape", "removed"),
    ApiChange("deprecated", "flask.__version__", "deprecated: use importlib.metadata.version('flask')"),
)


class Clock:
    """Seconds that pass only when an analyser says it worked."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Analysers:
    """Plain analysers returning real ApiDiff values: each diff takes ``cost`` seconds of the clock."""

    def __init__(self, clock: Clock, changes: tuple[ApiChange, ...] = FLASK_3, cost: float = 10.0) -> None:
        self.clock, self.changes, self.cost = clock, changes, cost
        self.asked: list[tuple[str, str, str, float]] = []

    def diff(self, package: str, current: str, target: str, *, deadline: float) -> ApiDiff:
        self.asked.append((package, current, target, deadline))
        self.clock.now += self.cost
        return ApiDiff("python", package, current, target, analysed=True, changes=self.changes, source="wheels")

    def uses(self, root: Path, package: str, diff: ApiDiff) -> tuple[tuple[Use, ...], int]:
        """Every ``from flask import NAME`` of a changed name, by line."""
        found, scanned = [], 0
        details = {c.symbol.rpartition(".")[2]: c for c in diff.changes}
        for path in sorted(root.rglob("*.py")):
            scanned += 1
            for number, line in enumerate(path.read_text().splitlines(), 1):
                m = re.match(rf"from {package} import (\w+)", line)
                if m and (change := details.get(m[1])) is not None:
                    found.append(Use(str(path.relative_to(root)), number, change.symbol, change.detail))
        return tuple(found), scanned

    def registry(self) -> dict[str, Analyser]:
        return {"python": Analyser(self.diff, self.uses)}


def app(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "views.py").write_text("from flask import Flask\nfrom flask import Markup\n")
    (tmp_path / "app" / "util.py").write_text("import os\n")
    return tmp_path


def test_majors_zero_x_minors_and_core_minors_are_analysed() -> None:
    assert should_analyse("python", "requests", "2.31.0", "3.0.0", CORE)
    assert should_analyse("npm", "axios", "0.27.2", "0.28.0", CORE)  # a 0.x minor is a new release line
    assert should_analyse("python", "flask", "2.2.5", "2.3.3", CORE)  # a core minor
    assert should_analyse("npm", "express", "4.17.1", "4.21.2", CORE)
    assert not should_analyse("python", "requests", "2.28.0", "2.31.0", CORE)  # a minor of anything else
    assert not should_analyse("python", "flask", "2.3.2", "2.3.3", CORE)  # a patch, even of a core package
    assert not should_analyse("npm", "react", "18.3.0", "18.3.1", CORE)
    assert not should_analyse("python", "requests", "not-a-version", "3.0.0", CORE)


def test_uses_of_removed_names_are_found_in_the_code(tmp_path: Path) -> None:
    clock = Clock()
    analysers = Analysers(clock)
    service = BreakageService(app(tmp_path), None, CORE, analysers=analysers.registry(), clock=clock)
    found = service("python", "flask", "2.3.3", "3.0.0")
    assert found is not None and found.diff.analysed and found.scanned == 2
    assert found.uses == (Use("app/views.py", 2, "flask.Markup", "removed"),)
    assert analysers.asked == [("flask", "2.3.3", "3.0.0", 1000.0 + 60.0)]  # a deadline within PER_UPDATE
    assert service("python", "requests", "2.28.0", "2.31.0") is None  # not analysed by policy: not asked
    assert len(analysers.asked) == 1


def test_the_time_budget_bounds_a_scan(tmp_path: Path) -> None:
    clock = Clock()
    analysers = Analysers(clock, cost=30.0)
    service = BreakageService(app(tmp_path), None, CORE, budget=50, analysers=analysers.registry(), clock=clock)
    first = service("python", "flask", "2.3.3", "3.0.0")
    second = service("python", "django", "3.2.25", "4.2.16")
    third = service("python", "requests", "2.31.0", "3.0.0")
    assert first is not None and first.diff.analysed
    assert second is not None and second.diff.analysed  # 30 s used of 50: analysed, with 20 s left as deadline
    assert analysers.asked[1][3] == 1030.0 + 20.0
    assert third is not None and not third.diff.analysed
    assert third.diff.why_not == "time budget of 50 s used"
    assert service.spent == 60.0
    assert len(analysers.asked) == 2
    assert service("python", "flask", "2.3.3", "3.0.0") is first  # memoised: replanning analyses nothing again


def test_the_cache_serves_the_next_scan_in_one_round_trip(tmp_path: Path, redis_client: Redis) -> None:
    clock = Clock()
    analysers = Analysers(clock)
    root = app(tmp_path)
    first = BreakageService(root, redis_client, CORE, analysers=analysers.registry(), clock=clock)
    assert first("python", "flask", "2.3.3", "3.0.0") is not None
    assert len(analysers.asked) == 1
    again = BreakageService(root, redis_client, CORE, budget=0, analysers=analysers.registry(), clock=clock)
    again.prefetch([("python", "flask", "2.3.3", "3.0.0"), ("python", "requests", "2.28.0", "2.31.0")])
    cached = again("python", "flask", "2.3.3", "3.0.0")
    assert len(analysers.asked) == 1  # no analysis, and no budget needed
    assert cached is not None and cached.uses == (Use("app/views.py", 2, "flask.Markup", "removed"),)
    # a budget answer is about the scan, not the releases: it is not cached
    assert again("python", "django", "3.2.25", "4.2.16").diff.why_not == "time budget of 0 s used"  # type: ignore[union-attr]
    assert redis_client.keys("depup:apidiff:*django*") == []


def test_an_absent_analyser_module_says_no_analyser(tmp_path: Path) -> None:
    absent = {"python": Analyser("bot.breaking.no_such_module:python_api_diff", "bot.breaking.no_such_module:uses")}
    service = BreakageService(app(tmp_path), None, CORE, analysers=absent)
    found = service("python", "flask", "2.3.3", "3.0.0")
    assert found is not None and not found.diff.analysed and found.diff.why_not == "no analyser"
    assert service("npm", "express", "4.21.2", "5.0.0").diff.why_not == "no analyser"  # type: ignore[union-attr]


def test_the_default_registry_names_the_analysers_by_module_path() -> None:
    assert ANALYSERS["python"] == Analyser(
        "bot.breaking.python_api:python_api_diff", "bot.breaking.python_uses:python_uses"
    )
    assert ANALYSERS["npm"] == Analyser("bot.breaking.npm_api:npm_api_diff", "bot.breaking.js_uses:js_uses")


def test_an_analysis_error_or_a_crash_is_shown_as_not_analysed(tmp_path: Path) -> None:
    def refuses(package: str, current: str, target: str, *, deadline: float) -> ApiDiff:
        raise AnalysisError(f"the wheel of {package} {target} is larger than 20 MB")

    def crashes(package: str, current: str, target: str, *, deadline: float) -> ApiDiff:
        raise KeyError("info")

    uses = Analysers(Clock()).uses
    refused = BreakageService(app(tmp_path), None, CORE, analysers={"python": Analyser(refuses, uses)})
    assert refused("python", "flask", "2.3.3", "3.0.0").diff.why_not == (  # type: ignore[union-attr]
        "the wheel of flask 3.0.0 is larger than 20 MB"
    )
    crashed = BreakageService(app(tmp_path), None, CORE, analysers={"python": Analyser(crashes, uses)})
    assert crashed("python", "flask", "2.3.3", "3.0.0").diff.why_not == "the analyser failed (KeyError)"  # type: ignore[union-attr]


def test_without_the_code_no_use_is_claimed(tmp_path: Path) -> None:
    clock = Clock()
    service = BreakageService(None, None, CORE, analysers=Analysers(clock).registry(), clock=clock)
    found = service("python", "flask", "2.3.3", "3.0.0")
    assert found is not None and found.diff.analysed and found.scanned == 0 and found.uses == ()
