"""The coverage and benchmark readers on real files from real projects' CI (tests/fixtures/validation/NOTICE)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import ValidationInputError
from bot.validation import benchmarks, coverage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "validation"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_cobertura_from_coverage_py() -> None:
    found = coverage.cobertura(text("coverage.py-y_xml_branch.xml"), "coverage.xml")
    assert found == coverage.Coverage(80.0, "lines", "coverage.xml")  # lines-covered 4 of lines-valid 5


def test_cobertura_refuses_entities_and_other_xml() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa">]><coverage line-rate="1">&a;</coverage>'
    with pytest.raises(ValidationInputError, match="entity"):
        coverage.cobertura(bomb, "coverage.xml")
    with pytest.raises(ValidationInputError, match="<report>"):
        coverage.cobertura("<report/>", "coverage.xml")
    assert coverage.cobertura('<coverage line-rate="0.9533"/>', "x").percent == pytest.approx(95.33)


def test_lcov_from_istanbul() -> None:
    assert coverage.lcov(text("istanbul-lcov.info"), "lcov.info").percent == 100.0  # LH 10 of LF 10
    partial = text("istanbul-lcov.info").replace("LH:10", "LH:7")
    assert coverage.lcov(partial, "lcov.info").percent == pytest.approx(70.0)
    with pytest.raises(ValidationInputError):
        coverage.lcov("TN:\nSF:x\nend_of_record\n", "lcov.info")


def test_istanbul_summary_and_final() -> None:
    summary = coverage.istanbul_summary(text("istanbul-coverage-summary.json"), "coverage-summary.json")
    assert summary.percent == 100.0 and summary.metric == "lines"
    final = coverage.istanbul_final(text("istanbul-coverage-final.json"), "coverage-final.json")
    assert round(final.percent, 2) == 98.04 and final.metric == "statements"  # istanbul's text report: 98.03 (floor)


@pytest.mark.parametrize(
    ("reader", "description", "expected"),
    [
        (coverage.codecov, "86.36% (+0.12%) compared to 8a8f5f1", (86.36, 0.12)),
        (coverage.codecov, "75.00% (-3.00%) compared to 1a2b3c4", (75.0, -3.0)),
        (coverage.codecov, "Absolute coverage decreased by -3.00% but relative coverage ...", None),
        (coverage.coveralls, "Coverage increased (+0.1%) to 95.432%", (95.432, 0.1)),
        (coverage.coveralls, "Coverage decreased (-2.5%) to 80.0%", (80.0, -2.5)),
        (coverage.coveralls, "Coverage remained the same at 98.4%", (98.4, None)),
        (coverage.coveralls, "First build on main at 92.123%", (92.123, None)),
    ],
)
def test_coverage_services(reader, description: str, expected) -> None:  # type: ignore[no-untyped-def]
    found = reader(description, "status")
    assert (None if found is None else (found.percent, found.delta)) == expected


def test_service_names() -> None:
    assert coverage.service_reader("codecov/project") == "codecov"
    assert coverage.service_reader("codecov/project/backend") == "codecov"
    assert coverage.service_reader("codecov/patch") is None
    assert coverage.service_reader("coverage/coveralls") == "coveralls"


def test_pytest_benchmark_takes_the_median_and_the_iqr() -> None:
    found = benchmarks.detect(text("pytest-benchmark.json"), "out.json")
    assert found is not None and found.format == "pytest-benchmark"
    by_name = {m.name: m for m in found.measurements}
    fib10 = by_name["bench.py::test_fib_10"]
    assert fib10.value == pytest.approx(2.2300000000363696e-05) and fib10.unit == "s"
    assert fib10.spread == pytest.approx(1.2670000003600634e-06 / 1.349)
    assert not fib10.bigger_is_better and set(by_name) == {"bench.py::test_fib_10", "bench.py::test_fib_20"}


def test_asv_format_1_and_2() -> None:
    one = benchmarks.detect(text("asv-v1-05d283b9.json"), "asv")
    assert one is not None and one.format == "asv"
    by_name = {m.name: m for m in one.measurements}
    assert by_name["time_coordinates.time_latitude"].value == pytest.approx(6.59472942352295e-05)
    assert by_name["time_units.mem_unit"].unit == "bytes" and len(by_name) == 12
    failed = benchmarks.detect(text("asv-v1-fcf8c079.json"), "asv")  # null and NaN results are left out
    assert failed is not None and "time_AAA_failure" not in {m.name for m in failed.measurements}
    two = benchmarks.detect(text("asv-v2-nwb.json"), "asv")
    assert two is not None
    remfile = {m.name: m for m in two.measurements}["time_remote_slicing.RemfileContinuousSliceBenchmark.time_slice"]
    assert remfile.value == pytest.approx(0.5849523999495432)
    assert remfile.spread == pytest.approx((0.58626 - 0.58225) / 1.349)


def test_benchmark_action_formats() -> None:
    smaller = benchmarks.detect(text("benchmark-action-smaller.json"), "output.json")
    assert smaller is not None and smaller.format == "benchmark-action"
    first = smaller.measurements[0]
    assert (first.name, first.value, first.unit, first.spread, first.bigger_is_better) == (
        "No instrumentation",
        90.9439,
        "ns",
        0.519165,
        False,
    )
    bigger = benchmarks.detect(text("benchmark-action-bigger.json"), "output.json")
    assert bigger is not None
    throughput, memory = bigger.measurements
    assert throughput.bigger_is_better and throughput.unit == "req/s" and throughput.spread is None
    assert memory.spread == 3.0 and not memory.bigger_is_better


def test_bencher_metric_format() -> None:
    found = benchmarks.detect(text("bencher-bmf-latency.json"), "bmf.json")
    assert found is not None and found.format == "bmf"
    assert [(m.name, m.value) for m in found.measurements] == [
        ("tests::benchmark_a · latency", 3247.0),
        ("tests::benchmark_b · latency", 3443.0),
        ("tests::benchmark_c · latency", 3361.0),
    ]
    assert all(m.spread is None for m in found.measurements)  # its bounds do not contain the value


def test_codspeed_report() -> None:
    rows = benchmarks.codspeed(text("codspeed-report-lynx-stack-1732.md"), "CodSpeed")
    assert [(r.name, r.base, r.head) for r in rows] == [
        ("004-various-update__main-thread-setAttribute__Dataset", pytest.approx(33.3e-6), pytest.approx(37.4e-6)),
        ("transform 1000 effects", pytest.approx(30.4e-3), pytest.approx(32.5e-3)),
        ("basic-performance-small-css", pytest.approx(7.2e-3), pytest.approx(6.7e-3)),
    ]


def test_other_json_is_not_benchmarks() -> None:
    assert benchmarks.detect(text("istanbul-coverage-final.json"), "x") is None
    assert benchmarks.detect(json.dumps({"name": "package", "version": "1.0.0"}), "package.json") is None
    assert benchmarks.detect("not json", "x") is None
