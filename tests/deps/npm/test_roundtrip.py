"""Round trip on real-world package.json files and on generated ones.

No edit gives identical bytes; changing one constraint changes exactly that span, and parsing the result
shows only that change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.deps.model import Dependency
from bot.deps.npm.edit import apply_edits
from bot.deps.npm.jsonspan import decode_string
from bot.deps.npm.manifest import parse_package_json

FIXTURES = Path(__file__).parents[2] / "fixtures" / "manifests" / "npm"
REAL_FILES = sorted(p.name for p in FIXTURES.glob("*package.json"))


def test_enough_real_files() -> None:
    assert len(REAL_FILES) >= 15


def _new_value(dep: Dependency) -> str:
    return "^99.1.0" if dep.constraint != "^99.1.0" else "~98.0.0"


def _signature(dep: Dependency) -> tuple[object, ...]:
    return (dep.name, dep.key, dep.constraint, dep.role, dep.location.section, dep.location.line, dep.skip_reason)


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_round_trip(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    text = raw.decode("utf-8")
    manifest = parse_package_json(name, text)
    assert manifest.problems == ()
    assert manifest.dependencies
    assert apply_edits(text, []).encode("utf-8") == raw
    before = [_signature(d) for d in manifest.dependencies]
    for index, dep in enumerate(manifest.dependencies):
        if dep.skip_reason is not None:
            continue
        new = _new_value(dep)
        result = apply_edits(text, [(dep, new)])
        start, end = dep.location.start, dep.location.end
        assert result == text[:start] + new + text[end:]
        assert (
            result.encode("utf-8") == raw[: len(text[:start].encode())] + new.encode() + raw[len(text[:end].encode()) :]
        )
        reparsed = parse_package_json(name, result)
        assert reparsed.problems == ()
        after = [_signature(d) for d in reparsed.dependencies]
        expected = list(before)
        expected[index] = (*before[index][:2], new, *before[index][3:])
        assert after == expected
        assert decode_string(result[start : start + len(new)]) == new


def test_crlf_file_keeps_crlf() -> None:
    raw = (FIXTURES / "derived-crlf__lodash__lodash__package.json").read_bytes()
    text = raw.decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    manifest = parse_package_json("package.json", text)
    webpack = next(d for d in manifest.dependencies if d.name == "webpack")
    assert webpack.location.line == 53
    result = apply_edits(text, [(webpack, "^5.0.0")])
    assert result.count("\r\n") == text.count("\r\n")
    assert "\n" not in result.replace("\r\n", "")


# Generated package.json texts: random names, values, key order, indentation and separators.
_NAME = st.from_regex(r"(@[a-z][a-z0-9-]{0,6}/)?[a-z][a-z0-9._-]{0,10}", fullmatch=True)
_VALUE = st.one_of(
    st.sampled_from(["^1.2.3", "~0.1.0", "1.x", "*", "", ">= 1 < 2", "1.2.3 - 2", "latest", "file:../x", "u/r"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
)
_SECTION = st.dictionaries(_NAME, _VALUE, max_size=5)
_DOC = st.fixed_dictionaries(
    {},
    optional={
        "name": _NAME,
        "dependencies": _SECTION,
        "devDependencies": _SECTION,
        "peerDependencies": _SECTION,
        "optionalDependencies": _SECTION,
        "scripts": st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
        "version": st.just("1.0.0"),
    },
)


@st.composite
def _rendered(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    doc = draw(_DOC)
    keys = draw(st.permutations(list(doc)))
    indent = draw(st.sampled_from(["", "  ", "    ", "\t", " "]))
    newline = draw(st.sampled_from(["\n", "\r\n"])) if indent else ""
    colon = draw(st.sampled_from([":", ": ", " : ", ":\t"]))
    ascii_only = draw(st.booleans())

    def dump(value: Any, depth: int) -> str:
        if not isinstance(value, dict):
            return json.dumps(value, ensure_ascii=ascii_only)
        if not value:
            return "{}"
        pad, inner = indent * depth, indent * (depth + 1)
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=ascii_only)}{colon}{dump(v, depth + 1)}" for k, v in value.items()
        ]
        return "{" + newline + ("," + newline).join(items) + newline + pad + "}"

    ordered = {key: doc[key] for key in keys}
    text = dump(ordered, 0) + draw(st.sampled_from(["", "\n", "\r\n"]))
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text, ordered


@settings(max_examples=80, deadline=None)
@given(_rendered(), st.text(max_size=10), st.data())
def test_generated_documents_round_trip(rendered: tuple[str, dict[str, Any]], new: str, data: st.DataObject) -> None:
    text, doc = rendered
    manifest = parse_package_json("package.json", text)
    assert all("npm cannot install it" in p.message for p in manifest.problems)  # random values may be invalid
    expected = [
        (name, value)
        for section, content in doc.items()
        if section.endswith("ependencies")
        for name, value in content.items()
    ]
    got = [(d.name, d.constraint) for d in manifest.dependencies if not d.constraint.startswith("npm:")]
    assert [(n, v) for n, v in expected if not v.startswith("npm:")] == got
    assert apply_edits(text, []) == text
    editable = [d for d in manifest.dependencies if d.skip_reason is None]
    if not editable:
        return
    dep = data.draw(st.sampled_from(editable))
    result = apply_edits(text, [(dep, new)])
    start, end = dep.location.start, dep.location.end
    assert result[:start] == text[:start]
    assert result[len(result) - (len(text) - end) :] == text[end:]
    changed = json.loads(result.lstrip("\ufeff"))
    original = json.loads(text.lstrip("\ufeff"))
    original[dep.location.section][dep.name] = new if dep.key == dep.name else f"npm:{dep.key}@{new}"
    assert changed == original
