"""The apps' own tests (unittest, written for depup), run against the new major installed in a throwaway
virtualenv (from the configured index, so marked slow): they fail on the unmigrated code and pass migrated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.migrate.rewriters import Rewriter, Upgrade
from bot.migrate.run import migrate
from config.model import Migrations

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "migrate"

pytestmark = pytest.mark.slow


def venv_with(tmp_path: Path, requirement: str) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--only-binary=:all:", requirement],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"{requirement} could not be installed: {done.stderr[-300:]}")
    return python


def unittest(python: Path, work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "unittest", "-v"], cwd=work, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("app", "name", "upgrade", "requirement"),
    [
        ("numpy1", "ruff-numpy2", Upgrade("python", "numpy", "1.26.4", "2.2.6"), "numpy>=2,<3"),
        ("django32", "django-upgrade", Upgrade("python", "django", "3.2.25", "5.0.14"), "django>=5.0,<5.1"),
        ("pydantic1", "bump-pydantic", Upgrade("python", "pydantic", "1.10.13", "2.11.7"), "pydantic>=2,<3"),
    ],
)
def test_the_migrated_app_passes_its_tests_on_the_new_major(
    tmp_path: Path, rewriter: Callable[[str], Rewriter], app: str, name: str, upgrade: Upgrade, requirement: str
) -> None:
    rewriter(name)
    work = tmp_path / app
    shutil.copytree(APPS / app, work)
    python = venv_with(tmp_path, requirement)
    before = unittest(python, work)
    assert before.returncode != 0, before.stderr  # the upgrade alone breaks the app

    [migration] = migrate(work, [upgrade], Migrations(), base="a" * 40).migrations
    for path, text in migration.files.items():
        (work / path).write_text(text)
    after = unittest(python, work)
    assert after.returncode == 0, after.stderr
    assert "OK" in after.stderr
