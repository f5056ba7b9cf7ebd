from __future__ import annotations

import pytest

from bot.deps.python import ConstraintRewriteError, allows, current_version, rewrite_constraint


@pytest.mark.parametrize(
    ("current", "new", "strategy", "expected"),
    [
        # exact pins move with every strategy; === is kept
        ("==1.1.2", "3.1.3", "pin", "==3.1.3"),
        ("==1.1.2", "3.1.3", "bump", "==3.1.3"),
        ("==1.1.2", "3.1.3", "widen", "==3.1.3"),
        ("==1.1.2", "3.1.3", "lockfile-only", "==3.1.3"),
        ("===1.1.2", "3.1.3", "bump", "===3.1.3"),
        ("== 1.1.2", "3.1.3", "bump", "== 3.1.3"),
        ("==3.1.3", "3.1.3", "bump", None),
        # compatible release keeps its operator and number of segments
        ("~=1.21.0", "1.26.4", "bump", "~=1.26.4"),
        ("~=1.21", "1.26.4", "bump", "~=1.26"),
        ("~=1.21.0.0", "1.26", "bump", "~=1.26.0.0"),
        ("~=1.21.0", "1.26.4", "widen", ">=1.21.0,<1.27"),
        ("~=1.21.0", "1.21.6", "widen", None),
        ("~=1.21.0", "1.21.6", "lockfile-only", None),
        ("~=1.21.0", "1.26.4", "lockfile-only", "~=1.26.4"),
        ("~=1.21.0", "1.26.4", "pin", "==1.26.4"),
        ("~=2.2", "3.0.0rc1", "bump", "~=3.0.0rc1"),
        # ranges: floors follow the version on bump, upper bounds keep their precision
        (">=1.3,<1.4", "1.4.54", "bump", ">=1.4.54,<1.5"),
        (">=1.3,<1.4", "2.0.1", "widen", ">=1.3,<2.1"),
        (">=1.3,<1.4", "1.4.54", "widen", ">=1.3,<1.5"),
        (">=1.3,<1.4", "1.3.9", "widen", None),
        (">=1.3,<1.4", "1.3.9", "bump", ">=1.3.9,<1.4"),
        (">= 4.0, < 5.0", "5.0.1", "bump", ">= 5.0.1, < 6.0"),
        (">=0.18.0,<0.19.0", "0.19.3", "widen", ">=0.18.0,<0.20.0"),
        (">=10,<14", "14.2.0", "widen", ">=10,<15"),
        (">1.0,<=2.0", "2.5", "bump", ">=2.5,<=2.5"),
        (">=1.0,!=1.5", "2.0", "bump", ">=2.0,!=1.5"),
        ("<3", "3.1", "bump", "<4"),
        (">=2.0", "1.5", "bump", ">=1.5"),
        # floors only
        (">=7.0", "8.1.7", "bump", ">=8.1.7"),
        (">=7.0", "8.1.7", "widen", None),
        (">=7.0", "8.1.7", "lockfile-only", None),
        (">=7.0", "8.1.7", "pin", "==8.1.7"),
        # wildcards
        ("==1.2.*", "1.4.1", "bump", "==1.4.*"),
        ("==1.2.*", "1.4.1", "widen", ">=1.2,<1.5"),
        ("==1.2.*", "1.2.9", "widen", None),
        ("==2.*", "3.0.1", "bump", "==3.*"),
        # no constraint written
        ("", "2.0", "pin", "==2.0"),
        ("", "2.0", "bump", ">=2.0"),
        ("", "2.0", "widen", None),
        ("", "2.0", "lockfile-only", None),
    ],
)
def test_pep440_rewrites(current: str, new: str, strategy: str, expected: str | None) -> None:
    assert rewrite_constraint(current, new, strategy, "pep440") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "new", "strategy", "expected"),
    [
        ("^1.2", "2.3.4", "bump", "^2.3"),
        ("^1.2.0", "2.3.4", "bump", "^2.3.4"),
        ("^1.2", "1.9.0", "bump", "^1.9"),
        ("^1.2", "2.3.4", "widen", "^1.2 || ^2.3"),
        ("^1.2", "1.9.0", "widen", None),
        ("^1.2", "1.9.0", "lockfile-only", None),
        ("^1.2", "2.3.4", "lockfile-only", "^2.3"),
        ("^1.2", "2.3.4", "pin", "2.3.4"),
        ("^0.2", "0.3.1", "bump", "^0.3"),
        ("~1.2", "1.5.0", "bump", "~1.5"),
        ("~1.2", "1.2.9", "widen", None),
        ("~1.2", "1.5.0", "widen", "~1.2 || ~1.5"),
        ("1.2.*", "1.4.0", "bump", "1.4.*"),
        ("1.2.*", "1.4.0", "widen", "1.2.* || 1.4.*"),
        (">=1,<2", "2.5", "widen", ">=1,<3"),
        (">=1,<2", "2.5", "bump", ">=2.5,<3"),
        (">=1 <2", "2.5", "bump", ">=2.5 <3"),
        ("*", "2.0", "bump", None),
        ("*", "2.0", "widen", None),
        ("*", "2.0", "pin", "2.0"),
        ("1.2.3", "1.4.0", "bump", "1.4.0"),
        ("1.2.3", "1.4.0", "widen", "1.4.0"),
        ("==1.2.3", "1.4.0", "widen", "==1.4.0"),
        ("~=1.2", "1.4.0", "widen", None),
        ("~2.7 || ^3.4", "4.1", "widen", "~2.7 || ^3.4 || ^4.1"),
        ("~2.7 || ^3.4", "4.1", "bump", "~2.7 || ^4.1"),
        ("~2.7 || ^3.4", "3.9", "lockfile-only", None),
        ("^18.3-alpha.0", "24.1.0", "bump", "^24.1"),
    ],
)
def test_poetry_rewrites(current: str, new: str, strategy: str, expected: str | None) -> None:
    assert rewrite_constraint(current, new, strategy, "poetry") == expected  # type: ignore[arg-type]


def test_a_version_excluded_by_a_clause_cannot_be_written() -> None:
    with pytest.raises(ConstraintRewriteError):
        rewrite_constraint(">=1.0,!=2.0", "2.0", "bump")
    with pytest.raises(ConstraintRewriteError):
        rewrite_constraint("flask>=1", "2.0", "bump")
    with pytest.raises(ConstraintRewriteError):
        rewrite_constraint(">=1.0", "not a version", "bump")


@pytest.mark.parametrize(
    ("constraint", "style", "expected"),
    [
        ("==1.2.3", "pep440", "1.2.3"),
        ("===1.2.3", "pep440", "1.2.3"),
        (">=1.3,<1.4", "pep440", "1.3"),
        ("<1.4,>=1.3", "pep440", "1.3"),
        ("~=1.21.0", "pep440", "1.21.0"),
        ("==1.2.*", "pep440", "1.2"),
        (">1.0", "pep440", "1.0"),
        ("<2", "pep440", None),
        ("", "pep440", None),
        ("^1.2", "poetry", "1.2"),
        ("~1.2.3", "poetry", "1.2.3"),
        ("1.2.*", "poetry", "1.2"),
        ("1.2.3", "poetry", "1.2.3"),
        ("*", "poetry", None),
        ("^1 || ^2", "poetry", None),
        ("not a constraint", "pep440", None),
    ],
)
def test_current_version(constraint: str, style: str, expected: str | None) -> None:
    assert current_version(constraint, style) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("constraint", "version", "style", "expected"),
    [
        (">=1.0,<3", "2.0", "pep440", True),
        (">=1.0,<3", "3.0", "pep440", False),
        ("", "9.9", "pep440", True),
        ("^1.2", "1.9.9", "poetry", True),
        ("^1.2", "2.0.0", "poetry", False),
        ("^0.2.3", "0.2.9", "poetry", True),
        ("^0.2.3", "0.3.0", "poetry", False),
        ("^0.0.3", "0.0.4", "poetry", False),
        ("^0", "0.9", "poetry", True),
        ("~1.2.3", "1.2.9", "poetry", True),
        ("~1.2.3", "1.3.0", "poetry", False),
        ("~1", "1.9", "poetry", True),
        ("1.2.*", "1.2.7", "poetry", True),
        ("1.2.3", "1.2.3", "poetry", True),
        ("1.2.3", "1.2.4", "poetry", False),
        ("*", "5", "poetry", True),
        ("~2.7 || ^3.4", "3.11", "poetry", True),
        ("~2.7 || ^3.4", "3.0", "poetry", False),
        (">=1.2 <2.0", "1.5", "poetry", True),
    ],
)
def test_allows(constraint: str, version: str, style: str, expected: bool) -> None:
    assert allows(constraint, version, style) is expected  # type: ignore[arg-type]


def test_allows_passes_the_prerelease_choice_explicitly() -> None:
    assert allows(">=1.0,<3", "2.0rc1") is True
    assert allows(">=1.0,<3", "2.0rc1", prereleases=False) is False
    with pytest.raises(ConstraintRewriteError):
        allows(">=1.0", "nope")


def test_poetry_python_as_one_pep440_specifier() -> None:
    """What reads requires-python needs PEP 440: a Poetry project's ``python = "^3.10"`` read as written was no
    specifier at all, so releases needing Python 3.11 were proposed to it (pre-commit 4.7 on fastapi's template)."""
    from bot.deps.python.constraints import poetry_as_pep440

    assert poetry_as_pep440("^3.10") == ">=3.10,<4"
    assert poetry_as_pep440("~3.9") == ">=3.9,<3.10"
    assert poetry_as_pep440(">=3.8,<3.13") == ">=3.8,<3.13"
    assert poetry_as_pep440("3.11") == "==3.11.*"
    assert poetry_as_pep440("~2.7 || ^3.4") == ">=2.7"
    assert poetry_as_pep440("*") is None and poetry_as_pep440("^3.8 || *") is None
    assert poetry_as_pep440("junk^^") is None
