"""The default risk weights on the labelled set of real upgrades (tests/fixtures/breaking/labelled.json), from the
facts ``bench/breaking_calibration.py --record`` computed live (tests/fixtures/breaking/facts.json): "high" must
be right at least 4 times in 5, and every breaking upgrade must be rated high."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from bench.breaking_calibration import APPS, FACTS, assessed, facts_from_json, facts_json, figures, load_cases

CASES = load_cases()
STORED = json.loads(FACTS.read_text())


def test_the_labelled_set_is_real_upgrades_across_both_ecosystems() -> None:
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)
    for ecosystem in ("python", "npm"):
        mine = [c for c in CASES if c["ecosystem"] == ecosystem]
        assert {c["label"] for c in mine} == {"breaking", "clean"}, ecosystem
        assert len(mine) >= 15, ecosystem
    for case in CASES:
        assert case["label"] in ("breaking", "clean") and case["role"] in ("runtime", "dev"), case["id"]
        assert urlparse(case["evidence"]["url"]).scheme == "https" and case["evidence"]["quote"], case["id"]
        code = [p for p in (APPS / case["id"]).rglob("*") if p.is_file()]
        assert code, f"{case['id']} has no app"
        assert sum(len(p.read_text().splitlines()) for p in code) <= 60, f"{case['id']}: keep the app small"


def test_every_case_has_facts_recorded_for_its_upgrade() -> None:
    rows = {row["id"]: row["facts"] for row in STORED["cases"]}
    assert set(rows) == {c["id"] for c in CASES}
    for case in CASES:
        facts = facts_from_json(rows[case["id"]])
        assert (facts.ecosystem, facts.current, facts.target, facts.role) == (
            case["ecosystem"],
            case["from"],
            case["to"],
            case["role"],
        )
        assert json.loads(json.dumps(facts_json(facts))) == rows[case["id"]]  # the stored facts read back whole


@pytest.mark.parametrize("scope", ["python", "npm", "overall"])
def test_high_is_precise_and_no_breaking_upgrade_is_missed(scope: str) -> None:
    rows = assessed(CASES, STORED)
    found = figures(rows)[scope]
    missed = [c["id"] for c, risk in rows if c["label"] == "breaking" and risk.level != "high"]
    wrong = [c["id"] for c, risk in rows if c["label"] == "clean" and risk.level == "high"]
    assert found.recall == 1.0, f"breaking upgrades not rated high: {missed}"
    assert found.precision >= 0.8, f"clean upgrades rated high: {wrong}"


def test_every_breaking_upgrade_is_high_from_the_code_that_breaks() -> None:
    """Recall from evidence, not from weights that happen to add up: each breaking case's own uses of what changed
    are found (the api_uses factor), and no clean case's code is said to use a removed or changed name."""
    rows = assessed(CASES, STORED)
    by_uses = {c["id"]: any(f.id == "api_uses" and f.weight > 0 for f in risk.factors) for c, risk in rows}
    assert [i for c, _ in rows if c["label"] == "breaking" and not by_uses[i := c["id"]]] == []
    assert [i for c, _ in rows if c["label"] == "clean" and by_uses[i := c["id"]]] == []
