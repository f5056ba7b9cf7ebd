"""A local package registry that replays the recorded answers of ``tests/fixtures/registry`` over real HTTP.

It answers at the paths the real registries use, every document made from the one recorded answer of a package:

- PyPI's JSON API ``/pypi/<name>/json`` (any spelling of the name, as PyPI) as recorded, and the latest
  release's ``/pypi/<name>/<version>/json`` (its ``info`` and files; other versions were not recorded: 404);
- PyPI's JSON Simple API ``/simple/<name>/`` (PEP 691 v1.1, PEP 700) for ``Accept:
  application/vnd.pypi.simple.v1+json``: the recorded files with ``upload-time``, ``yanked`` (the reason when
  there is one) and ``requires-python``, and ``versions``. Without that Accept (or with ``simple_api`` off, a
  server without PEP 691) it answers an HTML page, as a PEP 503 index does;
- the latest release's files' core metadata (PEP 658) ``/packages/<name>/<file>.metadata``, announced in the
  Simple API answer (``core-metadata``) as PyPI does, made from the recorded ``info`` (name, version,
  requires-python, project links);
- one release's recorded document ``/pypi/<name>/<version>/json`` (``pypi-releases/``) and the distribution
  files those name ``/packages/.../<filename>`` (``files/``), recorded by ``record_pypi_releases.py``, before
  the documents made from the project's answer;
- npm version documents ``/<name>/<version>`` and tarballs ``/<name>/-/<file>.tgz`` recorded in
  ``npm-releases/`` and ``npm-tarballs/`` (``record_npm_releases.py``);
- npm packuments ``/<name>``, ``/@scope%2fname`` (or ``/@scope/name``) as recorded, and for ``Accept:
  application/vnd.npm.install-v1+json`` the abbreviated packument (no ``time`` but ``modified``, no links),
  so that ``npm install --package-lock-only`` resolves recorded packages as against the registry.

Recorded bodies name ``registry.invalid`` where the registry's host was; the server puts its own address
there. It gives every document an ETag (the recorded one for the recorded document, else a digest of the
body), answers ``If-None-Match`` with 304, gzips when asked, answers 404 for what was not recorded (tarballs
included), counts requests per package and per path, and injects faults per package (status, body, delay),
or per release document or file.

Pytest fixtures: ``registry_server`` (a server shared by the session, reset around each test, with
``DEPUP_PYPI_URL``/``DEPUP_NPM_REGISTRY`` pointing at it) and ``registry_server_session``.
"""

from __future__ import annotations

import gzip
import hashlib
import html
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
from packaging.version import InvalidVersion, Version

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


SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
NPM_ABBREVIATED = "application/vnd.npm.install-v1+json"
# The representations of one package: the recorded document, and those made from it.
Kind = str  # "recorded" | "simple" | "simple-html" | "abbreviated" | "release:<version>"
NPM_ABBREVIATED_FIELDS = (
    "name",
    "version",
    "deprecated",
    "engines",
    "peerDependencies",
    "peerDependenciesMeta",
    "dependencies",
    "optionalDependencies",
    "bin",
    "os",
    "cpu",
    "dist",
)


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

    def __init__(
        self, fixtures: Path = FIXTURES, *, simple_api: bool = True, aliases: dict[Key, Key] | None = None
    ) -> None:
        self._fixtures = fixtures
        self.simple_api = simple_api  # False: /simple/ answers HTML only, as a server without PEP 691
        self._aliases = dict(aliases or {})  # more package names, each answered with a recorded package (benchmarks)
        self._live = LiveServer(self._app, quiet=True)
        self._lock = threading.Lock()
        self._records: dict[Key, dict[str, Any] | None] = {}
        self._documents: dict[tuple[Key, Kind], _Document | None] = {}
        self._gzipped: dict[tuple[Key, Kind, str], bytes] = {}
        self._faults: dict[Key, Fault] = {}
        self._path_faults: dict[tuple[str, ...], Fault] = {}
        self._generations: Counter[Key] = Counter()
        self._counts: Counter[Key] = Counter()
        self._paths: Counter[str] = Counter()
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
    def path_counts(self) -> Counter[str]:
        """Requests per path since the last reset (a copy)."""
        with self._lock:
            return Counter(self._paths)

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
            self._paths.clear()
            self._total = 0
            self._peak_in_flight = 0
            self.served = []

    def etag(self, ecosystem: str, name: str, kind: Kind | None = None) -> str | None:
        """The ETag the server gives now; ``kind`` None: what depup asks (PyPI's Simple API, npm's full packument)."""
        key = key_for(ecosystem, name)
        kind = kind or ("simple" if key[0] == "python" else "recorded")
        document = self._document(key, kind)
        return None if document is None else self._etag(key, document)

    # -- serving --------------------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        release, file = self._recorded_release(path)
        npm_release = None
        if release is not None or file is not None:
            key: Key | None = ("python", release[0]) if release is not None else ("python", _project_of(file or ""))
            kind: Kind = "recorded"
        else:
            key, kind = _route(path, headers.get("accept", ""))
            if kind == "simple" and not self.simple_api:
                kind = "simple-html"
            if key is None:
                npm_release = _npm_release(path)
                key = npm_release[0] if npm_release is not None else None
        with self._lock:
            fault = self._faults.get(key) if key else None
            if release is not None:
                fault = self._path_faults.get(("release", *release), fault)
            elif file is not None:
                fault = self._path_faults.get(("file", file), fault)
            self._total += 1
            self._paths[path] += 1
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
                status, response_headers, body = self._answer(method, key, kind, fault, headers)
        finally:
            with self._lock:
                self._in_flight -= 1
        with self._lock:
            self.served.append(Served(method, path, key, status, headers))
        start_response(f"{status} {_REASONS.get(status, 'Status')}", response_headers)
        return [] if method == "HEAD" else [body]

    def _answer(
        self, method: str, key: Key | None, kind: Kind, fault: Fault | None, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        injected = _injected(fault)
        if injected is not None:
            return injected
        document = self._document(key, kind) if key is not None and method in ("GET", "HEAD") else None
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
            body = self._gzip(key, kind, etag, body)
            response.append(("Content-Encoding", "gzip"))
        response.append(("Content-Length", str(len(body))))
        return 200, response, body

    def _recorded_release(self, path: str) -> tuple[tuple[str, str] | None, str | None]:
        """The release document or distribution file ``path`` names, when one was recorded or a fault injected for
        it; other release documents are made from the project's recorded answer (``_route``)."""
        release, file = _release_route(path), _file_route(path)
        with self._lock:
            injected = set(self._path_faults)
        recorded = release is not None and (self._fixtures / RELEASES / release[0] / f"{release[1]}.json").is_file()
        if release is not None and not recorded and ("release", *release) not in injected:
            release = None
        if file is not None and not (self._fixtures / FILES / file).is_file() and ("file", file) not in injected:
            file = None
        return release, file

    def _answer_release(
        self, method: str, release: tuple[str, str] | None, file: str | None, fault: Fault | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """A release's document or a distribution file, as recorded (hosts rewritten to this server)."""
        injected = _injected(fault)
        if injected is not None:
            return injected
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
        injected = _injected(fault)
        if injected is not None:
            return injected
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

    def _record(self, key: Key) -> dict[str, Any] | None:
        """The recorded answer, hosts replaced by the server's address; None when not recorded."""
        with self._lock:
            if key in self._records:
                return self._records[key]
        source = self._aliases.get(key, key)
        file = (self._fixtures / ("pypi" if source[0] == "python" else "npm") / f"{source[1]}.json").resolve()
        record = None
        if file.is_file() and self._fixtures.resolve() in file.parents:
            text = file.read_text(encoding="utf-8")
            text = text.replace(f"https://{PLACEHOLDER}", self.url).replace(PLACEHOLDER, self.url.split("//")[1])
            record = json.loads(text)
        with self._lock:
            self._records[key] = record
        return record

    def _document(self, key: Key, kind: Kind) -> _Document | None:
        with self._lock:
            if (key, kind) in self._documents:
                return self._documents[(key, kind)]
        record = self._record(key)
        document = None
        if record is not None:
            recorded = {k.lower(): v for k, v in record.get("headers", {}).items()}
            made = _made(key, kind, record["body"], self.url + "/packages/" + key[1])
            if made is not None:
                body, content_type = made
                data = body if isinstance(body, bytes) else _compact(body)
                document = _Document(
                    body=data,
                    content_type=content_type or recorded.get("content-type", "application/json"),
                    etag=(kind == "recorded" and recorded.get("etag")) or f'"{hashlib.sha256(data).hexdigest()[:24]}"',
                    last_modified=recorded.get("last-modified"),
                )
        with self._lock:
            self._documents[(key, kind)] = document
        return document

    def _etag(self, key: Key, document: _Document) -> str:
        with self._lock:
            generation = self._generations[key]
        if not generation:
            return document.etag
        return f'{document.etag.rstrip(chr(34))}-{generation}"'

    def _gzip(self, key: Key, kind: Kind, etag: str, body: bytes) -> bytes:
        with self._lock:
            cached = self._gzipped.get((key, kind, etag))
        if cached is None:
            cached = gzip.compress(body, compresslevel=1)
            with self._lock:
                self._gzipped[(key, kind, etag)] = cached
        return cached


def _injected(fault: Fault | None) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """An injected fault's delay, then its answer (None: the fault only delays, or there is none)."""
    if fault is not None and fault.delay:
        time.sleep(fault.delay)
    if fault is None or (fault.status is None and fault.body is None):
        return None
    body = fault.body if fault.body is not None else b'{"error":"injected fault"}'
    return fault.status or 200, [("Content-Type", fault.content_type), ("Content-Length", str(len(body)))], body


def _compact(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _made(key: Key, kind: Kind, body: dict[str, Any], files_base: str) -> tuple[object, str | None] | None:
    """The ``kind`` representation of a recorded document, with its content type (None: the recorded one)."""
    if kind == "recorded":
        return body, None
    if key[0] == "python" and kind == "simple":
        return simple_document(body, files_base), SIMPLE_JSON
    if key[0] == "python" and kind == "simple-html":
        name = html.escape(str((body.get("info") or {}).get("name") or key[1]))
        return f"<!DOCTYPE html><html><body><h1>Links for {name}</h1></body></html>".encode(), "text/html"
    if key[0] == "python" and kind.startswith("release:"):
        release = release_document(body, kind.removeprefix("release:"))
        return None if release is None else (release, None)
    if key[0] == "python" and kind.startswith("metadata:"):
        metadata = core_metadata(body, kind.removeprefix("metadata:"))
        return None if metadata is None else (metadata, "application/octet-stream")
    if key[0] == "npm" and kind == "abbreviated":
        return abbreviated_packument(body), NPM_ABBREVIATED
    return None


def simple_document(body: dict[str, Any], files_base: str) -> dict[str, Any]:
    """PyPI's JSON Simple API answer (v1.1) for a recorded JSON API document: its files and versions. The
    latest release's files say they have core metadata (PEP 658), as PyPI's do: ``core_metadata`` serves it."""
    info = body.get("info") or {}
    files = []
    for version, files_of_release in (body.get("releases") or {}).items():
        for entry in files_of_release:
            yanked: bool | str = bool(entry.get("yanked"))
            if yanked and entry.get("yanked_reason"):
                yanked = entry["yanked_reason"]
            file: dict[str, Any] = {
                "filename": entry["filename"],
                "url": f"{files_base}/{entry['filename']}",
                "hashes": {},
                "upload-time": entry.get("upload_time_iso_8601"),
                "yanked": yanked,
            }
            if version == info.get("version"):
                file["core-metadata"] = True
            if entry.get("requires_python") is not None:
                file["requires-python"] = entry["requires_python"]
            files.append(file)
    files.sort(key=lambda f: f["filename"])
    return {
        "meta": {"api-version": "1.1"},
        "name": canonicalize_name(str(info.get("name") or "")),
        "files": files,
        "versions": sorted(body.get("releases") or {}, key=_version_key),
    }


def release_document(body: dict[str, Any], version: str) -> dict[str, Any] | None:
    """``/pypi/<name>/<version>/json``: known only for the release the recorded ``info`` describes (the latest)."""
    info = body.get("info") or {}
    if info.get("version") != version:
        return None
    return {"info": info, "urls": (body.get("releases") or {}).get(version, [])}


def core_metadata(body: dict[str, Any], filename: str) -> bytes | None:
    """The core metadata (PEP 658) of one of the latest release's files, from the recorded ``info``: name,
    version, requires-python and the project links (all that was recorded of it)."""
    info = body.get("info") or {}
    latest = (body.get("releases") or {}).get(info.get("version"), [])
    if not any(entry["filename"] == filename for entry in latest):
        return None
    lines = ["Metadata-Version: 2.1", f"Name: {info.get('name')}", f"Version: {info.get('version')}"]
    if info.get("home_page"):
        lines.append(f"Home-page: {info['home_page']}")
    if info.get("requires_python"):
        lines.append(f"Requires-Python: {info['requires_python']}")
    lines += [f"Project-URL: {label}, {url}" for label, url in (info.get("project_urls") or {}).items()]
    return ("\n".join(lines) + "\n\n").encode()


def abbreviated_packument(body: dict[str, Any]) -> dict[str, Any]:
    """npm's abbreviated packument (``application/vnd.npm.install-v1+json``) of a recorded full packument."""
    versions = {
        version: {field: manifest[field] for field in NPM_ABBREVIATED_FIELDS if field in manifest}
        for version, manifest in (body.get("versions") or {}).items()
    }
    document: dict[str, Any] = {"name": body.get("name"), "dist-tags": body.get("dist-tags"), "versions": versions}
    modified = (body.get("time") or {}).get("modified")
    if modified:
        document["modified"] = modified
    return document


def _version_key(version: str) -> tuple[int, Any]:
    try:
        return 1, Version(version)
    except InvalidVersion:
        return 0, version


_REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


def _route(path: str, accept: str = "") -> tuple[Key | None, Kind]:
    """The package a request path names, and which representation of it is asked."""
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json" and parts[1]:
        return ("python", canonicalize_name(parts[1])), "recorded"
    if len(parts) == 4 and parts[0] == "pypi" and parts[3] == "json" and parts[1] and parts[2]:
        return ("python", canonicalize_name(parts[1])), f"release:{parts[2]}"
    if len(parts) == 3 and parts[0] == "packages" and parts[2].endswith(".metadata"):
        return ("python", canonicalize_name(parts[1])), "metadata:" + parts[2].removesuffix(".metadata")
    if len(parts) == 2 and parts[0] == "simple" and parts[1] and path.endswith("/"):
        return ("python", canonicalize_name(parts[1])), "simple" if SIMPLE_JSON in accept else "simple-html"
    kind = "abbreviated" if NPM_ABBREVIATED in accept else "recorded"
    if len(parts) == 1 and parts[0] and not parts[0].startswith(("-", "@", ".")):
        return ("npm", parts[0]), kind
    if len(parts) == 2 and parts[0].startswith("@") and len(parts[0]) > 1 and parts[1] and parts[1] != "-":
        return ("npm", f"{parts[0]}/{parts[1]}"), kind
    return None, "recorded"


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
