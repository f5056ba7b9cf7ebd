"""Fuzzing the readers of CI outputs (bot/validation): random edits of the real coverage reports, benchmark
results and CodSpeed report in tests/fixtures/validation, random JSON, and random zips.

Property: each reader returns its value (or None) or raises ``ValidationInputError``, never anything else, in
bounded time; a percentage read is finite; ``read_zip`` never raises anything but ``ValidationInputError``.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from contextlib import suppress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import ValidationInputError
from bot.validation import artifacts, benchmarks, coverage
from tests.fuzz.budget import Budget, bounded, budgets
from tests.fuzz.mutate import json_values, mutated_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "validation"
BASES = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.iterdir()) if p.name != "NOTICE"]
TOKENS = ['"', "{", "}", "[", "]", ",", ":", "NaN", "1e309", "-0", "null", "<", ">", "<!ENTITY a 'b'>", "&a;",
          "LF:", "LH:", "end_of_record\n", "|", "`", " ms", " µs", "%", "(", ")", "\x00", "\ufeff"]  # fmt: skip
texts = st.one_of(st.text(max_size=300), mutated_text(BASES, TOKENS), json_values().map(json.dumps))


def _read_all(text: str) -> None:
    for kind in ("cobertura", "lcov", "istanbul-summary", "istanbul-final"):
        try:
            found = coverage.parse(kind, text, "x")
        except ValidationInputError:
            continue
        assert math.isfinite(found.percent)
    for service in (coverage.codecov, coverage.coveralls):
        found_service = service(text, "x")
        assert found_service is None or math.isfinite(found_service.percent)
    try:
        benchmarks.detect(text, "x")
        benchmarks.codspeed(text, "x")
    except ValidationInputError:
        pass


@pytest.mark.parametrize("budget", budgets(quick=60))
def test_readers_on_mutated_real_files(budget: Budget) -> None:
    @budget.settings()
    @given(texts)
    def check(text: str) -> None:
        budget.count()
        bounded(lambda: _read_all(text))

    budget.run("CI output readers: mutated real files", check)


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_read_zip_on_random_archives(budget: Budget) -> None:
    names = st.sampled_from(["coverage.xml", "lcov.info", "a/coverage-summary.json", "out.json", "x.bin", "../b.json"])

    @budget.settings()
    @given(st.lists(st.tuples(names, texts), max_size=4, unique_by=lambda member: member[0]), st.binary(max_size=64))
    def check(members: list[tuple[str, str]], junk: bytes) -> None:
        budget.count()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, text in members:
                archive.writestr(name, text)
        for data in (buffer.getvalue(), junk, buffer.getvalue()[: len(buffer.getvalue()) // 2]):
            with suppress(ValidationInputError):
                bounded(lambda data=data: artifacts.read_zip("fuzz", data))  # type: ignore[misc]

    budget.run("CI output readers: random zips", check)
