"""The position-tracking JSON scanner."""

from __future__ import annotations

import pytest

from bot.deps.npm.jsonspan import (
    Document,
    JsonError,
    JsonSpanError,
    decode_string,
    encode_string_inner,
    line_column,
    load_document,
    object_members,
    value_end,
)


def load(text: str) -> Document:
    document = load_document(text)
    assert isinstance(document, Document)
    return document


def test_members_with_every_value_kind() -> None:
    text = '{ "s" : "a\\"b\\\\" , "n": -1.5e3, "t": true, "z": null, "a": [1, {"x": "]"}], "o": {"k": "}"} }'
    document = load(text)
    members = document.members()
    assert [(m.key, m.kind) for m in members] == [
        ("s", "string"),
        ("n", "number"),
        ("t", "literal"),
        ("z", "literal"),
        ("a", "array"),
        ("o", "object"),
    ]
    assert [text[m.value_start : m.value_end] for m in members] == [
        '"a\\"b\\\\"',
        "-1.5e3",
        "true",
        "null",
        '[1, {"x": "]"}]',
        '{"k": "}"}',
    ]
    assert text[members[0].inner_start : members[0].inner_end] == 'a\\"b\\\\'
    assert [(m.key, text[m.value_start : m.value_end]) for m in document.members(members[5].value_start)] == [
        ("k", '"}"')
    ]


def test_escaped_keys_are_decoded() -> None:
    (member,) = load('{"\\u0041\\n": 1}').members()
    assert member.key == "A\n"


def test_empty_object() -> None:
    assert load("  {  }  ").members() == ()


def test_bom_offsets_count_the_bom() -> None:
    document = load('\ufeff{"a": "b"}')
    (member,) = document.members()
    assert document.text[member.value_start : member.value_end] == '"b"'
    assert document.offset == 1


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [("abc", 0, (1, 1)), ("a\nbc", 3, (2, 2)), ("a\r\nbc", 3, (2, 1)), ("a\r\nbc", 1, (1, 2)), ("\n\n", 2, (3, 1))],
)
def test_line_column(text: str, offset: int, expected: tuple[int, int]) -> None:
    assert line_column(text, offset) == expected


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"a": 1,}', 1, 9),
        ("{\n  \"a\": 'x'\n}", 2, 8),
        ('{"a": 1} extra', 1, 10),
        ('{"a": "\n"}', 1, 8),
        ('{"a": Infinity}', 1, 1),
        ("\ufeff\ufeff{}", 1, 1),
    ],
)
def test_invalid_json_is_an_error_value(text: str, line: int, column: int) -> None:
    error = load_document(text)
    assert isinstance(error, JsonError)
    assert (error.line, error.column) == (line, column)
    assert error.message


def test_scanner_refuses_what_it_was_not_promised() -> None:
    with pytest.raises(JsonSpanError):
        object_members("[1]", 0)
    with pytest.raises(JsonSpanError):
        value_end('"open', 0)
    with pytest.raises(JsonSpanError):
        value_end("[1, 2", 0)
    with pytest.raises(JsonSpanError):
        value_end(",", 0)


def test_string_helpers() -> None:
    assert decode_string("\\u005e1.0.0") == "^1.0.0"
    assert encode_string_inner('a"b\\c\n\u00e9') == 'a\\"b\\\\c\\n\u00e9'
    assert decode_string(encode_string_inner('x"\\\t\U0001f600')) == 'x"\\\t\U0001f600'
