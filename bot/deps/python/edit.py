"""Rewrite constraints in place, keeping every other character of the file.

Each edit replaces one dependency's constraint span (``Location.start:end``) with new text, or inserts at
``start`` when the dependency has no constraint written. Refused with :class:`ManifestEditError` when a span no
longer holds the dependency's constraint (the file changed since it was parsed), when spans overlap, or when
the result does not read back as exactly the intended change: the edited text is re-parsed with the same
parser (every dependency keeps its name, place and constraint except the edited ones, which carry the new
constraint), and TOML files are also re-read with tomlkit and compared value by value with the original
(only the edited strings may differ, by exactly the replaced text).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from bot.deps.model import Dependency
from bot.deps.python.errors import ManifestEditError
from bot.deps.python.parse import parse_python_manifest
from bot.deps.python.tomlscan import TomlPath, TomlScanError, scan_strings


def apply_edits(text: str, edits: Sequence[tuple[Dependency, str]]) -> str:
    """Return ``text`` with each dependency's constraint replaced by its new constraint text."""
    if not edits:
        return text
    files = {dep.location.file for dep, _ in edits}
    if len(files) != 1:
        raise ManifestEditError(f"edits span several files: {sorted(files)}")
    ordered = sorted(edits, key=lambda e: (e[0].location.start, e[0].location.end))
    for dep, new in ordered:
        _check_span(text, dep, new)
    for (first, _), (second, _) in pairwise(ordered):
        if second.location.start < first.location.end or (second.location.start == first.location.start):
            raise ManifestEditError(f"edits of {first.name} and {second.name} overlap")
    pieces: list[str] = []
    cursor = 0
    for dep, new in ordered:
        pieces.append(text[cursor : dep.location.start])
        pieces.append(new)
        cursor = dep.location.end
    pieces.append(text[cursor:])
    result = "".join(pieces)
    path = next(iter(files))
    if path.endswith(".toml") or path.rsplit("/", 1)[-1] == "Pipfile":
        _verify_toml(text, result, ordered)
    _verify_reparse(path, text, result, ordered)
    return result


def _check_span(text: str, dep: Dependency, new: str) -> None:
    loc = dep.location
    if not 0 <= loc.start <= loc.end <= len(text):
        raise ManifestEditError(f"{loc.file}:{loc.line}: the span of {dep.name} is outside the file")
    if dep.skip_reason is not None:
        raise ManifestEditError(f"{loc.file}:{loc.line}: {dep.name} is kept untouched ({dep.skip_reason})")
    found = text[loc.start : loc.end]
    if found != dep.constraint:
        raise ManifestEditError(
            f"{loc.file}:{loc.line}: expected {dep.constraint!r} for {dep.name}, found {found!r}: "
            "the file changed since it was parsed"
        )
    if any(ch in new for ch in "\r\n"):
        raise ManifestEditError(f"new constraint for {dep.name} spans lines: {new!r}")


def _verify_reparse(path: str, old: str, new: str, edits: Sequence[tuple[Dependency, str]]) -> None:
    before = parse_python_manifest(path, old).dependencies
    after = parse_python_manifest(path, new).dependencies
    if len(before) != len(after):
        raise ManifestEditError(f"{path}: the edit changed the number of dependencies read back")
    wanted = {(d.location.start, d.location.end): n for d, n in edits}
    for old_dep, new_dep in zip(before, after, strict=True):
        expected = wanted.get((old_dep.location.start, old_dep.location.end), old_dep.constraint)
        same_entry = (old_dep.key, old_dep.location.section, old_dep.group, old_dep.extras, old_dep.marker) == (
            new_dep.key, new_dep.location.section, new_dep.group, new_dep.extras, new_dep.marker
        )  # fmt: skip
        if not same_entry or new_dep.constraint != expected:
            raise ManifestEditError(
                f"{path}:{old_dep.location.line}: {old_dep.name} reads back as {new_dep.name} "
                f"{new_dep.constraint!r}, expected {expected!r}"
            )


def _verify_toml(old: str, new: str, edits: Sequence[tuple[Dependency, str]]) -> None:
    try:
        before: dict[str, Any] = tomlkit.parse(old).unwrap()
        after: dict[str, Any] = tomlkit.parse(new).unwrap()
        strings = scan_strings(old)
    except (TOMLKitError, TomlScanError) as exc:  # TOMLKitError: ParseError, or KeyAlreadyPresent (no position)
        raise ManifestEditError(f"the edited TOML does not parse: {exc}") from exc
    expected = before
    for dep, replacement in edits:
        loc = dep.location
        holder = next((s for s in strings.values() if s.plain and s.start <= loc.start and loc.end <= s.end), None)
        if holder is None:
            raise ManifestEditError(f"{loc.file}:{loc.line}: the span of {dep.name} is not inside a plain string")
        value = holder.value[: loc.start - holder.start] + replacement + holder.value[loc.end - holder.start :]
        expected = _replaced(expected, holder.path, value)
    if expected != after:
        raise ManifestEditError("the edited TOML does not hold exactly the intended values")


def _replaced(data: Any, path: TomlPath, value: str) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and isinstance(head, str):
        return {**data, head: _replaced(data[head], rest, value)}
    if isinstance(data, list) and isinstance(head, int):
        return [_replaced(item, rest, value) if i == head else item for i, item in enumerate(data)]
    raise ManifestEditError(f"no value at {path!r} in the TOML document")
