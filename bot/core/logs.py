"""Structured logging: one JSON object per line, with the delivery/job context on every line.

Call sites log fixed messages with structured fields (``log.info("delivery accepted", extra={...})``);
``bind()`` adds fields (delivery id, installation, repo, job id) to every line logged in its scope.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("depup_log_context", default=None)

# Values that must never reach a log line verbatim, whatever field carries them.
_SECRET_KEYS = frozenset({"authorization", "token", "private_key", "webhook_secret", "secret", "password"})


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        for key in _SECRET_KEYS:
            if hasattr(record, key):
                setattr(record, key, "[redacted]")
        return True


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every log line emitted inside the ``with`` block (and in code it calls)."""
    merged = {**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def remove_handlers() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_depup", False):
            root.removeHandler(handler)


def configure(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Install the depup handler on the root logger (idempotent)."""
    remove_handlers()
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._depup = True  # type: ignore[attr-defined]
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO; keep it at WARNING so logs stay about depup's decisions.
    logging.getLogger("httpx").setLevel(logging.WARNING)


THROTTLE_SECONDS = 10.0


class _Throttle:
    """Per-process state of ``throttled``: when each key last wrote a line, and how many it held back since."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def admit(self, key: str, every: float, now: float) -> int | None:
        """None when this occurrence stays unlogged; else how many were held back before it."""
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < every:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            self._last[key] = now
            return self._held.pop(key, 0)


_throttle = _Throttle()


def throttled(
    logger: logging.Logger,
    key: str,
    message: str,
    *,
    level: int = logging.WARNING,
    every: float = THROTTLE_SECONDS,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Log ``message`` at most once every ``every`` seconds per ``key`` in this process; the line that is written
    carries ``suppressed``: how many occurrences since the previous line were not logged (the metrics count them
    all). Whether a line was written."""
    held = _throttle.admit(key, every, time.monotonic())
    if held is None:
        return False
    logger.log(level, message, extra={**(extra or {}), "suppressed": held})
    return True
