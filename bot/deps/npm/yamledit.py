"""Byte-exact edits of YAML scalars (``pnpm-workspace.yaml``): only the characters of each changed value change.

PyYAML composes the document into nodes that know where they start and end in the text; an edit replaces the
inside of one string scalar (between its quotes, or the whole of a plain scalar), so comments, quotes, key order,
indentation and blank lines stay as they were. The new value keeps the scalar's quoting style when that style can
hold it (a plain scalar that would no longer read back as the same string becomes single-quoted). Every edit is
checked before anything changes (the span still holds what was read, no two edits overlap) and the result is parsed
again: it must be the original document with exactly the edited values changed, else nothing is written.

The pure-Python loader is used: its marks count characters of the decoded text, as ``Location`` offsets do.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from bot.errors import DepupError

Path = tuple[str, ...]


class YamlEditError(DepupError):
    """An edit cannot be applied safely (stale span, overlap, or a result that is not the intended change)."""


@dataclass(frozen=True)
class YamlProblem:
    line: int  # 1-based
    column: int  # 1-based
    message: str


@dataclass(frozen=True)
class Scalar:
    """A string scalar of the document, with where its text is."""

    path: Path  # the mapping keys leading to it
    value: str  # as PyYAML reads it
    start: int  # the whole token (quotes included)
    end: int
    inner_start: int  # the characters of the value (inside the quotes)
    inner_end: int
    style: str | None  # None (plain), "'", '"', "|" or ">"
    line: int  # 1-based, of the key holding it
    column: int
    shared: bool  # reached through a YAML alias as well: editing it would change several places
    exact: bool  # the inner text is the value itself (no escapes, no folding): its offsets map one to one


@dataclass(frozen=True)
class Entry:
    """One ``key: value`` of a mapping: the key as written and where it is, the value node."""

    key: str
    line: int
    column: int
    node: yaml.Node


# Values YAML aliases may add to a document when expanded. pnpm writes none; a configuration reusing a catalog or
# two adds hundreds. Beyond, the file is an alias bomb: readers that walk it (and comparisons of what it loads to)
# would take the expanded size in time, quadratic or exponential in the file's.
MAX_ALIAS_GROWTH = 10_000
ALIAS_BOMB = f"invalid YAML: its aliases expand to more than {MAX_ALIAS_GROWTH:,} values"


def compose(text: str) -> yaml.Node | YamlProblem | None:
    """The document's root node (None for an empty document), or where and why it cannot be read."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None and alias_growth([root]) > MAX_ALIAS_GROWTH:
            return YamlProblem(root.start_mark.line + 1, root.start_mark.column + 1, ALIAS_BOMB)
        return root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return YamlProblem(line, column, f"invalid YAML: {exc.problem or exc.context or 'cannot be parsed'}")
    except yaml.YAMLError as exc:
        return YamlProblem(1, 1, f"invalid YAML: {exc}")
    except RecursionError:
        return YamlProblem(1, 1, "invalid YAML: nested too deeply")


def load(text: str) -> object:
    """The document's data (as ``yaml.safe_load``), raising ``yaml.YAMLError`` or ``RecursionError``."""
    return yaml.load(text, Loader=checked_loader(yaml.SafeLoader))  # noqa: S506 - a SafeLoader subclass


@functools.cache
def checked_loader(base: Any) -> Any:
    """``base`` (a safe loader) raising a ``yaml.YAMLError`` at the value's place for a value its constructor
    cannot build, where PyYAML raises ``ValueError``: a date that does not exist (``2001-13-01``), an integer of
    underscores alone (``0x_``), and an integer too long for Python to print (``0x`` and 4,000 digits, which
    any ``str()`` of it would raise for later)."""

    def checked(construct: Callable[[Any, Any], object]) -> Callable[[Any, Any], object]:
        def build(loader: Any, node: Any) -> object:
            try:
                value = construct(loader, node)
                if isinstance(value, int):
                    str(value)  # raises past sys.get_int_max_str_digits()
            except ValueError as exc:
                message = f"cannot read {str(node.value)[:40]!r}: {exc}"
                raise ConstructorError(None, None, message, node.start_mark) from None
            return value

        return build

    loader: Any = type(f"Checked{base.__name__}", (base,), {})
    loader.add_constructor("tag:yaml.org,2002:int", checked(SafeConstructor.construct_yaml_int))
    loader.add_constructor("tag:yaml.org,2002:timestamp", checked(SafeConstructor.construct_yaml_timestamp))
    return loader


def entries(node: yaml.Node) -> list[Entry]:
    """The entries of a mapping node in file order (every one, duplicates included; [] for a non-mapping)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    found = []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            found.append(Entry(str(key.value), key.start_mark.line + 1, key.start_mark.column + 1, value))
    return found


def effective(node: yaml.Node) -> tuple[list[Entry], list[tuple[Entry, Entry]]]:
    """The entries a YAML reader keeps (the last of each key) and the duplicates (earlier entry, kept entry)."""
    all_entries = entries(node)
    last = {entry.key: entry for entry in all_entries}
    duplicates = [(entry, last[entry.key]) for entry in all_entries if last[entry.key] is not entry]
    return [entry for entry in all_entries if last[entry.key] is entry], duplicates


def scalar(text: str, entry: Entry, path: Path, shared: frozenset[int] = frozenset()) -> Scalar | None:
    """The string scalar an entry's value is, None when it is not a scalar."""
    node = entry.node
    if not isinstance(node, yaml.ScalarNode):
        return None
    start, end = node.start_mark.index, node.end_mark.index
    style = node.style or None
    if style in ("'", '"'):
        inner_start, inner_end = start + 1, end - 1
    else:
        inner_start, inner_end = start, end
    raw = text[inner_start:inner_end]
    exact = style not in ("|", ">") and raw == node.value and "\n" not in raw
    return Scalar(
        path,
        str(node.value),
        start,
        end,
        inner_start,
        inner_end,
        style,
        entry.line,
        entry.column,
        id(node) in shared,
        exact,
    )


def shared_nodes(root: yaml.Node) -> frozenset[int]:
    """Ids of the nodes reached more than once (through aliases): an aliased node and everything inside it
    (a scalar of an aliased mapping is reached through the alias too)."""
    seen: set[int] = set()
    twice: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            inside = [node]
            while inside:  # each node marked once, with all it holds: linear however many aliases
                held = inside.pop()
                if id(held) not in twice:
                    twice.add(id(held))
                    inside.extend(_children(held))
            continue
        seen.add(id(node))
        stack.extend(_children(node))
    return frozenset(twice)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _container(value: object) -> bool:
    return isinstance(value, yaml.MappingNode | yaml.SequenceNode | dict | list)


def _held(value: object) -> list[object]:
    """What a container (a node, or a loaded value) holds."""
    if isinstance(value, yaml.Node):
        return list(_children(value))
    return list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list) else []


def alias_growth(roots: Sequence[object]) -> int:
    """How many more values ``roots`` (composed nodes, or loaded data) hold with each shared container counted
    wherever it is used than with it counted once: 0 without aliases, ``MAX_ALIAS_GROWTH + 1`` or more past the
    limit or for a recursive alias. Linear: each container is sized once (scalars count where they stand, so
    ``true`` written a million times, one object in Python, adds nothing)."""
    cap = MAX_ALIAS_GROWTH + 1
    expanded: dict[int, int] = {}  # container id -> values under it with aliases expanded, itself included
    written = 0  # the same, each container counted once
    for root in (r for r in roots if _container(r)):
        stack: list[tuple[object, bool]] = [(root, False)]
        open_: set[int] = set()  # containers being sized: the ancestors of the one on top
        while stack:
            value, sized = stack.pop()
            if sized:
                open_.discard(id(value))
                held = _held(value)
                inner = [expanded[id(h)] if _container(h) else 1 for h in held]
                expanded[id(value)] = min(1 + sum(inner), 2**62)
                written += 1 + sum(not _container(h) for h in held)  # a container held counts for itself
                continue
            if id(value) in expanded:
                continue
            if id(value) in open_:
                return cap  # an alias inside the node it names: infinite
            open_.add(id(value))
            stack.append((value, True))
            stack.extend((h, False) for h in _held(value) if _container(h))
    total = sum(expanded[id(r)] for r in {id(r): r for r in roots if _container(r)}.values())
    return min(max(total - written, 0), cap)


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` (holding ``old``, part of one string scalar) with ``new``.

    The scalar must be the value of a key ``key_matches`` accepts in the mapping at ``parent``."""

    parent: Path
    key_matches: Callable[[str], bool]
    start: int
    end: int
    old: str
    new: str


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with each edit applied, the quoting of each scalar kept; raises ``YamlEditError``."""
    if not edits:
        return text
    root = compose(text)
    if isinstance(root, YamlProblem) or root is None:
        raise YamlEditError("the YAML file to edit cannot be read")
    try:
        expected = copy.deepcopy(load(text))
    except (yaml.YAMLError, RecursionError) as exc:
        raise YamlEditError(f"the YAML file to edit cannot be read: {exc}") from exc
    scalars = list(_string_scalars(text, root))
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for previous, current in pairwise(ordered):
        if current.start < previous.end or current.start == previous.start:
            raise YamlEditError(f"edits at {previous.start} and {current.start} overlap")
    replacements: list[tuple[int, int, str]] = []
    edited: set[int] = set()  # each edit rewrites its whole scalar: two in one scalar would undo each other
    for edit in ordered:
        found = next((s for s in scalars if s.inner_start <= edit.start <= edit.end <= s.inner_end), None)
        where = ".".join(edit.parent)
        if found is None or found.path[:-1] != edit.parent or not edit.key_matches(found.path[-1]):
            raise YamlEditError(f"the value edited in `{where}` is not where it was read; re-scan")
        if found.start in edited:
            raise YamlEditError(f"`{'.'.join(found.path)}` is edited twice")
        edited.add(found.start)
        if not found.exact or found.shared:
            raise YamlEditError(f"`{'.'.join(found.path)}` is written in a form depup does not edit")
        if text[edit.start : edit.end] != edit.old:
            raise YamlEditError(
                f"`{'.'.join(found.path)}`: the file holds {text[edit.start : edit.end]!r} where {edit.old!r} was read"
            )
        raw = text[found.inner_start : found.inner_end]
        value = raw[: edit.start - found.inner_start] + edit.new + raw[edit.end - found.inner_start :]
        replacements.append(_rendered(found, value))
        _set(expected, found.path, value)
    result = text
    for start, end, written in sorted(replacements, reverse=True):
        result = result[:start] + written + result[end:]
    try:
        if load(result) != expected:
            raise YamlEditError("the edited YAML does not read back as the intended change")
    except (yaml.YAMLError, RecursionError) as exc:
        raise YamlEditError(f"the edited YAML does not parse: {exc}") from exc
    return result


def _rendered(scalar: Scalar, value: str) -> tuple[int, int, str]:
    """The span to replace and what to write there for ``value`` in the style of ``scalar``."""
    if scalar.style == "'":
        return scalar.inner_start, scalar.inner_end, value.replace("'", "''")
    if scalar.style == '"':
        if any(c in value for c in '"\\') or not value.isprintable():
            return scalar.start, scalar.end, _single_quoted(value)
        return scalar.inner_start, scalar.inner_end, value
    if _plain_safe(value):
        return scalar.start, scalar.end, value
    return scalar.start, scalar.end, _single_quoted(value)


def _single_quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _plain_safe(value: str) -> bool:
    """Whether ``value`` reads back as this very string when written as a plain scalar after ``key: ``."""
    if not value or value != value.strip() or "\n" in value or not value.isprintable():
        return False
    try:
        return load(f"k: {value}\n") == {"k": value}
    except (yaml.YAMLError, RecursionError):
        return False


def _string_scalars(text: str, root: yaml.Node) -> Iterator[Scalar]:
    shared = shared_nodes(root)
    stack: list[tuple[yaml.Node, Path]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        kept, _ = effective(node)
        for entry in kept:
            here = (*path, entry.key)
            found = scalar(text, entry, here, shared)
            if found is not None:
                yield found
            else:
                stack.append((entry.node, here))


def _set(document: object, path: Path, value: str) -> None:
    target = document
    for key in path[:-1]:
        if not isinstance(target, dict):
            raise YamlEditError(f"{'.'.join(path)} is not a value of a mapping")
        target = _get(target, key)
    if not isinstance(target, dict):
        raise YamlEditError(f"{'.'.join(path)} is not a value of a mapping")
    target[_key(target, path[-1])] = value


def _get(mapping: dict[object, object], key: str) -> object:
    return mapping[_key(mapping, key)]


def _key(mapping: dict[object, object], key: str) -> object:
    """The key of ``mapping`` written as ``key`` (YAML may read ``1`` or ``true`` as another type)."""
    if key in mapping:
        return key
    for candidate in mapping:
        if str(candidate) == key or (isinstance(candidate, bool) and str(candidate).lower() == key.lower()):
            return candidate
    raise YamlEditError(f"{key!r} is not in the document")
