"""Packages that must move together: found from registry data, and kept in one phase and one pull request."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.deps.model import Ecosystem, PackageInfo, Release
from bot.deps.registry.parsed import PeerDependency
from bot.plan.build import build_plan
from bot.plan.model import PlanItem
from bot.plan.together import key_of, links, sets
from config.model import IgnoreRule
from tests.plan.test_build import DEFAULT, item

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)


def npm(package: str, current: str, target: str, **kw: object) -> PlanItem:
    kind = "major" if current.split(".")[0] != target.split(".")[0] else "minor"
    return item(package, current, target, kind=kind, ecosystem="npm", file="package.json", **kw)  # type: ignore[arg-type]


def info(name: str, repository: str | None, published: dict[str, datetime], ecosystem: Ecosystem = Ecosystem.NPM):
    urls = (("repository", repository),) if repository else ()
    releases = tuple(Release(v, published=t) for v, t in published.items())
    return PackageInfo(ecosystem, name, releases, urls=urls)


def test_react_dom_major_needs_react_major_through_its_peer_range() -> None:
    react, dom = npm("react", "18.3.1", "19.0.0"), npm("react-dom", "18.3.1", "19.0.0")
    unrelated = npm("lodash", "4.17.20", "4.17.21")
    peers = {"react-dom": {"19.0.0": (PeerDependency("react", "^19.0.0"),)}}
    found = links([react, dom, unrelated], {}, peers)
    assert [(link.why) for link in found] == ["react-dom 19.0.0 needs react ^19.0.0"]
    assert sets([key_of(i) for i in (react, dom, unrelated)], found) == [frozenset({key_of(react), key_of(dom)})]


def test_a_peer_range_the_current_version_satisfies_links_nothing() -> None:
    react, plugin = npm("react", "18.2.0", "18.3.1"), npm("react-plugin", "1.0.0", "1.1.0")
    peers = {"react-plugin": {"1.1.0": (PeerDependency("react", ">=16.8"),)}}
    assert links([react, plugin], {}, peers) == []


def test_types_package_moves_with_its_package_in_the_same_release_line() -> None:
    node_major, types_major = npm("@scope/lib", "1.0.0", "2.0.0"), npm("@types/scope__lib", "1.0.3", "2.0.1")
    types_minor = npm("@types/scope__lib", "1.0.3", "1.0.9")
    found = links([node_major, types_major, types_minor], {}, {})
    assert {frozenset((link.a, link.b)) for link in found} == {frozenset({key_of(node_major), key_of(types_major)})}


def test_one_monorepo_release_by_repository_and_version_or_publish_time() -> None:
    core = npm("@babel/core", "7.24.0", "7.26.0")
    preset = npm("@babel/preset-env", "7.24.0", "7.26.3")  # another version, published two minutes later
    parser = npm("@babel/parser", "7.24.0", "7.26.9")  # published days later: a release of its own
    packages = {
        (Ecosystem.NPM, "@babel/core"): info("@babel/core", "https://github.com/babel/babel", {"7.26.0": T0}),
        (Ecosystem.NPM, "@babel/preset-env"): info(
            "@babel/preset-env", "https://github.com/babel/babel", {"7.26.3": T0 + timedelta(minutes=2)}
        ),
        (Ecosystem.NPM, "@babel/parser"): info(
            "@babel/parser", "https://github.com/babel/babel", {"7.26.9": T0 + timedelta(days=9)}
        ),
    }
    found = links([core, preset, parser], packages, {})
    assert [link.why for link in found] == [
        "@babel/core 7.26.0 and @babel/preset-env 7.26.3 are one release of github.com/babel/babel"
    ]


def test_collections_of_independent_packages_are_not_one_release() -> None:
    a, b = npm("@types/node", "20.1.0", "20.1.5"), npm("@types/lodash", "4.14.0", "20.1.5")
    repo = "https://github.com/DefinitelyTyped/DefinitelyTyped"
    packages = {
        (Ecosystem.NPM, "@types/node"): info("@types/node", repo, {"20.1.5": T0}),
        (Ecosystem.NPM, "@types/lodash"): info("@types/lodash", repo, {"20.1.5": T0}),
    }
    assert links([a, b], packages, {}) == []


def test_python_packages_of_one_release_by_their_source_link() -> None:
    api = item("opentelemetry-api", "1.20.0", "1.27.0")
    sdk = item("opentelemetry-sdk", "1.20.0", "1.27.0")
    repo = "https://github.com/open-telemetry/opentelemetry-python"
    packages = {
        (Ecosystem.PYTHON, name): PackageInfo(Ecosystem.PYTHON, name, (Release("1.27.0"),), urls=(("Source", repo),))
        for name in ("opentelemetry-api", "opentelemetry-sdk")
    }
    assert len(links([api, sdk], packages, {})) == 1


def test_planner_puts_a_set_in_one_pull_request_of_the_latest_phase() -> None:
    react = npm("react", "18.3.1", "19.0.0", core=True, level="high")
    dom = npm("react-dom", "18.3.1", "19.0.0", core=True, level="high")
    types = npm("@types/react", "18.3.3", "19.0.1", role="dev", level="medium")
    other = npm("left-pad", "1.0.0", "1.1.0")
    together = [frozenset({key_of(react), key_of(dom), key_of(types)})]
    plan = build_plan([react, dom, types, other], DEFAULT, together=together)
    groups = {g.title: sorted(i.package for i in g.items) for g in plan.groups}
    assert groups["Upgrade @types/react, react and react-dom together"] == ["@types/react", "react", "react-dom"]
    [group] = [g for g in plan.groups if "react" in g.title]
    assert group.phase == "core-runtime" and group.kind == "package"
    apart = build_plan([react, dom, types, other], DEFAULT)  # without the link @types/react waits in build & dev
    assert {g.phase for g in apart.groups if any(i.package == "@types/react" for i in g.items)} == {"build-dev"}


def test_a_set_is_held_back_when_one_member_is_ignored() -> None:
    react, dom = npm("react", "18.3.1", "19.0.0"), npm("react-dom", "18.3.1", "19.0.0")
    config = replace(DEFAULT, ignore=(IgnoreRule(packages=("react",)),))
    plan = build_plan([react, dom], config, together=[frozenset({key_of(react), key_of(dom)})])
    assert plan.groups == ()
    assert [(s.item.package, s.reason) for s in plan.ignored] == [
        ("react", "ignored by rule react"),
        ("react-dom", "moves together with react 19.0.0, which is ignored"),
    ]


def test_a_patched_package_is_not_upgraded_and_the_plan_says_the_patch_must_move() -> None:
    plain = npm("left-pad", "1.0.0", "1.1.0")
    patched = replace(plain, dependencies=(replace(plain.dependencies[0], patched="patches/left-pad.patch"),))
    plan = build_plan([patched], DEFAULT)
    assert plan.groups == ()
    assert [s.reason for s in plan.ignored] == [
        "patched by patches/left-pad.patch: the patch must be moved to 1.1.0 too"
    ]
