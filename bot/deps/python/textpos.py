"""Offsets <-> 1-based line/column, and physical lines with their offsets."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@dataclass(frozen=True)
class PhysicalLine:
    number: int  # 1-based
    start: int  # offset of the first character
    content: str  # the line without its line break


def physical_lines(text: str) -> list[PhysicalLine]:
    """Lines as ``str.splitlines`` cuts them (pip does the same), with the offset where each starts."""
    out: list[PhysicalLine] = []
    offset = 0
    for number, piece in enumerate(text.splitlines(keepends=True), start=1):
        content = piece
        if content.endswith("\r\n"):
            content = content[:-2]
        elif content and content[-1] in _LINE_BREAKS:
            content = content[:-1]
        out.append(PhysicalLine(number, offset, content))
        offset += len(piece)
    return out


class LineIndex:
    """Maps a character offset to its 1-based line and column."""

    def __init__(self, text: str) -> None:
        self._starts = [line.start for line in physical_lines(text)] or [0]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._starts, offset) - 1
        index = max(index, 0)
        return index + 1, offset - self._starts[index] + 1
