"""The planner: phases, groups, ignore rules, gates, limits and the plan id."""

from __future__ import annotations

import random
from dataclasses import replace

from bot.deps.model import Dependency, Ecosystem, Location, Role
from bot.deps.proposals import Update
from bot.plan.build import build_plan
from bot.plan.model import Plan, PlanItem
from bot.risk.model import Assessment
from config.loader import default_config
from config.model import Automerge, Group, IgnoreRule, Match, Phase

DEFAULT = default_config()


def item(
    package: str,
    current: str = "1.0.0",
    target: str = "1.1.0",
    *,
    kind: str = "minor",
    level: str = "low",
    score: int | None = None,
    role: str = "runtime",
    core: bool = False,
    ecosystem: str = "python",
    file: str = "requirements.txt",
    line: int | None = None,
    security: bool = False,
) -> PlanItem:
    line = line if line is not None else sum(map(ord, package)) % 997 + 1
    eco = Ecosystem(ecosystem)
    dep = Dependency(
        eco,
        package,
        package,
        f"=={current}",
        Role(role),
        Location(file, line, 1, line * 100, line * 100 + 8, "requirements"),
    )
    update = Update(target, f"=={target}", kind, kind == "major", "pin")  # type: ignore[arg-type]
    score = score if score is not None else {"low": 1, "medium": 4, "high": 8}[level]
    return PlanItem(
        ecosystem=ecosystem,
        package=package,
        name=package,
        current=current,
        target=target,
        update_type=kind,  # type: ignore[arg-type]
        role=role,
        core=core,
        risk=Assessment(score, level, (), security=security),  # type: ignore[arg-type]
        dependencies=(dep,),
        update=update,
        files=(file,),
    )


def lockfile_item(path: str = "uv.lock", ecosystem: str = "python") -> PlanItem:
    return PlanItem(
        ecosystem, path, path, "", "", "lockfile", "runtime", False, Assessment(2, "low", ()), files=(path,)
    )


def placed(plan: Plan) -> dict[str, str]:
    return {f"{i.package}@{i.target}": g.phase for g in plan.groups for i in g.items}


def test_default_phases_order_updates_from_safest_to_riskiest() -> None:
    plan = build_plan(
        [
            item("requests", kind="patch"),
            item("click", level="medium"),
            item("pytest", "6.2.5", "9.0.1", kind="major", role="dev", level="high"),
            item("black", "22.3.0", "22.12.0", role="dev"),
            item("setuptools", "58.0.0", "80.9.0", kind="major", role="build", level="medium"),
            item("django", "3.2.0", "3.2.25", kind="patch", core=True, level="medium"),
            item("flask", "1.1.2", "3.1.3", kind="major", core=True, level="high"),
            item("numpy-like", "1.0", "2.0", kind="major", level="high"),
            item("risky", "1.0", "1.1", level="high"),
            item("typescript", "4.1.0", "4.9.5", role="dev", core=True, ecosystem="npm", file="package.json"),
            lockfile_item(),
        ],
        DEFAULT,
    )
    assert placed(plan) == {
        "requests@1.1.0": "low",
        "click@1.1.0": "low",
        "black@22.12.0": "low",  # a dev tool's minor is as safe as it gets
        "pytest@9.0.1": "build-dev",
        "setuptools@80.9.0": "build-dev",
        "django@3.2.25": "core-runtime",  # core, even for a patch
        "flask@3.1.3": "core-runtime",
        "numpy-like@2.0": "core-runtime",  # a runtime major
        "risky@1.1": "core-runtime",  # a high-risk minor is not phase 1 material
        "typescript@4.9.5": "core-runtime",  # core wins over dev
        "uv.lock@": "integration",
    }
    assert [p.name for p in plan.phases] == ["low", "build-dev", "core-runtime", "integration"]
    assert plan.current_phase == "low"
    assert plan.unplaced == () and plan.ignored == ()


def test_low_risk_updates_share_a_pr_per_ecosystem_and_high_risk_get_their_own() -> None:
    plan = build_plan(
        [
            item("requests", kind="patch"),
            item("click", level="medium"),
            item("lodash", ecosystem="npm", file="package.json"),
            item("flask", "1.1.2", "3.1.3", kind="major", core=True, level="high"),
            item("django", "3.2.0", "3.2.25", kind="patch", core=True, level="medium"),
            item("celery", "5.0.5", "5.5.3", core=True, level="high"),
        ],
        DEFAULT,
    )
    groups = {g.key: (g.kind, g.branch, [i.package for i in g.items], g.title) for g in plan.groups}
    assert groups == {
        "python/low": ("phase", "depup/python/low", ["click", "requests"], "Phase 1: 2 medium-risk Python upgrades"),
        "npm/low": ("phase", "depup/npm/low", ["lodash"], "Upgrade lodash from 1.0.0 to 1.1.0"),
        "python/core-runtime": (
            "phase",
            "depup/python/core-runtime",
            ["django"],
            "Upgrade django from 3.2.0 to 3.2.25",
        ),
        "python/flask": ("package", "depup/python/flask", ["flask"], "Upgrade flask from 1.1.2 to 3.1.3"),
        "python/celery": ("package", "depup/python/celery", ["celery"], "Upgrade celery from 5.0.5 to 5.5.3"),
    }


def test_config_groups_bundle_matching_updates_within_each_phase() -> None:
    config = replace(DEFAULT, groups=(Group("eslint", Match(packages=("eslint", "eslint-*", "@typescript-eslint/*"))),))
    plan = build_plan(
        [
            item("eslint", "7.0.0", "7.32.0", role="dev", ecosystem="npm", file="package.json"),
            item("eslint-plugin-react", "7.0.0", "7.37.0", role="dev", ecosystem="npm", file="package.json"),
            item(
                "@typescript-eslint/parser",
                "5.0.0",
                "8.0.0",
                kind="major",
                role="dev",
                ecosystem="npm",
                file="package.json",
                level="high",
            ),
            item("jest", "26.6.3", "26.6.4", kind="patch", role="dev", ecosystem="npm", file="package.json"),
        ],
        config,
    )
    groups = {g.key: [i.package for i in g.items] for g in plan.groups}
    assert groups == {
        "npm/low-eslint": ["eslint", "eslint-plugin-react"],
        "npm/low": ["jest"],
        "npm/build-dev-eslint": ["@typescript-eslint/parser"],  # a group never pulls an update out of its phase
    }
    assert plan.group("npm/low-eslint").title == "Upgrade eslint (2 packages)"  # type: ignore[union-attr]


def test_ignore_rules_by_name_version_range_update_type_and_ecosystem() -> None:
    config = replace(
        DEFAULT,
        ignore=(
            IgnoreRule(packages=("flask",), versions=(">=3",), reason="waiting for extensions"),
            IgnoreRule(packages=("react",), versions=(">=17",), ecosystems=("npm",)),
            IgnoreRule(packages=("@types/*",), update_types=("major",)),
        ),
    )
    items = [
        item("flask", "1.1.2", "1.1.4", kind="patch", core=True, level="medium"),
        item("flask", "1.1.2", "3.1.3", kind="major", core=True, level="high"),
        item("react", "16.8.0", "16.14.0", ecosystem="npm", file="package.json", core=True, level="medium"),
        item("react", "16.8.0", "19.2.0", kind="major", ecosystem="npm", file="package.json", core=True, level="high"),
        item("@types/node", "14.0.0", "24.0.0", kind="major", role="dev", ecosystem="npm", file="package.json"),
        item("@types/node", "14.0.0", "14.18.63", kind="minor", role="dev", ecosystem="npm", file="package.json"),
    ]
    plan = build_plan(items, config, extra_ignores=(IgnoreRule(packages=("requests",), versions=("==2.32.5",)),))
    ignored = {f"{s.item.package}@{s.item.target}": s.reason for s in plan.ignored}
    assert ignored == {
        "flask@3.1.3": "ignored by rule flask >=3: waiting for extensions",
        "react@19.2.0": "ignored by rule react >=17",
        "@types/node@24.0.0": "ignored by rule @types/* (major updates)",
    }
    assert set(placed(plan)) == {"flask@1.1.4", "react@16.14.0", "@types/node@14.18.63"}
    extra = build_plan(
        [item("requests", "2.22.0", "2.32.5")],
        DEFAULT,
        extra_ignores=(IgnoreRule(packages=("requests",), versions=("==2.32.5",)),),
    )
    assert [s.item.package for s in extra.ignored] == ["requests"] and extra.groups == ()


def test_a_major_waits_for_the_in_line_update_of_the_same_entry_in_one_phase() -> None:
    plan = build_plan(
        [
            item("django", "3.2.0", "3.2.25", kind="patch", core=True, level="medium", line=7),
            item("django", "3.2.0", "5.2.8", kind="major", core=True, level="high", line=7),
            item("flask", "1.1.2", "1.1.4", kind="patch", level="low", line=9),
            item("flask", "1.1.2", "3.1.3", kind="major", level="high", line=9),
        ],
        DEFAULT,
    )
    # flask's patch is phase 1 and its major phase 3: different phases, both planned.
    assert placed(plan) == {"django@3.2.25": "core-runtime", "flask@1.1.4": "low", "flask@3.1.3": "core-runtime"}
    assert [(s.item.package, s.item.target, s.reason) for s in plan.deferred] == [
        ("django", "5.2.8", "after django 3.2.25 of this phase is merged")
    ]
    django = plan.group("python/core-runtime")
    assert django is not None and django.items[0].notes == ("next: 5.2.8 (major)",)


def test_unplaced_updates_are_listed_not_dropped() -> None:
    config = replace(DEFAULT, phases=(Phase("only-patches", "Patches", Match(update_types=("patch",))),))
    plan = build_plan([item("requests", kind="patch"), item("click")], config)
    assert placed(plan) == {"requests@1.1.0": "only-patches"}
    assert [(s.item.package, s.reason) for s in plan.unplaced] == [("click", "no phase matches it")]


def test_gates_approvals_from_phase_and_risk_automerge_from_phase_and_max_risk() -> None:
    config = replace(
        DEFAULT,
        automerge=Automerge(enabled=True, max_risk="medium"),
        phases=(
            Phase("manual", "Manual", Match(packages=("manual-*",)), approvals=2, automerge=False),
            Phase("low", "Low", Match(risk=("low", "medium")), approvals=0),
            Phase("rest", "Rest", Match(), approvals=0),
        ),
    )
    plan = build_plan(
        [item("a"), item("b", level="medium"), item("manual-x"), item("c", level="high")],
        config,
    )
    gates = {g.key: (g.risk, g.approvals, g.automerge) for g in plan.groups}
    assert gates == {
        "python/low": ("medium", 0, True),
        "python/manual": ("low", 2, False),
        "python/c": ("high", 1, False),  # approvals.high defaults to 1; high is above automerge.max_risk
    }
    core = next(p for p in build_plan([item("flask", core=True)], DEFAULT).phases if p.name == "core-runtime")
    assert core.approvals == 1 and core.groups[0].approvals == 1  # SPEC: core & runtime majors need /depup approve


def test_max_open_prs_opens_security_first_then_lowest_risk() -> None:
    config = replace(DEFAULT, max_open_prs=2, phases=(Phase("all", "All", Match()),))
    plan = build_plan(
        [
            item("a", level="high", score=7),
            item("b", level="high", score=9),
            item("c", level="high", score=6, security=True),
            item("d", level="high", score=6),
        ],
        config,
        open_prs=1,
    )
    assert plan.opening == ("python/security-c",)
    assert plan.waiting == ("python/d", "python/a", "python/b")
    assert build_plan([item("a")], replace(config, max_open_prs=0)).opening == ()


def test_plan_id_is_stable_and_changes_with_what_would_be_pushed() -> None:
    items = [item(f"pkg{n}", target=f"1.{n}.0") for n in range(12)] + [
        item("big", "1.0", "2.0", kind="major", level="high")
    ]
    first = build_plan(items, DEFAULT)
    shuffled = items[:]
    random.Random(4).shuffle(shuffled)
    assert build_plan(shuffled, DEFAULT).id == first.id
    assert build_plan(items, DEFAULT, problems=("x",)).id == first.id  # problems are shown, not pushed
    moved = [*items[:-1], item("big", "1.0", "2.1", kind="major", level="high")]
    assert build_plan(moved, DEFAULT).id != first.id
    assert build_plan(items, replace(DEFAULT, approvals=replace(DEFAULT.approvals, high=2))).id != first.id
    assert len(first.id) == 16


def test_conventional_titles() -> None:
    config = replace(DEFAULT, commit_style="conventional")
    plan = build_plan([item("pytest", role="dev"), item("flask", "1.1.2", "3.1.3", kind="major", level="high")], config)
    assert sorted(g.title for g in plan.groups) == [
        "chore(deps): upgrade flask from 1.1.2 to 3.1.3",
        "chore(deps-dev): upgrade pytest from 1.0.0 to 1.1.0",
    ]


def test_nothing_to_do() -> None:
    plan = build_plan([], DEFAULT)
    assert plan.current_phase is None and plan.groups == () and plan.opening == ()
    assert len(plan.phases) == 4


def test_python_package_globs_compare_pep503_names() -> None:
    config = replace(
        DEFAULT,
        ignore=(
            IgnoreRule(
                packages=("Typing_Extensions", "Zope.*"),
            ),
        ),
    )
    plan = build_plan([item("typing-extensions"), item("zope-interface"), item("zopex")], config)
    assert sorted(s.item.package for s in plan.ignored) == ["typing-extensions", "zope-interface"]


def test_security_updates_jump_ahead_alone_and_block_new_drops_vulnerable_targets() -> None:
    from bot.plan.render import group_markdown
    from bot.risk.model import Vulnerability

    fix = Vulnerability(
        "GHSA-j8r2-6x86-q33q",
        ("CVE-2023-32681",),
        "Leaks Proxy-Authorization",
        ("2.31.0",),
        "https://osv.test/GHSA-j8r2-6x86-q33q",
    )
    secure = replace(item("django", "3.2.0", "3.2.25", kind="patch", core=True, level="medium"), fixes=(fix,))
    secure = replace(secure, risk=replace(secure.risk, security=True))
    bad = replace(item("pyyaml", "5.1", "5.3"), vulnerable=(Vulnerability("PYSEC-2020-96"),))
    plan = build_plan([secure, bad, item("click")], DEFAULT)
    assert placed(plan) == {"django@3.2.25": "low", "click@1.1.0": "low"}
    group = plan.group("python/security-django")
    assert group is not None and group.security and group.title == "[security] Upgrade django from 3.2.0 to 3.2.25"
    assert plan.opening[0] == "python/security-django"  # security first
    body = group_markdown(group, plan)
    assert "### Security" in body
    assert (
        "- fixes [GHSA-j8r2-6x86-q33q](https://osv.test/GHSA-j8r2-6x86-q33q) (CVE-2023-32681) in `django` 3.2.0" in body
    )
    assert [(s.item.package, s.reason) for s in plan.ignored] == [
        ("pyyaml", "5.3 has known vulnerabilities (PYSEC-2020-96): security.block_new")
    ]
    allowed = build_plan([bad], replace(DEFAULT, security=replace(DEFAULT.security, block_new=False)))
    assert placed(allowed) == {"pyyaml@5.3": "low"}
