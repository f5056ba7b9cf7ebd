"""How many examples a fuzz test runs, from one place, and what each run did.

Every fuzz test is parametrized with ``BUDGETS``: ``quick`` (a few dozen examples, in the default suite) and
``fuzz`` (marked ``fuzz``, deselected by default; ``DEPUP_FUZZ_EXAMPLES`` examples, 10,000 unless set)::

    @pytest.mark.parametrize("budget", budgets(quick=50))
    def test_anything(budget: Budget) -> None:
        @budget.settings()
        @given(st.text())
        def check(text: str) -> None:
            budget.count()
            ...

        budget.run("parser: random text", check)

Run the marked ones with ``pytest tests/fuzz -m fuzz``; ``tests/fuzz/conftest.py`` prints, per target, the
examples run and the time taken.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings

T = TypeVar("T")
EXAMPLES_VARIABLE = "DEPUP_FUZZ_EXAMPLES"
DEFAULT_FUZZ_EXAMPLES = 10_000
FUZZ_TIMEOUT_SECONDS = 3 * 3600  # pytest-timeout for a marked run (the default suite's 120 s is for quick tests)
HANG_SECONDS = 20.0


def bounded(call: Callable[[], T], seconds: float = HANG_SECONDS) -> T:
    """``call()``, failing when it takes longer than ``seconds``: a guard against hangs and complexity blow-ups,
    never a speed measurement (``bench/`` measures speed). What is given to it takes the code well under a second
    here, and the inputs of the regression tests took the code before its fix a minute or more, so the limit
    holds on a loaded machine and still catches the old behaviour."""
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s (limit {seconds:g} s)"
    return result


def fuzz_examples() -> int:
    value = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    return int(value) if value else DEFAULT_FUZZ_EXAMPLES


@dataclass(frozen=True)
class Report:
    target: str
    budget: str
    examples: int  # calls of the property (hypothesis's examples, shrinking included when something failed)
    seconds: float


REPORTS: list[Report] = []  # filled by Budget.run, printed by conftest's terminal summary


@dataclass
class Budget:
    name: str  # "quick" or "fuzz"
    examples: int
    calls: int = field(default=0, init=False)

    def settings(self, **overrides: Any) -> settings:
        options: dict[str, Any] = {
            "max_examples": self.examples,
            "deadline": None,  # each target asserts its own time limits; machine load must not fail a run
            "suppress_health_check": list(HealthCheck),
            "print_blob": True,
        }
        options.update(overrides)
        return settings(**options)

    def count(self) -> None:
        self.calls += 1

    def run(self, target: str, check: Callable[[], None]) -> None:
        """Run the hypothesis test ``check`` and record how many examples it ran and how long it took."""
        self.calls = 0
        started = time.perf_counter()
        try:
            check()
        finally:
            REPORTS.append(Report(target, self.name, self.calls, time.perf_counter() - started))


def budgets(quick: int) -> list[Any]:
    """The two parametrizations of a fuzz test: ``quick`` (default suite) and ``fuzz`` (marked)."""
    return [
        pytest.param(Budget("quick", quick), id="quick"),
        pytest.param(
            Budget("fuzz", fuzz_examples()),
            id="fuzz",
            marks=[pytest.mark.fuzz, pytest.mark.timeout(FUZZ_TIMEOUT_SECONDS)],
        ),
    ]
