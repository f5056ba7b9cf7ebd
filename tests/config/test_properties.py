"""Whatever text a repository puts in its file, loading it either gives a Config or raises ConfigInvalid."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import ConfigInvalid
from config.files import schema
from config.loader import load_config
from config.model import Config

OPTION_NAMES = sorted(
    {
        *schema()["properties"],
        *(name for prop in schema()["properties"].values() for name in prop.get("properties", {})),
        *schema()["$defs"]["match"]["properties"],
        "name",
        "match",
        "packages",
        "versions",
        "url",
        "weights",
    }
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 100),
    st.floats(allow_nan=True),
    st.sampled_from(["low", "npm", "python", "major", "**", "!x", "[a", "3 days", "0 5 * * 1", "UTC", ">=2", "^1"]),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(OPTION_NAMES), children, max_size=4)
    ),
    max_leaves=20,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _loads_or_says_why(text: str | bytes) -> None:
    try:
        config = load_config(text, "f.yml")
    except ConfigInvalid as e:
        assert e.problems
        assert all(problem.line >= 1 and problem.column >= 1 and problem.message for problem in e.problems)
    else:
        assert isinstance(config, Config)


@FAST
@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    _loads_or_says_why(text)


@FAST
@given(st.binary(max_size=100))
def test_any_bytes(data: bytes) -> None:
    _loads_or_says_why(data)


@FAST
@given(st.dictionaries(st.sampled_from(OPTION_NAMES), VALUES, max_size=6))
def test_any_shape_of_options(options: dict[str, Any]) -> None:
    _loads_or_says_why(yaml.safe_dump(options))


@FAST
@given(st.text(alphabet="abn:- []{}&*!<>#'\"\n\t0,.|", max_size=80))
def test_yaml_punctuation(text: str) -> None:
    _loads_or_says_why(text)
