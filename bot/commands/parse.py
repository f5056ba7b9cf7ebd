"""The ``/depup`` comment command parser (SPEC §6). Pure: text in, commands out.

A command is a line of its own that starts with ``/depup`` (any case, up to three spaces of indentation, as
Markdown allows before a paragraph). Lines inside fenced or indented code blocks, block quotes and HTML
comments are not commands: quoting someone's ``/depup approve`` in a reply must not approve anything. Several
commands in one comment are returned in order; each is checked against the grammar below, and a line that
does not fit is returned as an ``Invalid`` that says why (the bot answers it with help).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_BODY = 65_536  # GitHub's limit for a comment body
MAX_COMMANDS = 10  # per comment: more is not a maintainer steering a bot
_PREFIX = re.compile(r"^ {0,3}/depup(?=\s|$)(.*)$", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"^ {0,3}>")
_PYTHON_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_NPM_NAME = re.compile(r"^(?:@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*$")
_VERSION = re.compile(r"^[vV]?[0-9][0-9A-Za-z.+!_-]{0,63}$")


@dataclass(frozen=True)
class Spec:
    name: str
    usage: str
    summary: str
    on_pull: bool  # works only on one of depup's pull requests
    changes_state: bool  # needs write access (or the config's allowlist)
    min_args: int = 0
    max_args: int = 0


SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("approve", "/depup approve", "approve this upgrade (counts once per person; a new commit resets)",
             on_pull=True, changes_state=True),
        Spec("rollback", "/depup rollback [package]", "revert this merged upgrade, or only one package of it",
             on_pull=False, changes_state=True, max_args=1),
        Spec("help", "/depup help", "show these commands", on_pull=False, changes_state=False),
        Spec("pause", "/depup pause", "emergency stop: no new pull requests, merges or automatic reverts",
             on_pull=False, changes_state=True),
        Spec("resume", "/depup resume", "undo `/depup pause`", on_pull=False, changes_state=True),
        Spec("ignore", "/depup ignore <package> [major|minor|<version>]",
             "stop proposing a package: all updates, its major updates, its minor and major updates, or one version",
             on_pull=False, changes_state=True, min_args=1, max_args=2),
        Spec("unignore", "/depup unignore <package>", "propose a package again (undoes ignores and rejected versions)",
             on_pull=False, changes_state=True, min_args=1, max_args=1),
        Spec("rebase", "/depup rebase", "rebuild this pull request on the current default branch",
             on_pull=True, changes_state=True),
        Spec("recreate", "/depup recreate", "rebuild this pull request from scratch, discarding others' commits",
             on_pull=True, changes_state=True),
        Spec("split", "/depup split", "split this group in two, to find the package that breaks it",
             on_pull=True, changes_state=True),
        Spec("plan", "/depup plan", "re-plan and refresh the dependency dashboard (a full scan)", on_pull=False,
             changes_state=True),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]
    line: int  # 1-based line of the comment
    text: str  # the line as written, stripped

    @property
    def spec(self) -> Spec:
        return SPECS[self.name]

    @property
    def signature(self) -> str:
        """The command as a normalised string: two comments asking the same thing have the same signature."""
        return " ".join((self.name, *(a.lower() for a in self.args)))


@dataclass(frozen=True)
class Invalid:
    line: int
    text: str
    problem: str


def parse(body: str | None) -> tuple[Command | Invalid, ...]:
    out: list[Command | Invalid] = []
    for number, line in _command_lines((body or "")[:MAX_BODY]):
        if len(out) == MAX_COMMANDS:
            out.append(Invalid(number, line.strip(), f"at most {MAX_COMMANDS} commands are read from one comment"))
            break
        out.append(_command(number, line))
    return tuple(out)


def signatures(items: tuple[Command | Invalid, ...]) -> list[str]:
    """A key per command that stays the same when the comment is edited around it: the normalised command and
    its occurrence number (a second identical command in the same comment is a second key)."""
    seen: dict[str, int] = {}
    keys = []
    for item in items:
        base = item.signature if isinstance(item, Command) else f"invalid {item.text.lower()}"
        seen[base] = seen.get(base, 0) + 1
        keys.append(f"{base}#{seen[base]}")
    return keys


def help_text() -> str:
    rows = [f"- `{s.usage}`: {s.summary}" for s in SPECS.values()]
    return "depup commands (one per line, in a comment):\n\n" + "\n".join(rows)


def _command(number: int, line: str) -> Command | Invalid:
    text = line.strip()
    match = _PREFIX.match(line)
    assert match is not None
    words = match.group(1).split()
    if not words:
        return Invalid(number, text, "a command is missing after `/depup`")
    name = words[0].lower().rstrip(".!")
    spec = SPECS.get(name)
    if spec is None:
        return Invalid(number, text, f"`{_short(words[0])}` is not a depup command")
    args = tuple(words[1:])
    if len(args) == spec.max_args + 1 and args[-1] in (".", "!"):
        args = args[:-1]
    if not spec.min_args <= len(args) <= spec.max_args:
        wanted = "no arguments" if spec.max_args == 0 else f"`{spec.usage}`"
        return Invalid(number, text, f"`/depup {name}` takes {wanted}")
    if name in ("ignore", "unignore", "rollback") and args and not _package(args[0]):
        return Invalid(number, text, f"`{_short(args[0])}` is not a package name")
    scope = args[1] if name == "ignore" and len(args) == 2 else "major"
    if scope.lower() not in ("major", "minor") and not _VERSION.match(scope):
        return Invalid(number, text, f"`{_short(args[1])}` is neither `major`, `minor` nor a version")
    return Command(name, args, number, text)


def _package(word: str) -> bool:
    return len(word) <= 214 and bool(_PYTHON_NAME.match(word) or _NPM_NAME.match(word))


def _short(word: str) -> str:
    word = word.replace("`", "'")
    return word if len(word) <= 40 else word[:40] + "…"


def _command_lines(body: str) -> Iterator[tuple[int, str]]:
    """Lines that may hold a command: outside fenced code blocks, block quotes and HTML comments. (Indented
    code needs four spaces, which a command line may not have.)"""
    fence: str | None = None
    in_comment = False
    for number, raw in enumerate(body.splitlines(), start=1):
        if fence is not None and not in_comment:
            stripped = raw.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            continue
        line, in_comment, was_comment = _without_comments(raw, in_comment)
        if was_comment and not line.strip():
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            continue
        if not _QUOTE.match(line) and _PREFIX.match(line):
            yield number, line


def _without_comments(line: str, in_comment: bool) -> tuple[str, bool, bool]:
    """The line with HTML comments removed, whether a comment is still open at its end, and whether it had one.

    The text ends at the first comment after visible text: a command is read from literal text only, so
    ``/depup <!-- x -->approve`` is ``/depup`` (the comment is no way to build a command out of pieces)."""
    kept: list[str] = []
    had = in_comment
    rest = line
    while rest:
        if in_comment:
            end = rest.find("-->")
            if end < 0:
                return "".join(kept), True, True
            rest, in_comment = rest[end + 3 :], False
        else:
            start = rest.find("<!--")
            if start < 0:
                kept.append(rest)
                break
            kept.append(rest[:start])
            rest, in_comment, had = rest[start + 4 :], True, True
    return _up_to_inner_comment(kept), in_comment, had


def _up_to_inner_comment(pieces: list[str]) -> str:
    """The pieces between comments, joined until one holds visible text: what follows it is behind a comment."""
    text = ""
    for piece in pieces:
        text += piece
        if text.strip():
            break
    return text
