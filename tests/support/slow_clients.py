"""Connections that open and never finish a request in time, for tests/test_web_hardening.py and bench.intake."""

from __future__ import annotations

import selectors
import socket
import threading
from dataclasses import dataclass, field

WEBHOOK_PATH = "/api/github/webhooks"


@dataclass
class SlowClients:
    """Connections that are open but never finish a request in time: idle, trickling their headers, trickling an
    (unsigned) body, one byte per ``every`` seconds each, from one thread."""

    port: int
    idle: int
    headers: int
    bodies: int
    every: float = 0.5
    sockets: dict[socket.socket, bytes] = field(default_factory=dict)
    closed: set[socket.socket] = field(default_factory=set)
    answers: dict[socket.socket, bytes] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> SlowClients:
        request_line = f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\n"
        body_headers = (
            request_line + "X-GitHub-Event: push\r\nX-GitHub-Delivery: slow\r\n"
            "X-Hub-Signature-256: sha256=" + "0" * 64 + "\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n"
        )
        plans = [b""] * self.idle + [request_line.encode() + b"X-Slow: " + b"a" * 400] * self.headers
        plans += [b"{" + b"a" * 400] * self.bodies
        for number, rest in enumerate(plans):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            if number >= self.idle + self.headers:
                sock.sendall(body_headers.encode())  # the headers at once, then the body byte by byte
            sock.setblocking(False)
            self.sockets[sock] = rest
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()
        return self

    def _trickle(self) -> None:
        selector = selectors.DefaultSelector()
        for sock in self.sockets:
            selector.register(sock, selectors.EVENT_READ)
        while not self._stop.is_set():
            for sock, rest in list(self.sockets.items()):
                if sock in self.closed or not rest:
                    continue
                try:
                    sock.send(rest[:1])
                    self.sockets[sock] = rest[1:]
                except OSError:
                    self.closed.add(sock)
            for key, _ in selector.select(timeout=self.every):
                sock = key.fileobj  # type: ignore[assignment]
                try:
                    data = sock.recv(65536)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                if data:
                    self.answers[sock] = self.answers.get(sock, b"") + data  # type: ignore[index]
                else:
                    self.closed.add(sock)  # type: ignore[arg-type]
                    selector.unregister(sock)
        selector.close()

    def open_count(self) -> int:
        return len(self.sockets) - len(self.closed)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()
