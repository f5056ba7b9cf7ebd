"""Facts established from registry data and the manifest: distance, release lines, runtime support, peers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.deps.model import Dependency, Ecosystem, Location, PackageInfo, Release, Role
from bot.deps.proposals import Update
from bot.deps.registry.parsed import PeerDependency
from bot.risk.facts import Neighbour, gather, riskiest_role
from bot.risk.imports import ImportIndex
from config.model import CorePackages

NOW = datetime(2026, 11, 24, tzinfo=UTC)
CORE = CorePackages(python=("django", "flask"), npm=("react", "@angular/*"))


def dep(name: str, role: Role = Role.RUNTIME, ecosystem: Ecosystem = Ecosystem.PYTHON) -> Dependency:
    return Dependency(ecosystem, name, name, "", role, Location("f", 1, 1, 0, 0, "s"))


def info(ecosystem: Ecosystem, name: str, *releases: Release) -> PackageInfo:
    return PackageInfo(ecosystem, name, releases)


def update(version: str, kind: str = "major", is_major: bool = True) -> Update:
    return Update(version, f"=={version}", kind, is_major, "pin")  # type: ignore[arg-type]


FLASK = info(
    Ecosystem.PYTHON,
    "flask",
    Release("1.1.2", requires_python=">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*"),
    Release("1.1.4"),
    Release("2.0.0", requires_python=">=3.6"),
    Release("2.0.1rc1", requires_python=">=3.6"),
    Release("2.3.3", requires_python=">=3.8"),
    Release("3.0.0", requires_python=">=3.8"),
    Release("3.1.3", published=NOW - timedelta(days=3), requires_python=">=3.9", yanked=True),
)


def test_distance_lines_and_core() -> None:
    f = gather(
        ecosystem=Ecosystem.PYTHON,
        key="flask",
        current="1.1.2",
        update=update("3.1.3"),
        dependencies=[dep("flask")],
        info=FLASK,
        core=CORE,
        now=NOW,
    )
    assert f.majors_crossed == 2  # 2.x and 3.x
    assert f.releases_skipped == 4  # 1.1.4, 2.0.0, 2.3.3, 3.0.0; the prerelease is not counted
    assert f.core and f.role == "runtime" and not f.zero_x
    assert f.target_published == NOW - timedelta(days=3)
    assert f.target_yanked == "no reason given"
    assert f.runtime_dropped == ("2.7", "3.5-3.8")  # 3.0-3.4 were already excluded by 1.1.2
    assert f.runtime_floor == ">=3.9"
    assert f.peer_conflicts is None  # not npm
    assert f.imports is None and f.breaking_notes is None and f.vulnerabilities_fixed is None


def test_runtime_drops_only_count_what_the_project_supports() -> None:
    f = gather(
        ecosystem=Ecosystem.PYTHON,
        key="flask",
        current="1.1.2",
        update=update("3.1.3"),
        dependencies=[dep("flask")],
        info=FLASK,
        core=CORE,
        now=NOW,
        project_runtime=">=3.8",
    )
    assert f.runtime_dropped == ("3.8",)


def test_unknown_release_data_stays_unknown() -> None:
    f = gather(
        ecosystem=Ecosystem.PYTHON,
        key="x",
        current="1.0",
        update=update("2.0"),
        dependencies=[dep("x")],
        info=None,
        core=CORE,
        now=NOW,
    )
    assert f.releases_skipped is None and f.runtime_dropped is None and f.target_published is None


def test_zero_x_and_prerelease_targets_npm() -> None:
    axios = info(
        Ecosystem.NPM, "axios", Release("0.21.1"), Release("0.22.0"), Release("0.30.2"), Release("1.0.0-beta.1")
    )
    f = gather(
        ecosystem=Ecosystem.NPM,
        key="axios",
        current="0.21.1",
        update=update("1.0.0-beta.1"),
        dependencies=[dep("axios", ecosystem=Ecosystem.NPM)],
        info=axios,
        core=CORE,
        now=NOW,
        peers={},
    )
    assert f.zero_x and f.target_prerelease
    assert f.majors_crossed == 3  # 0.22, 0.30, 1.x
    assert f.releases_skipped == 2
    assert f.peer_conflicts == ()


def test_peer_conflicts_both_ways() -> None:
    react_dom = info(Ecosystem.NPM, "react-dom", Release("16.14.0"), Release("19.2.0"))
    peers = {
        "react-dom": {
            "16.14.0": (PeerDependency("react", "^16.14.0"),),
            "19.2.0": (PeerDependency("react", "^19.2.0"),),
        },
        "react-redux": {"7.2.9": (PeerDependency("react", "^16.8.3 || ^17 || ^18"),)},
    }
    neighbours = [
        Neighbour("react", "16.14.0", "^16.8.0"),
        Neighbour("react-dom", "16.14.0", "^16.8.0"),
        Neighbour("react-redux", "7.2.9", "^7.2.0"),
    ]
    f = gather(
        ecosystem=Ecosystem.NPM,
        key="react-dom",
        current="16.14.0",
        update=update("19.2.0"),
        dependencies=[dep("react-dom", ecosystem=Ecosystem.NPM)],
        info=react_dom,
        core=CORE,
        now=NOW,
        neighbours=neighbours,
        peers=peers,
    )
    assert f.peer_conflicts == ("react-dom 19.2.0 needs react ^19.2.0; the manifest has react 16.14.0",)
    react = gather(
        ecosystem=Ecosystem.NPM,
        key="react",
        current="16.14.0",
        update=update("19.2.0"),
        dependencies=[dep("react", ecosystem=Ecosystem.NPM)],
        info=info(Ecosystem.NPM, "react", Release("16.14.0"), Release("19.2.0")),
        core=CORE,
        now=NOW,
        neighbours=neighbours,
        peers=peers,
    )
    assert react.peer_conflicts == (
        "react-dom 16.14.0 needs react ^16.14.0, which excludes 19.2.0",
        "react-redux 7.2.9 needs react ^16.8.3 || ^17 || ^18, which excludes 19.2.0",
    )
    assert react.core


def test_node_engines_dropped() -> None:
    pkg = info(
        Ecosystem.NPM,
        "jest",
        Release("26.6.3", engines_node=">= 10.14.2"),
        Release("30.0.0", engines_node="^18.14.0 || ^20.0.0 || >=22.0.0"),
    )
    f = gather(
        ecosystem=Ecosystem.NPM,
        key="jest",
        current="26.6.3",
        update=update("30.0.0"),
        dependencies=[dep("jest", Role.DEV, Ecosystem.NPM)],
        info=pkg,
        core=CORE,
        now=NOW,
        peers={},
    )
    assert f.runtime_dropped == ("10-17", "19", "21")
    assert f.role == "dev"


def test_imports_counted_and_riskiest_role() -> None:
    index = ImportIndex(python_files=[frozenset({"flask"}), frozenset({"os"})])
    f = gather(
        ecosystem=Ecosystem.PYTHON,
        key="flask",
        current="1.1.2",
        update=update("1.1.4", "patch", False),
        dependencies=[dep("flask", Role.DEV), dep("flask", Role.RUNTIME)],
        info=FLASK,
        core=CORE,
        now=NOW,
        imports=index,
    )
    assert f.imports is not None and (f.imports.files, f.imports.scanned) == (1, 2)
    assert f.majors_crossed == 0 and f.releases_skipped == 0
    assert riskiest_role([dep("a", Role.DEV), dep("a", Role.BUILD)]) is Role.BUILD
