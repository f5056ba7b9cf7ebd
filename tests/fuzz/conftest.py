"""Prints what every fuzz target ran (examples and time) at the end of a run, also from xdist's workers: each
test hands its reports to pytest as user properties, which reach the controlling process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

import pytest

from tests.fuzz.budget import REPORTS, Report

_COLLECTED: list[Report] = []


@pytest.fixture(autouse=True)
def _hand_over_reports(request: pytest.FixtureRequest) -> Iterator[None]:
    first = len(REPORTS)
    yield
    request.node.user_properties.extend(("fuzz", asdict(report)) for report in REPORTS[first:])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _COLLECTED.extend(
        Report(**value) for name, value in report.user_properties if name == "fuzz" and isinstance(value, dict)
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _COLLECTED:
        return
    terminalreporter.section("fuzz targets")
    width = max(len(r.target) for r in _COLLECTED)
    for report in sorted(_COLLECTED, key=lambda r: (r.budget, r.target)):
        terminalreporter.write_line(
            f"{report.target:<{width}}  {report.budget:<5}  {report.examples:>7} examples  {report.seconds:8.1f} s"
        )
