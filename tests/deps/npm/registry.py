"""A tiny npm registry on 127.0.0.1 serving packuments, so npm can lock without the network.

``npm install --package-lock-only`` only reads packuments (it never fetches tarballs), so the ``dist``
entries only need to look right.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

FAKE_INTEGRITY = "sha512-" + "A" * 86 + "=="


def packument(name: str, versions: Sequence[str], base: str) -> dict[str, object]:
    short = name.rsplit("/", 1)[-1]
    return {
        "name": name,
        "dist-tags": {"latest": versions[-1]},
        "versions": {
            version: {
                "name": name,
                "version": version,
                "dist": {"tarball": f"{base}{name}/-/{short}-{version}.tgz", "integrity": FAKE_INTEGRITY},
            }
            for version in versions
        },
    }


@contextmanager
def local_registry(packages: Mapping[str, Sequence[str]], delay: float = 0.0) -> Iterator[str]:
    """Serve ``packages`` (name -> versions, oldest first); yields the registry URL (with a trailing slash)."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            if delay:
                time.sleep(delay)
            name = unquote(self.path.lstrip("/"))
            if name not in packages:
                self.send_error(404, "not found")
                return
            base = f"http://127.0.0.1:{port}/"
            body = json.dumps(packument(name, packages[name], base)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
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
