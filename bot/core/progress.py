"""A progress bar on the terminal (stderr), and nothing when stderr is not one."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a bar is shown: a run on no terminal never needs it
    from tqdm import tqdm


class Progress:
    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: tqdm[Any] | None = None
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        if sys.stderr.isatty() and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self._label, unit="pkg", file=sys.stderr, leave=False)

    def advance(self, count: int) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(count)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.close()
