"""Whole files: one message per mistake, YAML syntax errors, and what YAML itself can do wrong (duplicate
keys, aliases, tags, encodings, size)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigInvalid
from config.loader import default_config, load_config, validate
from config.model import Automerge
from config.source import MAX_BYTES

FILES = Path(__file__).parent / "files"


def problems(text: str | bytes, file: str = "f.yml") -> list[str]:
    return [str(problem) for problem in validate(text, file)]


def test_a_file_full_of_mistakes_gets_one_message_per_mistake() -> None:
    name = ".github/depup.yml"
    assert problems((FILES / "mistakes.yml").read_bytes(), name) == [
        f"{name}:2:10: enabled: expected true or false, got 'sometimes'",
        f"{name}:3:1: unknown option 'max_open_pr' (did you mean 'max_open_prs'?)",
        f"{name}:5:9: schedule.cron: the day-of-week field '8' of '0 5 * * 8' is not valid (0-6 or sun-sat)",
        f"{name}:6:13: schedule.timezone: unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?)",
        f"{name}:7:3: schedule: unknown option 'tz' (the options here are cron, timezone)",
        f"{name}:8:22: ecosystems[1]: unknown value 'ruby': expected one of python, npm",
        f"{name}:9:15: directories[0]: invalid path glob 'services/**x': '**' must be a whole path segment, like "
        "'a/**/b'",
        f"{name}:14:29: phases[0].match.update_types[1]: unknown value 'minr': expected one of major, minor, patch, "
        "lockfile (did you mean 'minor'?)",
        f"{name}:15:18: phases[0].match.packages[0]: invalid glob 'eslint-[': '[' at position 8 is never closed",
        f"{name}:15:30: phases[0].match.packages[1]: invalid glob '!': nothing follows '!'",
        f"{name}:16:16: phases[0].approvals: expected a whole number, got 'one'",
        f"{name}:17:11: phases[1].name: duplicate phase name 'low', first at line 11 (phases[0])",
        f"{name}:19:18: min_release_age: expected a duration like '90m', '72h', '3 days' or '2 weeks', or a whole "
        "number of days, got '3 dayz'",
        f"{name}:21:1: duplicate key 'labels', first at line 20",
        f"{name}:24:11: automerge.method: unknown value 'rebse': expected one of merge, squash, rebase (did you mean "
        "'rebase'?)",
        f"{name}:27:12: risk.high_at: high_at (4) must be greater than medium_at (8)",
    ]


def test_a_yaml_syntax_error_is_one_message_with_its_position() -> None:
    assert problems((FILES / "syntax.yml").read_text(), "depup.yml") == [
        "depup.yml:5:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at line 3)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "enabled: [true",
            "f.yml:1:15: YAML syntax error: expected ',' or ']', but got '<stream end>' (while parsing a "
            "flow sequence at line 1)",
        ),
        ("a: b: c", "f.yml:1:5: YAML syntax error: mapping values are not allowed here"),
        ("enabled: true\n  labels: [x]", "f.yml:2:9: YAML syntax error: mapping values are not allowed here"),
        (
            "\tenabled: true",
            "f.yml:1:1: YAML syntax error: found character '\\t' that cannot start any token (YAML "
            "indents with spaces, not tabs)",
        ),
        (
            "enabled: true\n---\nenabled: false",
            "f.yml:2:1: YAML syntax error: but found another document (expected "
            "a single document in the stream at line 1)",
        ),
        ("labels: [*x]", "f.yml:1:10: YAML syntax error: found undefined alias 'x'"),
    ],
)
def test_yaml_syntax_errors(text: str, expected: str) -> None:
    assert problems(text) == [expected]


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing here\n  # at all\n", "---\n", "~", "null"])
def test_an_empty_file_or_comments_only_is_the_defaults(text: str) -> None:
    assert load_config(text) == default_config()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- enabled", "f.yml:1:1: the file must be a mapping of options, like 'enabled: true', not a list"),
        ("enabled", "f.yml:1:1: the file must be a mapping of options, like 'enabled: true', not 'enabled'"),
        ("\n\n  42", "f.yml:3:3: the file must be a mapping of options, like 'enabled: true', not 42"),
    ],
)
def test_the_top_level_must_be_a_mapping(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_duplicate_keys_are_reported_at_the_second_and_point_at_the_first() -> None:
    text = "schedule:\n  cron: '0 5 * * 1'\n  cron: '0 6 * * 1'\nautomerge: {enabled: true, enabled: false}"
    assert problems(text) == [
        "f.yml:3:3: schedule: duplicate key 'cron', first at line 2",
        "f.yml:4:28: automerge: duplicate key 'enabled', first at line 4, column 13",
    ]


def test_anchors_aliases_and_merge_keys_work() -> None:
    text = """
phases:
  - name: tools
    match: &tools {dependency_types: [dev, build]}
  - name: rest
groups:
  - name: dev
    match: *tools
  - name: eslint
    match:
      <<: *tools
      packages: ["eslint*"]
"""
    config = load_config(text)
    assert config.groups[0].match == config.phases[0].match
    assert config.groups[1].match.dependency_types == ("dev", "build")
    assert config.groups[1].match.packages == ("eslint*",)


def test_a_merge_key_gives_what_the_mapping_does_not_set() -> None:
    text = "automerge:\n  <<: {enabled: true, method: fast}\n  method: merge"
    assert load_config(text).automerge == Automerge(enabled=True, max_risk="low", method="merge")
    assert problems("rollback:\n  <<: [1]") == ["f.yml:2:8: rollback: '<<' merges a mapping or a list of mappings"]
    assert problems("rollback:\n  <<: {auto: x}") == ["f.yml:2:14: rollback.auto: expected true or false, got 'x'"]


def test_alias_bombs_are_stopped() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    found = problems("\n".join(lines))
    assert len(found) == 1
    assert "the file expands to more than 20000 values (aliases?)" in found[0]


def test_a_recursive_alias_is_a_problem_not_a_hang() -> None:
    assert problems("labels: &l [x, *l]") == [
        "f.yml:1:9: labels[1]: an alias refers to a list or mapping that contains it"
    ]


def test_deep_nesting_is_a_problem_not_a_recursion_error() -> None:
    assert problems("x: " + "[" * 5000 + "]" * 5000) == ["f.yml:1:43: lists and mappings are nested more than 40 deep"]


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    assert problems("#" * (MAX_BYTES + 1)) == ["f.yml:1:1: the file is larger than 256 KiB"]


def test_unsupported_tags_are_problems() -> None:
    assert problems("labels: !!set {a, b}\nmax_open_prs: !!python/name:os.system 1") == [
        "f.yml:1:9: labels: unsupported YAML tag '!!set': depup reads plain values, lists and mappings",
        "f.yml:2:15: max_open_prs: unsupported YAML tag '!!python/name:os.system': depup reads plain values, lists "
        "and mappings",
    ]


def test_bytes_are_utf8_with_or_without_a_bom() -> None:
    assert load_config("labels: [dépendances]".encode()).labels == ("dépendances",)
    assert load_config(b"\xef\xbb\xbflabels: [x]").labels == ("x",)
    assert problems(b"labels: [ok]\nreason: \xff") == ["f.yml:2:9: the file is not UTF-8 text (byte 0xff)"]


def test_control_characters_are_reported_at_their_position() -> None:
    assert problems("labels: [a]\nenabled: tr\x00ue") == ["f.yml:2:12: character '\\x00' is not allowed in YAML"]


def test_config_invalid_lists_every_problem_as_text() -> None:
    with pytest.raises(ConfigInvalid) as raised:
        load_config("enabled: 1\nmax_open_prs: x", "repo/.github/depup.yml")
    assert str(raised.value) == (
        "repo/.github/depup.yml:1:10: enabled: expected true or false, got 1\n"
        "repo/.github/depup.yml:2:15: max_open_prs: expected a whole number, got 'x'"
    )
