"""Typed reads of webhook payloads: missing and null fields read as empty, a wrong type is MalformedPayload."""

from __future__ import annotations

import pytest

from bot.core.payload import Fields, MalformedPayload
from bot.errors import DepupError

PAYLOAD = Fields(
    {
        "pull_request": {"number": 7, "merged": True, "head": {"ref": "depup/x"}, "labels": [{"name": "a"}]},
        "deployment": {"id": 2**63 - 1, "sha": None},
        "commits": [{"added": ["a.txt"], "removed": None}],
        "installation": {"id": "12"},
        "sender": None,
    }
)


def test_present_fields_read_as_their_values() -> None:
    pull = PAYLOAD.obj("pull_request")
    assert pull.number("number") == 7 and pull.flag("merged") is True
    assert pull.obj("head").text("ref") == "depup/x"
    assert [label.text("name") for label in pull.objs("labels")] == ["a"]
    assert PAYLOAD.obj("deployment").number("id") == 2**63 - 1
    assert PAYLOAD.objs("commits")[0].texts("added") == ["a.txt"]
    assert PAYLOAD.obj("installation").identifier("id") == "12"
    assert pull.raw() == PAYLOAD.data["pull_request"] and pull.raw() is not PAYLOAD.data["pull_request"]


def test_missing_and_null_fields_read_as_empty() -> None:
    assert PAYLOAD.obj("sender").text("login") == "" and PAYLOAD.obj("nothing").data == {}
    assert PAYLOAD.obj("deployment").text("sha") == ""
    assert PAYLOAD.objs("nothing") == [] and PAYLOAD.objs("commits")[0].texts("removed") == []
    assert PAYLOAD.number("nothing") is None and PAYLOAD.flag("nothing") is False
    assert PAYLOAD.identifier("nothing") == ""


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: PAYLOAD.obj("commits"), "payload.commits is an array, not an object"),
        (
            lambda: PAYLOAD.obj("pull_request").text("number"),
            "payload.pull_request.number is the number 7, not a string",
        ),
        (
            lambda: PAYLOAD.obj("pull_request").number("merged"),
            "payload.pull_request.merged is a boolean, not a positive",
        ),
        (lambda: PAYLOAD.obj("pull_request").flag("head"), "payload.pull_request.head is an object, not true or false"),
        (lambda: PAYLOAD.obj("pull_request").obj("head").objs("ref"), "payload.pull_request.head.ref is a string"),
        (lambda: Fields({"x": [1]}).objs("x"), "payload.x[0] is the number 1, not an object"),
        (lambda: Fields({"x": ["a", 2]}).texts("x"), "payload.x is an array, not an array of strings"),
        (lambda: Fields({"id": 0}).number("id"), "payload.id is the number 0, not a positive 64-bit integer"),
        (lambda: Fields({"id": 10**30}).number("id"), "payload.id is a number, not a positive 64-bit integer"),
        (lambda: Fields({"id": 1.5}).identifier("id"), "payload.id is the number 1.5, not an id"),
    ],
)
def test_a_field_of_the_wrong_type_is_malformed_and_named(read: object, message: str) -> None:
    with pytest.raises(MalformedPayload) as raised:
        read()  # type: ignore[operator]
    assert str(raised.value).startswith(message)
    assert isinstance(raised.value, DepupError)
