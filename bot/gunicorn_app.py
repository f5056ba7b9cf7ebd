"""Runs the web app under gunicorn from Python, so ``depup web`` checks settings before serving."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from bot.settings import Settings


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from bot.web import create_app

        return create_app(self._settings)


def serve(settings: Settings, *, bind: str, workers: int, threads: int) -> int:
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 30,
        "graceful_timeout": 10,
        "child_exit": _child_exit,
        # Webhook bodies reach 25 MB; gunicorn's header limits stay at their defaults.
        "limit_request_line": 8190,
    }
    _Gunicorn(settings, options).run()
    return 0
