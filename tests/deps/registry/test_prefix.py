"""MemberEnd: where a top-level member's value ends, from the first bytes of a JSON document, however cut."""

from __future__ import annotations

import orjson
import pytest

from bot.deps.registry.prefix import MemberEnd

DOCUMENTS: list[object] = [
    {"info": {"name": 'x"}{[', "urls": [1, {"c": "\\"}]}, "releases": {"1": [{"x": "}"}]}},
    {"releases": {"info": {"nested": 1}}, "info": None, "last": 1},
    {"name": "info", "info": 'he"llo'},
    {"info": 12.5, "x": 2},
    {"info": [], "releases": {}},
    {"info": {"description": "\\" * 9 + '"' + "a" * 5000}},
]


def _fed(body: bytes, step: int) -> tuple[MemberEnd, bytearray, int | None]:
    """Feed ``body`` ``step`` bytes at a time, as chunks arrive, until the member is complete."""
    scanner, seen = MemberEnd("info"), bytearray()
    for start in range(0, len(body), step):
        seen += body[start : start + step]
        if (end := scanner(seen)) is not None:
            return scanner, seen, end
    return scanner, seen, None


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("indent", [False, True])
@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 1 << 20])
def test_the_member_is_found_however_the_body_is_cut(document: object, indent: bool, step: int) -> None:
    body = orjson.dumps(document, option=orjson.OPT_INDENT_2 if indent else 0)
    scanner, seen, end = _fed(body, step)
    assert end is not None
    assert scanner.value(seen) == document["info"]  # type: ignore[index]


def test_the_member_ends_before_what_follows_arrives() -> None:
    body = orjson.dumps({"info": {"home_page": "https://example.org"}, "releases": {"1.0": ["x" * 100_000]}})
    _, seen, end = _fed(body, 1024)
    assert end is not None
    assert len(seen) <= 1024  # the releases were never needed


@pytest.mark.parametrize("document", [{"releases": {"info": {"q": 1}}}, {"name": "info"}, ["info", 1], {}])
def test_a_document_without_the_member_never_ends_it(document: object) -> None:
    scanner, seen, end = _fed(orjson.dumps(document), 3)
    assert end is None
    with pytest.raises(ValueError):
        scanner.value(seen)
