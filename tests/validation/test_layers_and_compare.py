"""Test layers from check names, and head-against-base comparison with a noise band."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import ValidationInputError
from bot.validation import artifacts
from bot.validation.benchmarks import Measurement
from bot.validation.compare import compare_benchmarks
from bot.validation.layers import DEFAULT_PATTERNS, Check, layer_of, layers, patterns_with

# Job names of real workflows: pytest's, Django's, Next.js', FastAPI's, CodeQL's default setup, CodSpeed's action.
NAMES = {
    "test (3.12, ubuntu-latest)": "unit",
    "tests / pytest (macos-latest, 3.11)": "unit",
    "Unit tests": "unit",
    "jest": "unit",
    "ci/circleci: test": "unit",
    "Integration tests": "integration",
    "Run IT tests (postgres)": "integration",
    "test-integration": "integration",
    "e2e (chromium)": "e2e",
    "Playwright Tests": "e2e",
    "cypress-run": "e2e",
    "test end-to-end": "e2e",
    "Benchmarks": "performance",
    "CodSpeed Performance Analysis": "performance",
    "codspeed-benchmarks": "performance",
    "Analyze (python)": "security",
    "CodeQL": "security",
    "pip-audit": "security",
    "security/snyk (octo-org)": "security",
    "lint": "other",
    "build (20.x)": "other",
    "codecov/patch": "other",
    "commit-message": "other",  # "it" is a word pattern: it does not match inside "commit"
}


@pytest.mark.parametrize(("name", "layer"), NAMES.items())
def test_common_ci_names_fall_in_their_layer(name: str, layer: str) -> None:
    assert layer_of(name, DEFAULT_PATTERNS) == layer


def test_configured_patterns_replace_a_layers_builtin_ones() -> None:
    patterns = patterns_with({"integration": ["contract-*"]})
    assert layer_of("contract-payments", patterns) == "integration"
    assert layer_of("Integration tests", patterns) == "unit"  # "integration" is no longer an integration word


def test_verdicts_and_durations_of_layers() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    checks = [
        Check("test (3.11)", "success", t, t + timedelta(seconds=70)),
        Check("test (3.12)", "success", t + timedelta(seconds=5), t + timedelta(seconds=95)),
        Check("e2e", "failure", t, t + timedelta(minutes=3)),
        Check("perf", "pending", t, None),
        Check("lint", "success"),
    ]
    by_name = {layer.name: layer for layer in layers(checks, DEFAULT_PATTERNS)}
    assert [*by_name] == ["unit", "integration", "e2e", "performance", "security", "other"]
    assert (by_name["unit"].verdict, by_name["unit"].duration) == ("passing", "1m 35s")
    assert (by_name["e2e"].verdict, by_name["e2e"].duration) == ("failing", "3m 00s")
    assert (by_name["performance"].verdict, by_name["performance"].duration) == ("pending", "")
    assert by_name["integration"].verdict == "missing" and by_name["integration"].checks == ()
    assert by_name["other"].checks == ("lint",)


def m(name: str, value: float, spread: float | None = None, bigger: bool = False) -> Measurement:
    return Measurement(name, value, "s", spread, bigger)


def test_a_30_percent_regression_beyond_the_band_blocks_and_an_improvement_is_reported() -> None:
    base = {
        "slow": m("slow", 1.0, 0.02),
        "fast": m("fast", 1.0),
        "same": m("same", 1.0),
        "tput": m("tput", 100, bigger=True),
    }
    head = {
        "slow": m("slow", 1.3, 0.02),
        "fast": m("fast", 0.7),
        "same": m("same", 1.05),
        "tput": m("tput", 60, bigger=True),
    }
    changes = {c.name: c for c in compare_benchmarks(base, head, noise=0.10, max_regression=0.20)}
    slow = changes["slow"]
    assert (slow.verdict, slow.blocking, round(slow.worse, 2), slow.band, slow.band_from) == (
        "regression",
        True,
        0.3,
        0.10,
        "configured",  # 2*sqrt(2)*2% = 5.7%: the configured 10% is the floor
    )
    assert (changes["fast"].verdict, changes["fast"].blocking) == ("improvement", False)
    assert changes["same"].verdict == "noise"
    assert (changes["tput"].verdict, changes["tput"].blocking) == ("regression", True)  # less throughput is worse


def test_a_noisy_benchmark_gets_the_band_of_its_repeated_runs() -> None:
    base, head = {"x": m("x", 1.0, 0.15)}, {"x": m("x", 1.3, 0.15)}
    [change] = compare_benchmarks(base, head, noise=0.10, max_regression=0.20)
    assert change.band_from == "spread" and change.band == pytest.approx(2 * (2 * 0.15**2) ** 0.5)
    assert change.verdict == "noise" and not change.blocking  # 30% is inside a ±42% band


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_artifact_zip_is_read_for_known_names_only_and_within_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    content = artifacts.read_zip(
        "reports",
        zipped({
            "reports/coverage.xml": b'<coverage lines-valid="10" lines-covered="7"/>',
            "bench/output.json": b'[{"name": "a", "unit": "ms", "value": 3}]',
            "script.sh": b"rm -rf /",
            "notes.json": b'{"hello": 1}',
        }),
    )  # fmt: skip
    assert [c.percent for c in content.coverage] == [70.0]
    assert [(b.name, b.value) for b in content.benchmarks] == [("a", 3.0)] and content.formats == ("benchmark-action",)
    monkeypatch.setattr(artifacts, "MAX_MEMBER_BYTES", 1000)
    bomb = artifacts.read_zip("bomb", zipped({"coverage.xml": b"<coverage " + b" " * 50_000 + b"/>"}))
    assert bomb.coverage == () and "over the" in bomb.notes[0]
    with pytest.raises(ValidationInputError, match="not a zip"):
        artifacts.read_zip("broken", b"PK\x03\x04 not really")
