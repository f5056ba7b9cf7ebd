"""A loopback HTTP(S) server for probe tests, in a thread, with endpoints that misbehave on purpose.

Endpoints: ``/ok`` (200, "status: ready"), ``/status/N``, ``/slow?ms=N``, ``/big`` (1 MiB, "BEGIN" first and
"END" last), ``/endless`` (a chunked body that never ends), ``/dribble`` (the status line one byte every
50 ms), ``/redirect/N`` (N relative redirects, then ``/ok``), ``/to?location=URL`` (302 to URL), ``/hang-up``
(closes the connection without answering). Every request is recorded with its Host header.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

BIG_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Seen:
    path: str
    host: str | None
    user_agent: str | None


class _Handler(BaseHTTPRequestHandler):
    server: ProbeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append(Seen(self.path, self.headers.get("Host"), self.headers.get("User-Agent")))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        try:
            if url.path == "/ok":
                self._send(200, b"status: ready\n")
            elif parts[0] == "status":
                self._send(int(parts[1]), b"status page\n")
            elif url.path == "/slow":
                self.server.stopping.wait(int(query["ms"][0]) / 1000)
                self._send(200, b"status: ready\n")
            elif url.path == "/big":
                body = b"BEGIN" + b"x" * (BIG_SIZE - 8) + b"END"
                self._send(200, body)
            elif url.path == "/endless":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"status: ready " * 1000
                while not self.server.stopping.is_set():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            elif url.path == "/dribble":
                for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 1000:
                    if self.server.stopping.wait(0.05):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            elif parts[0] == "redirect":
                left = int(parts[1])
                self._redirect(f"/redirect/{left - 1}" if left > 1 else "/ok")
            elif url.path == "/to":
                self._redirect(query["location"][0])
            elif url.path == "/hang-up":
                self.close_connection = True
            else:
                self._send(404, b"not found\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the probe stopped reading: expected for big bodies

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class ProbeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls = tls
        self.seen: list[Seen] = []
        self.server_names: list[str | None] = []
        self.handshake_errors: list[Exception] = []
        self.stopping = threading.Event()
        if tls is not None:
            tls.sni_callback = self._note_server_name
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _note_server_name(self, _sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        self.server_names.append(name)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.handshake_errors.append(e)
            return
        with tls:  # the plain socket was detached into it: the server's own close would not close it
            super().finish_request(tls, client_address)

    def handle_error(self, request: socket | tuple[bytes, socket], client_address: Any) -> None:
        pass  # a probe that hangs up early is part of the tests

    def __enter__(self) -> ProbeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
