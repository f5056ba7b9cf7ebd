"""Code migrations end to end: a scan through the fake GitHub opens a NumPy 1 -> 2 upgrade PR whose second
commit holds ruff's NumPy 2 fixes (the real tool, installed by scripts/test), a rescan pushes nothing, a failing
rewriter or ``migrations: {enabled: false}`` leaves the single upgrade commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.lifecycle.requests import request_scan
from bot.migrate import rewriters as rw
from bot.migrate.rewriters import Invocation, Rewriter, Upgrade
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup

REPO = "octo-org/lab"
APP = Path(__file__).resolve().parent / "fixtures" / "migrate" / "numpy1"
CONFIG = """\
min_release_age: 0
security: {audit: false}
risk: {high_at: 99}
phases:
  - name: all
    title: Everything
    match: {}
"""


def files(config: str = CONFIG) -> dict[str, str]:
    return {
        "requirements.txt": "numpy==1.26.4\n",
        "stats/__init__.py": "",
        "stats/summary.py": (APP / "stats" / "summary.py").read_text(),
        "test_summary.py": (APP / "test_summary.py").read_text(),
        ".github/depup.yml": config,
    }


def install(depup: Depup, config: str = CONFIG) -> FakeGitHub:
    fake = depup.fake
    fake.create_repo(REPO, files=files(config))
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    return fake


def chain(fake: FakeGitHub, branch: str) -> list[tuple[str, str]]:
    """(sha, first message line) of the branch's commits after main, oldest first."""
    store = fake.repo(REPO).store
    main = fake.branch_sha(REPO, "main")
    sha = fake.branch_sha(REPO, branch)
    found = []
    while sha != main:
        commit = store.commit(sha)  # type: ignore[arg-type]
        found.append((str(sha), commit.message.splitlines()[0]))
        assert len(commit.parents) == 1
        sha = commit.parents[0]
    return found[::-1]


def test_the_upgrade_pr_has_a_second_commit_with_the_migration_and_a_rescan_pushes_nothing(
    depup: Depup, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("ruff-numpy2")
    fake = install(depup)
    [pull] = fake.pulls(REPO)
    assert pull.title == "Upgrade numpy from 1.26.4 to 2.5.5"
    commits = chain(fake, pull.head_ref)
    assert [message for _, message in commits] == [
        "Upgrade numpy from 1.26.4 to 2.5.5",
        "Migrate code for numpy 2.5 (ruff-numpy2): 1 file",
    ]
    store = fake.repo(REPO).store
    upgrade_sha, migration_sha = (sha for sha, _ in commits)
    assert store.commit(migration_sha).author.name == "depup[bot]"  # type: ignore[arg-type]
    migrated = fake.read_text(REPO, pull.head_ref, "stats/summary.py") or ""
    assert "np.float64(np.sum(values))" in migrated and "np.nan" in migrated and "np.NaN" not in migrated
    assert fake.read_text(REPO, pull.head_ref, "requirements.txt") == "numpy==2.5.5\n"
    assert fake.read_text(REPO, upgrade_sha, "stats/summary.py") == files()["stats/summary.py"]
    body = pull.body or ""
    assert "### Code migrations" in body
    assert "**ruff-numpy2: 1 file** (ruff 0." in body and "`stats/summary.py`: +" in body
    assert "left for a person (1)" in body and "NPY201 `np.in1d`" in body
    assert body.index("### Code migrations") < body.index("<!-- depup:meta")

    fake.reset_calls()
    assert request_scan(depup.rt.queue, depup.settings, REPO, "test")
    depup.run_worker()
    assert fake.writes() == []
    assert chain(fake, pull.head_ref) == commits


def test_a_failing_rewriter_leaves_the_single_upgrade_commit_and_says_so(
    depup: Depup, rewriter: Callable[[str], Rewriter], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = rewriter("ruff-numpy2")

    def fails(upgrade: Upgrade, run: Invocation) -> tuple[tuple[str, ...], ...]:
        return (("check", "--select", "NOPE999", "."),)

    monkeypatch.setattr(rw, "REWRITERS", (replace(real, steps=fails),))
    fake = install(depup)
    [pull] = fake.pulls(REPO)
    assert [m for _, m in chain(fake, pull.head_ref)] == ["Upgrade numpy from 1.26.4 to 2.5.5"]
    assert fake.read_text(REPO, pull.head_ref, "stats/summary.py") == files()["stats/summary.py"]
    body = pull.body or ""
    assert "Rewriters that applied and made no migration" in body and "failed (exit status 2)" in body


def test_migrations_disabled_in_the_config_leave_one_commit(depup: Depup, rewriter: Callable[[str], Rewriter]) -> None:
    rewriter("ruff-numpy2")
    fake = install(depup, CONFIG + "migrations: {enabled: false}\n")
    [pull] = fake.pulls(REPO)
    assert [m for _, m in chain(fake, pull.head_ref)] == ["Upgrade numpy from 1.26.4 to 2.5.5"]
    assert "Code migrations" not in (pull.body or "")
