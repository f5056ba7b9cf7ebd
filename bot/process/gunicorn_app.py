"""Runs the web app under gunicorn from Python, so ``depup web`` checks settings before serving.

Slow clients: gunicorn's ``gevent`` worker class gives every connection a greenlet (``worker_connections`` per
worker process, 1000 by default), so a connection that trickles its request or sits idle costs memory, not one of
a few threads. Two deadlines bound what such a connection can hold:

* the request line and headers must arrive within ``DEPUP_WEB_HEADER_TIMEOUT`` seconds (gunicorn's ``keepalive``:
  the gevent worker reads each request's headers under ``gevent.Timeout(keepalive)``, and closes an idle kept-alive
  connection after as long);
* the body within ``DEPUP_WEB_READ_TIMEOUT`` seconds: ``BufferedBody`` reads all of it, at most
  ``MAX_WEBHOOK_BYTES``, before the Flask app sees the request (408 after the deadline, 413 over the size,
  chunked or not), so the app never waits on a client.
"""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from bot.core.settings import MAX_WEBHOOK_BYTES, Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("bot.process.web")

WORKER_CLASS = "gevent"
DEFAULT_CONNECTIONS = 1000  # per worker process (gunicorn's worker_connections)
_CHUNK = 64 * 1024


def _child_exit(server: Any, worker: Any) -> None:
    """gunicorn's hook in the arbiter when a worker ended: its live gauges go with it. Never raises (an exception
    here would take the arbiter, and with it every worker, down)."""
    try:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
    except Exception:  # a metrics file problem must not stop the web process
        server.log.warning("could not clear the metrics of worker %s", worker.pid, exc_info=True)


class BufferedBody:
    """WSGI middleware: the whole request body, read within a deadline and a size limit, before the app runs.

    The app then reads a ``BytesIO`` of known length. ``refused(outcome, seconds)`` is told of each request refused
    here (``too_large``: 413, ``timeout``: 408), for the metrics and the throttled log.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        max_bytes: int,
        deadline: float,
        refused: Callable[[str, float], None] | None = None,
    ) -> None:
        self._app = app
        self._max = max_bytes
        self._deadline = deadline
        self._refused = refused

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        import gevent

        started = time.perf_counter()
        declared = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
        if declared.isdigit() and int(declared) > self._max:
            return self._refuse(start_response, 413, "too_large", f"payload over {self._max} bytes", started)
        if not chunked and not (declared.isdigit() and int(declared) > 0):
            return self._app(environ, start_response)
        stream = environ["wsgi.input"]
        chunks: list[bytes] = []
        size = 0
        try:
            with gevent.Timeout(self._deadline):
                while True:
                    chunk = stream.read(min(_CHUNK, self._max + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self._max:
                        return self._refuse(
                            start_response, 413, "too_large", f"payload over {self._max} bytes", started
                        )
        except gevent.Timeout:
            return self._refuse(
                start_response, 408, "timeout", f"request body not received within {self._deadline:g} s", started
            )
        environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
        environ["CONTENT_LENGTH"] = str(size)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True
        return self._app(environ, start_response)

    def _refuse(
        self, start_response: StartResponse, status: int, outcome: str, message: str, started: float
    ) -> Iterable[bytes]:
        if self._refused is not None:
            self._refused(outcome, time.perf_counter() - started)
        reason = {408: "Request Timeout", 413: "Content Too Large"}[status]
        body = b'{"error": "' + message.encode() + b'"}'
        start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _refused(outcome: str, seconds: float) -> None:
    from bot.core import logs, metrics

    metrics.observe("unverified", outcome, seconds)
    logs.throttled(log, f"refused:{outcome}", f"webhook refused: {outcome.replace('_', ' ')}")


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApplication:
        from bot.process.web import create_app

        app: Flask = create_app(self._settings)
        return BufferedBody(
            app,
            max_bytes=MAX_WEBHOOK_BYTES,
            deadline=self._settings.web_read_timeout_seconds,
            refused=_refused,
        )


def serve(settings: Settings, *, bind: str, workers: int, connections: int = DEFAULT_CONNECTIONS) -> int:
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "worker_connections": connections,
        # Headers must arrive within this many seconds (and idle kept-alive connections are closed after it).
        "keepalive": settings.web_header_timeout_seconds,
        "timeout": 30,
        "graceful_timeout": 10,
        "child_exit": _child_exit,
        # Webhook bodies reach 25 MB; gunicorn's header limits stay at their defaults.
        "limit_request_line": 8190,
        # gunicorn's control socket is one path per user ($HOME/.gunicorn): two depup web processes on a host would
        # take it from each other, and depup does not use it.
        "control_socket_disable": True,
    }
    _Gunicorn(settings, options).run()
    return 0
