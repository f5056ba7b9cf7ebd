"""Range rewriting per strategy, checked with node's semantics, and compared with Renovate's choices."""

from __future__ import annotations

import pytest

from bot.deps.npm.ranges import RangeRewriteError, Strategy, rewrite_range
from bot.deps.npm.semver import satisfies

CASES: list[tuple[str, str, Strategy, str | None]] = [
    # exact versions
    ("4.17.1", "4.21.2", "bump", "4.21.2"),
    ("4.17.1", "4.21.2", "pin", "4.21.2"),
    ("4.17.1", "4.21.2", "widen", "4.21.2"),
    ("4.17.1", "4.21.2", "lockfile-only", "4.21.2"),
    ("4.17.1", "4.17.1", "pin", None),
    ("v1.2.3", "1.3.0", "bump", "v1.3.0"),
    ("=1.2.3", "1.3.0", "bump", "=1.3.0"),
    # carets and tildes: keep the operator, raise the floor (majors keep the chosen version as floor)
    ("^16.8.0", "16.14.0", "bump", "^16.14.0"),
    ("^16.8.0", "19.2.0", "bump", "^19.2.0"),
    ("^16.8.0", "16.14.0", "widen", None),
    ("^16.8.0", "16.14.0", "lockfile-only", None),
    ("^16.8.0", "17.0.2", "lockfile-only", "^17.0.2"),
    ("^16.8.0", "19.2.0", "widen", "^16.8.0 || ^19.0.0"),
    ("^16.8.0", "16.14.0", "pin", "16.14.0"),
    ("^v1.2.3", "1.3.0", "bump", "^v1.3.0"),
    ("^1", "1.5.0", "bump", "^1.5.0"),
    ("~4.17.15", "4.17.21", "bump", "~4.17.21"),
    ("~4.17.15", "4.18.1", "widen", "~4.17.15 || ~4.18.0"),
    ("~> 1.2.0", "1.3.5", "bump", "~> 1.3.5"),
    ("~1.2", "1.2.9", "widen", None),
    # 0.x carets
    ("^0.21.1", "0.21.4", "bump", "^0.21.4"),
    ("^0.21.1", "0.27.2", "bump", "^0.27.2"),
    ("^0.21.1", "0.27.2", "widen", "^0.21.1 || ^0.27.0"),
    ("^0.0.3", "0.0.5", "widen", "^0.0.3 || ^0.0.5"),
    ("^0.21.1", "1.6.0", "bump", "^1.6.0"),
    # comparators
    (">=1.2.3", "1.5.0", "bump", ">=1.5.0"),
    (">=1.2.3", "1.5.0", "widen", None),
    (">1.2.3", "1.5.0", "bump", ">=1.5.0"),
    (">= 1.2.3 < 2", "2.5.0", "bump", ">= 2.5.0 < 3"),
    (">=1 <2", "1.5.0", "bump", ">=1.5.0 <2"),
    (">=1 <2", "3.1.0", "bump", ">=3.1.0 <4"),
    (">=1.0.0 <2.0.0", "3.1.0", "widen", ">=1.0.0 <4.0.0"),
    (">=1.2.3 <1.5.0", "1.7.2", "widen", ">=1.2.3 <1.8.0"),
    (">=1.2.3 <1.2.4", "1.7.2", "widen", ">=1.2.3 <1.7.3"),
    ("<2", "3.1.0", "widen", "<4"),
    (">= 6.9.0 < 14.0.0", "20.1.0", "widen", ">= 6.9.0 < 21.0.0"),
    (">= 6.9.0 < 14.0.0", "3.0.0", "widen", ">= 6.9.0 < 14.0.0 || 3.0.0"),
    (">= 6.9.0 < 14.0.0", "15.0.0-rc.1", "widen", ">= 6.9.0 < 14.0.0 || 15.0.0-rc.1"),
    ("<=1.5", "1.7.2", "widen", "<=1.7"),
    # x-ranges keep their precision and style
    ("1.x", "1.5.0", "bump", None),
    ("1.x", "2.3.0", "bump", "2.x"),
    ("1.2.x", "1.3.1", "bump", "1.3.x"),
    ("1.2.*", "1.4.0", "bump", "1.4.*"),
    ("1", "2.0.1", "bump", "2"),
    ("1.x", "2.3.0", "widen", "1.x || 2.x"),
    ("*", "2.0.0", "bump", None),
    ("", "2.0.0", "widen", None),
    ("x", "2.0.0", "lockfile-only", None),
    ("*", "2.0.0", "pin", "2.0.0"),
    # hyphen ranges
    ("1.2.3 - 2.3.4", "2.0.1", "bump", "2.0.1 - 2.3.4"),
    ("1.2.3 - 2.3.4", "2.0.1", "widen", None),
    ("1 - 2", "3.1.0", "widen", "1 - 3"),
    ("1 - 2", "3.1.0", "bump", "3.1.0 - 3"),
    # unions
    ("^1.2.0 || ^2.0.0", "3.1.0", "widen", "^1.2.0 || ^2.0.0 || ^3.0.0"),
    ("^1.2.0||^2.0.0", "3.1.0", "widen", "^1.2.0||^2.0.0||^3.0.0"),
    ("^1.2.0 || ^2.0.0", "2.3.0", "bump", "^1.2.0 || ^2.3.0"),
    ("^1.2.0 || ^2.0.0", "1.4.0", "bump", "^1.4.0 || ^2.0.0"),
    ("^1.2.0 || ^2.0.0", "3.1.0", "bump", "^1.2.0 || ^3.1.0"),
    ("1.2.3 || 1.3.0", "1.4.0", "widen", "1.2.3 || 1.3.0 || 1.4.0"),
    # prereleases
    ("^1.2.0", "2.0.0-rc.1", "widen", "^1.2.0 || ^2.0.0-rc.1"),
    ("^1.2.0", "2.0.0-rc.1", "bump", "^2.0.0-rc.1"),
    ("^2.0.0-rc.1", "2.0.0-rc.2", "lockfile-only", None),
    ("2.0.0-rc.1", "2.0.0", "bump", "2.0.0"),
    ("1.x", "2.0.0-beta.1", "bump", "2.0.0-beta.1"),
    # spacing kept
    (" ^1.2.3 ", "1.4.0", "bump", " ^1.4.0 "),
]


@pytest.mark.parametrize(("current", "new", "strategy", "expected"), CASES)
def test_rewrite(current: str, new: str, strategy: Strategy, expected: str | None) -> None:
    result = rewrite_range(current, new, strategy)
    assert result == expected
    assert satisfies(new, result if result is not None else current, loose=True) or current.strip() in ("*", "x", "")


# What Renovate 39 proposed for the shared js-app sample (../shared/peers/renovate-expected.jsonl) and what depup
# writes with rangeStrategy "bump". Equal for pins; for carets/tildes Renovate resets to x.0.0 / x.y.0.
RENOVATE = [
    ("react", "^16.8.0", "19.3.1", "^19.0.0", "^19.3.1"),
    ("express", "4.17.1", "4.22.3", "4.22.3", "4.22.3"),
    ("express", "4.17.1", "5.3.0", "5.3.0", "5.3.0"),
    ("lodash", "~4.17.15", "4.18.1", "~4.18.0", "~4.18.1"),
    ("axios", "0.21.1", "0.35.0", "0.35.0", "0.35.0"),
    ("webpack", "^4.46.0", "5.112.2", "^5.0.0", "^5.112.2"),
    ("jest", "26.6.3", "30.5.2", "30.5.2", "30.5.2"),
    ("typescript", "~4.1.0", "4.9.5", "~4.9.0", "~4.9.5"),
    ("eslint", "^7.0.0", "10.15.0", "^10.0.0", "^10.15.0"),
]


@pytest.mark.parametrize(("name", "current", "new", "renovate", "ours"), RENOVATE)
def test_compared_with_renovate(name: str, current: str, new: str, renovate: str, ours: str) -> None:
    assert rewrite_range(current, new, "bump") == ours
    assert satisfies(new, renovate) and satisfies(new, ours)
    if renovate != ours:  # the one difference: our floor is the proposed version itself
        assert satisfies(ours.lstrip("^~").replace("^", ""), renovate)


@pytest.mark.parametrize(
    ("current", "new"),
    [("latest", "1.0.0"), ("^1.0.0", "not-a-version"), ("1.2.3beta", "1.3.0"), ("^1.0.0 <=", "2.0.0")],
)
def test_unrewritable_inputs_raise(current: str, new: str) -> None:
    with pytest.raises(RangeRewriteError):
        rewrite_range(current, new, "bump")


def test_loose_forms_that_need_no_rewrite_are_fine() -> None:
    assert rewrite_range("1.2.3beta", "1.2.3-beta", "widen") is None
