"""Hypothesis strategies for hostile input: random JSON, and random mutations of real documents and texts.

Mutations copy only along the path they change, so mutating a large recorded document costs little per example.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

# Characters parsers trip over: controls, line breaks of every kind, BOM, quotes, brackets, escapes, wide ones.
SPECIAL_CHARS = [
    "\x00", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\ufeff", "\ud7ff",
    "\U0001f600", " ", "\u00a0", "\u3000", '"', "'", "`", "\\", "/", "#", ";", ":", "=", ",", ".", "*", "!", "~",
    "^", "@", "[", "]", "{", "}", "(", ")", "<", ">", "|", "&", "%", "$", "-", "+", "0", "9",
]  # fmt: skip
# Numbers at the edges of 32/53/64 bits; JSON allows larger ones (1e400) but no JSON reader of depup's takes
# them as numbers, so documents use these and raw texts add the larger ones.
BIG_NUMBERS = [0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64]
FLOATS = [0.0, -0.0, 1e308, -1e308, 5e-324, 1.5, 1e20]


def json_scalars(text_size: int = 20) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.sampled_from(BIG_NUMBERS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=text_size),
        st.sampled_from(["", " ", "0", "1.0.0", "latest", "null", "true", "https://x.invalid/", "\u0000", "é"]),
    )


def json_values(max_leaves: int = 25, text_size: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON value (NaN and infinities excluded: they are not JSON)."""
    return st.recursive(
        json_scalars(text_size),
        lambda children: st.one_of(
            st.lists(children, max_size=6),
            st.dictionaries(st.text(max_size=12), children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def nested(depth: int, leaf: Any = 1) -> Any:
    """``depth`` levels of alternating arrays and objects around ``leaf``."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def nested_text(depth: int, leaf: Any = 1) -> str:
    """The JSON text of ``nested(depth, leaf)``, built as text: serializers refuse the deepest ones."""
    opening = "".join("[" if level % 2 else '{"a":' for level in reversed(range(depth)))
    closing = "".join("]" if level % 2 else "}" for level in range(depth))
    return opening + json.dumps(leaf) + closing


# Depths around the limits that matter: depup's payload limit (64), orjson's writer (254) and reader (1024),
# Python's recursion limit (about 1000 frames, fewer in a deep stack); hypothesis alone rarely draws them.
DEPTHS = [1, 63, 64, 65, 100, 253, 254, 255, 256, 500, 900, 990, 999, 1000, 1023, 1024, 1025, 5000, 100_000]


def deep_json_texts() -> st.SearchStrategy[str]:
    """JSON nested from 1 to 100,000 levels, most often at a depth where some reader or writer stops."""
    depths = st.sampled_from(DEPTHS) | st.integers(min_value=1, max_value=1100)
    return st.builds(nested_text, depths, json_scalars())


def pick(draw: st.DrawFn, items: Sequence[Any]) -> Any:
    """One of ``items``, drawn by index (a sampled_from would print every item in reports)."""
    return items[draw(st.integers(min_value=0, max_value=len(items) - 1))]


def one_of_items(items: Sequence[Any]) -> st.SearchStrategy[Any]:
    """``sampled_from`` whose report shows an index, not the (large) items."""
    return st.integers(min_value=0, max_value=len(items) - 1).map(items.__getitem__)


def text_mutation_pieces(tokens: Sequence[str] = ()) -> st.SearchStrategy[str]:
    pieces: list[st.SearchStrategy[str]] = [
        st.text(max_size=12),
        st.sampled_from(SPECIAL_CHARS),
        st.builds(lambda c, n: c * n, st.sampled_from(SPECIAL_CHARS), st.integers(1, 300)),
    ]
    if tokens:
        pieces.append(st.sampled_from(list(tokens)))
    return st.one_of(*pieces)


@st.composite
def mutated_text(draw: st.DrawFn, bases: Sequence[str], tokens: Sequence[str] = (), max_mutations: int = 6) -> str:
    """One of ``bases`` after a few random edits: insert, delete, replace, duplicate, move or cut a part."""
    text: str = pick(draw, bases)
    pieces = text_mutation_pieces(tokens)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        size = len(text)
        start = draw(st.integers(min_value=0, max_value=size))
        end = draw(st.integers(min_value=start, max_value=min(size, start + draw(st.sampled_from([1, 4, 40, 400])))))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "move", "truncate", "swap-case"]))
        if op == "insert":
            text = text[:start] + draw(pieces) + text[start:]
        elif op == "delete":
            text = text[:start] + text[end:]
        elif op == "replace":
            text = text[:start] + draw(pieces) + text[end:]
        elif op == "duplicate":
            text = text[:end] + text[start:end] * draw(st.integers(1, 50)) + text[end:]
        elif op == "move":
            cut, rest = text[start:end], text[:start] + text[end:]
            at = draw(st.integers(min_value=0, max_value=len(rest)))
            text = rest[:at] + cut + rest[at:]
        elif op == "truncate":
            text = text[:start]
        else:
            text = text[:start] + text[start:end].swapcase() + text[end:]
    return text


def mutated_bytes(bases: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """Byte-level damage: random bytes spliced in (invalid UTF-8 included), parts deleted or cut."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data: bytes = pick(draw, bases)
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            start = draw(st.integers(min_value=0, max_value=len(data)))
            end = draw(st.integers(min_value=start, max_value=min(len(data), start + 64)))
            data = data[:start] + draw(st.binary(max_size=16)) + data[end:]
        return data

    return build()


def _replacement(value: Any) -> st.SearchStrategy[Any]:
    """What a value may become: anything else, or a near miss of its own type."""
    options: list[st.SearchStrategy[Any]] = [json_values(max_leaves=8), json_scalars()]
    if isinstance(value, str):
        options.append(mutated_text([value] if value else [" "], max_mutations=2))
        options.append(st.just(value * 50))
    elif isinstance(value, bool) or value is None:
        options.append(st.sampled_from([0, 1, "true", "", [], {}]))
    elif isinstance(value, int | float):
        options.append(st.sampled_from([*BIG_NUMBERS, *FLOATS, str(value)]))
    elif isinstance(value, list):
        options.append(st.just([value, value]))
        options.append(st.just({str(i): v for i, v in enumerate(value)}))
    elif isinstance(value, dict):
        options.append(st.just(list(value.values())))
        options.append(st.just(nested(40, value)))
    return st.one_of(*options)


def _mutate_once(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value`` with one change somewhere inside it (copying only the containers on the way)."""
    if isinstance(value, dict) and value and depth < 40 and draw(st.integers(0, 4)) > 0:
        key = draw(st.sampled_from(list(value)))
        op = draw(st.sampled_from(["descend", "descend", "descend", "delete", "add", "rename"]))
        changed = dict(value)
        if op == "descend":
            changed[key] = _mutate_once(draw, value[key], depth + 1)
        elif op == "delete":
            del changed[key]
        elif op == "add":
            changed[draw(st.one_of(st.text(max_size=12), st.sampled_from(list(value))))] = draw(json_values(8))
        else:
            changed[draw(st.text(max_size=12))] = changed.pop(key)
        return changed
    if isinstance(value, list) and value and depth < 40 and draw(st.integers(0, 4)) > 0:
        index = draw(st.integers(min_value=0, max_value=len(value) - 1))
        op = draw(st.sampled_from(["descend", "descend", "descend", "delete", "insert", "duplicate"]))
        changed_list = list(value)
        if op == "descend":
            changed_list[index] = _mutate_once(draw, value[index], depth + 1)
        elif op == "delete":
            del changed_list[index]
        elif op == "insert":
            changed_list.insert(index, draw(json_values(8)))
        else:
            changed_list.insert(index, value[index])
        return changed_list
    return draw(_replacement(value))


@st.composite
def mutated_json(draw: st.DrawFn, bases: Sequence[Any], max_mutations: int = 5) -> Any:
    """One of ``bases`` (JSON documents) with a few random changes anywhere inside."""
    document = pick(draw, bases)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        document = _mutate_once(draw, document)
    return document
