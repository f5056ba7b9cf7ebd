"""Reading a configuration file into plain values that remember where each one was written.

PyYAML's composer gives nodes with marks; the values are built here (not by PyYAML's constructor) so that
every option's path maps to the line and column of its key and of its value, duplicate keys are caught, and
alias expansion is bounded. Problems come back as ``ConfigProblem``s: nothing here raises for bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config.model import ConfigProblem

MAX_BYTES = 256 * 1024  # a configuration file is a few KiB; anything near this is a mistake or an attack
MAX_DEPTH = 40  # nesting of lists and mappings (the schema needs 5)
MAX_VALUES = 20_000  # values after alias expansion: stops "billion laughs" documents

Path = tuple[str | int, ...]

_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


@dataclass(frozen=True, order=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Document:
    """The file's values (mappings, lists, str, int, float, bool, None) and where each was written."""

    value: Any
    keys: dict[Path, Position] = field(default_factory=dict)  # where the key of a mapping entry is
    values: dict[Path, Position] = field(default_factory=dict)  # where a value starts
    unread: set[Path] = field(default_factory=set)  # values with a tag depup does not read: already reported

    def is_unread(self, path: Path) -> bool:
        """Whether ``path`` is, or is inside, a value already reported for its YAML tag."""
        return any(path[: len(bad)] == bad for bad in self.unread)

    def key_at(self, path: Path) -> Position:
        """Where the key naming ``path`` is; for a list item or the root, where the value is."""
        found = self.keys.get(path)
        return found if found is not None else self.value_at(path)

    def value_at(self, path: Path) -> Position:
        """Where the value at ``path`` is, or the nearest enclosing value that was written."""
        while path:
            found = self.values.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.values.get((), Position(1, 1))


def format_path(path: Path) -> str:
    """``("phases", 1, "match")`` -> ``phases[1].match``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "").replace("-", "").isalnum() and part.isascii():
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def first_at(first: Position, here: Position) -> str:
    """Where an earlier occurrence is, as a message says it: its line, and its column when on the same line."""
    return f"line {first.line}" if first.line != here.line else f"line {first.line}, column {first.column}"


def read(text: str | bytes, file: str) -> tuple[Document | None, list[ConfigProblem]]:
    """The document and the problems found reading it. None when the file cannot be read at all (one
    problem says why); an empty file, or one of comments only, is an empty mapping."""
    if len(text) > MAX_BYTES:
        return None, [ConfigProblem(file, 1, 1, "", f"the file is larger than {MAX_BYTES // 1024} KiB")]
    if isinstance(text, bytes):
        decoded = _decode(text, file)
        if isinstance(decoded, ConfigProblem):
            return None, [decoded]
        text = decoded
    text = text.removeprefix("\ufeff")
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # checks the characters
        root = loader.get_single_node()
    except _TooDeep as e:
        return None, [_at(file, e.mark, f"lists and mappings are nested more than {MAX_DEPTH} deep")]
    except yaml.MarkedYAMLError as e:
        return None, [_syntax_problem(e, file)]
    except yaml.reader.ReaderError as e:
        line, column = _line_column(text, e.position)
        character = chr(e.character) if isinstance(e.character, int) else str(e.character)
        return None, [ConfigProblem(file, line, column, "", f"character {character!r} is not allowed in YAML")]
    except yaml.YAMLError as e:  # pragma: no cover - every YAMLError PyYAML raises is one of the above
        return None, [ConfigProblem(file, 1, 1, "", f"YAML error: {e}")]
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        return Document({}, values={(): Position(1, 1)}), []
    builder = _Builder(file)
    try:
        value = builder.build(root, (), 0)
    except _Stop as e:
        return None, [e.problem]
    if value is None:
        value = {}
    return Document(value, builder.keys, builder.values, builder.unread), builder.problems


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark | None) -> None:
        super().__init__()
        self.mark = mark


class _Stop(Exception):
    """Building cannot go on (a cycle, too many values): one problem says why."""

    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """SafeLoader's composer with a nesting limit (PyYAML's composer recurses once per level)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.keys: dict[Path, Position] = {}
        self.values: dict[Path, Position] = {}
        self.problems: list[ConfigProblem] = []
        self.unread: set[Path] = set()
        self._count = 0
        self._active: set[int] = set()  # nodes being built: an alias back into one is a cycle
        self._scalars = yaml.SafeLoader("")  # its constructor converts scalars by their resolved tags

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self._count += 1
        if self._count > MAX_VALUES:
            raise _Stop(self._problem(node, path, f"the file expands to more than {MAX_VALUES} values (aliases?)"))
        if depth > MAX_DEPTH:
            raise _Stop(self._problem(node, path, f"lists and mappings are nested more than {MAX_DEPTH} deep"))
        self.values.setdefault(path, _position(node.start_mark))
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            raise _Stop(self._problem(node, path, "an alias refers to a list or mapping that contains it"))
        with self._building(node):
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    self.problems.append(self._unsupported(node, path))
                return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            if node.tag != _MAP:
                self.problems.append(self._unsupported(node, path))
            return self._mapping(node, path, depth)

    @contextmanager
    def _building(self, node: Node) -> Iterator[None]:
        self._active.add(id(node))
        try:
            yield
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        if node.tag == _TIMESTAMP:
            return node.value  # a date is text to every option
        if node.tag not in _PLAIN_TAGS:
            self.problems.append(self._unsupported(node, path))
            return node.value
        try:
            return self._scalars.construct_object(node)
        except (yaml.YAMLError, ValueError):  # pragma: no cover - the resolver only tags well-formed scalars
            return node.value

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first: dict[str, Position] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(self._problem(key_node, path, "a key must be a plain name, not a list or mapping"))
                continue
            key = str(key_node.value)
            where = _position(key_node.start_mark)
            if key in first:
                message = f"duplicate key {key!r}, first at {first_at(first[key], where)}"
                self.problems.append(ConfigProblem(self.file, where.line, where.column, format_path(path), message))
                continue
            first[key] = where
            child = (*path, key)
            self.keys.setdefault(child, where)
            if isinstance(value_node, ScalarNode) and value_node.value == "" and value_node.style is None:
                self.values.setdefault(child, where)  # "key:" with nothing after: point at the key
            result[key] = self.build(value_node, child, depth + 1)
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self.problems.append(self._problem(source, path, "'<<' merges a mapping or a list of mappings"))
                    continue
                for key, value in self.build(source, path, depth + 1).items():
                    result.setdefault(key, value)
        return result

    def _unsupported(self, node: Node, path: Path) -> ConfigProblem:
        self.unread.add(path)
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        return self._problem(node, path, f"unsupported YAML tag {tag!r}: depup reads plain values, lists and mappings")

    def _problem(self, node: Node, path: Path, message: str) -> ConfigProblem:
        return _at(self.file, node.start_mark, message, format_path(path))


def _position(mark: yaml.Mark | None) -> Position:
    return Position(mark.line + 1, mark.column + 1) if mark is not None else Position(1, 1)


def _at(file: str, mark: yaml.Mark | None, message: str, path: str = "") -> ConfigProblem:
    where = _position(mark)
    return ConfigProblem(file, where.line, where.column, path, message)


def _syntax_problem(error: yaml.MarkedYAMLError, file: str) -> ConfigProblem:
    mark = error.problem_mark or error.context_mark
    message = f"YAML syntax error: {error.problem or error.context or 'unreadable'}"
    if error.problem and "'\\t'" in error.problem:
        message += " (YAML indents with spaces, not tabs)"
    if error.context and error.problem and error.context_mark is not None:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return _at(file, mark, message)


def _decode(data: bytes, file: str) -> str | ConfigProblem:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = len(data[data.rfind(b"\n", 0, e.start) + 1 : e.start].decode("utf-8", "replace")) + 1
        return ConfigProblem(file, line, column, "", f"the file is not UTF-8 text (byte 0x{data[e.start]:02x})")


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1
