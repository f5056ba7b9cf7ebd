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


CULPRIT_REPO = "octo-org/bisect"
EIGHT = {
    "attrs": "20.3.0",
    "black": "22.3.0",
    "click": "7.0",
    "certifi": "2020.12.5",
    "idna": "2.10",
    "jinja2": "2.11.3",
    "markupsafe": "1.1.1",
    "packaging": "20.9",
}
CULPRIT = "jinja2"
GROUP_CONFIG = """\
min_release_age: 0
security: {audit: false}
max_open_prs: 10
risk: {high_at: 99}
core_packages: {python: ['!django', '!flask']}
groups:
  - {name: all, match: {}}
phases:
  - {name: all, title: Everything, match: {}}
"""


def ci(fake: FakeGitHub) -> None:
    """The repository's CI: red when the culprit's pin changed, green otherwise (as a status on each PR head)."""
    for pull in fake.pulls(CULPRIT_REPO):
        head = fake.branch_sha(CULPRIT_REPO, pull.head_ref)
        text = fake.read_text(CULPRIT_REPO, pull.head_ref, "requirements.txt") or ""
        broken = f"{CULPRIT}=={EIGHT[CULPRIT]}" not in text
        if not [s for s in fake.statuses(CULPRIT_REPO, head) if s.context == "ci/test"]:  # type: ignore[arg-type]
            fake.set_status(CULPRIT_REPO, head, context="ci/test", state="failure" if broken else "success")  # type: ignore[arg-type]


def test_a_failing_group_of_eight_is_bisected_to_its_culprit_and_the_other_seven_land(depup: Depup) -> None:
    fake = depup.fake
    original = "".join(f"{name}=={version}\n" for name, version in EIGHT.items())
    fake.create_repo(CULPRIT_REPO, files={"requirements.txt": original, ".github/depup.yml": GROUP_CONFIG})
    fake.create_installation(account="octo-org", repos=[CULPRIT_REPO])
    depup.run_worker()
    [first] = fake.pulls(CULPRIT_REPO)
    assert first.title == "Upgrade all (8 packages)"
    for _ in range(8):
        ci(fake)
        depup.run_worker()
        # A maintainer merges what passes.
        for pull in fake.pulls(CULPRIT_REPO):
            head = fake.branch_sha(CULPRIT_REPO, pull.head_ref)
            if [s for s in fake.statuses(CULPRIT_REPO, head) if s.state == "success"]:  # type: ignore[arg-type]
                fake.merge_pull(CULPRIT_REPO, pull.number)
        depup.run_worker()
        if not fake.pulls(CULPRIT_REPO):
            break
    split_notes = [
        c.body
        for p in fake.pulls(CULPRIT_REPO, state="closed")
        for c in fake.comments(CULPRIT_REPO, p.number)
        if "splits it in two" in c.body
    ]
    rounds = max(int(note.split("(round ")[1].split(")")[0]) for note in split_notes)
    print(f"\nculprit isolated after {rounds} split rounds ({len(split_notes)} splits)")
    assert fake.pulls(CULPRIT_REPO) == []
    assert rounds + 1 <= 4  # the first failure, then at most log2(8) split rounds
    main = fake.read_text(CULPRIT_REPO, "main", "requirements.txt") or ""
    assert f"{CULPRIT}=={EIGHT[CULPRIT]}" in main  # the culprit stays where it was
    upgraded = [name for name, version in EIGHT.items() if f"{name}=={version}" not in main]
    assert sorted(upgraded) == sorted(set(EIGHT) - {CULPRIT})  # the other seven landed
    culprit_note = [c.body for c in fake.comments(CULPRIT_REPO, first.number) if c.body.startswith("Culprit found")]
    assert len(culprit_note) == 1 and f"`{CULPRIT}`" in culprit_note[0]
    [dashboard] = [i for i in fake.issues(CULPRIT_REPO) if "depup-dashboard" in [label.name for label in i.labels]]
    assert f"breaks CI: isolated by splitting #{first.number}" in (dashboard.body or "")


def test_the_ci_verdict_joins_the_risk_shown_on_the_pr(depup: Depup) -> None:
    fake = install(depup)
    number = open_prs(fake)["depup/python/low-all"]
    head = fake.branch_sha(REPO, "depup/python/low-all")
    before = fake.pull(REPO, number).body
    fake.set_status(REPO, head, context="ci/test", state="success")  # type: ignore[arg-type]
    depup.run_worker()
    after = fake.pull(REPO, number).body
    assert "CI passed on this pull request (`ci_passed`)" in after and "ci_passed" not in before
    [risk] = [c for c in fake.check_runs(REPO, head) if c.name == "depup/risk"]  # type: ignore[arg-type]
    assert "CI passed on this pull request" in risk.output["summary"]
    fake.set_status(REPO, head, context="ci/lint", state="failure")  # type: ignore[arg-type]
    depup.run_worker()
    assert ", blocked: CI failed |" in fake.pull(REPO, number).body


def test_the_results_comment_repeats_the_security_findings_of_the_pr() -> None:
    from bot.lifecycle.results import CheckResult, Results, render

    findings = "- fixes `GHSA-x` in `a` 1.0\n- ⚠️ `a` 2.0 is still affected by `PYSEC-1`\n"
    body = f"intro\n\n### Security\n\n{findings}\n### Links\n\n- x\n"
    text = render(Results("0" * 40, (CheckResult("ci", "success", "success", "3s", None),)), body)
    assert f"#### Security\n\n{findings}" in text
    assert "#### Security" not in render(Results("0" * 40, ()), "no security here")


def test_automerge_waits_for_green_ci_on_the_head_then_merges(depup: Depup) -> None:
    fake = depup.fake
    config = GROUP_CONFIG.replace(
        "max_open_prs: 10", "max_open_prs: 10\nautomerge: {enabled: true, max_risk: high, method: squash}"
    )
    fake.create_repo(CULPRIT_REPO, files={"requirements.txt": "click==7.0\n", ".github/depup.yml": config})
    fake.create_installation(account="octo-org", repos=[CULPRIT_REPO])
    depup.run_worker()
    [pull] = fake.pulls(CULPRIT_REPO)
    head = fake.branch_sha(CULPRIT_REPO, pull.head_ref)
    fake.set_status(CULPRIT_REPO, head, context="ci/test", state="pending")  # type: ignore[arg-type]
    depup.run_worker()
    assert len(fake.pulls(CULPRIT_REPO)) == 1  # still open while CI is pending
    fake.set_status(CULPRIT_REPO, head, context="ci/test", state="success")  # type: ignore[arg-type]
    depup.run_worker()
    # Merged; the major that waited for it (same line of requirements.txt) is proposed next.
    assert [p.title for p in fake.pulls(CULPRIT_REPO)] == ["Upgrade click from 7.1.2 to 8.5.1"]
    merged = fake.pull(CULPRIT_REPO, pull.number)
    assert merged.merged and "click==7.0" not in (fake.read_text(CULPRIT_REPO, "main", "requirements.txt") or "")
