"""Format-preserving edits of package.json: replace only the characters of each changed constraint."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from bot.deps.model import Dependency
from bot.deps.npm.jsonspan import Document, JsonError, decode_string, encode_string_inner, load_document
from bot.deps.npm.manifest import OVERRIDE_SECTIONS, override_target
from bot.errors import DepupError


class ManifestEditError(DepupError):
    """An edit cannot be applied safely (stale span, overlapping edits, or a result that is not the intent)."""


def apply_edits(text: str, edits: Sequence[tuple[Dependency, str]]) -> str:
    """``text`` with each dependency's constraint replaced by the new value (JSON-escaped as needed).

    Every edit is checked before anything changes: the span must still hold the dependency's constraint
    and no two spans may overlap. The result is then parsed and compared with the original document: it
    must differ exactly in the edited values. Any failure raises ``ManifestEditError``; nothing is
    half-applied.
    """
    if not edits:
        return text
    ordered = sorted(edits, key=lambda edit: (edit[0].location.start, edit[0].location.end))
    for (previous, _), (current, _) in pairwise(ordered):
        if current.location.start < previous.location.end or current.location.start == previous.location.start:
            raise ManifestEditError(f"edits of {previous.name} and {current.name} overlap in {current.location.file}")
    expected = _expected_document(text, ordered)
    result = text
    for dependency, new_value in reversed(ordered):
        start, end = dependency.location.start, dependency.location.end
        result = result[:start] + encode_string_inner(new_value) + result[end:]
    loaded = load_document(result)
    if isinstance(loaded, JsonError) or loaded.data != expected:
        raise ManifestEditError("the edited package.json does not parse to the intended change")
    return result


def _expected_document(text: str, edits: Sequence[tuple[Dependency, str]]) -> Any:
    loaded = load_document(text)
    if isinstance(loaded, JsonError) or not isinstance(loaded.data, dict):
        raise ManifestEditError("the package.json to edit is not a JSON object")
    expected: Any = json.loads(json.dumps(loaded.data))
    for dependency, new_value in edits:
        location = dependency.location
        if not 0 <= location.start <= location.end <= len(text):
            raise ManifestEditError(f"{dependency.name}: span {location.start}:{location.end} is outside the file")
        current = _decode(text[location.start : location.end])
        if current != dependency.constraint:
            raise ManifestEditError(
                f"{dependency.name}: the file holds {current!r} where {dependency.constraint!r} was read; re-scan"
            )
        path = _path_to(loaded, location.start)
        holder: Any = expected
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        named = path[-1] == dependency.name if path else False
        if location.section.split(".", 1)[0] in OVERRIDE_SECTIONS or location.section.startswith("pnpm."):
            named = bool(path) and (path[-1] == "." or override_target(path[-1]) == dependency.name)
        if (
            not named
            or ".".join(path[:-1]) != location.section
            or not isinstance(holder, dict)
            or not isinstance(holder.get(path[-1]), str)
        ):
            raise ManifestEditError(f"{dependency.name} is not a string entry of `{location.section}`")
        quote = _opening_quote(text, location.start)
        before = text[quote + 1 : location.start]
        after_end = _closing_quote(text, location.end)
        after = text[location.end : after_end]
        holder[path[-1]] = _decode(before + encode_string_inner(new_value) + after)
    return expected


def _path_to(document: Document, offset: int) -> list[str]:
    """The keys from the top-level object down to the string value that holds ``offset`` ([] when none)."""
    path: list[str] = []
    members = document.members()
    while True:
        member = next((m for m in members if m.value_start <= offset < m.value_end), None)
        if member is None:
            return []
        path.append(member.key)
        if member.kind == "string":
            return path
        if member.kind != "object":
            return []
        members = document.members(member.value_start)


def _decode(raw: str) -> str | None:
    try:
        return decode_string(raw)
    except ValueError:
        return None


def _opening_quote(text: str, position: int) -> int:
    index = text.rfind('"', 0, position)
    while index > 0 and _escaped(text, index):
        index = text.rfind('"', 0, index)
    if index < 0:
        raise ManifestEditError("no string around the edited span")
    return index


def _closing_quote(text: str, position: int) -> int:
    index = text.find('"', position)
    while index != -1 and _escaped(text, index):
        index = text.find('"', index + 1)
    if index < 0:
        raise ManifestEditError("no string around the edited span")
    return index


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - 1 - backslashes >= 0 and text[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
