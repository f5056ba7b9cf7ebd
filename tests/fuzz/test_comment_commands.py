"""Fuzzing the ``/depup`` comment parser at scale with the properties of ``tests/commands/test_parse.py``.

Those properties (every command comes from a line that literally says it, outside quotes, fences and HTML
comments; quoted or fenced text is never a command) run here on more and larger bodies, with the markdown
constructs that hide commands mixed in; plus bounds: at most ``MAX_COMMANDS + 1`` results and bounded time for
any body, including ones far past GitHub's 65,536-character limit.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands.parse import MAX_BODY, MAX_COMMANDS, Command, parse, signatures
from tests.commands import test_parse
from tests.fuzz.budget import Budget, bounded, budgets
from tests.fuzz.mutate import mutated_text

# The properties themselves, without their @given (hypothesis keeps the wrapped function as ``inner_test``).
literal_lines = test_parse.test_random_bodies_never_crash_and_never_invent_a_command.hypothesis.inner_test  # type: ignore[attr-defined]
quoted_or_fenced = test_parse.test_quoted_or_fenced_text_is_never_a_command.hypothesis.inner_test  # type: ignore[attr-defined]

PIECES = [
    "/depup", "/DePuP", "/depup ", "/depup\t", " /depup", "   /depup", "    /depup", "approve", "rollback", "help",
    "pause", "resume", "ignore", "unignore", "rebase", "recreate", "split", "plan", "major", "minor", "1.2.3",
    "flask", "@scope/pkg", "react-dom", ".", "!", "```", "~~~", "````", "```python", ">", "> ", ">>", "<!--", "-->",
    "<!-- /depup approve -->", "`", "\n", "\r\n", "\r", "\u2028", "\x85", "\x0b", "\x1c", " ", "\t", "\u00a0",
    "\u3000", "\ufeff", "*", "-", "1.", "#", "|", "\\", "/depupx", "/depup-approve", "x" * 300,
]  # fmt: skip
EXAMPLES = [
    "/depup approve\n",
    "Thanks!\n\n/depup ignore flask major\n/depup rollback requests\n",
    "> /depup approve\n\n```\n/depup pause\n```\n<!-- /depup plan -->\n/depup help",
    "/depup split\n" * 12,
]
bodies = st.one_of(
    st.text(max_size=2_000),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=200).map("".join),
    mutated_text(EXAMPLES, PIECES),
)


def check(body: str) -> None:
    parsed = bounded(lambda: parse(body))
    assert len(parsed) <= MAX_COMMANDS + 1
    keys = signatures(parsed)
    assert len(keys) == len(set(keys)) == len(parsed)
    for item in parsed:
        assert 1 <= item.line <= len(body[:MAX_BODY].splitlines())
        if isinstance(item, Command):
            assert item.spec.name == item.name
    literal_lines(body)


@pytest.mark.parametrize("budget", budgets(quick=150))
def test_comment_bodies(budget: Budget) -> None:
    @budget.settings()
    @given(body=bodies)
    def run(body: str) -> None:
        budget.count()
        check(body)

    budget.run("comments: random and mutated bodies", run)


@pytest.mark.parametrize("budget", budgets(quick=100))
def test_quoted_and_fenced_bodies(budget: Budget) -> None:
    @budget.settings()
    @given(body=st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=80).map("".join))
    def run(body: str) -> None:
        budget.count()
        quoted_or_fenced(body)

    budget.run("comments: quoted and fenced text", run)


@pytest.mark.parametrize(
    "body",
    [
        "<!--" * 30_000,
        "<!---->" * 20_000,
        "/depup approve\n" * 50_000,
        "/depup " + "x " * 100_000,
        "```\n" * 40_000,
        "> " * 60_000 + "/depup approve",
        " " * 1_000_000 + "/depup approve",
        "\n" * 1_000_000,
        ("/depup ignore " + "a" * 300 + "\n") * 300,
    ],
    ids=["open-comments", "comments", "many-commands", "many-words", "fences", "quotes", "spaces", "lines", "long"],
)
def test_hostile_bodies_are_parsed_in_bounded_time(body: str) -> None:
    parsed = bounded(lambda: parse(body))
    assert len(parsed) <= MAX_COMMANDS + 1


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("/DEPUP <!---->0", "/DEPUP"),
        ("/depup <!-- x --> approve", "/depup"),
        ("/depup <!---->approve", "/depup"),
        ("/depup approve <!-- thanks -->", "/depup approve"),
        ("<!-- note --> /depup approve", "/depup approve"),
    ],
)
def test_regression_a_comment_inside_a_command_line_ends_the_command(body: str, text: str) -> None:
    """Found at scale: the comment was removed and the pieces around it joined, so ``/depup <!---->approve``
    read as ``/depup approve``, a command no line of the comment literally says. The text now ends at the first
    comment after visible text."""
    [item] = parse(body)
    assert item.text == text and item.text in body
    literal_lines(body)
