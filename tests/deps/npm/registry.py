"""A tiny npm registry on 127.0.0.1 serving packuments and real tarballs, so package managers lock offline.

npm (``--package-lock-only``) and pnpm (``--lockfile-only``) read only packuments; yarn and bun also fetch the
tarballs they lock (to record checksums), so each version has a real, deterministic ``.tgz`` (``package/
package.json`` inside) with its true ``integrity`` and ``shasum``. A version may declare dependencies and peer
dependencies: pass ``{"name": {"1.0.0": {"dependencies": {...}, "peerDependencies": {...}}}}`` instead of a
list of versions.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

Versions = Sequence[str] | Mapping[str, Mapping[str, object]]


@dataclass
class Served:
    requests: list[str] = field(default_factory=list)

    def tarballs(self) -> list[str]:
        return [r for r in self.requests if r.endswith(".tgz")]


def _fields(versions: Versions) -> dict[str, Mapping[str, object]]:
    if isinstance(versions, Mapping):
        return {v: dict(extra) for v, extra in versions.items()}
    return {v: {} for v in versions}


@lru_cache(maxsize=1024)
def tarball(name: str, version: str, manifest_json: str) -> bytes:
    """A deterministic npm tarball: ``package/package.json`` with ``manifest_json``."""
    data = manifest_json.encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size, info.mtime, info.mode = len(data), 499162500, 0o644
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _manifest(name: str, version: str, extra: Mapping[str, object]) -> dict[str, object]:
    return {"name": name, "version": version, **extra}


def packument(name: str, versions: Versions, base: str) -> dict[str, object]:
    short = name.rsplit("/", 1)[-1]
    fields = _fields(versions)
    entries: dict[str, object] = {}
    for version, extra in fields.items():
        manifest = _manifest(name, version, extra)
        body = tarball(name, version, json.dumps(manifest, sort_keys=True))
        entries[version] = {
            **manifest,
            "dist": {
                "tarball": f"{base}{name}/-/{short}-{version}.tgz",
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(body).digest()).decode(),
                "shasum": hashlib.sha1(body, usedforsecurity=False).hexdigest(),
            },
        }
    ordered = list(fields)
    return {
        "name": name,
        "dist-tags": {"latest": ordered[-1]},
        "versions": entries,
        "time": {v: f"2024-01-{i + 1:02d}T00:00:00.000Z" for i, v in enumerate(ordered)},
    }


@contextmanager
def local_registry(packages: Mapping[str, Versions], delay: float = 0.0, served: Served | None = None) -> Iterator[str]:
    """Serve ``packages`` (name -> versions, oldest first); yields the registry URL (with a trailing slash)."""
    log = served if served is not None else Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            log.requests.append(self.path)
            if delay:
                time.sleep(delay)
            path = unquote(self.path.split("?", 1)[0].lstrip("/"))
            base = f"http://127.0.0.1:{port}/"
            if "/-/" in path and path.endswith(".tgz"):
                name, file = path.split("/-/", 1)
                version = file[len(name.rsplit("/", 1)[-1]) + 1 : -len(".tgz")]
                fields = _fields(packages.get(name, ()))
                if version not in fields:
                    self.send_error(404, "not found")
                    return
                manifest = json.dumps(_manifest(name, version, fields[version]), sort_keys=True)
                self._send(tarball(name, version, manifest), "application/octet-stream")
                return
            if path not in packages:
                self.send_error(404, "not found")
                return
            self._send(json.dumps(packument(path, packages[path], base)).encode(), "application/json")

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
