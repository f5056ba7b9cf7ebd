"""Typed reads of a webhook payload, the one place handlers take values out of one.

The web process only checks that a payload is a signed JSON object. What is inside comes from GitHub, whose own
examples miss fields and whose events change shape over the years, so a missing or ``null`` field is normal and
reads as empty (``""``, ``None``, ``[]``, an empty object). A field of the wrong type (an object where a number
belongs, a string where an object does) is not: the read raises ``MalformedPayload`` naming the field, and
the worker acknowledges the delivery for that handler without retrying (the same payload would fail again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import DepupError


class MalformedPayload(DepupError):
    """A webhook payload holds a field of a shape depup cannot use; retrying the delivery cannot help."""


_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True)
class Fields:
    """One JSON object of a payload, with the path that leads to it (for messages: ``payload.pull_request.head``)."""

    data: Mapping[str, Any]
    path: str = "payload"

    def obj(self, key: str) -> Fields:
        """The object under ``key``; an empty one when the field is missing or null."""
        value = self.data.get(key)
        if value is None:
            return Fields(_EMPTY, self._at(key))
        if not isinstance(value, Mapping):
            raise self._wrong(key, value, "an object")
        return Fields(value, self._at(key))

    def objs(self, key: str) -> list[Fields]:
        """The objects of the array under ``key``; none when the field is missing or null."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, value, "an array")
        found: list[Fields] = []
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self._wrong(f"{key}[{index}]", item, "an object")
            found.append(Fields(item, self._at(f"{key}[{index}]")))
        return found

    def text(self, key: str) -> str:
        """The string under ``key``; ``""`` when the field is missing or null."""
        value = self.data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._wrong(key, value, "a string")
        return value

    def texts(self, key: str) -> list[str]:
        """The strings of the array under ``key`` (GitHub's lists of paths); none when missing or null."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(key, value, "an array of strings")
        return list(value)

    def number(self, key: str) -> int | None:
        """The id or number under ``key``: an integer from 1 to 2**63 - 1, as GitHub's are (JSON's ``true`` is
        none); None when the field is missing or null."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
            raise self._wrong(key, value, "a positive 64-bit integer")
        return value

    def identifier(self, key: str) -> str:
        """An id that GitHub sends as a number (and older payloads as a string), as text; ``""`` when missing."""
        value = self.data.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self._wrong(key, value, "an id")
        return str(value)

    def flag(self, key: str) -> bool:
        """The boolean under ``key``; False when the field is missing or null."""
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._wrong(key, value, "true or false")
        return value

    def raw(self) -> dict[str, Any]:
        """A shallow copy of the object, for code that takes GitHub's objects as they are."""
        return dict(self.data)

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _wrong(self, key: str, value: object, expected: str) -> MalformedPayload:
        return MalformedPayload(f"{self._at(key)} is {_kind(value)}, not {expected}")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}" if -(10**20) < value < 10**20 else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
