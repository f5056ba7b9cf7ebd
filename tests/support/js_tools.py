"""The package managers the tests run (yarn, pnpm, bun at fixed versions), installed before the tests start.

The default test run uses no network, so ``scripts/test`` installs these once into ``.run/tools`` (from the
npm registry npm is configured with, like depup does on a worker) with ``python -m tests.support.js_tools``;
the tests then find them there through ``DEPUP_TOOLS_DIR``. A test needing one that is not installed is skipped
with the reason (the suite then says which tool could not be installed).

Fixture ``js_tool``: ``js_tool("pnpm9")`` -> ``bot.deps.npm.tools.Tool``. Fixture ``typescript_compiler``: the
TypeScript compiler ``bot.breaking`` reads declarations with (``bot.breaking.typescript``), installed there too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.deps.npm.locks import Manager
from bot.deps.npm.tools import TOOLS_ENV, Tool, Wanted, tool_for

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = ROOT / ".run" / "tools"

# name -> (manager, exact version)
TEST_TOOLS: dict[str, tuple[Manager, str]] = {
    "yarn1": ("yarn", "1.22.22"),
    "yarn4": ("yarn", "4.18.1"),
    "pnpm8": ("pnpm", "8.15.9"),
    "pnpm9": ("pnpm", "9.15.9"),
    "pnpm10": ("pnpm", "10.34.9"),
    "pnpm12": ("pnpm", "12.26.0"),  # a native binary (@pnpm/exe.<platform>), not pnpm.cjs
    "bun": ("bun", "1.3.5"),
    "npm10": ("npm", "10.9.9"),  # not the npm on PATH: packageManager / engines.npm pick it
}


def installed(name: str) -> Tool | str:
    """The installed test tool, or why it is not there (never installs: the tests run offline)."""
    manager, version = TEST_TOOLS[name]
    previous = os.environ.get(TOOLS_ENV)
    os.environ[TOOLS_ENV] = str(tools_dir())
    try:
        from bot.deps.npm import tools

        found = tools._installed(Wanted(manager, version, "tests"))
    finally:
        if previous is None:
            os.environ.pop(TOOLS_ENV, None)
        else:
            os.environ[TOOLS_ENV] = previous
    return found or f"{manager} {version} is not installed in {tools_dir()} (scripts/test installs it)"


def tools_dir() -> Path:
    return Path(os.environ.get("DEPUP_TEST_TOOLS_DIR", str(TOOLS_DIR)))


@pytest.fixture
def js_tool(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Tool]:
    """``js_tool(name)``: the installed test tool (``TEST_TOOLS``), with ``DEPUP_TOOLS_DIR`` pointing at it."""
    monkeypatch.setenv(TOOLS_ENV, str(tools_dir()))

    def get(name: str) -> Tool:
        tool = installed(name)
        if isinstance(tool, str):
            pytest.skip(tool)
        return tool

    return get


def typescript_installed() -> Path | str:
    """The installed compiler's ``typescript.js``, or why it is not there (never installs)."""
    from bot.breaking.typescript import TYPESCRIPT_VERSION

    compiler = (
        tools_dir() / f"typescript@{TYPESCRIPT_VERSION}" / "node_modules" / "typescript" / "lib" / "typescript.js"
    )
    if compiler.is_file():
        return compiler
    return f"typescript {TYPESCRIPT_VERSION} is not installed in {tools_dir()} (scripts/test installs it)"


@pytest.fixture
def typescript_compiler(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test tools' TypeScript compiler, with ``DEPUP_TOOLS_DIR`` pointing at it (skips when not installed)."""
    monkeypatch.setenv(TOOLS_ENV, str(tools_dir()))
    found = typescript_installed()
    if isinstance(found, str):
        pytest.skip(found)
    return found


def main() -> int:
    """Install every test tool that is missing; prints one line per tool."""
    os.environ[TOOLS_ENV] = str(tools_dir())
    from bot.deps.registry.urls import RegistryConfigError, npm_registry_base

    try:
        registry: str | None = npm_registry_base()
    except RegistryConfigError:
        registry = None
    failed = 0
    for name, (manager, version) in TEST_TOOLS.items():
        tool = tool_for(Wanted(manager, version, "the tests"), registry)
        if isinstance(tool, str):
            failed += 1
            print(f"depup: test tool {name} not installed: {tool}", file=sys.stderr)
    from bot.breaking.fetch import AnalysisError
    from bot.breaking.typescript import typescript_js

    try:
        typescript_js()
    except AnalysisError as exc:
        failed += 1
        print(f"depup: test tool typescript not installed: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
