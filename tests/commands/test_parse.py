"""The ``/depup`` parser: the grammar, what is not a command, and a property test over random bodies."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.parse import MAX_COMMANDS, SPECS, Command, Invalid, parse, signatures


def commands(body: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.name, c.args) for c in parse(body) if isinstance(c, Command)]


def problems(body: str) -> list[str]:
    return [c.problem for c in parse(body) if isinstance(c, Invalid)]


def test_every_command_with_its_arguments() -> None:
    body = "\n".join(
        [
            "/depup approve",
            "/depup rollback",
            "/depup rollback requests",
            "/depup help",
            "/depup pause",
            "/depup resume",
            "/depup ignore flask",
            "/depup ignore @types/node major",
            "/depup ignore Django minor",
        ]
    )
    assert commands(body) == [
        ("approve", ()),
        ("rollback", ()),
        ("rollback", ("requests",)),
        ("help", ()),
        ("pause", ()),
        ("resume", ()),
        ("ignore", ("flask",)),
        ("ignore", ("@types/node", "major")),
        ("ignore", ("Django", "minor")),
    ]
    more = "/depup ignore lodash 4.17.21\n/depup unignore lodash\n/depup rebase\n/depup recreate\n"
    more += "/depup split\n/depup plan"
    assert commands(more) == [
        ("ignore", ("lodash", "4.17.21")),
        ("unignore", ("lodash",)),
        ("rebase", ()),
        ("recreate", ()),
        ("split", ()),
        ("plan", ()),
    ]
    assert set(SPECS) == {"approve", "rollback", "help", "pause", "resume", "ignore", "unignore", "rebase",
                          "recreate", "split", "plan"}  # fmt: skip


def test_case_spacing_and_punctuation() -> None:
    assert commands("/DEPUP Approve") == [("approve", ())]
    assert commands("   /depup   approve   ") == [("approve", ())]
    assert commands("/depup approve.") == [("approve", ())]
    assert commands("/depup approve !") == [("approve", ())]


def test_arguments_are_checked() -> None:
    assert problems("/depup approve now") == ["`/depup approve` takes no arguments"]
    assert problems("/depup ignore") == ["`/depup ignore` takes `/depup ignore <package> [major|minor|<version>]`"]
    assert problems("/depup ignore a b c") == [
        "`/depup ignore` takes `/depup ignore <package> [major|minor|<version>]`"
    ]
    assert problems("/depup ignore flask banana") == ["`banana` is neither `major`, `minor` nor a version"]
    assert problems("/depup unignore ../etc") == ["`../etc` is not a package name"]
    assert problems("/depup rollback $(rm)") == ["`$(rm)` is not a package name"]
    assert problems("/depup frobnicate") == ["`frobnicate` is not a depup command"]
    assert problems("/depup") == ["a command is missing after `/depup`"]


def test_what_is_not_a_command() -> None:
    body = """\
Please don't /depup approve this yet.
> /depup approve
>/depup pause
```
/depup pause
```
~~~~
/depup pause
~~~~
    /depup pause
\t/depup pause
<!-- /depup pause -->
<!--
/depup pause
-->
`/depup pause`
/depupx approve
/depup-approve
"""
    assert parse(body) == ()


def test_several_commands_in_order_and_a_cap() -> None:
    body = "/depup approve\nThanks\n/depup ignore flask\n```\n/depup pause\n```\n/depup plan"
    assert [c.name for c in parse(body) if isinstance(c, Command)] == ["approve", "ignore", "plan"]
    many = parse("\n".join(["/depup help"] * 15))
    assert len(many) == MAX_COMMANDS + 1 and isinstance(many[-1], Invalid)
    assert signatures(parse("/depup approve\n/depup APPROVE\n/depup ignore Flask")) == [
        "approve#1",
        "approve#2",
        "ignore flask#1",
    ]


def test_a_comment_after_an_html_comment_on_the_same_line() -> None:
    assert commands("<!-- note --> /depup approve") == [("approve", ())]
    assert commands("<!-- a --> x <!-- b\n/depup approve\n-->") == []


_WORDS = st.sampled_from(
    ["/depup", "/DEPUP", "approve", "pause", "ignore", "flask", "major", "```", "~~~", ">", "<!--", "-->", "`",
     "    ", "\t", "\n", " ", "/depupx", "rollback", "help", "1.2.3", "@scope/pkg", "plan"]
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(max_size=400), st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=60).map("".join)))
def test_random_bodies_never_crash_and_never_invent_a_command(body: str) -> None:
    parsed = parse(body)
    assert len(parsed) <= MAX_COMMANDS + 1
    lines = body[:65_536].splitlines()
    for item in parsed:
        # Every command comes from a line of the body that literally says it, outside quotes and code.
        line = lines[item.line - 1]
        assert item.text.lower() in line.lower()
        visible = re.sub(r"<!--.*?(-->|$)", "", line)
        assert re.match(r"^ {0,3}/depup(\s|$)", visible, re.IGNORECASE) or "-->" in line
        assert not line.lstrip(" ").startswith(">")
        if isinstance(item, Command):
            words = item.text.split()
            assert words[0].lower() == "/depup" and words[1].lower().rstrip(".!") == item.name
            assert all(arg in words for arg in item.args)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=60).map("".join))
def test_quoted_or_fenced_text_is_never_a_command(body: str) -> None:
    assert parse("\n".join("> " + line for line in body.splitlines())) == ()
    if not any(line.strip().startswith("```") for line in body.splitlines()):
        assert parse("```\n" + body + "\n```") == ()
