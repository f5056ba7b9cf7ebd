"""An npm registry packument (``/{name}``, the full document) as a ``PackageInfo``.

The full document is needed: the abbreviated one (``application/vnd.npm.install-v1+json``) has no publish
time per version and no links.
"""

from __future__ import annotations

from bot.deps.model import Ecosystem, PackageInfo, Release
from bot.deps.npm import semver
from bot.deps.registry.failures import MalformedAnswer, PackageGone
from bot.deps.registry.links import repository_url
from bot.deps.registry.parsed import Parsed, PeerDependency, mapping, text, utc_time

_Key = tuple[int, int, int, int, tuple[tuple[int, int | str], ...], str]


def packument_path(name: str) -> str:
    """The request path: a scoped name's slash is escaped as npm does (``/@scope%2fname``)."""
    return "/" + name.replace("/", "%2f")


def parse_npm(document: object) -> Parsed:
    """Releases from ``versions`` sorted by semver precedence, oldest first, with ``time[version]``.

    A version key npm's semver rejects, or a version entry that is not an object, is skipped (not fatal).
    A packument whose versions were all unpublished raises ``PackageGone``.
    """
    doc = mapping(document, "the answer")
    name = text(doc.get("name"))
    if name is None:
        raise MalformedAnswer("the packument has no name")
    times = doc.get("time")
    times = times if isinstance(times, dict) else {}
    if "versions" not in doc and "unpublished" in times:
        raise PackageGone(f"every version of {name} was unpublished")
    versions = mapping(doc.get("versions"), "versions")
    keyed: list[tuple[_Key, Release]] = []
    peers: dict[str, tuple[PeerDependency, ...]] = {}
    for version, manifest in versions.items():
        key = _precedence(version)
        if key is None or not isinstance(manifest, dict):
            continue
        keyed.append((key, _release(version, manifest, times.get(version))))
        version_peers = peer_dependencies(manifest)
        if version_peers:
            peers[version] = version_peers
    keyed.sort(key=lambda pair: pair[0])
    tags = doc.get("dist-tags")
    dist_tags = {tag: v for tag, v in tags.items() if isinstance(v, str)} if isinstance(tags, dict) else {}
    return Parsed(
        PackageInfo(
            ecosystem=Ecosystem.NPM,
            name=name,
            releases=tuple(release for _, release in keyed),
            dist_tags=tuple(dist_tags.items()),
            urls=_urls(doc, versions, dist_tags),
            ordered=True,
        ),
        peers,
    )


def peer_dependencies(manifest: dict[str, object]) -> tuple[PeerDependency, ...]:
    """A version's ``peerDependencies``, each marked optional when ``peerDependenciesMeta`` says so."""
    declared = manifest.get("peerDependencies")
    if not isinstance(declared, dict):
        return ()
    meta = manifest.get("peerDependenciesMeta")
    meta = meta if isinstance(meta, dict) else {}
    return tuple(
        PeerDependency(peer, spec, _optional(meta.get(peer)))
        for peer, spec in declared.items()
        if isinstance(spec, str)
    )


def _optional(meta: object) -> bool:
    return isinstance(meta, dict) and meta.get("optional") is True


def _precedence(version: str) -> _Key | None:
    try:
        parsed = semver.parse(version)
    except semver.InvalidVersion:
        return None
    pre = tuple((0, part) if isinstance(part, int) else (1, part) for part in parsed.prerelease)
    # The text last, as ``bot.deps.versions`` orders npm versions: releases that differ only in build metadata
    # keep one order, so that a version can be found among them by bisection.
    return parsed.major, parsed.minor, parsed.patch, 0 if pre else 1, pre, version


def _release(version: str, manifest: dict[str, object], published: object) -> Release:
    return Release(
        version=version,
        published=utc_time(published),
        deprecated=_deprecated(manifest.get("deprecated")),
        engines_node=_engines_node(manifest.get("engines")),
    )


def _deprecated(value: object) -> str | None:
    if value is True:
        return "deprecated"
    return text(value)


def _engines_node(engines: object) -> str | None:
    """``engines.node``; old packages wrote ``engines`` as a list like ``["node >=0.4"]``."""
    if isinstance(engines, dict):
        return text(engines.get("node"))
    if isinstance(engines, list):
        for entry in engines:
            if isinstance(entry, str) and entry.strip().startswith("node"):
                return text(entry.strip().removeprefix("node")) or "*"
    return None


def _urls(
    doc: dict[str, object], versions: dict[str, object], dist_tags: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    """homepage, repository and bugs of the packument, else of its latest version (some registries give only those)."""
    latest = versions.get(dist_tags.get("latest", ""))
    fallback = latest if isinstance(latest, dict) else {}
    urls: list[tuple[str, str]] = []
    homepage = text(doc.get("homepage")) or text(fallback.get("homepage"))
    if homepage is not None:
        urls.append(("homepage", homepage))
    repository = _url_field(doc.get("repository")) or _url_field(fallback.get("repository"))
    if repository is not None:
        urls.append(("repository", repository_url(repository)))
    bugs = _url_field(doc.get("bugs")) or _url_field(fallback.get("bugs"))
    if bugs is not None:
        urls.append(("bugs", bugs))
    return tuple(urls)


def _url_field(value: object) -> str | None:
    if isinstance(value, dict):
        return text(value.get("url"))
    return text(value)
