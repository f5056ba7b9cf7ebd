"""Upgrades that must land in one pull request, because installing one without the other fails or breaks.

Three relations link two plan items of one ecosystem (each item is one package moving to one version):

- **peers** (npm): the target of one has a peer dependency on the other that the other's current version does
  not satisfy and its target does (``react-dom`` 19 needs ``react ^19``): apart, ``npm install`` fails.
- **types** (npm): ``@types/X`` with ``X`` (``@types/scope__name`` with ``@scope/name``), both in their release
  line or both across majors: the declarations describe that version.
- **one release** (npm and PyPI): packages published from the same source repository that move to the same
  version, or whose targets were published within ``RELEASE_WINDOW`` of each other (one monorepo release:
  babel, angular, the typescript-eslint packages, opentelemetry). Repositories that merely collect
  independent packages (DefinitelyTyped, typeshed) do not count.

Linked items form sets (the transitive closure); the planner puts a set in one phase and one pull request, and
holds a whole set back when one member is ignored or must wait.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.deps.model import Ecosystem, PackageInfo
from bot.deps.npm import semver
from bot.deps.registry.failures import LookupFailure
from bot.deps.registry.links import url_kind
from bot.deps.registry.parsed import PeerDependency
from bot.plan.model import PlanItem

RELEASE_WINDOW = timedelta(minutes=30)
ItemKey = tuple[str, str, str, str]  # (ecosystem, package, current, target)
_COLLECTIONS = frozenset({"github.com/definitelytyped/definitelytyped", "github.com/python/typeshed"})
_REPOSITORY = re.compile(r"^(?:https?://)?(?:www\.)?((?:github\.com|gitlab\.com|bitbucket\.org)/[^/#?]+/[^/#?]+)")


@dataclass(frozen=True)
class Link:
    a: ItemKey
    b: ItemKey
    why: str  # "react-dom 19.0.0 needs react ^19.0.0"


def key_of(item: PlanItem) -> ItemKey:
    return (item.ecosystem, item.package, item.current, item.target)


def links(
    items: Sequence[PlanItem],
    packages: Mapping[tuple[Ecosystem, str], PackageInfo | LookupFailure],
    peers: Mapping[str, Mapping[str, tuple[PeerDependency, ...]]],
) -> list[Link]:
    """Every pair of items that must move together, with why."""
    upgrades = [i for i in items if i.update_type != "lockfile"]
    found: list[Link] = []
    by_package: dict[tuple[str, str], list[PlanItem]] = {}
    for item in upgrades:
        by_package.setdefault((item.ecosystem, item.package), []).append(item)
    for item in upgrades:
        if item.ecosystem == "npm":
            found.extend(_peer_links(item, by_package, peers))
            found.extend(_types_links(item, by_package))
    found.extend(_release_links(upgrades, packages))
    unique: dict[frozenset[ItemKey], Link] = {}
    for link in found:
        unique.setdefault(frozenset((link.a, link.b)), link)
    return list(unique.values())


def sets(keys: Iterable[ItemKey], found: Sequence[Link]) -> list[frozenset[ItemKey]]:
    """The sets of linked items (transitive), each of two or more."""
    parent: dict[ItemKey, ItemKey] = {k: k for k in keys}

    def root(k: ItemKey) -> ItemKey:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for link in found:
        if link.a in parent and link.b in parent:
            parent[root(link.a)] = root(link.b)
    groups: dict[ItemKey, set[ItemKey]] = {}
    for k in parent:
        groups.setdefault(root(k), set()).add(k)
    return sorted((frozenset(g) for g in groups.values() if len(g) > 1), key=lambda s: sorted(s))


def _peer_links(
    item: PlanItem,
    by_package: Mapping[tuple[str, str], list[PlanItem]],
    peers: Mapping[str, Mapping[str, tuple[PeerDependency, ...]]],
) -> list[Link]:
    found = []
    for peer in peers.get(item.package, {}).get(item.target, ()):
        for other in by_package.get(("npm", peer.name), []):
            if not _satisfies(other.current, peer.range) and _satisfies(other.target, peer.range):
                why = f"{item.name} {item.target} needs {peer.name} {peer.range}"
                found.append(Link(key_of(item), key_of(other), why))
    return found


def _types_links(item: PlanItem, by_package: Mapping[tuple[str, str], list[PlanItem]]) -> list[Link]:
    if not item.package.startswith("@types/"):
        return []
    typed = item.package.removeprefix("@types/")
    if "__" in typed:
        scope, _, name = typed.partition("__")
        typed = f"@{scope}/{name}"
    found = []
    for other in by_package.get(("npm", typed), []):
        if (other.update_type == "major") == (item.update_type == "major"):
            found.append(Link(key_of(item), key_of(other), f"{item.name} describes {other.name}"))
    return found


def _release_links(
    items: Sequence[PlanItem], packages: Mapping[tuple[Ecosystem, str], PackageInfo | LookupFailure]
) -> list[Link]:
    by_repository: dict[str, list[PlanItem]] = {}
    for item in items:
        info = packages.get((Ecosystem(item.ecosystem), item.package))
        repository = repository_of(info) if isinstance(info, PackageInfo) else None
        if repository is not None and repository not in _COLLECTIONS:
            by_repository.setdefault(f"{item.ecosystem} {repository}", []).append(item)
    found = []
    for key, members in by_repository.items():
        repository = key.split(" ", 1)[1]
        for index, a in enumerate(members):
            for b in members[index + 1 :]:
                if a.package == b.package or (a.update_type == "major") != (b.update_type == "major"):
                    continue
                if a.target == b.target or _published_together(a, b, packages):
                    why = f"{a.name} {a.target} and {b.name} {b.target} are one release of {repository}"
                    found.append(Link(key_of(a), key_of(b), why))
    return found


def _published_together(
    a: PlanItem, b: PlanItem, packages: Mapping[tuple[Ecosystem, str], PackageInfo | LookupFailure]
) -> bool:
    times = []
    for item in (a, b):
        info = packages.get((Ecosystem(item.ecosystem), item.package))
        release = (
            next((r for r in info.releases if r.version == item.target), None)
            if isinstance(info, PackageInfo)
            else None
        )
        if release is None or release.published is None:
            return False
        times.append(release.published)
    return abs(times[0] - times[1]) <= RELEASE_WINDOW


def repository_of(info: PackageInfo) -> str | None:
    """The package's source repository as ``host/owner/name`` (lowercase), from its registry links."""
    for label, url in info.urls:
        if url_kind(label) in ("source", "homepage", "issues"):
            match = _REPOSITORY.match(url.strip())
            if match is not None:
                return match.group(1).lower().removesuffix(".git")
    return None


def _satisfies(version: str, range_: str) -> bool:
    return semver.satisfies(version, range_, loose=True, include_prerelease=semver.is_prerelease(version))
