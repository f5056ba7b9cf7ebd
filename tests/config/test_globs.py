from __future__ import annotations

import pytest

from config.globs import GlobError, check_glob, compile_glob, glob_matches


@pytest.mark.parametrize(
    ("patterns", "name", "expected"),
    [
        (["eslint-*"], "eslint-plugin-react", True),
        (["eslint-*"], "eslint", False),
        (["eslint", "eslint-*"], "eslint", True),
        (["@types/*"], "@types/node", True),
        (["@angular/*"], "@angular/core", True),
        (["py?est"], "pytest", True),
        (["[dt]jango"], "django", True),
        (["[!d]jango"], "django", False),
        (["eslint-*", "!eslint-plugin-*"], "eslint-config-x", True),
        (["eslint-*", "!eslint-plugin-*"], "eslint-plugin-x", False),
        (["!react"], "vue", True),
        (["!react"], "react", False),
        ([], "anything", False),
    ],
)
def test_package_globs(patterns: list[str], name: str, expected: bool) -> None:
    assert glob_matches(patterns, name) is expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**", "", True),
        ("**", "a/b/c", True),
        ("services/**", "services", True),
        ("services/**", "services/api/v2", True),
        ("services/**", "servicesx", False),
        ("services/*", "services/api", True),
        ("services/*", "services/api/v2", False),
        ("**/frontend", "frontend", True),
        ("**/frontend", "apps/web/frontend", True),
        ("apps/**/legacy", "apps/legacy", True),
        ("apps/**/legacy", "apps/a/b/legacy", True),
        ("apps/**/legacy", "apps/a/b/legacy2", False),
    ],
)
def test_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert glob_matches([pattern], path, path=True) is expected


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("", "empty pattern"),
        ("[abc", "'[' at position 1 is never closed"),
        ("abc]", "']' at position 4 closes no '['"),
        ("a[]b", "empty character class at position 2"),
        ("[z-a]", "invalid character class (bad character range z-a)"),
    ],
)
def test_bad_globs_say_why(pattern: str, why: str) -> None:
    assert check_glob(pattern) == why
    with pytest.raises(GlobError):
        compile_glob(pattern)


def test_double_star_must_be_a_whole_segment_in_paths() -> None:
    assert check_glob("a**/b", path=True) == "'**' must be a whole path segment, like 'a/**/b'"
    assert check_glob("a**", path=False) is None  # in a package glob, ** is just *
    assert check_glob("!eslint-*") is None
