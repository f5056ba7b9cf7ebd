"""The one HTTP seam of breaking-change detection: release files (wheels, sdists, npm tarballs) and the metadata
that names them, read from the registries the engine reads (``bot.deps.registry.urls``), bounded in size and time.

Every httpx error and unusable answer becomes an ``AnalysisError`` here, whose message a maintainer can act on
("the wheel of flask 3.0.0 is larger than 20 MB"); nothing downloaded is ever installed or run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from bot.core.tls import tls_context
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base, pypi_json_base, redact
from bot.errors import DepupError

USER_AGENT = "depup (breaking-change detection; reads release files, never installs them)"
MAX_METADATA_BYTES = 64 * 1024 * 1024
MAX_RELEASE_BYTES = 20 * 1024 * 1024
TIMEOUT = 30.0
ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"


class AnalysisError(DepupError):
    """A release could not be read for analysis; the message says which and why."""


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a Python release (a wheel or an sdist), as the registry lists it."""

    filename: str
    url: str
    kind: str  # "bdist_wheel" | "sdist" | ...
    size: int | None


def download(
    url: str,
    *,
    max_bytes: int = MAX_RELEASE_BYTES,
    timeout: float = TIMEOUT,
    what: str = "",
    accept: str | None = None,
) -> bytes:
    """The body at ``url``, at most ``max_bytes`` (more is refused, not truncated)."""
    label = what or redact(url)
    headers = {"User-Agent": USER_AGENT} | ({"Accept": accept} if accept else {})
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(timeout),
                verify=tls_context(),
                follow_redirects=True,
                max_redirects=5,
                headers=headers,
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise AnalysisError(f"{label}: {redact(url)} answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise AnalysisError(f"{label} is larger than {_size(max_bytes)} ({_size(int(declared))})")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise AnalysisError(f"{label} is larger than {_size(max_bytes)}")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException as exc:
        raise AnalysisError(f"{label}: {redact(url)} timed out ({type(exc).__name__})") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise AnalysisError(f"{label}: {redact(url)} is unreachable ({type(exc).__name__})") from exc


def python_release_files(name: str, version: str) -> tuple[ReleaseFile, ...]:
    """The files of one release of a Python package, from the PyPI JSON API of the configured index."""
    try:
        base = pypi_json_base()
    except RegistryConfigError as exc:
        raise AnalysisError(str(exc)) from exc
    url = f"{base}/pypi/{quote(name, safe='')}/{quote(version, safe='')}/json"
    data = _json(url, f"the release {name} {version}")
    files = []
    for entry in data.get("urls") or []:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str) and isinstance(entry.get("filename"), str):
            size = entry.get("size")
            files.append(
                ReleaseFile(
                    filename=entry["filename"],
                    url=entry["url"],
                    kind=str(entry.get("packagetype") or ""),
                    size=size if isinstance(size, int) else None,
                )
            )
    return tuple(files)


def npm_version_document(name: str, version: str, *, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The registry's document of one version of an npm package (its package.json as published, with ``dist``)."""
    try:
        base = npm_registry_base()
    except RegistryConfigError as exc:
        raise AnalysisError(str(exc)) from exc
    path = quote(name, safe="@")  # a scoped name keeps its @ and has its / escaped, as npm sends it
    return _json(f"{base}/{path}/{quote(version, safe='')}", f"the release {name} {version}", timeout=timeout)


def npm_packument(name: str, *, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The registry's abbreviated document of every version of an npm package (versions, dependencies, dist)."""
    try:
        base = npm_registry_base()
    except RegistryConfigError as exc:
        raise AnalysisError(str(exc)) from exc
    path = quote(name, safe="@")
    return _json(f"{base}/{path}", f"the versions of {name}", timeout=timeout, accept=ABBREVIATED)


def npm_tarball_url(document: dict[str, Any], name: str, version: str) -> str:
    dist = document.get("dist")
    tarball = dist.get("tarball") if isinstance(dist, dict) else None
    if not isinstance(tarball, str) or not tarball:
        raise AnalysisError(f"the registry names no tarball for {name} {version}")
    return tarball


def _json(url: str, what: str, *, timeout: float = TIMEOUT, accept: str | None = None) -> dict[str, Any]:
    body = download(url, max_bytes=MAX_METADATA_BYTES, what=what, timeout=timeout, accept=accept)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise AnalysisError(f"{what}: {redact(url)} sent malformed JSON") from exc
    if not isinstance(data, dict):
        raise AnalysisError(f"{what}: {redact(url)} sent JSON that is not an object")
    return data


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"
