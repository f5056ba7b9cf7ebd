"""The risk model: a score and a level for one update, from its facts, with every factor explained.

Each factor has a stable id, a default weight (the points it adds) and a one-line reason. The repository's
config can change any weight (``risk.weights``) and the level thresholds (``risk.medium_at``/``high_at``).
Why each default weight is what it is (docs/risk.md shows the same table):

============================  ======  ==========================================================================
factor id                     weight  why
============================  ======  ==========================================================================
patch                         0       a patch promises only fixes; alone it never makes an update risky
minor                         1       new features; deprecations start here; rarely breaking
major                         4       a new release line: semver allows breaking changes, expect code changes
majors_skipped                2       each extra release line crossed adds its own breaking changes (up to 3);
                                      0 when the analysed API diff (which spans every line) touches no use
many_releases                 1       10+ releases skipped: a long changelog is more to go wrong and to read
zero_x                        1       before 1.0 a package promises no compatible API, even within a line
role_runtime / role_peer      1       runtime code ships to production; peers constrain every consumer
role_build                    1       build requirements change how the package is built and installed
role_dev / role_optional      0       dev and test tooling fails in CI, before anything ships (a dev-tool
                                      major is high only with more against it; its analysed API diff
                                      touching nothing the code uses takes it to low)
core                          3       a core framework's new release line touches most of the application at
                                      once; majors (and 0.x minors) only: a core minor or patch keeps its API,
                                      so it is shown with weight 0
fresh_release                 2       released under 7 days ago: most regressions are reported in the 1st week
recent_release                1       released under 30 days ago: point releases often follow
prerelease                    3       prereleases are not meant for production
yanked_target                 6       the maintainers withdrew that release
deprecated_target             4       the maintainers ask users to move off that release
runtime_dropped               1       the target drops Python/Node versions the current version supported
peer_conflict                 3       each package of the manifest whose peer range the update breaks (up to 2)
vulnerable_target             4       the target itself has known vulnerabilities
breaking_notes                3       the release notes announce breaking changes in between
ci_passed                     -2      the pull request's own CI passed: the upgrade was tried on the project's tests
ci_failed                     0       the pull request's CI failed: the PR is marked blocked instead of scored
coverage_drop                 2       the PR's coverage fell by more than validation.coverage.max_drop against its base:
                                      the upgrade changed what the tests exercise (or skipped some)
benchmark_regression          3       a benchmark regressed beyond its noise band and validation.benchmarks'
                                      max_regression_percent: the upgrade made measured code slower (one factor
                                      per PR, naming every such benchmark)
imports_wide                  1       imported by 10+ files, or by 3+ files that are half the code: a wide blast
                                      radius; one point only, since it says where a break would hurt, not whether
                                      one happens
api_uses                      5       each use (up to 2) in the repository's code of a name the target removes or
                                      changes: the code breaks unless it is migrated; one use makes even a
                                      dev-tool minor high
api_untouched                 -4      a major whose analysed API diff removes or changes nothing the code uses
                                      (or nothing at all, whether or not the code could be read): the strongest
                                      evidence that the new line is compatible for this code (a minor gets the
                                      reason with weight 0)
============================  ======  ==========================================================================

The API diff (``bot.breaking``) is analysed for majors, 0.x minors and minors of core packages within a time
budget per scan; when it is not (no analyser, no distribution, budget used), ``api_uses`` is unknown and says why.
Weights calibrated on ``tests/fixtures/breaking/labelled.json`` (``bench/breaking_calibration.py``).

Levels: below ``medium_at`` (3) is low, below ``high_at`` (6) medium, else high. With the defaults a
minor update of a runtime package is low (2), a major of a dev tool is medium (4), a major of a core framework
is high (8), and a major of a runtime package is high once anything else is against it (5 + 1); a use of a
removed name makes any major high, no use of any of them takes 4 points off. Thresholds: a patch or minor
needs three things against it to reach medium, so phase 1 gets the boring updates only.
Known vulnerabilities fixed by the update mark it a security update (priority), weight 0: fixing a
vulnerability does not make an upgrade safer or riskier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from bot.risk.model import Assessment, Factor, UpdateFacts
from config.model import RiskLevel, RiskSettings

DEFAULT_WEIGHTS: dict[str, int] = {
    "patch": 0,
    "minor": 1,
    "major": 4,
    "lockfile": 1,
    "majors_skipped": 2,
    "many_releases": 1,
    "zero_x": 1,
    "role_runtime": 1,
    "role_peer": 1,
    "role_build": 1,
    "role_dev": 0,
    "role_optional": 0,
    "core": 3,
    "fresh_release": 2,
    "recent_release": 1,
    "prerelease": 3,
    "yanked_target": 6,
    "deprecated_target": 4,
    "current_yanked": 0,
    "current_deprecated": 0,
    "runtime_dropped": 1,
    "peer_conflict": 3,
    "vulnerabilities_fixed": 0,
    "vulnerable_target": 4,
    "breaking_notes": 3,
    "imports_wide": 1,
    "imports_few": 0,
    "ci_passed": -2,
    "ci_failed": 0,
    "coverage_drop": 2,
    "benchmark_regression": 3,
    "api_uses": 5,
    "api_untouched": -4,
}
FRESH = timedelta(days=7)
RECENT = timedelta(days=30)
MANY_RELEASES = 10
MAX_EXTRA_MAJORS = 3
MAX_PEER_CONFLICTS = 2
MAX_API_USES = 2  # uses counted in the score; every use is listed
MAX_USES_NAMED = 3  # uses named in the reason line; the details list them all

_Rule = Callable[[UpdateFacts, Callable[[str], int]], list[Factor]]


def assess(facts: UpdateFacts, settings: RiskSettings | None = None) -> Assessment:
    settings = settings or RiskSettings()

    def weight(factor_id: str) -> int:
        return settings.weight(factor_id, DEFAULT_WEIGHTS[factor_id])

    factors = [factor for rule in _RULES for factor in rule(facts, weight)]
    score = max(0, sum(f.weight for f in factors if f.known))
    factors.sort(key=lambda f: (not f.known, -f.weight))
    return Assessment(
        score=score,
        level=level_for(score, settings),
        factors=tuple(factors),
        security=bool(facts.vulnerabilities_fixed),
    )


def with_ci(risk: Assessment, verdict: str, settings: RiskSettings | None = None) -> Assessment:
    """The assessment once the pull request's CI has spoken: green lowers the score (the upgrade was tried on
    the project's own tests), red marks it blocked; pending or no CI changes nothing."""
    settings = settings or RiskSettings()
    if verdict == "success":
        factor = Factor(
            "ci_passed", settings.weight("ci_passed", DEFAULT_WEIGHTS["ci_passed"]), "CI passed on this pull request"
        )
        factors = (factor, *risk.factors)
        score = max(0, risk.score + factor.weight)
        return replace(risk, score=score, level=level_for(score, settings), factors=_ordered(factors))
    if verdict == "failure":
        factor = Factor(
            "ci_failed",
            settings.weight("ci_failed", DEFAULT_WEIGHTS["ci_failed"]),
            "CI failed on this pull request: blocked",
        )
        score = max(0, risk.score + factor.weight)
        return replace(
            risk, score=score, level=level_for(score, settings), factors=_ordered((factor, *risk.factors)), blocked=True
        )
    return risk


def with_validation(
    risk: Assessment, findings: Sequence[tuple[str, str]], settings: RiskSettings | None = None
) -> Assessment:
    """The assessment with what validating the PR's CI found against it: ``(factor id, reason)`` pairs
    (``coverage_drop``, ``benchmark_regression``); each id counts once."""
    settings = settings or RiskSettings()
    known = {f.id for f in risk.factors}
    added = tuple(
        Factor(factor_id, settings.weight(factor_id, DEFAULT_WEIGHTS[factor_id]), reason)
        for factor_id, reason in findings
        if factor_id not in known
    )
    if not added:
        return risk
    score = max(0, risk.score + sum(f.weight for f in added))
    return replace(risk, score=score, level=level_for(score, settings), factors=_ordered((*added, *risk.factors)))


def _ordered(factors: tuple[Factor, ...]) -> tuple[Factor, ...]:
    return tuple(sorted(factors, key=lambda f: (not f.known, -abs(f.weight))))


def level_for(score: int, settings: RiskSettings) -> RiskLevel:
    if score >= settings.high_at:
        return "high"
    if score >= settings.medium_at:
        return "medium"
    return "low"


def _update_type(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    change = f"{f.current} \u2192 {f.target}"
    if f.update_type == "lockfile":
        return [Factor("lockfile", w("lockfile"), "lockfile maintenance: every locked version may move")]
    if f.update_type == "major":
        line = "0.x minor (a new release line before 1.0)" if f.zero_x and f.majors_crossed <= 1 else "major"
        factors = [Factor("major", w("major"), f"{line} update {change}: breaking changes are allowed")]
        extra = min(max(f.majors_crossed - 1, 0), MAX_EXTRA_MAJORS)
        if extra and _untouched(f):
            reason = f"crosses {f.majors_crossed} release lines at once; the API diff spans them all"
            factors.append(Factor("majors_skipped", 0, reason))
        elif extra:
            factors.append(
                Factor(
                    "majors_skipped",
                    w("majors_skipped") * extra,
                    f"crosses {f.majors_crossed} release lines at once",
                )
            )
        return factors
    if f.update_type == "minor":
        return [Factor("minor", w("minor"), f"minor update {change}: new features, compatible by semver")]
    return [Factor("patch", w("patch"), f"patch update {change}: fixes only by semver")]


def _distance(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    if f.update_type == "lockfile":
        return []
    if f.releases_skipped is None:
        return [Factor("many_releases", 0, "releases in between: unknown", known=False)]
    if f.releases_skipped >= MANY_RELEASES:
        return [Factor("many_releases", w("many_releases"), f"skips {f.releases_skipped} releases in between")]
    return []


def _zero_x(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    if f.zero_x:
        return [Factor("zero_x", w("zero_x"), "0.x version: no API stability promised before 1.0")]
    return []


_ROLE_WHY = {
    "runtime": "runtime dependency: ships to production",
    "peer": "peer dependency: constrains every consumer of this package",
    "build": "build requirement: changes how the project is built",
    "dev": "dev/test dependency: a failure shows in CI, not in production",
    "optional": "optional dependency: only installs that ask for it are affected",
}


def _role(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    factor_id = f"role_{f.role}"
    return [Factor(factor_id, w(factor_id), _ROLE_WHY[f.role])]


def _core(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    if not f.core:
        return []
    if f.update_type == "major":
        return [Factor("core", w("core"), f"{f.package} is a core framework (core_packages): a new release line")]
    return [Factor("core", 0, f"{f.package} is a core framework (core_packages); a {f.update_type} keeps its API")]


def _age(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    if f.update_type == "lockfile":
        return []
    if f.target_published is None:
        return [Factor("fresh_release", 0, f"release date of {f.target}: unknown", known=False)]
    age = f.now - f.target_published
    day = f.target_published.strftime("%Y-%m-%d")
    if age < FRESH:
        return [Factor("fresh_release", w("fresh_release"), f"{f.target} was released on {day}, under 7 days ago")]
    if age < RECENT:
        return [Factor("recent_release", w("recent_release"), f"{f.target} was released on {day}, under 30 days ago")]
    return []


def _release_state(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    factors = []
    if f.target_prerelease:
        factors.append(Factor("prerelease", w("prerelease"), f"{f.target} is a prerelease"))
    if f.target_yanked:
        factors.append(Factor("yanked_target", w("yanked_target"), f"{f.target} was yanked: {f.target_yanked}"))
    if f.target_deprecated:
        factors.append(
            Factor("deprecated_target", w("deprecated_target"), f"{f.target} is deprecated: {f.target_deprecated}")
        )
    if f.current_yanked:
        factors.append(
            Factor("current_yanked", w("current_yanked"), f"the version in use, {f.current}, was yanked: upgrade soon")
        )
    if f.current_deprecated:
        factors.append(
            Factor(
                "current_deprecated",
                w("current_deprecated"),
                f"the version in use, {f.current}, is deprecated: {f.current_deprecated}",
            )
        )
    return factors


def _runtime(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    runtime = "Python" if f.ecosystem == "python" else "Node"
    if f.runtime_dropped is None:
        return [Factor("runtime_dropped", 0, f"{runtime} versions supported by {f.target}: unknown", known=False)]
    if not f.runtime_dropped:
        return []
    dropped = ", ".join(f.runtime_dropped)
    floor = f" (it requires {f.runtime_floor})" if f.runtime_floor else ""
    return [Factor("runtime_dropped", w("runtime_dropped"), f"{f.target} drops {runtime} {dropped}{floor}")]


def _peers(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    if f.ecosystem != "npm":
        return []
    if f.peer_conflicts is None:
        return [Factor("peer_conflict", 0, "peer dependencies: unknown", known=False)]
    return [
        Factor("peer_conflict", w("peer_conflict"), conflict) for conflict in f.peer_conflicts[:MAX_PEER_CONFLICTS]
    ] + [Factor("peer_conflict", 0, conflict) for conflict in f.peer_conflicts[MAX_PEER_CONFLICTS:]]


def _vulnerabilities(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    factors = []
    if f.vulnerabilities_fixed is None:
        factors.append(Factor("vulnerabilities_fixed", 0, "known vulnerabilities: not audited", known=False))
    elif f.vulnerabilities_fixed:
        ids = ", ".join(v.id for v in f.vulnerabilities_fixed)
        factors.append(Factor("vulnerabilities_fixed", w("vulnerabilities_fixed"), f"fixes {ids} (security update)"))
    if f.vulnerabilities_in_target:
        ids = ", ".join(v.id for v in f.vulnerabilities_in_target)
        factors.append(Factor("vulnerable_target", w("vulnerable_target"), f"{f.target} is affected by {ids}"))
    return factors


def _notes(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    if f.update_type == "lockfile":
        return []
    notes = f.breaking_notes
    if notes is None:
        return [Factor("breaking_notes", 0, "release notes: not available", known=False)]
    if not notes.versions:
        return [Factor("breaking_notes", 0, f"release notes ({notes.source}): no section found", known=False)]
    if notes.markers:
        return [
            Factor(
                "breaking_notes",
                w("breaking_notes"),
                f"release notes announce breaking changes: {notes.markers[0]!r}",
            )
        ]
    return [Factor("breaking_notes", 0, f"release notes of {notes.versions} releases mention no breaking change")]


def _imports(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    if f.update_type == "lockfile":
        return []
    if f.imports is None:
        return [Factor("imports_wide", 0, "imports in the repository: code not available", known=False)]
    imports = f.imports
    if imports.scanned == 0:
        return [Factor("imports_wide", 0, "imports in the repository: no source files to read", known=False)]
    names = "/".join(imports.modules)
    share = f"{imports.files} of {imports.scanned} source files import {names}"
    if imports.files >= 10 or (imports.files >= 3 and imports.files * 2 >= imports.scanned):
        return [Factor("imports_wide", w("imports_wide"), share)]
    return [Factor("imports_few", w("imports_few"), share)]


def _api(f: UpdateFacts, w: Callable[[str], int]) -> list[Factor]:
    """Evidence from the API diff and the repository's code (``bot.breaking``)."""
    if f.update_type == "lockfile":
        return []
    change = f"{f.package} {f.current} \u2192 {f.target}"
    b = f.breakage
    if b is None:
        if f.update_type == "major":
            return [Factor("api_uses", 0, f"API changes of {change}: not analysed", known=False)]
        return []
    if not b.diff.analysed:
        return [Factor("api_uses", 0, f"API changes of {change}: not analysed: {b.diff.why_not}", known=False)]
    breaking = len(b.diff.breaking)
    names = _names(breaking)
    if b.scanned == 0 and breaking:
        return [Factor("api_uses", 0, f"{names} in {change}; uses in the code: not available", known=False)]
    uses = b.breaking_uses
    if uses:
        symbols = len({u.symbol for u in uses})
        shown = ", ".join(f"{u.symbol} at {u.file}:{u.line}" for u in uses[:MAX_USES_NAMED])
        more = f" and {len(uses) - MAX_USES_NAMED} more" if len(uses) > MAX_USES_NAMED else ""
        plural = "name" if symbols == 1 else "names"
        return [
            Factor(
                "api_uses",
                w("api_uses") * min(len(uses), MAX_API_USES),
                f"your code uses {symbols} removed/changed {plural}: {shown}{more}",
            )
        ]
    reason = f"no use of the {names}" if breaking else f"the API diff of {change} removes or changes no name"
    return [Factor("api_untouched", w("api_untouched") if f.update_type == "major" else 0, reason)]


def _untouched(f: UpdateFacts) -> bool:
    """The analysed API diff removes or changes nothing the code (read) uses, or nothing at all."""
    b = f.breakage
    return b is not None and b.diff.analysed and (not b.diff.breaking or (b.scanned > 0 and not b.breaking_uses))


def _names(count: int) -> str:
    return f"{count} removed or changed name" if count == 1 else f"{count} removed or changed names"


_RULES: tuple[_Rule, ...] = (
    _update_type,
    _distance,
    _zero_x,
    _role,
    _core,
    _age,
    _release_state,
    _runtime,
    _peers,
    _vulnerabilities,
    _notes,
    _imports,
    _api,
)
