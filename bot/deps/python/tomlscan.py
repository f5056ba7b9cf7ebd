"""Where each string value of a TOML document is written: key path -> span of its content.

tomlkit keeps formatting but no positions, so this small scanner walks the raw text with TOML's grammar
(tables, arrays of tables, dotted and quoted keys, arrays, inline tables, the four string forms, comments) and
records every string value with the path tomlkit would give it, e.g. ``("project", "dependencies", 2)``.
It assumes the document already parsed with tomlkit (callers check that first) and raises
:class:`TomlScanError` on anything it does not understand, never guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PathPart = str | int
TomlPath = tuple[PathPart, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_NEWLINE = re.compile(r"[\r\n]")
_SCALAR = re.compile(r"[^,\]}\r\n#]+")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}


class TomlScanError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


@dataclass(frozen=True)
class TomlString:
    path: TomlPath
    start: int  # offset of the first character inside the quotes
    end: int  # offset just after the last character inside the quotes
    raw: str  # text[start:end]
    value: str  # decoded value (equals raw for literal strings and basic strings without escapes)
    multiline: bool

    @property
    def plain(self) -> bool:
        """Single-line and written exactly as its value: offsets inside the value are offsets in the file."""
        return not self.multiline and self.raw == self.value


@dataclass(frozen=True)
class TomlLayout:
    strings: dict[TomlPath, TomlString]
    keys: dict[TomlPath, int]  # path of a key (or table header) -> offset of its first character
    values: dict[TomlPath, int]  # path of a value (any type) -> offset of its first character


def scan_strings(text: str) -> dict[TomlPath, TomlString]:
    return scan_layout(text).strings


def scan_layout(text: str) -> TomlLayout:
    scanner = _Scanner(text)
    scanner.run()
    return TomlLayout(scanner.strings, scanner.key_offsets, scanner.value_offsets)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.strings: dict[TomlPath, TomlString] = {}
        self.aot_counts: dict[TomlPath, int] = {}
        self.key_offsets: dict[TomlPath, int] = {}
        self.value_offsets: dict[TomlPath, int] = {}
        self.key_starts: list[int] = []

    # -- helpers -------------------------------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def skip_ws(self, newlines: bool = False) -> None:
        text = self.text
        while self.i < len(text):
            ch = text[self.i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.i += 1
            elif ch == "#" and newlines:
                self.skip_comment()
            else:
                return

    def skip_comment(self) -> None:
        end = self.text.find("\n", self.i)
        self.i = len(self.text) if end < 0 else end

    def expect(self, token: str) -> None:
        if not self.text.startswith(token, self.i):
            raise TomlScanError(f"expected {token!r}", self.i)
        self.i += len(token)

    # -- document ------------------------------------------------------------------------------------------
    def run(self) -> dict[TomlPath, TomlString]:
        current: TomlPath = ()
        while True:
            self.skip_ws(newlines=True)
            if self.i >= len(self.text):
                return self.strings
            if self.text.startswith("[[", self.i):
                self.i += 2
                keys = self.keys()
                self.skip_ws()
                self.expect("]]")
                parent = (*self.resolve(keys[:-1]), keys[-1])
                count = self.aot_counts.get(parent, 0)
                self.aot_counts[parent] = count + 1
                current = (*parent, count)
                self.note_keys(self.resolve(keys[:-1]), keys[-1:])
            elif self.peek() == "[":
                self.i += 1
                keys = self.keys()
                self.skip_ws()
                self.expect("]")
                current = self.resolve(keys)
                self.note_keys(self.resolve(keys[:-1]), keys[-1:])
            else:
                keys = self.keys()
                self.skip_ws()
                self.expect("=")
                self.skip_ws()
                self.note_keys(current, keys)
                self.value((*current, *keys))
            self.skip_ws()
            if self.peek() == "#":
                self.skip_comment()
            if self.i < len(self.text) and self.text[self.i] not in "\r\n":
                raise TomlScanError("expected end of line", self.i)

    def resolve(self, keys: tuple[str, ...]) -> TomlPath:
        """A table header names the last element of any array of tables on its way."""
        out: TomlPath = ()
        for key in keys:
            out = (*out, key)
            if out in self.aot_counts:
                out = (*out, self.aot_counts[out] - 1)
        return out

    def note_keys(self, base: TomlPath, keys: tuple[str, ...]) -> None:
        """Remember where each (dotted) key just read starts, the first time its path is seen."""
        starts = self.key_starts[-len(keys) :] if keys else []
        path = base
        for key, start in zip(keys, starts, strict=True):
            path = (*path, key)
            self.key_offsets.setdefault(path, start)

    def keys(self) -> tuple[str, ...]:
        keys: list[str] = []
        self.key_starts = []
        while True:
            self.skip_ws()
            self.key_starts.append(self.i)
            ch = self.peek()
            if ch == '"':
                keys.append(self.basic_string(record=None)[0])
            elif ch == "'":
                keys.append(self.literal_string(record=None)[0])
            else:
                match = _BARE_KEY.match(self.text, self.i)
                if match is None:
                    raise TomlScanError("expected a key", self.i)
                keys.append(match.group())
                self.i = match.end()
            self.skip_ws()
            if self.peek() != ".":
                return tuple(keys)
            self.i += 1

    # -- values --------------------------------------------------------------------------------------------
    def value(self, path: TomlPath) -> None:
        self.value_offsets[path] = self.i
        if self.text.startswith('"""', self.i):
            self.multiline_string('"""', path)
        elif self.text.startswith("'''", self.i):
            self.multiline_string("'''", path)
        elif self.peek() == '"':
            self.basic_string(record=path)
        elif self.peek() == "'":
            self.literal_string(record=path)
        elif self.peek() == "[":
            self.array(path)
        elif self.peek() == "{":
            self.inline_table(path)
        else:
            match = _SCALAR.match(self.text, self.i)
            if match is None or not match.group().strip():
                raise TomlScanError("expected a value", self.i)
            self.i = match.end()

    def array(self, path: TomlPath) -> None:
        self.expect("[")
        index = 0
        while True:
            self.skip_ws(newlines=True)
            if self.peek() == "]":
                self.i += 1
                return
            self.value((*path, index))
            index += 1
            self.skip_ws(newlines=True)
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != "]":
                raise TomlScanError("expected ',' or ']'", self.i)

    def inline_table(self, path: TomlPath) -> None:
        self.expect("{")
        while True:
            self.skip_ws(newlines=True)
            if self.peek() == "}":
                self.i += 1
                return
            keys = self.keys()
            self.skip_ws()
            self.expect("=")
            self.skip_ws()
            self.note_keys(path, keys)
            self.value((*path, *keys))
            self.skip_ws(newlines=True)
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != "}":
                raise TomlScanError("expected ',' or '}'", self.i)

    def record(self, path: TomlPath | None, start: int, end: int, value: str, multiline: bool) -> None:
        if path is not None:
            self.strings[path] = TomlString(path, start, end, self.text[start:end], value, multiline)

    def basic_string(self, record: TomlPath | None) -> tuple[str, int]:
        self.expect('"')
        start = self.i
        out: list[str] = []
        text = self.text
        while True:
            if self.i >= len(text) or text[self.i] in "\r\n":
                raise TomlScanError("unterminated string", start)
            ch = text[self.i]
            if ch == '"':
                break
            if ch == "\\":
                out.append(self.escape())
                continue
            out.append(ch)
            self.i += 1
        value = "".join(out)
        self.record(record, start, self.i, value, False)
        self.i += 1
        return value, start

    def escape(self) -> str:
        text = self.text
        code = text[self.i + 1 : self.i + 2]
        if code in _ESCAPES:
            self.i += 2
            return _ESCAPES[code]
        width = {"u": 4, "U": 8, "x": 2}.get(code)
        if width is None:
            raise TomlScanError("invalid escape", self.i)
        digits = text[self.i + 2 : self.i + 2 + width]
        self.i += 2 + width
        return chr(int(digits, 16))

    def literal_string(self, record: TomlPath | None) -> tuple[str, int]:
        self.expect("'")
        start = self.i
        end = self.text.find("'", start)
        # A newline before the closing quote, looked for up to that quote only: searching on to the end of the
        # line for each string is quadratic in the number of strings on one line.
        if end < 0 or _NEWLINE.search(self.text, start, end) is not None:
            raise TomlScanError("unterminated string", start)
        value = self.text[start:end]
        self.record(record, start, end, value, False)
        self.i = end + 1
        return value, start

    def multiline_string(self, quotes: str, path: TomlPath) -> None:
        self.expect(quotes)
        start = self.i
        text = self.text
        while True:
            if self.i >= len(text):
                raise TomlScanError("unterminated string", start)
            if quotes == '"""' and text[self.i] == "\\":
                self.i += 2
                continue
            if text.startswith(quotes, self.i):
                end = self.i
                while text.startswith(quotes, end + 1) and end + 1 - self.i <= 2:
                    end += 1
                self.record(path, start, end, text[start:end], True)
                self.i = end + len(quotes)
                return
            self.i += 1
