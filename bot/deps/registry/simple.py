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
    name = text(project.name)
    if name is None:
        raise MalformedAnswer("the project has no name")
    if isinstance(project.versions, msgspec.UnsetType):
        raise IncompleteSimpleAnswer("the Simple answer has no versions (API version 1.0)")
    canonical = canonicalize_name(name)
    known = _VersionIndex(project.versions)
    by_version: dict[str, _Files] = {}
    exact = known.exact
    for entry in project.files:
        filename = entry.filename
        if isinstance(entry.upload_time, msgspec.UnsetType):
            raise IncompleteSimpleAnswer("the Simple answer has no upload times (API version 1.0)")
        if filename.endswith(".whl"):  # the common case, inline: {name}-{version}-...
            parts = filename.split("-", 2)
            version = parts[1] if len(parts) == 3 and parts[1] in exact else known.of_file(filename, canonical)
        else:
            version = known.of_file(filename, canonical)
        if version is None:
            continue
        group = by_version.get(version)
        if group is None:
            by_version[version] = _Files(entry)
        else:
            group.add(entry)
    parsed: list[tuple[Version, Release]] = []
    for version, group in by_version.items():
        try:
            key = Version(version)
        except (InvalidVersion, ValueError):  # ValueError: a release number longer than int() reads
            continue
        parsed.append((key, group.release(version)))
    parsed.sort(key=lambda pair: pair[0])
    releases = tuple(release for _, release in parsed)
    latest = _latest(parsed)
    metadata = by_version[latest].metadata if latest is not None else None
    return Parsed(
        PackageInfo(
            ecosystem=Ecosystem.PYTHON,
            name=name,
            releases=releases,
            dist_tags=(("latest", latest),) if latest is not None else (),
            ordered=True,
        ),
        metadata=metadata,
    )


class _Files:
    """What one release's files say, gathered file by file (one pass over the answer's files)."""

    __slots__ = ("count", "python", "pythons", "reason", "source", "upload", "yanked")

    def __init__(self, entry: _File) -> None:
        upload = entry.upload_time
        self.upload = upload if isinstance(upload, str) and upload else None
        self.yanked = entry.yanked not in (None, False)
        self.reason = text(entry.yanked)
        self.python = entry.requires_python
        self.pythons: Counter[str] | None = None  # once the files disagree
        self.count = 1
        self.source: _File | None = None  # the file whose metadata tells the links (made a Metadata once, at the end)
        self._consider(entry)

    def add(self, entry: _File) -> None:
        upload = entry.upload_time
        if isinstance(upload, str) and upload and (self.upload is None or upload < self.upload):
            self.upload = upload
        if entry.yanked in (None, False):
            self.yanked = False
        elif self.reason is None:
            self.reason = text(entry.yanked)
        python = entry.requires_python
        if self.pythons is None and python != self.python:
            self.pythons = Counter()
            if (first := text(self.python)) is not None:
                self.pythons[first] = self.count
        if self.pythons is not None and (value := text(python)) is not None:
            self.pythons[value] += 1
        self.count += 1
        if self.source is None or (not self.source.core_metadata and entry.core_metadata):
            self._consider(entry)

    @property
    def metadata(self) -> Metadata | None:
        source = self.source
        return Metadata(source.url + ".metadata", bool(source.core_metadata)) if source is not None else None

    def _consider(self, entry: _File) -> None:
        """The file whose core metadata (PEP 658: ``{url}.metadata``) tells the release's project links: one
        the server says has it (``advertised``), else a wheel, kept for what it may be worth."""
        if entry.url and (entry.core_metadata or entry.filename.endswith(".whl")):
            self.source = entry

    def release(self, version: str) -> Release:
        """``published`` is the earliest upload, compared as text (PyPI writes one ISO 8601 layout, so at
        worst two uploads of the same second compare wrong)."""
        if self.pythons is None:
            python = text(self.python)
        else:
            python = self.pythons.most_common(1)[0][0] if self.pythons else None
        return Release(
            version=version,
            published=utc_time(self.upload),
            yanked=self.yanked,
            yanked_reason=self.reason if self.yanked else None,
            requires_python=python,
        )


def _latest(parsed: list[tuple[Version, Release]]) -> str | None:
    stable = [release for key, release in parsed if not key.is_prerelease and not release.yanked]
    kept = stable or [release for _, release in parsed if not release.yanked] or [release for _, release in parsed]
    return kept[-1].version if kept else None


class _VersionIndex:
    """Tells which of the project's ``versions`` a file belongs to, from its file name."""

    def __init__(self, versions: list[str]) -> None:
        self.exact = self._exact = set(versions)
        self._normalised: dict[str, str] | None = None
        self._versions = versions
        self._by_length: list[str] | None = None

    def of_file(self, filename: str, canonical: str) -> str | None:
        if filename.endswith(".whl"):
            parts = filename.split("-")
            return self._match(parts[1]) if len(parts) >= 5 else None
        stem = _stem(filename)
        rest = _after_name(stem, canonical)
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


def _after_name(stem: str, canonical: str) -> str | None:
    """What follows the project's name (any spelling) and a hyphen in a file name's stem."""
    length = len(canonical)
    if len(stem) > length and stem[length] == "-" and canonicalize_name(stem[:length]) == canonical:
        return stem[length + 1 :]
    for index, char in enumerate(stem):
        if char == "-" and canonicalize_name(stem[:index]) == canonical:
            return stem[index + 1 :]
    return None
