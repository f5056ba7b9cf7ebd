"""PyPI's JSON Simple API document (PEP 691, with PEP 700's ``versions`` and ``upload-time``) as a ``PackageInfo``.

``GET {base}/simple/{name}/`` with ``Accept: application/vnd.pypi.simple.v1+json`` lists every file of every
release with its ``requires-python``, ``yanked`` (false, true or the reason) and ``upload-time``, and the
project's ``versions``: every fact the version choice reads, in about half the bytes of the JSON API (which
repeats per-file digests, sizes and the latest release's description). It has no project links: those come
from ``/pypi/{name}/{version}/json`` of the latest release, and only for the packages that end up with a
proposed update (``client.RegistryClient.links``).

Files name their release only through the file name: wheels as ``{name}-{version}-...whl`` (PEP 427, the name
escaped so the version is the second field), everything else (sdists, eggs, old installers) as
``{name}-{version}{suffix}`` where the name may be spelled as the project once was. A file whose version cannot
be told is ignored (nothing could install it as a release of the project either).

A server answering with API version 1.0 (no ``versions``/``upload-time``, some mirrors) is not enough:
``IncompleteSimpleAnswer`` makes the client ask the JSON API instead.
"""

from __future__ import annotations

from collections import Counter

import msgspec
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.deps.model import Ecosystem, PackageInfo, Release
from bot.deps.registry.failures import MalformedAnswer
from bot.deps.registry.parsed import Metadata, Parsed, mapping, text, utc_time
from bot.errors import DepupError

ACCEPT = "application/vnd.pypi.simple.v1+json"
_EXTENSIONS = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.Z", ".tgz", ".zip", ".egg", ".exe", ".msi", ".rpm", ".dmg")
_SEPARATORS = "-_."


class IncompleteSimpleAnswer(DepupError):
    """The Simple answer lacks facts depup needs (API version 1.0: no versions or upload times); not a failure
    of the package: the client asks the JSON API instead."""


def simple_path(name: str) -> str:
    return f"/simple/{canonicalize_name(name)}/"


class _File(msgspec.Struct, gc=False):
    """One file of the answer: only what depup reads is decoded (not the URLs' hashes, sizes, provenance)."""

    filename: str
    url: str = ""
    upload_time: str | msgspec.UnsetType | None = msgspec.field(name="upload-time", default=msgspec.UNSET)
    yanked: bool | str | None = False
    requires_python: str | None = msgspec.field(name="requires-python", default=None)
    core_metadata: object = msgspec.field(name="core-metadata", default=None)


class _Project(msgspec.Struct, gc=False):
    name: str
    files: list[_File]
    versions: list[str] | msgspec.UnsetType = msgspec.UNSET


_DECODER = msgspec.json.Decoder(_Project)


def parse_simple_body(body: bytes) -> Parsed:
    """``parse_simple`` straight from the answer's bytes, decoding only the fields it reads: a big project's
    answer (20 MB, 60,000 files) costs a few MB of memory instead of a few hundred as plain JSON objects."""
    try:
        project = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise MalformedAnswer(f"not a Simple API project page ({exc})") from exc
    return _parsed(project)


def parse_simple(document: object) -> Parsed:
    """The package's releases, sorted by version, oldest first, read as ``pypi.parse_pypi`` reads the JSON API.

    A version with no files, or that PEP 440 rejects, is skipped; ``published`` is the earliest upload of the
    release's files, ``yanked`` true only when every file is, ``requires_python`` the value most files carry.
    ``latest`` (the only dist-tag) is what the JSON API's ``info.version`` names: the highest release that is
    neither a pre-release nor yanked, else the highest not yanked, else the highest.
    """
    try:
        project = msgspec.convert(mapping(document, "the answer"), _Project)
    except msgspec.ValidationError as exc:
        raise MalformedAnswer(f"not a Simple API project page ({exc})") from exc
    return _parsed(project)


def _parsed(project: _Project) -> Parsed:
    """One pass over the files puts each in its release's group; each group is then read with builtins (min,
    all, Counter) instead of a method call per file."""
    name = text(project.name)
    if name is None:
        raise MalformedAnswer("the project has no name")
    if isinstance(project.versions, msgspec.UnsetType):
        raise IncompleteSimpleAnswer("the Simple answer has no versions (API version 1.0)")
    canonical = canonicalize_name(name)
    known = _VersionIndex(project.versions)
    exact = known.exact
    groups: dict[str, list[_File]] = {}
    group_of = groups.get
    unset = msgspec.UNSET
    for entry in project.files:
        if entry.upload_time is unset:
            raise IncompleteSimpleAnswer("the Simple answer has no upload times (API version 1.0)")
        filename = entry.filename
        if filename.endswith(".whl"):  # the common case, inline: {name}-{version}-...
            parts = filename.split("-", 2)
            version = parts[1] if len(parts) == 3 and parts[1] in exact else known.of_file(filename, canonical)
        else:
            version = known.of_file(filename, canonical)
        if version is None:
            continue
        group = group_of(version)
        if group is None:
            groups[version] = [entry]
        else:
            group.append(entry)
    ordered: list[tuple[_Order, str, list[_File]]] = []
    for version, files in groups.items():
        key = order_key(version)
        if key is not None:
            ordered.append((key, version, files))
    ordered.sort(key=lambda item: item[0])
    releases = tuple(_release(version, files) for _, version, files in ordered)
    latest = _latest(ordered, releases)
    return Parsed(
        PackageInfo(
            ecosystem=Ecosystem.PYTHON,
            name=name,
            releases=releases,
            dist_tags=(("latest", releases[latest].version),) if latest is not None else (),
            ordered=True,
        ),
        metadata=_metadata(ordered[latest][2]) if latest is not None else None,
    )


def _release(version: str, files: list[_File]) -> Release:
    """``published`` is the earliest upload, compared as text (PyPI writes one ISO 8601 layout, so at worst two
    uploads of the same second compare wrong); ``yanked`` when every file is, with the first reason given;
    ``requires_python`` the value most files carry (the first seen of equal counts)."""
    if len(files) == 1:
        only = files[0]
        yanked = only.yanked not in (None, False)
        return Release(
            version=version,
            published=utc_time(only.upload_time),
            yanked=yanked,
            yanked_reason=text(only.yanked) if yanked else None,
            requires_python=text(only.requires_python),
        )
    uploads = [upload for entry in files if (upload := entry.upload_time)]
    yanked = all(entry.yanked not in (None, False) for entry in files)
    reason = next((said for entry in files if (said := text(entry.yanked)) is not None), None) if yanked else None
    first = files[0].requires_python
    if all(entry.requires_python == first for entry in files):
        python = text(first)
    else:
        counts = Counter(value for entry in files if (value := text(entry.requires_python)) is not None)
        python = counts.most_common(1)[0][0] if counts else None
    return Release(
        version=version,
        published=utc_time(min(uploads)) if uploads else None,
        yanked=yanked,
        yanked_reason=reason,
        requires_python=python,
    )


def _metadata(files: list[_File]) -> Metadata | None:
    """The file whose core metadata (PEP 658: ``{url}.metadata``) tells the release's project links: the first
    the server says has it (``advertised``), else the first wheel, kept for what it may be worth."""
    source = next((entry for entry in files if entry.url and entry.core_metadata), None)
    if source is None:
        source = next((entry for entry in files if entry.url and entry.filename.endswith(".whl")), None)
    return Metadata(source.url + ".metadata", bool(source.core_metadata)) if source is not None else None


def _latest(ordered: list[tuple[_Order, str, list[_File]]], releases: tuple[Release, ...]) -> int | None:
    """The index of what the JSON API's ``info.version`` names: the highest release that is neither a
    pre-release nor yanked, else the highest not yanked, else the highest."""
    kept = [index for index, release in enumerate(releases) if not release.yanked]
    stable = [index for index in kept if not _is_prerelease(ordered[index][0])]
    found = stable or kept or range(len(releases))
    return found[-1] if found else None


# PEP 440's order as a plain tuple, so that the 90% of versions that are only numbers (``1.26.4``) are never
# made into ``Version`` objects: (epoch, release without trailing zeros, pre, post, dev, local), each part
# encoded so that tuples compare as packaging compares versions (``test_parse``: equal on every recorded
# project's versions).
_Order = tuple[int, tuple[int, ...], tuple[int, int], int, float, tuple[object, ...]]
_FINAL = (4, 0)  # no pre-release: after rc (3); a dev release of a final (0) comes before a1 (1)
_PRE = {"a": 1, "b": 2, "rc": 3}
_NUMBERS = frozenset("0123456789.")
_INFINITY = float("inf")


def order_key(version: str) -> _Order | None:
    """The sort key of a PEP 440 version, or None for a version PEP 440 rejects."""
    try:
        if _NUMBERS.issuperset(version) and version[:1] != "." and version[-1:] != "." and ".." not in version:
            return (0, _trimmed(tuple(map(int, version.split(".")))), _FINAL, -1, _INFINITY, ())
        parsed = Version(version)
    except (InvalidVersion, ValueError):  # ValueError: a release number longer than int() reads
        return None
    if parsed.pre is not None:
        pre = (_PRE[parsed.pre[0]], parsed.pre[1])
    elif parsed.post is None and parsed.dev is not None:
        pre = (0, 0)
    else:
        pre = _FINAL
    return (
        parsed.epoch,
        _trimmed(parsed.release),
        pre,
        -1 if parsed.post is None else parsed.post,
        _INFINITY if parsed.dev is None else parsed.dev,
        _local(parsed.local),
    )


def _local(label: str | None) -> tuple[object, ...]:
    """A local label sorts after none; segment by segment, numbers after words, words by their text."""
    if label is None:
        return ()
    return (1, *((1, int(part), "") if part.isdigit() else (0, 0, part) for part in label.split(".")))


def _trimmed(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    return release[:end]


def _is_prerelease(key: _Order) -> bool:
    return key[2] != _FINAL or key[4] != _INFINITY


class _VersionIndex:
    """Tells which of the project's ``versions`` a file belongs to, from its file name."""

    def __init__(self, versions: list[str]) -> None:
        self.exact = self._exact = set(versions)
        self._normalised: dict[str, str] | None = None
        self._versions = versions
        self._by_length: list[str] | None = None
        self._spellings: dict[str, bool] = {}  # a name as files spell it: whether it is the project's

    def of_file(self, filename: str, canonical: str) -> str | None:
        if filename.endswith(".whl"):
            parts = filename.split("-")
            return self._match(parts[1]) if len(parts) >= 5 else None
        stem = _stem(filename)
        rest = self._after_name(stem, canonical)
        if rest is None:
            return None
        found = self._match(rest)
        if found is not None:
            return found
        return self._prefix(rest)

    def _match(self, candidate: str) -> str | None:
        if candidate in self._exact:
            return candidate
        if self._normalised is None:
            self._normalised = {}
            for version in self._versions:
                try:
                    self._normalised.setdefault(str(Version(version)), version)
                except (InvalidVersion, ValueError):
                    continue
        try:
            return self._normalised.get(str(Version(candidate.replace("_", "-"))))
        except (InvalidVersion, ValueError):
            return None

    def _after_name(self, stem: str, canonical: str) -> str | None:
        """What follows the project's name (any spelling) and a hyphen in a file name's stem."""
        length = len(canonical)
        if len(stem) > length and stem[length] == "-" and self._spelled(stem[:length], canonical):
            return stem[length + 1 :]
        for index, char in enumerate(stem):
            if char == "-" and self._spelled(stem[:index], canonical):
                return stem[index + 1 :]
        return None

    def _spelled(self, name: str, canonical: str) -> bool:
        known = self._spellings.get(name)
        if known is None:
            known = self._spellings[name] = canonicalize_name(name) == canonical
        return known

    def _prefix(self, rest: str) -> str | None:
        """The longest known version that ``rest`` starts with, followed by a separator (eggs, installers)."""
        if self._by_length is None:
            self._by_length = sorted(self._exact, key=len, reverse=True)
        for version in self._by_length:
            if rest.startswith(version) and len(rest) > len(version) and rest[len(version)] in _SEPARATORS:
                return version
        return None


def _stem(filename: str) -> str:
    for extension in _EXTENSIONS:
        if filename.endswith(extension):
            return filename[: -len(extension)]
    return filename
