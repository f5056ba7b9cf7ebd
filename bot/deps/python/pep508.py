"""Find the parts of one PEP 508 requirement string *as written*, with offsets.

``packaging.requirements.Requirement`` validates the string and normalises what it returns (specifiers are
re-ordered and re-spaced, extras become a set), so the spans an editor needs are located here by scanning the
raw text; ``Requirement`` is still the judge of validity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


class Pep508Error(ValueError):
    """The string is not a valid PEP 508 requirement; ``offset`` is where the problem was seen."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class RequirementParts:
    """Offsets are relative to the string given to :func:`split_requirement`."""

    name: str
    name_start: int
    extras: tuple[str, ...]
    constraint: str  # the version specifier as written ("" when none)
    constraint_start: int  # equal to constraint_end when there is none: where one would be inserted
    constraint_end: int
    marker: str | None  # as written, without the ';'
    url: str | None


def _error_from(exc: InvalidRequirement) -> Pep508Error:
    lines = str(exc).splitlines()
    message = lines[0] if lines else "invalid requirement"
    offset = 0
    if len(lines) >= 3 and "^" in lines[-1]:
        # packaging prints the requirement indented by 4 spaces and a caret line under the culprit
        offset = max(lines[-1].index("^") - 4, 0)
    return Pep508Error(message, offset)


def split_requirement(text: str) -> RequirementParts:
    """Validate ``text`` as PEP 508 and return its parts with offsets into ``text``."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise _error_from(exc) from None
    pos = len(text) - len(text.lstrip())
    match = _NAME.match(text, pos)
    if match is None:  # pragma: no cover - Requirement accepted it, so a name is there
        raise Pep508Error("missing package name", pos)
    name_start, pos = match.start(), match.end()
    insert_at = pos
    extras: tuple[str, ...] = ()
    rest = text[pos:]
    stripped = rest.lstrip()
    if stripped.startswith("["):
        open_at = pos + len(rest) - len(stripped)
        close_at = text.index("]", open_at)
        extras = tuple(e.strip() for e in text[open_at + 1 : close_at].split(",") if e.strip())
        pos = insert_at = close_at + 1
    semi = text.find(";", pos)
    marker: str | None = None
    if req.url is not None:
        if req.marker is not None:
            marker = _marker_after_url(text, pos)
        return RequirementParts(match.group(), name_start, extras, "", insert_at, insert_at, marker, req.url)
    spec_end = semi if semi >= 0 else len(text)
    if semi >= 0:
        marker = text[semi + 1 :].strip()
    start, end = _strip_span(text, pos, spec_end)
    if start < end and text[start] == "(" and text[end - 1] == ")":
        start, end = _strip_span(text, start + 1, end - 1)
    if start == end:
        start = end = insert_at
    return RequirementParts(match.group(), name_start, extras, text[start:end], start, end, marker, None)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _marker_after_url(text: str, pos: int) -> str | None:
    # in "name @ url ; marker" the marker starts after the first ';' preceded by whitespace
    match = re.search(r"\s;", text[pos:])
    return text[pos + match.end() :].strip() if match else None
