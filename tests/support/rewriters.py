"""The code rewriters' tools (django-upgrade, bump-pydantic, ruff from PyPI; jscodeshift from npm), installed
before the tests start, the way depup installs them on a worker (``bot.migrate.tools``).

The default test run uses no network, so ``scripts/test`` installs them once into the test tools folder with
``python -m tests.support.rewriters``; the tests then find them there through ``DEPUP_TOOLS_DIR``. A test
needing one that is not installed is skipped with the reason.

Fixture ``rewriter``: ``rewriter("django-upgrade")`` -> the ``Rewriter``, its tool installed (else a skip).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import pytest

from bot.deps.npm.tools import TOOLS_ENV
from bot.migrate.rewriters import REWRITERS, Rewriter, by_name
from bot.migrate.tools import installed_tool
from tests.support.js_tools import tools_dir


@pytest.fixture
def rewriter(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Rewriter]:
    """``rewriter(name)``: the allow-listed rewriter, with ``DEPUP_TOOLS_DIR`` at the test tools folder."""
    monkeypatch.setenv(TOOLS_ENV, str(tools_dir()))

    def get(name: str) -> Rewriter:
        found = by_name(name)
        tool = installed_tool(found.tool, install=False)
        if isinstance(tool, str):
            pytest.skip(f"{tool} (scripts/test installs it)")
        return found

    return get


def main() -> int:
    """Install every rewriter tool that is missing; one line per tool installed or not."""
    os.environ[TOOLS_ENV] = str(tools_dir())
    failed = 0
    for tool in dict.fromkeys(r.tool for r in REWRITERS):
        if not isinstance(installed_tool(tool, install=False), str):
            continue
        started = time.monotonic()
        done = installed_tool(tool)
        if isinstance(done, str):
            failed += 1
            print(f"depup: rewriter tool {tool.package} not installed: {done}", file=sys.stderr)
        else:
            print(f"depup: installed {done.label} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
