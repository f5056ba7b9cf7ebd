"""Where things are in a JSON text: character spans of object members, for format-preserving edits.

``json.loads`` decides what the document means (and whether it is valid at all); this scanner only
answers *where*: for an object, each member's key and the span of its value, in character offsets of the
original text (BOM included), so that an edit can replace exactly one value and leave every other byte.
It assumes the text already passed ``json.loads`` (``load_document`` checks that first).

Values are skipped iteratively (a bracket counter), so deep nesting elsewhere in the file costs nothing
and cannot exhaust the recursion limit; only the objects a caller asks about are scanned member by member.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

BOM = "\ufeff"
_WHITESPACE = " \t\n\r"

ValueKind = Literal["object", "array", "string", "number", "literal"]


class JsonSpanError(ValueError):
    """The text is not the valid JSON this scanner was promised (a bug in the caller's order of checks)."""


@dataclass(frozen=True)
class Member:
    """One ``"key": value`` pair of an object, with offsets into the original text."""

    key: str  # decoded
    key_start: int  # offset of the key's opening quote
    value_start: int  # first character of the value (the opening quote for a string)
    value_end: int  # one past the value's last character
    kind: ValueKind

    @property
    def inner_start(self) -> int:
        """For a string value: the first character inside the quotes."""
        return self.value_start + 1 if self.kind == "string" else self.value_start

    @property
    def inner_end(self) -> int:
        return self.value_end - 1 if self.kind == "string" else self.value_end


@dataclass(frozen=True)
class JsonError:
    """Why a text is not JSON, in the words and 1-based place ``json`` gives."""

    message: str
    line: int
    column: int


@dataclass(frozen=True)
class Document:
    text: str
    data: Any  # the json.loads result
    offset: int  # 1 when the text starts with a BOM: where the JSON begins

    def members(self, value_start: int | None = None) -> tuple[Member, ...]:
        """The members of the object starting at ``value_start`` (default: the top-level value)."""
        start = skip_whitespace(self.text, self.offset) if value_start is None else value_start
        return object_members(self.text, start)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; lines end at ``\\n`` (a CRLF's ``\\r`` ends the line)."""
        return _position(self._line_starts, offset)

    @cached_property
    def _line_starts(self) -> list[int]:
        """Computed once per document: a position per dependency must not rescan the whole text."""
        return _line_starts(self.text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_document(text: str) -> Document | JsonError:
    """Parse ``text`` (a leading BOM is allowed, as npm allows it); a ``JsonError`` instead of raising."""
    offset = 1 if text.startswith(BOM) else 0
    try:
        data = json.loads(text[offset:], parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return JsonError(exc.msg, exc.lineno, exc.colno)
    except ValueError as exc:  # NaN / Infinity, which JSON.parse rejects too
        return JsonError(str(exc), 1, 1)
    except RecursionError:
        return JsonError("nested too deeply", 1, 1)
    return Document(text, data, offset)


def line_column(text: str, offset: int) -> tuple[int, int]:
    return _position(_line_starts(text), offset)


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    index = bisect_right(starts, offset) - 1
    return index + 1, offset - starts[index] + 1


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position != -1:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def _string_end(text: str, position: int) -> int:
    """``position`` is an opening quote; returns one past the closing quote."""
    index = position + 1
    while True:
        quote = text.find('"', index)
        if quote == -1:
            raise JsonSpanError(f"unterminated string at offset {position}")
        backslashes = 0
        while text[quote - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return quote + 1
        index = quote + 1


def value_end(text: str, position: int) -> tuple[int, ValueKind]:
    """One past the end of the JSON value starting at ``position``, and its kind."""
    char = text[position] if position < len(text) else ""
    if char == '"':
        return _string_end(text, position), "string"
    if char in "{[":
        return _container_end(text, position), "object" if char == "{" else "array"
    end = position
    while end < len(text) and text[end] not in _WHITESPACE + ",]}":
        end += 1
    if end == position:
        raise JsonSpanError(f"no value at offset {position}")
    return end, "number" if char in "-0123456789" else "literal"


def _container_end(text: str, position: int) -> int:
    depth = 0
    index = position
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _string_end(text, index)
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise JsonSpanError(f"unterminated container at offset {position}")


def object_members(text: str, position: int) -> tuple[Member, ...]:
    """Every member (duplicates included, in order) of the object whose ``{`` is at ``position``."""
    if position >= len(text) or text[position] != "{":
        raise JsonSpanError(f"no object at offset {position}")
    members: list[Member] = []
    index = skip_whitespace(text, position + 1)
    if text[index] == "}":
        return ()
    while True:
        key_end = _string_end(text, index)
        key = json.loads(text[index:key_end])
        colon = skip_whitespace(text, key_end)
        start = skip_whitespace(text, colon + 1)
        end, kind = value_end(text, start)
        members.append(Member(key, index, start, end, kind))
        index = skip_whitespace(text, end)
        if text[index] == "}":
            return tuple(members)
        index = skip_whitespace(text, index + 1)  # past the comma


def decode_string(raw_inner: str) -> str:
    """The value of a JSON string given the text between its quotes."""
    value = json.loads(f'"{raw_inner}"')
    if not isinstance(value, str):  # pragma: no cover - json.loads of a quoted text is always a str
        raise JsonSpanError("not a string")
    return value


def encode_string_inner(value: str) -> str:
    """The text to put between quotes for ``value``: escapes only what JSON requires (``"``, ``\\``, controls)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]
