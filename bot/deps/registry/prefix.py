"""Where one member of a JSON document's top-level object ends, told from the document's first bytes.

PyPI's JSON API documents start with ``info`` (the project links live there) and then list every file of every
release: a big project's document is 10 MB of which ``info`` is the first few kB. ``MemberEnd`` is fed the body
as it arrives (``Fetcher.get``'s ``enough``) and says when the member is complete, so that the rest is never
downloaded. A document in another member order is simply read to its end (nothing is lost, only time).

The scan jumps over whole strings with one regular expression (a README in ``info.description`` is one match),
and keeps its place between calls: each byte is looked at about once however the body is cut into chunks.
"""

from __future__ import annotations

import re

import orjson

# A whole string, a bracket, or a lone quote: a string whose end has not arrived yet (the first alternative
# failed), where the scan stops until more of the body is there.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]|"')
_SPACE = re.compile(rb"\s*")
_SCALAR_END = re.compile(rb"\s*[,}]")


class MemberEnd:
    """``MemberEnd("info")(body)``: the end offset of the value of the top-level ``"info"`` member once the body
    holds all of it, else None (call again with more of the body). ``value(body)`` is that value, decoded."""

    def __init__(self, member: str) -> None:
        self._key = orjson.dumps(member)
        self._position = 0
        self._depth = 0
        self._start: int | None = None  # where the member's value starts, once its key was seen
        self._end: int | None = None

    def __call__(self, body: bytes | bytearray) -> int | None:
        if self._end is not None:
            return self._end
        if self._start is not None and self._depth == 1:
            return self._scalar(body)
        for match in _TOKEN.finditer(body, self._position):
            token = match.group()
            if token == b'"':
                self._position = match.start()
                return None
            self._position = match.end()
            if token in (b"{", b"["):
                self._depth += 1
            elif token in (b"}", b"]"):
                self._depth -= 1
                if self._start is not None and self._depth == 1:
                    self._end = match.end()
                    return self._end
                if self._depth <= 0:  # the document ended without the member: read on to the end
                    self._position = len(body)
                    return None
            elif self._depth == 1 and self._start is None and token == self._key:
                gap = _SPACE.match(body, match.end())
                after = gap.end() if gap is not None else match.end()
                if after >= len(body):
                    self._position = match.start()  # what follows the key has not arrived yet
                    return None
                if body[after : after + 1] != b":":
                    continue  # the text as a value, not as a key
                value = _SPACE.match(body, after + 1)
                start = value.end() if value is not None else after + 1
                if start >= len(body):
                    self._position = match.start()
                    return None
                self._start = self._position = start
                if body[start : start + 1] not in (b"{", b"["):
                    return self._scalar(body)
        return None

    def value(self, body: bytes | bytearray) -> object:
        """The member's value (``orjson``), once ``self(body)`` gave its end."""
        if self._start is None or self._end is None:
            raise ValueError("the member is not complete")
        return orjson.loads(memoryview(body)[self._start : self._end])

    def _scalar(self, body: bytes | bytearray) -> int | None:
        """A value that is not an object or array (``"info": null``): a whole string, else what comes before
        the next ``,`` or ``}``."""
        assert self._start is not None
        if body[self._start : self._start + 1] == b'"':
            string = _TOKEN.match(body, self._start)
            if string is None or string.group() == b'"':
                return None
            self._end = string.end()
        else:
            end = _SCALAR_END.search(body, self._start)
            if end is None:
                return None
            self._end = end.start()
        return self._end
