"""CI results on depup pull requests: one sticky comment per PR, current after every report; and the
``depup/risk`` check run on the PR's head."""

from __future__ import annotations

from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup
from tests.test_e2e_upgrades import REPO, install, open_prs

BRANCH = "depup/npm/low-all"


def results_comments(fake: FakeGitHub, number: int) -> list[str]:
    return [c.body for c in fake.comments(REPO, number) if "<!-- depup:test-results -->" in c.body]


def test_green_red_pending_then_green_and_a_rerun_keep_one_comment_current(depup: Depup) -> None:
    fake = install(depup)
    number = open_prs(fake)[BRANCH]
    head = fake.branch_sha(REPO, BRANCH)
    assert head is not None

    lint = fake.create_check_run(REPO, head, name="lint", status="completed", conclusion="success")
    tests = fake.create_check_run(REPO, head, name="tests", status="in_progress")
    depup.run_worker()
    [comment] = results_comments(fake, number)
    assert f"### Test results for {head[:7]}" in comment
    assert "| lint | ✅ success |" in comment and "| tests | ⏳ in_progress |" in comment
    assert "**Verdict: pending.** Waiting for 1 check to finish." in comment

    fake.update_check_run(REPO, tests.id, status="completed", conclusion="failure")
    depup.run_worker()
    [comment] = results_comments(fake, number)
    assert "| tests | ❌ failure |" in comment
    assert "**Verdict: failing.**" in comment and "`/depup split`" in comment  # a group of two packages

    fake.set_status(REPO, head, context="ci/coverage", state="pending")
    rerun = fake.create_check_run(REPO, head, name="tests", status="completed", conclusion="success")
    depup.run_worker()
    [comment] = results_comments(fake, number)
    assert "| tests | ✅ success |" in comment and "| ci/coverage | ⏳ pending |" in comment
    assert "**Verdict: pending.**" in comment

    fake.set_status(REPO, head, context="ci/coverage", state="success")
    depup.run_worker()
    [comment] = results_comments(fake, number)
    assert "**Verdict: passing.** CI is green: a maintainer can merge it." in comment
    assert comment.count("| tests |") == 1  # the re-run replaced the failed run
    assert lint.id and rerun.id
    assert len(fake.comments(REPO, number)) == 1  # exactly one depup comment on the PR


def test_the_risk_check_run_carries_the_risk_table(depup: Depup) -> None:
    fake = install(depup)
    head = fake.branch_sha(REPO, BRANCH)
    [risk] = [c for c in fake.check_runs(REPO, head) if c.name == "depup/risk"]  # type: ignore[arg-type]
    assert risk.status == "completed" and risk.conclusion == "success"
    assert risk.output["title"].startswith("Risk ")
    assert "| Package | Change | Type | Role | Risk | Top reasons |" in risk.output["summary"]
    assert "`axios`" in risk.output["summary"] and "`lodash`" in risk.output["summary"]
