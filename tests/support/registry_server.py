"""A local package registry that replays the recorded answers of ``tests/fixtures/registry`` over real HTTP.

It answers at the paths the real registries use: PyPI's JSON API ``/pypi/<name>/json`` (any spelling of the
name, as PyPI), the document of one release ``/pypi/<name>/<version>/json`` (recorded in ``pypi-releases/``) and
the distribution files those name (``/packages/.../<filename>``, recorded in ``files/``), and npm packuments
``/<name>``, ``/@scope%2fname`` (or ``/@scope/name``), the latter also for npm's
``Accept: application/vnd.npm.install-v1+json`` so that ``npm install --package-lock-only`` can resolve
recorded packages; and npm version documents ``/<name>/<version>`` and tarballs ``/<name>/-/<file>.tgz``
recorded in ``npm-releases/`` and ``npm-tarballs/`` (``record_npm_releases.py``). Recorded bodies name
``registry.invalid`` where the registry's host was; the server puts its own address there. It gives every
document an ETag (the recorded one, else a digest of the body), answers
``If-None-Match`` with 304, gzips when asked, answers 404 for what was not recorded (tarballs included), counts
requests per package, and injects faults per package (status, body, delay), or per release document or file.

Pytest fixtures: ``registry_server`` (a server shared by the session, reset around each test, with
``DEPUP_PYPI_URL``/``DEPUP_NPM_REGISTRY`` pointing at it) and ``registry_server_session``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from tests.support.http import LiveServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registry"
RELEASES = "pypi-releases"  # <canonical name>/<version>.json: one release's document
FILES = "files"  # distribution files, by file name
PLACEHOLDER = "registry.invalid"

Key = tuple[str, str]  # ("python", canonical name) | ("npm", name)
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class Fault:
    """What to do instead of the recorded answer: wait ``delay`` seconds, then answer ``status``/``body`` if set."""

    status: int | None = None
    body: bytes | None = None
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    key: Key | None
    status: int
    headers: dict[str, str]  # request headers, lower-cased names


@dataclass(frozen=True)
class _Document:
    body: bytes
    content_type: str
    etag: str
    last_modified: str | None


def key_for(ecosystem: str, name: str) -> Key:
    if ecosystem == "python":
        return ("python", canonicalize_name(name))
    return ("npm", name)


def recorded_file(key: Key) -> Path:
    ecosystem, name = key
    return FIXTURES / ("pypi" if ecosystem == "python" else "npm") / f"{name}.json"


def recorded_names(ecosystem: str) -> list[str]:
    """Every recorded package of an ecosystem (``python`` names are canonical)."""
    folder = FIXTURES / ("pypi" if ecosystem == "python" else "npm")
    return sorted(str(path.relative_to(folder).with_suffix("")) for path in folder.rglob("*.json"))


def load_recorded(ecosystem: str, name: str) -> dict[str, Any]:
    """The recorded ``{"path", "status", "headers", "body"}`` of a package, hosts still ``registry.invalid``."""
    record: dict[str, Any] = json.loads(recorded_file(key_for(ecosystem, name)).read_text(encoding="utf-8"))
    return record


class RegistryServer:
    """The replaying registry on 127.0.0.1 (random port) in a daemon thread; use as a context manager."""

    def __init__(self, fixtures: Path = FIXTURES) -> None:
        self._fixtures = fixtures
        self._live = LiveServer(self._app, quiet=True)
        self._lock = threading.Lock()
        self._documents: dict[Key, _Document | None] = {}
        self._gzipped: dict[tuple[Key, str], bytes] = {}
        self._faults: dict[Key, Fault] = {}
        self._path_faults: dict[tuple[str, ...], Fault] = {}
        self._generations: Counter[Key] = Counter()
        self._counts: Counter[Key] = Counter()
        self._total = 0
        self._in_flight = 0
        self._peak_in_flight = 0
        self.served: list[Served] = []

    @property
    def url(self) -> str:
        return self._live.url

    def __enter__(self) -> RegistryServer:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)

    # -- test controls --------------------------------------------------------------------------------------

    def inject(self, ecosystem: str, name: str, fault: Fault) -> None:
        with self._lock:
            self._faults[key_for(ecosystem, name)] = fault

    def inject_release(self, name: str, version: str, fault: Fault) -> None:
        """A fault for the document of one Python release (``/pypi/<name>/<version>/json``) only."""
        with self._lock:
            self._path_faults[("release", canonicalize_name(name), version)] = fault

    def inject_file(self, filename: str, fault: Fault) -> None:
        """A fault for one distribution file (whether recorded or not), by its file name."""
        with self._lock:
            self._path_faults[("file", filename)] = fault

    def bump(self, ecosystem: str, name: str) -> None:
        """Change the package's ETag, as a new release would."""
        with self._lock:
            self._generations[key_for(ecosystem, name)] += 1

    def count(self, ecosystem: str, name: str) -> int:
        with self._lock:
            return self._counts[key_for(ecosystem, name)]

    @property
    def total_requests(self) -> int:
        with self._lock:
            return self._total

    @property
    def peak_in_flight(self) -> int:
        """The most requests the server was answering at one time."""
        with self._lock:
            return self._peak_in_flight

    def reset(self) -> None:
        """Forget faults, ETag bumps and counts (documents stay loaded)."""
        with self._lock:
            self._faults.clear()
            self._path_faults.clear()
            self._generations.clear()
            self._counts.clear()
            self._total = 0
            self._peak_in_flight = 0
            self.served = []

    def etag(self, ecosystem: str, name: str) -> str | None:
        key = key_for(ecosystem, name)
        document = self._document(key)
        return None if document is None else self._etag(key, document)

    # -- serving --------------------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        key = _route(path)
        release = _release_route(path)
        file = _file_route(path)
        npm_release = _npm_release(path) if key is None and release is None and file is None else None
        if release is not None or file is not None:
            key = ("python", release[0]) if release is not None else ("python", _project_of(file or ""))
        elif npm_release is not None:
            key = npm_release[0]
        with self._lock:
            fault = self._faults.get(key) if key else None
            if release is not None:
                fault = self._path_faults.get(("release", *release), fault)
            elif file is not None:
                fault = self._path_faults.get(("file", file), fault)
            self._total += 1
            if key is not None:
                self._counts[key] += 1
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            if npm_release is not None:
                status, response_headers, body = self._answer_npm_release(method, npm_release, fault)
            elif release is not None or file is not None:
                status, response_headers, body = self._answer_release(method, release, file, fault)
            else:
                status, response_headers, body = self._answer(method, key, fault, headers)
        finally:
            with self._lock:
                self._in_flight -= 1
        with self._lock:
            self.served.append(Served(method, path, key, status, headers))
        start_response(f"{status} {_REASONS.get(status, 'Status')}", response_headers)
        return [] if method == "HEAD" else [body]

    def _answer(
        self, method: str, key: Key | None, fault: Fault | None, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and (fault.status is not None or fault.body is not None):
            body = fault.body if fault.body is not None else b'{"error":"injected fault"}'
            return fault.status or 200, [("Content-Type", fault.content_type), ("Content-Length", str(len(body)))], body
        document = self._document(key) if key is not None and method in ("GET", "HEAD") else None
        if key is None or document is None:
            body = b'{"message":"Not Found"}' if key and key[0] == "python" else b'{"error":"Not found"}'
            return 404, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
        etag = self._etag(key, document)
        common = [("ETag", etag), ("Vary", "Accept-Encoding, Accept")]
        if document.last_modified:
            common.append(("Last-Modified", document.last_modified))
        if _matches(headers.get("if-none-match"), etag):
            return 304, common, b""
        body = document.body
        response = [("Content-Type", document.content_type), *common]
        if "gzip" in headers.get("accept-encoding", ""):
            body = self._gzip(key, etag, body)
            response.append(("Content-Encoding", "gzip"))
        response.append(("Content-Length", str(len(body))))
        return 200, response, body

    def _answer_release(
        self, method: str, release: tuple[str, str] | None, file: str | None, fault: Fault | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """A release's document or a distribution file, as recorded (hosts rewritten to this server)."""
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and (fault.status is not None or fault.body is not None):
            body = fault.body if fault.body is not None else b'{"error":"injected fault"}'
            return fault.status or 200, [("Content-Type", fault.content_type), ("Content-Length", str(len(body)))], body
        found: Path | None = None
        content_type = "application/octet-stream"
        if release is not None:
            found = self._fixtures / RELEASES / release[0] / f"{release[1]}.json"
            content_type = "application/json"
        elif file is not None:
            found = self._fixtures / FILES / file
        if method not in ("GET", "HEAD") or found is None or not found.is_file():
            body = b'{"message":"Not Found"}'
            return 404, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
        if release is not None:
            record = json.loads(found.read_text(encoding="utf-8"))
            text = json.dumps(record["body"], ensure_ascii=False, separators=(",", ":"))
            body = text.replace(f"https://{PLACEHOLDER}", self.url).encode()
        else:
            body = found.read_bytes()
        return 200, [("Content-Type", content_type), ("Content-Length", str(len(body)))], body

    def _answer_npm_release(
        self, method: str, release: tuple[Key, str, str], fault: Fault | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """A recorded version document (``npm-releases/<name>/<version>.json``) or tarball (``npm-tarballs/``)."""
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and (fault.status is not None or fault.body is not None):
            body = fault.body if fault.body is not None else b'{"error":"injected fault"}'
            return fault.status or 200, [("Content-Type", fault.content_type), ("Content-Length", str(len(body)))], body
        (_, name), kind, value = release
        folder = self._fixtures / ("npm-releases" if kind == "version" else "npm-tarballs")
        file = (folder / name / f"{value}.json" if kind == "version" else folder / name / "-" / value).resolve()
        if method not in ("GET", "HEAD") or not file.is_file() or folder.resolve() not in file.parents:
            body = b'{"error":"Not found"}'
            return 404, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
        if kind == "tarball":
            body = file.read_bytes()
            return 200, [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))], body
        record = json.loads(file.read_text(encoding="utf-8"))
        text = json.dumps(record["body"], ensure_ascii=False, separators=(",", ":"))
        text = text.replace(f"https://{PLACEHOLDER}", self.url).replace(PLACEHOLDER, self.url.split("//")[1])
        body = text.encode()
        return 200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body

    def _document(self, key: Key) -> _Document | None:
        with self._lock:
            if key in self._documents:
                return self._documents[key]
        file = (self._fixtures / ("pypi" if key[0] == "python" else "npm") / f"{key[1]}.json").resolve()
        document = None
        if file.is_file() and self._fixtures.resolve() in file.parents:
            record = json.loads(file.read_text(encoding="utf-8"))
            body = json.dumps(record["body"], ensure_ascii=False, separators=(",", ":"))
            body = body.replace(f"https://{PLACEHOLDER}", self.url).replace(PLACEHOLDER, self.url.split("//")[1])
            data = body.encode()
            recorded = {k.lower(): v for k, v in record.get("headers", {}).items()}
            document = _Document(
                body=data,
                content_type=recorded.get("content-type", "application/json"),
                etag=recorded.get("etag") or f'"{hashlib.sha256(data).hexdigest()[:24]}"',
                last_modified=recorded.get("last-modified"),
            )
        with self._lock:
            self._documents[key] = document
        return document

    def _etag(self, key: Key, document: _Document) -> str:
        with self._lock:
            generation = self._generations[key]
        if not generation:
            return document.etag
        return f'{document.etag.rstrip(chr(34))}-{generation}"'

    def _gzip(self, key: Key, etag: str, body: bytes) -> bytes:
        with self._lock:
            cached = self._gzipped.get((key, etag))
        if cached is None:
            cached = gzip.compress(body, compresslevel=1)
            with self._lock:
                self._gzipped[(key, etag)] = cached
        return cached


_REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


def _route(path: str) -> Key | None:
    """The package a request path names: ``/pypi/<name>/json``, ``/<name>`` or ``/@scope/name``."""
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json" and parts[1]:
        return ("python", canonicalize_name(parts[1]))
    if len(parts) == 1 and parts[0] and not parts[0].startswith(("-", "@", ".")):
        return ("npm", parts[0])
    if len(parts) == 2 and parts[0].startswith("@") and len(parts[0]) > 1 and parts[1] and parts[1] != "-":
        return ("npm", f"{parts[0]}/{parts[1]}")
    return None


def _npm_release(path: str) -> tuple[Key, str, str] | None:
    """``(package, "version", version)`` for ``/<name>/<version>``, ``(package, "tarball", file)`` for
    ``/<name>/-/<file>.tgz`` (names may be scoped: ``/@types/express/-/express-5.0.3.tgz``)."""
    parts = path.strip("/").split("/")
    scoped = bool(parts) and parts[0].startswith("@") and len(parts[0]) > 1
    name_parts = 2 if scoped else 1
    if len(parts) < name_parts + 1 or not all(parts[:name_parts]) or parts[0].startswith(("-", ".")):
        return None
    name, rest = "/".join(parts[:name_parts]), parts[name_parts:]
    if len(rest) == 1 and rest[0] and rest[0] not in ("-", "..", "."):
        return ("npm", name), "version", rest[0]
    if len(rest) == 2 and rest[0] == "-" and rest[1].endswith(".tgz") and "/" not in rest[1] and rest[1] != ".tgz":
        return ("npm", name), "tarball", rest[1]
    return None


def _release_route(path: str) -> tuple[str, str] | None:
    """The release ``/pypi/<name>/<version>/json`` names: (canonical name, version)."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "pypi" and parts[3] == "json" and parts[1] and parts[2]:
        return canonicalize_name(parts[1]), parts[2]
    return None


def _file_route(path: str) -> str | None:
    """The distribution file a ``/packages/.../<filename>`` path names."""
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "packages" and parts[-1] and not parts[-1].startswith("."):
        return parts[-1]
    return None


def _project_of(filename: str) -> str:
    return canonicalize_name(filename.split("-", 1)[0])


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


@pytest.fixture(scope="session")
def registry_server_session() -> Iterator[RegistryServer]:
    with RegistryServer() as server:
        yield server


@pytest.fixture
def registry_server(
    registry_server_session: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RegistryServer]:
    server = registry_server_session
    server.reset()
    monkeypatch.setenv("DEPUP_PYPI_URL", server.url)
    monkeypatch.setenv("DEPUP_NPM_REGISTRY", server.url)
    yield server
    server.reset()
