"""Raising the Python floor end to end: a project with ``requires-python = ">=3.8"`` pins numpy 1.24.4, whose
newer releases (recorded registry answers) all need Python 3.9 or later. With ``runtime.python_floor: raise``
a scan through the fake GitHub opens a pull request of its own raising requires-python to the Python the
project runs (``.python-version``: 3.10), whose second commit is ruff's pyupgrade fixes for Python 3.10 (the real
tool, installed by scripts/test); with the default ``keep`` no pull request opens and the plan says which floor
would allow what."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.lifecycle.requests import request_scan
from bot.migrate.rewriters import Rewriter
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup
from tests.test_e2e_migrations import chain

REPO = "octo-org/lab"
APP = Path(__file__).resolve().parent / "fixtures" / "migrate" / "py38"
PYPROJECT = """\
[project]
name = "lab"
version = "0.1.0"
# the oldest Python we promise
requires-python = ">=3.8"
dependencies = [
    "numpy==1.24.4",
]
"""
CONFIG = """\
min_release_age: 0
security: {audit: false}
phases:
  - name: all
    title: Everything
    match: {}
"""


def files(config: str) -> dict[str, str]:
    return {
        "pyproject.toml": PYPROJECT,
        ".python-version": "3.10\n",
        "geo/__init__.py": "",
        "geo/shapes.py": (APP / "geo" / "shapes.py").read_text(),
        "test_shapes.py": (APP / "test_shapes.py").read_text(),
        ".github/depup.yml": config,
    }


def install(depup: Depup, config: str) -> FakeGitHub:
    fake = depup.fake
    fake.create_repo(REPO, files=files(config))
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    return fake


def test_raise_opens_a_floor_pr_whose_second_commit_is_ruffs_pyupgrade_fixes(
    depup: Depup, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("ruff-pyupgrade")
    fake = install(depup, CONFIG + "runtime: {python_floor: raise}\n")
    [pull] = fake.pulls(REPO)
    assert pull.title == "Raise requires-python from >=3.8 to >=3.10"
    assert pull.head_ref == "depup/python/requires-python"
    commits = chain(fake, pull.head_ref)
    assert [message for _, message in commits] == [
        "Raise requires-python from >=3.8 to >=3.10",
        "Migrate code for python 3.10 (ruff-pyupgrade): 1 file",
    ]
    upgrade_sha, _ = (sha for sha, _ in commits)
    # the upgrade commit edits the one specifier, every other byte of the file as it was
    assert fake.read_text(REPO, upgrade_sha, "pyproject.toml") == PYPROJECT.replace('">=3.8"', '">=3.10"')
    assert fake.read_text(REPO, upgrade_sha, "geo/shapes.py") == files("")["geo/shapes.py"]
    migrated = fake.read_text(REPO, pull.head_ref, "geo/shapes.py") or ""
    assert "points: list[tuple[float, float]], name: str | None = None" in migrated
    assert "-> dict[str, str]" in migrated and "class Polygon:" in migrated
    assert 'f"{self.area():.2f}"' in migrated and ".format(" not in migrated
    assert fake.read_text(REPO, pull.head_ref, "test_shapes.py") == files("")["test_shapes.py"]
    body = pull.body or ""
    assert "unlocks numpy 2.2.6: held back by requires-python &gt;=3.8" in body
    assert "not raised above 3.10: .python-version: 3.10; still held back: numpy 2.5.5" in body
    assert "drops Python 3.8, 3.9 (requires-python &gt;=3.10)" in body and "risk **high**" in body
    assert "Needs 1 approval" in body
    assert "**ruff-pyupgrade: 1 file** (ruff 0." in body

    fake.reset_calls()
    assert request_scan(depup.rt.queue, depup.settings, REPO, "test")
    depup.run_worker()
    assert fake.writes() == []


def test_keep_opens_nothing_and_the_dashboard_says_which_floor_would_allow_what(
    depup: Depup, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("ruff-pyupgrade")
    fake = install(depup, CONFIG)
    assert fake.pulls(REPO) == []
    [issue] = [i for i in fake.issues(REPO) if "depup" in (i.title or "").lower()]
    assert "raising requires-python to &gt;=3.10 would allow numpy 2.2.6 (runtime.python_floor: raise)" in issue.body


def test_once_the_floor_pr_is_merged_the_next_scan_proposes_what_it_unlocked(
    depup: Depup, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("ruff-pyupgrade")
    fake = install(depup, CONFIG + "runtime: {python_floor: raise}\n")
    [floor] = fake.pulls(REPO)
    merged = fake.merge_pull(REPO, floor.number)
    depup.run_worker()
    fake.set_status(REPO, merged, state="success")
    depup.run_worker()
    [pull] = fake.pulls(REPO)
    assert pull.title == "Upgrade numpy from 1.24.4 to 1.26.4"  # the in-line update first, 2.2.6 after it
    assert fake.read_text(REPO, pull.head_ref, "pyproject.toml") == PYPROJECT.replace('">=3.8"', '">=3.10"').replace(
        "numpy==1.24.4", "numpy==1.26.4"
    )
    assert "next: 2.2.6 (major)" in (pull.body or "")
