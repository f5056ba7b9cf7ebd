"""The engine end to end on a directory: find dependencies, look them up, propose updates."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.deps.floor import FloorProposal, propose_floors
from bot.deps.model import Dependency, Ecosystem, Manifest, PackageInfo, Problem, Unread
from bot.deps.proposals import Proposal
from bot.deps.registry.client import RegistryClient, RegistryStats
from bot.deps.registry.failures import LookupFailure
from bot.deps.registry.parsed import Parsed, PeerDependency
from bot.deps.scan import DEFAULT_IGNORED_DIRS, ScanResult, scan
from bot.deps.versions import Chooser, Policy, Project

GC_THRESHOLD = 50_000  # allocations between two collections of the youngest generation during a survey


@dataclass(frozen=True)
class Survey:
    root: str
    manifests: tuple[Manifest, ...]
    proposals: tuple[Proposal, ...]  # one per dependency, in manifest order
    problems: tuple[Problem, ...]  # problems of files as a whole (the manifests carry their own too)
    packages: dict[tuple[Ecosystem, str], PackageInfo | LookupFailure]
    registry: RegistryStats
    peers: dict[str, Mapping[str, tuple[PeerDependency, ...]]] = field(default_factory=dict)  # npm, by version
    unread: tuple[Unread, ...] = ()  # dependency files seen but not read, with why
    not_managed: tuple[tuple[str, str], ...] = ()  # (manifest path, why) for manifests the scope leaves out
    floors: tuple[FloorProposal, ...] = ()  # requires-python raises that would unlock held-back updates


def survey(
    root: Path,
    registry: RegistryClient,
    policy: Policy | None = None,
    *,
    ignored_dirs: frozenset[str] = DEFAULT_IGNORED_DIRS,
    on_scanned: Callable[[int], None] | None = None,
    on_answer: Callable[[int], None] | None = None,
    scope: Callable[[Manifest], str | None] | None = None,
) -> Survey:
    """``scope`` says why a manifest is not managed (None: it is); the dependencies of those are listed but not
    looked up."""
    policy = policy or Policy()
    found = scan(root, ignored_dirs)
    left_out = {m.path: why for m in found.manifests if scope is not None and (why := scope(m)) is not None}
    wanted = sorted(
        {
            (d.ecosystem, d.key)
            for m in found.manifests
            if m.path not in left_out
            for d in m.dependencies
            if not d.skip_reason and not d.unknown_current
        }
    )
    if on_scanned is not None:
        on_scanned(len(wanted))
    with fewer_collections():
        return _survey(root, registry, policy, found, wanted, left_out, on_answer)


def _survey(
    root: Path,
    registry: RegistryClient,
    policy: Policy,
    found: ScanResult,
    wanted: list[tuple[Ecosystem, str]],
    left_out: dict[str, str],
    on_answer: Callable[[int], None] | None,
) -> Survey:
    chooser = Chooser(policy)
    proposals: list[Proposal | None] = []
    uses: dict[tuple[Ecosystem, str], list[tuple[int, Dependency, Project]]] = {}
    for manifest in found.manifests:
        project = Project(manifest.requires_python, manifest.engines_node, manifest.lockfile is not None)
        for dep in manifest.dependencies:
            if manifest.path in left_out:
                proposals.append(Proposal(dep, dep.locked, reason=f"not managed: {left_out[manifest.path]}"))
            elif dep.unknown_current:  # nothing to offer from: not looked up
                proposals.append(Proposal(dep, None, reason=f"current version unknown: {dep.unknown_current}"))
            elif dep.skip_reason:
                proposals.append(Proposal(dep, None, reason=f"skipped: {dep.skip_reason}"))
            else:
                uses.setdefault((dep.ecosystem, dep.key), []).append((len(proposals), dep, project))
                proposals.append(None)

    def choose(request: tuple[Ecosystem, str], info: PackageInfo | LookupFailure) -> bool:
        """The proposals of the dependencies on one package; whether any offers an update."""
        offered = False
        for index, dep, project in uses.pop(request, ()):
            if isinstance(info, LookupFailure):
                proposal = Proposal(dep, dep.locked, reason=f"lookup failed ({info.kind}): {info.reason}")
            else:
                proposal = chooser.choose(dep, info, project)
            proposals[index] = proposal
            offered = offered or bool(proposal.updates)
        return offered

    # Proposals are chosen as the answers arrive; the project links of the PyPI packages with a proposed update
    # (the Simple API the lookup reads has none: changelog, source) are asked for meanwhile.
    def links_for(request: tuple[Ecosystem, str], parsed: Parsed) -> bool:
        return choose(request, parsed.info) and request[0] is Ecosystem.PYTHON

    parsed = registry.lookup_parsed(wanted, on_answer, links_for) if wanted else {}
    for request, answer in parsed.items():
        if request in uses:
            choose(request, answer if isinstance(answer, LookupFailure) else answer.info)
    packages = {request: p if isinstance(p, LookupFailure) else p.info for request, p in parsed.items()}
    peers = {
        name: p.peers
        for (ecosystem, name), p in parsed.items()
        if ecosystem is Ecosystem.NPM and not isinstance(p, LookupFailure) and p.peers
    }
    done = [p for p in proposals if p is not None]
    assert len(done) == len(proposals), "every dependency looked up has an answer"
    return Survey(
        str(root),
        found.manifests,
        tuple(done),
        found.problems,
        packages,
        registry.stats,  # after the links: their requests count too
        peers,
        found.unread,
        tuple(sorted(left_out.items())),
        propose_floors(found.manifests, done, packages, policy, left_out),
    )


@contextmanager
def fewer_collections(threshold: int = GC_THRESHOLD) -> Iterator[None]:
    """Run the cyclic garbage collector less often while a survey builds its many small values.

    A survey of 1,000 packages makes about a million objects (parsed registry documents, releases, versions)
    that are all still alive, and the collector's default (a pass every 700 allocations, a full pass as the
    heap grows) walks them again and again: half the CPU of a warm survey. Reference counting still frees
    everything without cycles at once; the collector still runs, ``threshold`` allocations apart. The previous
    thresholds are restored after (the setting is per process: workers run one job at a time)."""
    previous = gc.get_threshold()
    gc.set_threshold(max(threshold, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def rechoose(result: Survey, keys: set[tuple[Ecosystem, str]], policy: Policy) -> Survey:
    """The same survey with the proposals of the packages in ``keys`` chosen again under ``policy`` (security
    fixes: a version in use with known vulnerabilities is not kept waiting by ``min_release_age``)."""
    chooser = Chooser(policy)
    manifests = {m.path: m for m in result.manifests}
    proposals = []
    for proposal in result.proposals:
        dep = proposal.dependency
        info = result.packages.get((dep.ecosystem, dep.key))
        manifest = manifests.get(dep.location.file)
        if (dep.ecosystem, dep.key) in keys and isinstance(info, PackageInfo) and not dep.skip_reason:
            project = Project(
                manifest.requires_python if manifest else None,
                manifest.engines_node if manifest else None,
                bool(manifest and manifest.lockfile),
            )
            proposal = chooser.choose(dep, info, project)
        proposals.append(proposal)
    floors = propose_floors(result.manifests, proposals, result.packages, policy, (p for p, _ in result.not_managed))
    return replace(result, proposals=tuple(proposals), floors=floors)
