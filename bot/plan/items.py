"""From a survey to plan items: one item per (package, current version, target version), spanning every
dependency entry that has that upgrade, with the facts established and the risk assessed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.deps.model import Dependency, Ecosystem, Manifest, PackageInfo
from bot.deps.proposals import Proposal, Update
from bot.deps.registry.failures import LookupFailure
from bot.deps.registry.links import url_kind
from bot.deps.scan import sample_dir
from bot.deps.survey import Survey
from bot.plan.model import PlanItem
from bot.risk.assess import assess
from bot.risk.facts import Audit, BreakageSource, Neighbour, NotesSource, gather, riskiest_role
from bot.risk.imports import ImportIndex
from bot.risk.model import UpdateFacts
from config.globs import glob_matches
from config.model import Config

_LINK_ORDER = ("release_notes", "changelog", "source", "homepage")


@dataclass(frozen=True)
class Sources:
    """Optional fact sources: without one, its facts are unknown."""

    imports: ImportIndex | None = None
    notes: NotesSource | None = None
    audit: Audit | None = None
    breakage: BreakageSource | None = None


def plan_items(survey: Survey, config: Config, now: datetime, sources: Sources | None = None) -> list[PlanItem]:
    sources = sources or Sources()
    manifests = {m.path: m for m in survey.manifests}
    neighbours = _neighbours(survey.proposals)
    wanted: dict[tuple[str, str, str, str, str], list[tuple[Dependency, Update, Proposal]]] = {}
    for proposal in survey.proposals:
        dep = proposal.dependency
        if proposal.current is None or not in_scope(dep.location.file, dep.ecosystem.value, config):
            continue
        for update in proposal.updates:
            bucket = (dep.ecosystem.value, dep.key, proposal.current, update.version, update.update_type)
            wanted.setdefault(bucket, []).append((dep, update, proposal))
    if sources.breakage is not None:
        sources.breakage.prefetch([(eco, key, current, version) for eco, key, current, version, _ in wanted])
    items = []
    for (ecosystem_name, key, current, _version, _kind), entries in wanted.items():
        ecosystem = Ecosystem(ecosystem_name)
        deps = tuple(dep for dep, _, _ in entries)
        update = entries[0][1]
        info = survey.packages.get((ecosystem, key))
        info = info if isinstance(info, PackageInfo) else None
        manifest = _manifest_of(deps[0], manifests)
        facts = gather(
            ecosystem=ecosystem,
            key=key,
            current=current,
            update=update,
            dependencies=deps,
            info=info,
            core=config.core_packages,
            now=now,
            neighbours=neighbours.get(deps[0].location.file, ()),
            peers=survey.peers if ecosystem is Ecosystem.NPM else None,
            project_runtime=_project_runtime(manifest, ecosystem),
            imports=sources.imports,
            notes=sources.notes,
            audit=sources.audit,
            breakage=sources.breakage,
        )
        files = {dep.location.file for dep in deps} | {m.lockfile for d in deps if (m := _manifest_of(d, manifests))}
        notes = tuple(dict.fromkeys(n for _, _, p in entries for n in p.notes))
        items.append(
            PlanItem(
                ecosystem=ecosystem_name,
                package=key,
                name=deps[0].name,
                current=current,
                target=update.version,
                update_type=update.update_type,
                role=facts.role,
                core=facts.core,
                risk=assess(facts, config.risk),
                dependencies=deps,
                update=update,
                files=tuple(sorted(f for f in files if f)),
                links=_links(info),
                notes=notes,
                fixes=facts.vulnerabilities_fixed or (),
                vulnerable=facts.vulnerabilities_in_target or (),
                breakage=facts.breakage,
            )
        )
    items.extend(_lockfile_items(survey.manifests, config, now))
    return items


def in_scope(path: str, ecosystem: str, config: Config) -> bool:
    """Whether a manifest at ``path`` is managed under the config's ecosystems, directories and ignore_paths."""
    return not_managed(path, ecosystem, config) is None


def not_managed(path: str, ecosystem: str, config: Config) -> str | None:
    """Why the manifest at ``path`` is not managed under the config, or None when it is."""
    if ecosystem not in config.ecosystems:
        return f"the {ecosystem} ecosystem is not in `ecosystems`"
    directory = path.rpartition("/")[0]
    if not glob_matches(config.directories, directory, path=True):
        return "outside `directories`"
    sample = sample_dir(path)
    if sample is not None and not any(sample in glob.split("/") for glob in config.directories):
        return f"in a folder of tests, fixtures or examples ({sample}/): name it in `directories` to plan it"
    if not config.ignore_paths:
        return None
    parts = path.split("/")
    ancestors = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # legacy, legacy/app, legacy/app/x.txt
    if any(glob_matches(config.ignore_paths, p, path=True) for p in ancestors):
        return "in `ignore_paths`"
    return None


def _manifest_of(dep: Dependency, manifests: dict[str, Manifest]) -> Manifest | None:
    return manifests.get(dep.location.file)


def _project_runtime(manifest: Manifest | None, ecosystem: Ecosystem) -> str | None:
    if manifest is None:
        return None
    return manifest.requires_python if ecosystem is Ecosystem.PYTHON else manifest.engines_node


def _neighbours(proposals: Iterable[Proposal]) -> dict[str, tuple[Neighbour, ...]]:
    by_file: dict[str, list[Neighbour]] = {}
    for p in proposals:
        dep = p.dependency
        if dep.ecosystem is Ecosystem.NPM and not dep.skip_reason:
            by_file.setdefault(dep.location.file, []).append(Neighbour(dep.key, p.current, dep.constraint))
    return {file: tuple(n) for file, n in by_file.items()}


def _links(info: PackageInfo | LookupFailure | None) -> tuple[tuple[str, str], ...]:
    if not isinstance(info, PackageInfo):
        return ()
    by_kind: dict[str, str] = {}
    for label, url in info.urls:
        kind = url_kind(label)
        if kind is not None and kind in _LINK_ORDER and url.startswith("https://"):
            by_kind.setdefault(kind, url)
    return tuple((kind, by_kind[kind]) for kind in _LINK_ORDER if kind in by_kind)


def _lockfile_items(manifests: Iterable[Manifest], config: Config, now: datetime) -> list[PlanItem]:
    if not config.lockfile_maintenance:
        return []
    items = []
    seen: set[str] = set()
    for manifest in manifests:
        lockfile = manifest.lockfile
        if lockfile is None or lockfile in seen or not in_scope(manifest.path, manifest.ecosystem.value, config):
            continue
        seen.add(lockfile)
        facts = UpdateFacts(
            ecosystem=manifest.ecosystem.value,
            package=lockfile,
            role=riskiest_role(manifest.dependencies).value if manifest.dependencies else "runtime",
            current="",
            target="",
            update_type="lockfile",
            majors_crossed=0,
            releases_skipped=None,
            zero_x=False,
            core=False,
            now=now,
            runtime_dropped=(),
            peer_conflicts=() if manifest.ecosystem is Ecosystem.NPM else None,
            vulnerabilities_fixed=None,
        )
        items.append(
            PlanItem(
                ecosystem=manifest.ecosystem.value,
                package=lockfile,
                name=lockfile,
                current="",
                target="",
                update_type="lockfile",
                role=facts.role,
                core=False,
                risk=assess(facts, config.risk),
                files=(lockfile,),
            )
        )
    return items
