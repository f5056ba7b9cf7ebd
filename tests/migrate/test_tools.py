"""Installing the rewriters' tools: what is installed is found by version range, and a tool that cannot be
installed is a reason, never an exception (the registries are dead local ports here: no network)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.deps.npm.tools import TOOLS_ENV
from bot.migrate import tools
from bot.migrate.rewriters import REWRITERS, Tool
from tests.support.js_tools import tools_dir


@pytest.fixture
def dead_registries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tools"
    monkeypatch.setenv(TOOLS_ENV, str(folder))
    monkeypatch.setenv("DEPUP_PYPI_URL", "http://127.0.0.1:9/pypi")
    monkeypatch.setenv("DEPUP_NPM_REGISTRY", "http://127.0.0.1:9/npm")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_NO_INDEX", "")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))  # nothing there
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    return folder


@pytest.mark.parametrize("source", ["pypi", "npm"])
def test_a_tool_that_cannot_be_installed_is_a_reason(dead_registries: Path, source: str) -> None:
    tool = Tool(source, "depup-no-such-rewriter", ">=1,<2" if source == "pypi" else ">=1 <2", "x")  # type: ignore[arg-type]
    started = time.monotonic()
    why = tools.installed_tool(tool)
    assert isinstance(why, str) and why.startswith("depup-no-such-rewriter ") and "could not be installed" in why
    assert "\n" not in why and ("No matching distribution" in why if source == "pypi" else "ECONNREFUSED" in why)
    assert time.monotonic() - started < 60
    assert not any(p.name.startswith("depup-no-such-rewriter@") for p in dead_registries.rglob("*"))
    assert "not installed" in str(tools.installed_tool(tool, install=False))


def test_the_installed_tools_are_found_by_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOOLS_ENV, str(tools_dir()))
    for rewriter in REWRITERS:
        found = tools.installed_tool(rewriter.tool, install=False)
        if isinstance(found, str):
            pytest.skip(f"{found} (scripts/test installs it)")
        assert found.tool == rewriter.tool and Path(found.argv[0]).exists()
    narrower = Tool("pypi", "ruff", "<0.1", "ruff")  # no installed ruff is that old
    assert isinstance(tools.installed_tool(narrower, install=False), str)
