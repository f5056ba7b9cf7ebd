"""Prints what every fuzz target ran (examples and time) at the end of a run."""

from __future__ import annotations

import pytest

from tests.fuzz.budget import REPORTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORTS:
        return
    terminalreporter.section("fuzz targets")
    width = max(len(r.target) for r in REPORTS)
    for report in REPORTS:
        terminalreporter.write_line(
            f"{report.target:<{width}}  {report.budget:<5}  {report.examples:>7} examples  {report.seconds:8.1f} s"
        )
