"""PyPI's JSON API documents: ``/pypi/{name}/json`` as a ``PackageInfo`` (when the Simple API answer is not
enough, ``simple.IncompleteSimpleAnswer``), and ``/pypi/{name}/{version}/json`` for a release's project links."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.deps.model import Ecosystem, PackageInfo, Release
from bot.deps.registry.failures import MalformedAnswer
from bot.deps.registry.links import url_kind
from bot.deps.registry.parsed import Parsed, mapping, text, utc_time

_KEPT_URL_KINDS = frozenset({"homepage", "source", "changelog", "release_notes"})


def canonical_name(name: str) -> str:
    """PEP 503 normalised name: the cache key and the path depup requests."""
    return canonicalize_name(name)


def json_path(name: str) -> str:
    return f"/pypi/{canonical_name(name)}/json"


def version_json_path(name: str, version: str) -> str:
    return f"/pypi/{canonical_name(name)}/{version}/json"


def parse_links(document: object) -> tuple[tuple[str, str], ...]:
    """The project links of a JSON API document (``info.project_urls`` and ``info.home_page``)."""
    doc = mapping(document, "the answer")
    return _urls(mapping(doc.get("info"), "info"))


def parse_metadata_links(body: bytes) -> tuple[tuple[str, str], ...]:
    """The project links of a release's core metadata file (PEP 658; ``Project-URL: label, url`` and
    ``Home-page``), as ``parse_links`` reads them from the JSON API."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(body)
    project_urls: dict[str, object] = {}
    for value in headers.get_all("Project-URL") or []:
        label, _, url = str(value).partition(",")
        if url.strip():
            project_urls.setdefault(label.strip(), url.strip())
    return _urls({"project_urls": project_urls, "home_page": headers.get("Home-page")})


def parse_pypi(document: object) -> Parsed:
    """The package's releases, sorted by version, oldest first.

    - A version with no files is skipped: PyPI keeps listing a release whose files were all deleted (or that was
      registered but never uploaded), and nothing can install it, so it is no upgrade candidate.
    - A version PEP 440 rejects is skipped (pip ignores such versions too); it does not fail the package.
    - ``published`` is the earliest upload time of the release's files, ``yanked`` is true only when every file
      is yanked (pip still installs a release with one non-yanked file), ``requires_python`` is the value most of
      its files carry (files of one release almost always agree).
    """
    doc = mapping(document, "the answer")
    info = mapping(doc.get("info"), "info")
    releases = mapping(doc.get("releases"), "releases")
    name = text(info.get("name"))
    latest = text(info.get("version"))
    if name is None or latest is None:
        raise MalformedAnswer("info.name or info.version is missing")
    parsed: list[tuple[Version, Release]] = []
    for version, files in releases.items():
        release = _release(version, files)
        if release is not None:
            parsed.append(release)
    parsed.sort(key=lambda pair: pair[0])
    return Parsed(
        PackageInfo(
            ecosystem=Ecosystem.PYTHON,
            name=name,
            releases=tuple(release for _, release in parsed),
            dist_tags=(("latest", latest),),
            urls=_urls(info),
            ordered=True,
        )
    )


def _release(version: str, files: object) -> tuple[Version, Release] | None:
    try:
        key = Version(version)
    except (InvalidVersion, ValueError):  # ValueError: a release number longer than int() reads (4300 digits)
        return None
    if not isinstance(files, list):
        return None
    entries = [entry for entry in files if isinstance(entry, dict)]
    if not entries:
        return None
    uploads = [moment for entry in entries if (moment := _upload_time(entry)) is not None]
    yanked = all(entry.get("yanked") is True for entry in entries)
    reasons = [reason for entry in entries if (reason := text(entry.get("yanked_reason"))) is not None]
    pythons = Counter(value for entry in entries if (value := text(entry.get("requires_python"))) is not None)
    return key, Release(
        version=version,
        published=min(uploads) if uploads else None,
        yanked=yanked,
        yanked_reason=reasons[0] if yanked and reasons else None,
        requires_python=pythons.most_common(1)[0][0] if pythons else None,
    )


def _upload_time(entry: dict[str, object]) -> datetime | None:
    return utc_time(entry.get("upload_time_iso_8601")) or utc_time(entry.get("upload_time"))


def _urls(info: dict[str, object]) -> tuple[tuple[str, str], ...]:
    urls: list[tuple[str, str]] = []
    project_urls = info.get("project_urls")
    if isinstance(project_urls, dict):
        for label, url in project_urls.items():
            link = text(url)
            if link is not None and url_kind(label) in _KEPT_URL_KINDS:
                urls.append((label, link))
    home_page = text(info.get("home_page"))
    if home_page is not None and all(url != home_page for _, url in urls):
        urls.append(("Homepage", home_page))
    return tuple(urls)
