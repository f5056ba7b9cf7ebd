from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from packaging.version import Version

from bot.deps.model import Dependency, Ecosystem, Location, PackageInfo, Release, Role
from bot.deps.versions import Policy, Project, choose

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def dep(
    constraint: str,
    *,
    ecosystem: Ecosystem = Ecosystem.PYTHON,
    role: Role = Role.RUNTIME,
    locked: str | None = None,
    marker: str | None = None,
    section: str = "requirements",
    skip: str | None = None,
) -> Dependency:
    return Dependency(
        ecosystem,
        "pkg",
        "pkg",
        constraint,
        role,
        Location("f", 1, 1, 0, len(constraint), section),
        marker=marker,
        locked=locked,
        skip_reason=skip,
    )


def info(*versions: str | Release, ecosystem: Ecosystem = Ecosystem.PYTHON) -> PackageInfo:
    releases = tuple(v if isinstance(v, Release) else Release(v, published=NOW - timedelta(days=400)) for v in versions)
    return PackageInfo(ecosystem, "pkg", releases)


def offered(proposal) -> list[tuple[str, str | None, str, bool]]:  # type: ignore[no-untyped-def]
    return [(u.version, u.constraint, u.update_type, u.is_major) for u in proposal.updates]


POLICY = Policy(now=NOW)


def test_pinned_python_gets_newest_in_major_and_newest_major() -> None:
    p = choose(dep("==1.1.2"), info("1.1.2", "1.1.4", "2.0.0", "3.1.3", "3.2.0rc1"), Project(), POLICY)
    assert p.current == "1.1.2"
    assert offered(p) == [("1.1.4", "==1.1.4", "patch", False), ("3.1.3", "==3.1.3", "major", True)]


def test_zero_x_minor_is_a_major() -> None:
    p = choose(dep("==0.13.4"), info("0.13.4", "0.13.6", "0.20.0", "0.54.0"), Project(), POLICY)
    assert offered(p) == [("0.13.6", "==0.13.6", "patch", False), ("0.54.0", "==0.54.0", "major", True)]


def test_range_without_lockfile_uses_newest_admitted_as_current() -> None:
    p = choose(dep(">=1.3,<1.4"), info("1.3.0", "1.3.24", "1.4.54", "2.1.9"), Project(), POLICY)
    assert p.current == "1.3.24"
    assert [(u.version, u.update_type, u.is_major) for u in p.updates] == [
        ("1.4.54", "minor", False),
        ("2.1.9", "major", True),
    ]
    assert all(u.strategy == "bump" for u in p.updates)


def test_open_range_already_admitting_the_newest_proposes_nothing_without_a_lockfile() -> None:
    p = choose(dep(">=7.0"), info("7.0", "8.1.7"), Project(), POLICY)
    assert p.updates == ()
    assert p.reason == "up to date"


def test_lockfile_only_when_the_range_admits_and_a_lockfile_exists() -> None:
    p = choose(
        dep("^4.17.0", ecosystem=Ecosystem.NPM, locked="4.17.1"),
        info("4.17.1", "4.17.21", ecosystem=Ecosystem.NPM),
        Project(has_lockfile=True),
        POLICY,
    )
    assert offered(p) == [("4.17.21", None, "patch", False)]
    assert p.updates[0].strategy == "lockfile-only"


def test_yanked_deprecated_prerelease_and_too_young_are_held_back_with_notes() -> None:
    versions = [
        Release("1.0.0", published=NOW - timedelta(days=300)),
        Release("1.1.0", published=NOW - timedelta(days=200)),
        Release("1.2.0", published=NOW - timedelta(days=100), yanked=True, yanked_reason="broken wheel"),
        Release("1.3.0", published=NOW - timedelta(days=1)),
        Release("1.4.0rc1", published=NOW - timedelta(days=50)),
    ]
    p = choose(dep("==1.0.0"), info(*versions), Project(), Policy(min_release_age=timedelta(days=3), now=NOW))
    assert offered(p) == [("1.1.0", "==1.1.0", "minor", False)]
    assert p.notes == (
        "1.3.0: younger than min_release_age 3 days (released 1 day ago)",
        "1.2.0: yanked: broken wheel",
    )


def test_prereleases_are_offered_when_the_current_version_is_one() -> None:
    p = choose(dep("==2.0.0b1"), info("1.9", "2.0.0b1", "2.0.0rc2"), Project(), POLICY)
    assert offered(p) == [("2.0.0rc2", "==2.0.0rc2", "patch", False)]


def test_requires_python_of_the_project_is_respected() -> None:
    versions = [
        Release("2.22.0", requires_python=">=2.7"),
        Release("2.32.3", requires_python=">=3.8"),
        Release("2.34.2", requires_python=">=3.9"),
    ]
    p = choose(dep("==2.22.0"), info(*versions), Project(requires_python=">=3.8"), POLICY)
    assert offered(p) == [("2.32.3", "==2.32.3", "minor", False)]
    assert p.notes == ("2.34.2: requires Python >=3.9; requires-python >=3.8 needs 3.8",)


def test_environment_marker_caps_the_python_version() -> None:
    versions = [
        Release("1.7.0", requires_python=">=2.7"),
        Release("6.7.0", requires_python=">=3.7"),
        Release("10.2.0", requires_python=">=3.9"),
    ]
    p = choose(dep("==1.7.0", marker='python_version < "3.8"'), info(*versions), Project(), POLICY)
    assert offered(p) == [("6.7.0", "==6.7.0", "major", True)]


def test_marker_that_excludes_every_supported_python() -> None:
    p = choose(
        dep("==1.7.0", marker='python_version < "3.8"'), info("1.7.0", "2.0"), Project(requires_python=">=3.8"), POLICY
    )
    assert p.updates == ()
    assert p.reason is not None and p.reason.startswith("never installed")


def test_engines_node_of_the_project_is_respected() -> None:
    versions = [
        Release("7.0.0", engines_node=">=10"),
        Release("8.57.0", engines_node="^12.22.0 || >=14"),
        Release("9.0.0", engines_node="^18.18.0 || >=20"),
    ]
    p = choose(
        dep("^7.0.0", ecosystem=Ecosystem.NPM, role=Role.DEV),
        info(*versions, ecosystem=Ecosystem.NPM),
        Project(engines_node=">=14"),
        POLICY,
    )
    assert [(u.version, u.constraint) for u in p.updates] == [("8.57.0", "^8.57.0")]


def test_npm_exact_pin_and_caret_bump() -> None:
    p = choose(
        dep("4.17.1", ecosystem=Ecosystem.NPM),
        info("4.17.1", "4.22.3", "5.3.0", ecosystem=Ecosystem.NPM),
        Project(),
        POLICY,
    )
    assert offered(p) == [("4.22.3", "4.22.3", "minor", False), ("5.3.0", "5.3.0", "major", True)]
    caret = choose(
        dep("^16.8.0", ecosystem=Ecosystem.NPM, locked="16.14.0"),
        info("16.14.0", "19.3.1", ecosystem=Ecosystem.NPM),
        Project(has_lockfile=True),
        POLICY,
    )
    assert offered(caret) == [("19.3.1", "^19.3.1", "major", True)]


def test_peer_dependencies_widen() -> None:
    p = choose(
        dep("^17.0.0", ecosystem=Ecosystem.NPM, role=Role.PEER),
        info("17.0.2", "18.3.1", ecosystem=Ecosystem.NPM),
        Project(),
        POLICY,
    )
    assert offered(p) == [("18.3.1", "^17.0.0 || ^18.0.0", "major", True)]


def test_poetry_caret_is_rewritten_in_poetry_style() -> None:
    p = choose(dep("^1.2", section="tool.poetry.dependencies"), info("1.2.0", "1.9.0", "2.1.0"), Project(), POLICY)
    assert p.current == "1.9.0"
    assert offered(p) == [("2.1.0", "^2.1", "major", True)]  # same precision as written


@pytest.mark.parametrize("skip", ["editable", "url"])
def test_skipped_entries_say_why(skip: str) -> None:
    p = choose(dep("", skip=skip), info("1.0"), Project(), POLICY)
    assert p.reason == f"skipped: {skip}"
    assert p.updates == ()


def test_unconstrained_dependency() -> None:
    assert choose(dep(""), info("1.0"), Project(), POLICY).reason == "no constraint: every version is allowed"


def test_npm_versions_are_ordered_by_semver_not_as_text() -> None:
    versions = ("16.8.0", "16.9.0", "16.14.0", "16.10.2")
    p = choose(
        dep("^16.8.0", ecosystem=Ecosystem.NPM, locked="16.9.0"),
        info(*versions, ecosystem=Ecosystem.NPM),
        Project(has_lockfile=True),
        POLICY,
    )
    assert offered(p) == [("16.14.0", None, "minor", False)]


def test_held_back_notes_are_grouped_and_only_about_versions_newer_than_the_offer() -> None:
    versions = [
        Release("1.0", requires_python=">=3.6"),
        Release("1.5", requires_python=">=3.6", yanked=True),
        Release("2.0", requires_python=">=3.8"),
    ]
    versions += [Release(f"3.{minor}", requires_python=">=3.11") for minor in range(5)]
    p = choose(dep("==1.0"), info(*versions), Project(requires_python=">=3.8"), POLICY)
    assert offered(p) == [("2.0", "==2.0", "major", True)]
    # 1.5 is yanked but older than nothing offered in its line (none is): it is listed; the 3.x run is one line.
    assert p.notes == (
        "3.4, 3.3, 3.2 and 2 more: requires Python >=3.11; requires-python >=3.8 needs 3.8",
        "1.5: yanked",
    )


def test_npm_does_not_move_past_the_latest_dist_tag() -> None:
    npm_info = PackageInfo(
        Ecosystem.NPM,
        "pkg",
        tuple(Release(v) for v in ("4.0.0", "4.2.0", "5.0.0", "5.1.0")),
        dist_tags=(("latest", "4.2.0"), ("next", "5.1.0")),
    )
    p = choose(dep("^4.0.0", ecosystem=Ecosystem.NPM, locked="4.0.0"), npm_info, Project(has_lockfile=True), POLICY)
    assert offered(p) == [("4.2.0", None, "minor", False)]
    assert p.notes == ("5.1.0, 5.0.0: above the latest dist-tag 4.2.0",)
    # Already on the `next` line: follow it.
    ahead = choose(dep("^5.0.0", ecosystem=Ecosystem.NPM, locked="5.0.0"), npm_info, Project(has_lockfile=True), POLICY)
    assert offered(ahead) == [("5.1.0", None, "minor", False)]


def test_unknown_current_version_is_never_guessed_from_the_range() -> None:
    unknown = replace(dep("^1.0.0", ecosystem=Ecosystem.NPM), unknown_current="yarn.lock has no entry for pkg")
    p = choose(unknown, info("1.0.0", "1.4.0", "2.0.0", ecosystem=Ecosystem.NPM), Project(has_lockfile=True), POLICY)
    assert p.current is None and p.updates == ()
    assert p.reason == "current version unknown: yarn.lock has no entry for pkg"


def test_npm_prerelease_range_moves_within_its_prerelease_line() -> None:
    versions = info(
        "1.9.0", "2.0.0-alpha.19", "2.0.0-alpha.20", "2.0.0-beta.1", "2.1.0-alpha.1", "3.0.0-rc.1",
        ecosystem=Ecosystem.NPM,
    )  # fmt: skip
    current = dep("^2.0.0-alpha.19", ecosystem=Ecosystem.NPM, locked="2.0.0-alpha.19")
    p = choose(current, versions, Project(has_lockfile=True), POLICY)
    assert [(u.version, u.constraint) for u in p.updates] == [("2.0.0-beta.1", None)]


def test_prerelease_pin_takes_the_stable_release_of_its_line_not_a_newer_prerelease() -> None:
    versions = info("2.0.0-alpha.19", "2.0.0", "2.1.0", "2.2.0-beta.1", "3.0.0-alpha.1", ecosystem=Ecosystem.NPM)
    p = choose(dep("2.0.0-alpha.19", ecosystem=Ecosystem.NPM), versions, Project(), POLICY)
    assert offered(p) == [("2.1.0", "2.1.0", "minor", False)]


def test_python_prerelease_pin_stays_on_its_release_line() -> None:
    p = choose(dep("==2.0.0b1"), info("2.0.0b1", "2.0.0rc2", "2.1.0a1", "3.0.0a1"), Project(), POLICY)
    assert offered(p) == [("2.0.0rc2", "==2.0.0rc2", "patch", False)]


def test_runtime_node_admits_later_releases_of_the_declared_major() -> None:
    versions = [Release("1.0.0", engines_node=">=14"), Release("1.1.0", engines_node=">=14.18")]
    current = dep("1.0.0", ecosystem=Ecosystem.NPM)
    floor = choose(current, info(*versions, ecosystem=Ecosystem.NPM), Project(engines_node="14.*"), POLICY)
    assert floor.updates == () and floor.notes == ("1.1.0: requires Node >=14.18; engines.node needs 14.0.0",)
    running = choose(
        current,
        info(*versions, ecosystem=Ecosystem.NPM),
        Project(engines_node="14.*"),
        replace(POLICY, node_runtime="14.21"),
    )
    assert offered(running) == [("1.1.0", "1.1.0", "minor", False)]


def test_runtime_python_replaces_the_requires_python_floor() -> None:
    versions = [Release("1.0", requires_python=">=3.8"), Release("1.1", requires_python=">=3.10")]
    project = Project(requires_python=">=3.8")
    assert choose(dep("==1.0"), info(*versions), project, POLICY).updates == ()
    running = choose(dep("==1.0"), info(*versions), project, replace(POLICY, python_runtime="3.11"))
    assert offered(running) == [("1.1", "==1.1", "minor", False)]


def test_an_override_range_is_bumped_never_moved_in_the_lockfile_only() -> None:
    override = replace(
        dep("^1.0.0", ecosystem=Ecosystem.NPM, locked="1.0.0"),
        location=Location("package.json", 1, 1, 0, 6, "overrides"),
    )
    p = choose(override, info("1.0.0", "1.2.0", ecosystem=Ecosystem.NPM), Project(has_lockfile=True), POLICY)
    assert [(u.version, u.constraint, u.strategy) for u in p.updates] == [("1.2.0", "^1.2.0", "bump")]


@pytest.mark.parametrize("ecosystem", [Ecosystem.PYTHON, Ecosystem.NPM])
def test_ordered_releases_found_by_bisection_give_the_same_choice_as_sorting_them(ecosystem: Ecosystem) -> None:
    """A registry's ``ordered`` PackageInfo is bisected, never parsed whole: the choices (updates, notes, the
    current version of a range) must equal those made by sorting the same releases given in any order."""
    import random

    from bot.deps.registry.npm import parse_npm
    from bot.deps.versions import stable_between

    versions = [f"{major}.{minor}.{patch}" for major in range(4) for minor in range(4) for patch in range(3)]
    versions += ["2.0.0-beta.1", "3.1.0-rc.1", "1.2.1+build.7"]
    yanked = {"2.3.1", "3.3.2"}
    if ecosystem is Ecosystem.NPM:
        document = {
            "name": "pkg",
            "dist-tags": {"latest": "3.3.2"},
            "versions": {v: {"deprecated": "no" if v in yanked else None} for v in versions},
            "time": {v: (NOW - timedelta(days=400 - i)).isoformat() for i, v in enumerate(versions)},
        }
        ordered = parse_npm(document).info
        constraints = ["^1.1.0", "~2.0.0", "1.2.1", ">=2 <3", "^0.1.0"]
    else:
        releases = [Release(v, NOW - timedelta(days=400), yanked=v in yanked) for v in versions]
        ordered = replace(info(*sorted(releases, key=lambda r: Version(r.version))), ordered=True)
        constraints = ["==1.1.0", "~=2.0.0", ">=1.2,<3", "==0.1.2", ">=3.1"]
    assert ordered.ordered
    shuffled = list(ordered.releases)
    random.Random(7).shuffle(shuffled)
    unordered = replace(ordered, releases=tuple(shuffled), ordered=False)
    for constraint in constraints:
        wanted = dep(constraint, ecosystem=ecosystem)
        assert choose(wanted, ordered, Project(), POLICY) == choose(wanted, unordered, Project(), POLICY), constraint
    between = stable_between(ecosystem, ordered, "1.0.0", "3.0.0")
    assert between == stable_between(ecosystem, unordered, "1.0.0", "3.0.0") and between
