"""Every risk factor of the model, its default weight, its unknown form, and the config overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.breaking.model import ApiChange, ApiDiff, Breakage, Use
from bot.risk.assess import DEFAULT_WEIGHTS, assess, level_for
from bot.risk.model import BreakingNotes, Imports, UpdateFacts, Vulnerability
from config.loader import load_config
from config.model import RiskSettings

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def facts(**changes: object) -> UpdateFacts:
    """A boring dev-tool patch with every fact known and nothing against it."""
    base = UpdateFacts(
        ecosystem="python",
        package="pkg",
        role="dev",
        current="1.2.3",
        target="1.2.4",
        update_type="patch",
        majors_crossed=0,
        releases_skipped=0,
        zero_x=False,
        core=False,
        now=NOW,
        target_published=NOW - timedelta(days=200),
        runtime_dropped=(),
        peer_conflicts=(),
        vulnerabilities_fixed=(),
        vulnerabilities_in_target=(),
        breaking_notes=BreakingNotes("CHANGES.md", 1, ()),
        imports=Imports(0, 10, ("pkg",)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def weights(f: UpdateFacts) -> dict[str, int]:
    return {factor.id: factor.weight for factor in assess(f).factors if factor.known and factor.weight}


def unknown(f: UpdateFacts) -> list[str]:
    return [factor.reason for factor in assess(f).factors if not factor.known]


def test_a_known_boring_patch_scores_zero_with_no_unknowns() -> None:
    risk = assess(facts())
    assert (risk.score, risk.level, risk.security) == (0, "low", False)
    assert unknown(facts()) == []
    assert risk.top_reasons() == ()


@pytest.mark.parametrize(("kind", "points"), [("patch", 0), ("minor", 1), ("major", 4)])
def test_update_type(kind: str, points: int) -> None:
    f = facts(update_type=kind, majors_crossed=1 if kind == "major" else 0)
    assert weights(f) == ({kind: points} if points else {})
    assert any(kind in factor.reason for factor in assess(f).factors)


def test_each_extra_release_line_crossed_adds_up_to_three_times() -> None:
    assert weights(facts(update_type="major", majors_crossed=2)) == {"major": 4, "majors_skipped": 2}
    assert weights(facts(update_type="major", majors_crossed=3))["majors_skipped"] == 4
    assert weights(facts(update_type="major", majors_crossed=9))["majors_skipped"] == 6
    reasons = assess(facts(update_type="major", majors_crossed=3)).top_reasons()
    assert "crosses 3 release lines at once" in reasons


def test_many_releases_in_between() -> None:
    assert weights(facts(update_type="minor", releases_skipped=9)) == {"minor": 1}
    f = facts(update_type="minor", releases_skipped=10)
    assert weights(f) == {"minor": 1, "many_releases": 1}
    assert "skips 10 releases in between" in assess(f).top_reasons()
    assert unknown(facts(releases_skipped=None)) == ["releases in between: unknown"]


def test_zero_x() -> None:
    f = facts(current="0.21.1", target="0.30.2", update_type="major", majors_crossed=1, zero_x=True)
    assert weights(f) == {"major": 4, "zero_x": 1}
    assert assess(f).factors[0].reason.startswith("0.x minor (a new release line before 1.0) update 0.21.1 → 0.30.2")


@pytest.mark.parametrize(("role", "points"), [("runtime", 1), ("peer", 1), ("build", 1), ("dev", 0), ("optional", 0)])
def test_dependency_role(role: str, points: int) -> None:
    f = facts(role=role)
    assert weights(f) == ({f"role_{role}": points} if points else {})
    assert any(factor.id == f"role_{role}" for factor in assess(f).factors)


def test_core_framework_weighs_on_majors_only() -> None:
    f = facts(package="django", core=True, update_type="major", majors_crossed=1)
    assert weights(f) == {"major": 4, "core": 3}
    assert "django is a core framework (core_packages): a new release line" in assess(f).top_reasons()
    for kind in ("minor", "patch"):
        minor = assess(facts(package="express", core=True, update_type=kind, role="runtime", releases_skipped=12))
        core = next(factor for factor in minor.factors if factor.id == "core")
        assert (core.weight, core.known) == (0, True)
        assert core.reason == f"express is a core framework (core_packages); a {kind} keeps its API"
        assert minor.level != "high"


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [
        (0, {"fresh_release": 2}),
        (6, {"fresh_release": 2}),
        (7, {"recent_release": 1}),
        (29, {"recent_release": 1}),
        (30, {}),
    ],
)
def test_release_age(age_days: int, expected: dict[str, int]) -> None:
    assert weights(facts(target_published=NOW - timedelta(days=age_days, hours=1))) == expected


def test_release_age_unknown() -> None:
    assert unknown(facts(target_published=None)) == ["release date of 1.2.4: unknown"]


def test_yanked_deprecated_prerelease() -> None:
    assert weights(facts(target_prerelease=True, target="2.0.0rc1")) == {"prerelease": 3}
    assert weights(facts(target_yanked="broken wheel")) == {"yanked_target": 6}
    assert weights(facts(target_deprecated="use pkg2")) == {"deprecated_target": 4}
    current = assess(facts(current_yanked="security", current_deprecated="unsupported"))
    assert current.score == 0  # a withdrawn current version is a reason to upgrade, not a risk of upgrading
    assert {f.id for f in current.factors} >= {"current_yanked", "current_deprecated"}


def test_dropped_runtime_support() -> None:
    f = facts(runtime_dropped=("3.7", "3.8"), runtime_floor=">=3.9")
    assert weights(f) == {"runtime_dropped": 1}
    assert "1.2.4 drops Python 3.7, 3.8 (it requires >=3.9)" in assess(f).top_reasons()
    node = facts(ecosystem="npm", runtime_dropped=("10-16",), runtime_floor=">=18", peer_conflicts=())
    assert "drops Node 10-16" in assess(node).top_reasons()[0]
    assert unknown(facts(runtime_dropped=None)) == ["Python versions supported by 1.2.4: unknown"]


def test_peer_conflicts_count_up_to_two_and_only_for_npm() -> None:
    conflicts = ("a needs react ^18", "b needs react ^17", "c needs react ^16")
    f = facts(ecosystem="npm", peer_conflicts=conflicts)
    risk = assess(f)
    assert risk.score == 6
    assert [x.weight for x in risk.factors if x.id == "peer_conflict"] == [3, 3, 0]
    assert unknown(facts(ecosystem="npm", peer_conflicts=None)) == ["peer dependencies: unknown"]
    assert unknown(facts(ecosystem="python", peer_conflicts=None)) == []


def test_vulnerabilities_raise_priority_not_risk() -> None:
    fixed = (Vulnerability("PYSEC-2023-74", aliases=("CVE-2023-32681",)),)
    risk = assess(facts(vulnerabilities_fixed=fixed))
    assert risk.score == 0 and risk.security
    assert "fixes PYSEC-2023-74 (security update)" in [f.reason for f in risk.factors]
    assert weights(facts(vulnerabilities_in_target=(Vulnerability("GHSA-x"),))) == {"vulnerable_target": 4}
    assert unknown(facts(vulnerabilities_fixed=None)) == ["known vulnerabilities: not audited"]


def test_breaking_change_markers_in_release_notes() -> None:
    notes = BreakingNotes("https://example.test/CHANGES.md", 3, ("2.0.0: BREAKING: drop Python 3.7",))
    f = facts(breaking_notes=notes)
    assert weights(f) == {"breaking_notes": 3}
    assert "release notes announce breaking changes: '2.0.0: BREAKING: drop Python 3.7'" in assess(f).top_reasons()
    assert unknown(facts(breaking_notes=None)) == ["release notes: not available"]
    assert unknown(facts(breaking_notes=BreakingNotes("x", 0, ()))) == ["release notes (x): no section found"]


@pytest.mark.parametrize(
    ("files", "scanned", "expected"),
    [
        (0, 40, {}),
        (2, 40, {}),
        (3, 40, {}),
        (9, 40, {}),
        (10, 400, {"imports_wide": 1}),
        (3, 6, {"imports_wide": 1}),
        (3, 7, {}),
    ],
)
def test_import_spread(files: int, scanned: int, expected: dict[str, int]) -> None:
    f = facts(imports=Imports(files, scanned, ("pkg",)))
    assert weights(f) == expected
    assert f"{files} of {scanned} source files import pkg" in [x.reason for x in assess(f).factors]


def test_import_spread_unknown_without_code() -> None:
    assert unknown(facts(imports=None)) == ["imports in the repository: code not available"]
    assert unknown(facts(imports=Imports(0, 0, ("pkg",)))) == ["imports in the repository: no source files to read"]


def test_levels_and_thresholds_follow_the_config() -> None:
    assert [level_for(s, RiskSettings()) for s in (0, 2, 3, 5, 6, 20)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]
    strict = RiskSettings(medium_at=1, high_at=2)
    assert assess(facts(update_type="minor"), strict).level == "medium"


def test_weights_can_be_overridden_by_factor_id() -> None:
    settings = RiskSettings(weights=(("core", 10), ("major", 0)))
    risk = assess(facts(core=True, update_type="major", majors_crossed=1), settings)
    assert risk.score == 10 and risk.level == "high"


def test_unknown_factors_never_add_to_the_score_and_come_last() -> None:
    f = facts(
        update_type="minor",
        releases_skipped=None,
        target_published=None,
        runtime_dropped=None,
        vulnerabilities_fixed=None,
        breaking_notes=None,
        imports=None,
    )
    risk = assess(f)
    assert risk.score == 1
    known = [x.known for x in risk.factors]
    assert known == sorted(known, reverse=True)


def test_typical_cases_land_where_the_docstring_says() -> None:
    assert assess(facts(role="runtime", update_type="minor")).score == 2  # low
    assert assess(facts(update_type="major", majors_crossed=1)).level == "medium"  # a dev tool's major
    runtime_major = facts(role="runtime", update_type="major", majors_crossed=1, imports=Imports(10, 80, ("pkg",)))
    assert assess(runtime_major).level == "high"


def test_every_default_weight_is_documented_in_the_module() -> None:
    import bot.risk.assess as module

    for factor_id in DEFAULT_WEIGHTS:
        if factor_id.startswith("role_") or factor_id in (
            "lockfile",
            "current_yanked",
            "current_deprecated",
            "vulnerabilities_fixed",
            "imports_few",
        ):
            continue
        assert factor_id in (module.__doc__ or ""), factor_id


def test_ci_verdict_lowers_the_score_or_blocks() -> None:
    from bot.risk.assess import with_ci

    base = assess(facts(role="runtime", update_type="major", majors_crossed=1))  # 5, medium
    green = with_ci(base, "success")
    assert (green.score, green.level, green.blocked) == (3, "medium", False)
    assert [(f.id, f.weight) for f in green.factors if f.id == "ci_passed"] == [("ci_passed", -2)]
    red = with_ci(base, "failure")
    assert red.blocked and red.score == 5
    assert "CI failed on this pull request: blocked" in [f.reason for f in red.factors]
    assert with_ci(base, "pending") is base and with_ci(base, "none") is base


FLASK_DIFF = ApiDiff(
    "python",
    "flask",
    "2.3.3",
    "3.0.0",
    analysed=True,
    changes=(
        *(ApiChange("removed", f"flask.name{i}", "removed") for i in range(12)),
        ApiChange("removed", "flask.Markup", "removed"),
        ApiChange("changed", "flask.escape", "moved to markupsafe"),
    ),
    source="wheels",
)
USES = (
    Use("app/views.py", 12, "flask.Markup", "removed"),
    Use("app/views.py", 30, "flask.Markup", "removed"),
    Use("app/forms.py", 4, "flask.escape", "moved to markupsafe"),
)


def major(**changes: object) -> UpdateFacts:
    return facts(**{"update_type": "major", "majors_crossed": 1, "role": "runtime", **changes})


def test_uses_of_removed_names_weigh_per_use_up_to_two() -> None:
    one = assess(major(breakage=Breakage(FLASK_DIFF, USES[:1], scanned=8)))
    assert weights(major(breakage=Breakage(FLASK_DIFF, USES[:1], scanned=8)))["api_uses"] == 5
    assert one.level == "high"
    assert "your code uses 1 removed/changed name: flask.Markup at app/views.py:12" in one.top_reasons()
    three = major(breakage=Breakage(FLASK_DIFF, USES, scanned=8))
    assert weights(three)["api_uses"] == 10
    reason = next(f.reason for f in assess(three).factors if f.id == "api_uses")
    assert reason == (
        "your code uses 2 removed/changed names: flask.Markup at app/views.py:12, flask.Markup at app/views.py:30, "
        "flask.escape at app/forms.py:4"
    )
    # a use in a minor is evidence too: high even for a dev tool
    minor = facts(update_type="minor", breakage=Breakage(FLASK_DIFF, USES[:1], scanned=8))
    assert assess(minor).level == "high"


def test_deprecated_names_in_use_do_not_weigh() -> None:
    diff = ApiDiff("python", "flask", "2.3.3", "3.0.0", True, (ApiChange("deprecated", "flask.json", "deprecated"),))
    f = major(breakage=Breakage(diff, (Use("app/api.py", 3, "flask.json", "deprecated"),), scanned=8))
    assert "api_uses" not in weights(f)
    assert weights(f)["api_untouched"] == -4


def test_a_major_that_touches_nothing_the_code_uses_is_lowered() -> None:
    f = major(breakage=Breakage(FLASK_DIFF, (), scanned=8))
    assert weights(f) == {"major": 4, "role_runtime": 1, "api_untouched": -4}
    assert assess(f).level == "low"
    factor = next(x for x in assess(f).factors if x.id == "api_untouched")
    assert factor.reason == "no use of the 14 removed or changed names"
    nothing = ApiDiff("python", "flask", "2.3.3", "3.0.0", analysed=True, changes=())
    reason = next(x.reason for x in assess(major(breakage=Breakage(nothing, (), 8))).factors if x.id == "api_untouched")
    assert reason == "the API diff of pkg 1.2.3 \u2192 1.2.4 removes or changes no name"
    # a minor that touches nothing is shown, with weight 0
    minor = facts(update_type="minor", breakage=Breakage(FLASK_DIFF, (), scanned=8))
    assert [(x.id, x.weight) for x in assess(minor).factors if x.id.startswith("api")] == [("api_untouched", 0)]


def test_api_evidence_unknown_says_why() -> None:
    budget = ApiDiff("python", "pkg", "1.2.3", "2.0.0", analysed=False, why_not="time budget of 120 s used")
    assert unknown(major(current="1.2.3", target="2.0.0", breakage=Breakage(budget))) == [
        "API changes of pkg 1.2.3 \u2192 2.0.0: not analysed: time budget of 120 s used"
    ]
    assert unknown(major(current="1.2.3", target="2.0.0")) == ["API changes of pkg 1.2.3 \u2192 2.0.0: not analysed"]
    assert unknown(major(breakage=Breakage(FLASK_DIFF, (), scanned=0))) == [
        "14 removed or changed names in pkg 1.2.3 \u2192 1.2.4; uses in the code: not available"
    ]
    assert unknown(facts()) == []  # a patch not analysed by policy shows nothing
    # ... but a diff that removes or changes nothing needs no code to say so (a CLI tool's major, never imported)
    deprecated = (ApiChange("deprecated", "jest.x", "deprecated"),)
    nothing = ApiDiff("npm", "jest", "28.1.3", "29.7.0", analysed=True, changes=deprecated)
    assert weights(major(breakage=Breakage(nothing, (), scanned=0)))["api_untouched"] == -4
    assert assess(major(breakage=Breakage(budget))).score == assess(major()).score


def test_api_weights_can_be_overridden() -> None:
    settings = RiskSettings(weights=(("api_untouched", -1), ("api_uses", 2)))
    assert assess(major(breakage=Breakage(FLASK_DIFF, (), 8)), settings).score == 4
    assert assess(major(breakage=Breakage(FLASK_DIFF, USES, 8)), settings).score == 9


def test_lines_crossed_weigh_nothing_when_the_diff_across_them_touches_no_use() -> None:
    far = major(majors_crossed=3, breakage=Breakage(FLASK_DIFF, (), scanned=8))
    assert weights(far) == {"major": 4, "role_runtime": 1, "api_untouched": -4}
    skipped = next(x for x in assess(far).factors if x.id == "majors_skipped")
    assert skipped.reason == "crosses 3 release lines at once; the API diff spans them all"
    used = major(majors_crossed=3, breakage=Breakage(FLASK_DIFF, USES[:1], scanned=8))
    assert weights(used)["majors_skipped"] == 4


def test_the_config_accepts_weights_for_the_api_factors() -> None:
    config = load_config(b"risk:\n  weights:\n    api_uses: 3\n    api_untouched: -6\n", ".github/depup.yml")
    assert (config.risk.weight("api_uses", 5), config.risk.weight("api_untouched", -4)) == (3, -6)
    assert {"api_uses", "api_untouched"} <= set(DEFAULT_WEIGHTS)
