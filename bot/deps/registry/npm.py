"""An npm registry packument (``/{name}``, the full document) as a ``PackageInfo``.

The full document is needed: the abbreviated one (``application/vnd.npm.install-v1+json``) has no publish
time per version and no links. Most of it is of no use here (readmes, every version's dependencies, scripts,
tarball details): ``parse_npm_body`` reads it with msgspec into the few fields kept, skipping the rest without
making Python objects of it (a tenth of the objects, and of the memory, of a whole decoded document); a
document whose versions are not all objects is read whole (``parse_npm``), as before.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from bot.deps.model import Ecosystem, PackageInfo, Release
from bot.deps.npm import semver
from bot.deps.registry.failures import MalformedAnswer, PackageGone
from bot.deps.registry.links import repository_url
from bot.deps.registry.parsed import Parsed, PeerDependency, mapping, text, utc_time

_Key = tuple[int, int, int, int, tuple[tuple[int, int | str], ...], str]


class _Version(msgspec.Struct, gc=False):
    """The fields of one version's manifest that are kept (any JSON value: the parser checks their types)."""

    deprecated: Any = None
    engines: Any = None
    peerDependencies: Any = None  # the document's own keys
    peerDependenciesMeta: Any = None
    homepage: Any = None
    repository: Any = None
    bugs: Any = None

    def get(self, key: str, default: object = None) -> object:
        return getattr(self, key, default)


class _Packument(msgspec.Struct, gc=False, rename={"dist_tags": "dist-tags"}):
    name: Any = None
    time: Any = None
    versions: dict[str, _Version] | msgspec.UnsetType | None = msgspec.UNSET
    dist_tags: Any = None
    homepage: Any = None
    repository: Any = None
    bugs: Any = None


_Manifest = dict[str, object] | _Version
_DECODER = msgspec.json.Decoder(_Packument)
_FIELDS = ("name", "time", "versions", "dist_tags", "homepage", "repository", "bugs")


def packument_path(name: str) -> str:
    """The request path: a scoped name's slash is escaped as npm does (``/@scope%2fname``)."""
    return "/" + name.replace("/", "%2f")


def parse_npm_body(body: bytes) -> Parsed:
    """``parse_npm`` of a packument's bytes: msgspec decodes the kept fields only; ``msgspec.DecodeError`` when
    the body is not JSON."""
    try:
        packument = _DECODER.decode(body)
    except msgspec.ValidationError:  # JSON, but not of the usual shape (a version that is not an object...)
        return parse_npm(orjson.loads(body))
    document = {
        ("dist-tags" if field == "dist_tags" else field): value
        for field in _FIELDS
        if (value := getattr(packument, field)) is not msgspec.UNSET
    }
    return parse_npm(document)


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
    versions: dict[str, object] = mapping(doc.get("versions"), "versions")
    keyed: list[tuple[_Key, Release]] = []
    peers: dict[str, tuple[PeerDependency, ...]] = {}
    for version, manifest in versions.items():
        key = _precedence(version)
        if key is None or not isinstance(manifest, (dict, _Version)):
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


def peer_dependencies(manifest: _Manifest) -> tuple[PeerDependency, ...]:
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


def _release(version: str, manifest: _Manifest, published: object) -> Release:
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
    fallback: _Manifest = latest if isinstance(latest, (dict, _Version)) else {}
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
