"""Fuzzing ``.github/depup.yml``: random YAML-ish text and bytes, random option trees, and random edits of
``config/example.yml`` and the test files in ``tests/config/files``.

Property: ``validate`` returns problems (never raises) and ``load_config`` returns a ``Config`` or raises
``ConfigInvalid``, never anything else; every problem has a line and a column (1-based, within the file) and a
message; the two agree (a file loads exactly when it has no problem). Bounds: the 256 KiB, depth-40 and
20,000-value limits hold, and hostile files of the allowed size are answered in bounded time.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import ConfigInvalid
from config.files import schema
from config.globs import compile_glob, glob_matches
from config.loader import load_config, validate
from config.model import Config, ConfigProblem
from config.source import MAX_BYTES, MAX_DEPTH, MAX_VALUES
from tests.fuzz.budget import HANG_SECONDS, Budget, bounded, budgets
from tests.fuzz.mutate import json_values, mutated_text

ROOT = Path(__file__).resolve().parents[2]
BASES = [
    (ROOT / "config" / "example.yml").read_text(),
    *(path.read_text() for path in sorted((ROOT / "tests" / "config" / "files").glob("*.yml"))),
]
YAML_TOKENS = [
    ": ", ":", "- ", "  ", "    ", "\t", "\n", "&a ", "*a", "<<: *a", "<<: [*a, *a]", "!!python/object:os.system",
    "!!binary ", "!!set ", "!!omap", "!tag ", "{", "}", "[", "]", "'", '"', "|", ">-", "---\n", "...\n",
    "%YAML 1.1\n", "? ", "#", "~", "null", "yes", "no", "0x1F", "1e3", ".inf", ".nan", "2001-12-14", "0o17",
    "enabled", "phases", "match", "packages", "groups", "schedule", "cron", "\"0 5 * * 1\"", "timezone", "UTC",
    "Mars/Olympus", "min_release_age", "3 days", "99999999999 weeks", "health_check", "urls", "https://x.invalid/",
    "approvals", "reviewers", "@octocat", "\ufeff", "\x00", "\x85", "\u2028", "\\", "%", "@", "`",
]  # fmt: skip
OPTION_NAMES = sorted(
    {
        *schema()["properties"],
        *(name for prop in schema()["properties"].values() for name in prop.get("properties", {})),
        *schema()["$defs"]["match"]["properties"],
    }
)
option_trees = st.recursive(
    json_values(max_leaves=4),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(OPTION_NAMES), children, max_size=5)
    ),
    max_leaves=25,
)
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=5), max_size=60).map("".join),
    mutated_text(BASES, YAML_TOKENS),
    st.dictionaries(st.sampled_from(OPTION_NAMES), option_trees, max_size=6).map(
        lambda tree: yaml.safe_dump(tree, allow_unicode=True, default_flow_style=None)
    ),
)


def check_problems(problems: tuple[ConfigProblem, ...], text: str | bytes) -> None:
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    lines = max(1, len(decoded.splitlines()) + 1)  # str.splitlines breaks wherever YAML does (and more)
    for problem in problems:
        assert problem.file == "f.yml" and problem.message
        assert 1 <= problem.line <= lines, problem
        assert problem.column >= 1, problem


def check_file(text: str | bytes, seconds: float = HANG_SECONDS) -> tuple[ConfigProblem, ...]:
    """validate and load_config agree, never raise anything but ConfigInvalid, and answer within ``seconds``."""
    return bounded(lambda: _check_file(text), seconds)


def _check_file(text: str | bytes) -> tuple[ConfigProblem, ...]:
    problems = validate(text, "f.yml")
    assert isinstance(problems, tuple)
    check_problems(problems, text)
    try:
        config = load_config(text, "f.yml")
    except ConfigInvalid as e:
        assert e.problems and all(isinstance(p, ConfigProblem) for p in e.problems)
        check_problems(e.problems, text)  # type: ignore[arg-type]
        assert problems, "load_config refused a file validate found nothing wrong with"
    else:
        assert isinstance(config, Config)
        assert not problems, "load_config accepted a file validate found problems in"
    return problems


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_config_text(budget: Budget) -> None:
    @budget.settings()
    @given(text=texts)
    def check(text: str) -> None:
        budget.count()
        check_file(text)

    budget.run("config: random and mutated YAML text", check)


@pytest.mark.parametrize("budget", budgets(quick=25))
def test_config_bytes(budget: Budget) -> None:
    @budget.settings()
    @given(
        data=st.one_of(
            st.binary(max_size=200),
            texts.map(lambda t: t.encode("utf-8")),
            st.builds(
                lambda text, at, junk: (lambda raw: raw[:at] + junk + raw[at:])(text.encode("utf-8")),
                mutated_text(BASES, YAML_TOKENS),
                st.integers(0, 2000),
                st.binary(min_size=1, max_size=4),
            ),
        )
    )
    def check(data: bytes) -> None:
        budget.count()
        check_file(data)

    budget.run("config: random and damaged bytes", check)


# -- bounds and regressions ------------------------------------------------------------------------------------


def test_regression_globs_with_many_stars_match_in_linear_time() -> None:
    """Found here: each ``*`` became ``.*``, so ``*a*a*a*a*a*a*a*a*a*a*b`` took 36 s against a 40-character name
    (exponential in the stars). Core-package, group, ignore and phase globs come from the repository's file."""
    config = load_config("core_packages: {python: ['" + "*a" * 50 + "*b']}\n", "f.yml")
    assert not bounded(lambda: glob_matches(config.core_packages.python, "a" * 214))
    assert bounded(lambda: glob_matches(config.core_packages.python, "a" * 60 + "b"))
    assert not bounded(lambda: compile_glob("*a" * 50 + "*b", path=True).match("a" * 2000))


def test_regression_path_globs_take_at_most_two_globstars() -> None:
    """Each ``**`` multiplies the time to match a deep path (five of them against 40 segments: seconds)."""
    [problem] = validate("ignore_paths: ['**/a/**/a/**/b']\n", "f.yml")
    assert "at most 2 '**'" in problem.message and (problem.line, problem.column) == (1, 16)
    assert not validate("ignore_paths: ['**/node_modules/**', 'a/**/b/**']\n", "f.yml")
    assert not bounded(lambda: compile_glob("**/a/**/b", path=True).match("a/" * 2000 + "c"))


def _backtracking_regex(pattern: str, path: bool) -> re.Pattern[str]:
    """The glob as a plain regex (every star a greedy ``.*``), the reference the atomic translation must equal."""
    star, one = ("[^/]*", "[^/]") if path else (".*", ".")
    regex = "".join(star if c == "*" else one if c == "?" else re.escape(c) for c in re.sub(r"\*+", "*", pattern))
    return re.compile(f"(?s:{regex})\\Z")


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="ab*?/", min_size=1, max_size=10), name=st.text(alphabet="ab/", max_size=12))
def test_atomic_glob_translation_matches_like_plain_backtracking(pattern: str, name: str) -> None:
    for path in (False, True) if "**" not in pattern else (False,):  # globstars are no single-segment stars
        expected = _backtracking_regex(pattern.strip("/") if path else pattern, path).match(name) is not None
        assert (compile_glob(pattern, path=path).match(name) is not None) == expected, (pattern, name, path)


def _problems(text: str | bytes) -> tuple[ConfigProblem, ...]:
    problems = check_file(text)
    assert problems
    return problems


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    [problem] = _problems("# " + "x" * MAX_BYTES)
    assert (problem.line, problem.column) == (1, 1) and "larger than" in problem.message


def test_billion_laughs_is_stopped_at_the_value_limit() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    [problem] = _problems("\n".join(lines) + "\n")
    assert f"more than {MAX_VALUES} values" in problem.message


@pytest.mark.parametrize("text", ["[" * 2_000 + "]" * 2_000, "{a: " * 1_000 + "1" + "}" * 1_000, "- " * 1_000 + "x"])
def test_deep_nesting_is_stopped_at_the_depth_limit(text: str) -> None:
    [problem] = _problems(text)
    assert f"nested more than {MAX_DEPTH} deep" in problem.message


@pytest.mark.fuzz
@pytest.mark.parametrize(
    "text",
    [
        "a: " + "b" * (MAX_BYTES - 10),  # one long scalar
        "enabled: true\n" * (MAX_BYTES // 14),  # many duplicate keys
        "".join(f"k{i}: {i}\n" for i in range(MAX_BYTES // 14)),  # many unknown options
        "ignore:\n" + "  - {packages: ['a*b*c*d*e*f*g*h'], versions: ['>=1']}\n" * (MAX_BYTES // 60),
        "core_packages: {python: [" + ", ".join(["'" + "*" * 200 + "a!'"] * (MAX_BYTES // 210)) + "]}",
        "x: &a [" + ", ".join(["*a"] * 10) + "]",  # an alias into itself
        "'" + "\\" * (MAX_BYTES - 10) + "'",
    ],
    ids=["long-scalar", "duplicate-keys", "unknown-options", "many-rules", "star-globs", "self-alias", "escapes"],
)
def test_hostile_files_of_the_allowed_size_are_answered_in_bounded_time(text: str) -> None:
    """Full-size files (256 KiB, marked ``fuzz`` for their time): seconds, not minutes."""
    assert len(text.encode()) <= MAX_BYTES
    check_file(text, seconds=60.0)


@pytest.mark.parametrize(
    "text", ["min_release_age: 1.0", "min_release_age: .0", "health_check: {soak: 2.0}", "max_open_prs: 3.0"]
)
def test_regression_whole_floats_are_no_integers(text: str) -> None:
    """JSON Schema's "integer" admits 1.0, so ``min_release_age: 1.0`` passed validation and then crashed
    load_config with a TypeError (parse_duration got a float). Whole numbers must now be written as such."""
    [problem] = _problems(text)
    assert (problem.line, problem.column) == (1, text.rindex(" ") + 2)  # at the value
    assert "got" in problem.message
