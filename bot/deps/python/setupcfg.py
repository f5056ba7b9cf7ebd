"""``setup.cfg``: ``[options] install_requires`` / ``setup_requires`` / ``tests_require`` and
``[options.extras_require]``.

configparser drops positions, so the file is scanned here with configparser's own rules as setuptools uses
them: ``[section]`` headers, ``key = value`` or ``key: value``, continuation lines indented deeper than their
key, whole-line comments (``#`` or ``;``) skipped even inside a value, no inline comments. As in setuptools, a
value written over several lines has one requirement per line (``; marker`` allowed); a one-line value is a
``;``-separated list, so ``install_requires = foo; python_version < "3"`` is read as two items and the marker
half is reported as a Problem (setuptools reads it the same way). ``file:`` values are not followed here.

Roles: install_requires -> RUNTIME, setup_requires -> BUILD, tests_require -> DEV, extras -> OPTIONAL, or DEV
when the extra's name is dev/test/docs/lint/typing/... (``roles.role_for_extra``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from bot.deps.model import Dependency, Ecosystem, Location, Manifest, Problem, Role
from bot.deps.python import skips
from bot.deps.python.pep508 import Pep508Error, split_requirement
from bot.deps.python.roles import role_for_extra
from bot.deps.python.textpos import LineIndex, physical_lines

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]")
_OPTION_ROLES = {"install_requires": Role.RUNTIME, "setup_requires": Role.BUILD, "tests_require": Role.DEV}


@dataclass(frozen=True)
class _Chunk:
    text: str
    start: int  # offset of text[0] in the file
    line: int


@dataclass
class _Option:
    section: str
    key: str
    first: _Chunk  # the part after the delimiter on the key's own line
    more: list[_Chunk] = field(default_factory=list)  # continuation lines (blank ones included)


def parse_setup_cfg(path: str, text: str) -> Manifest:
    """Parse a ``setup.cfg`` into a Manifest (kind ``"setup.cfg"``)."""
    options = _read_options(text)
    index = LineIndex(text)
    deps: list[Dependency] = []
    problems: list[Problem] = []
    project_name: str | None = None
    requires_python: str | None = None
    for option in options:
        value = option.first.text.strip()
        if option.section == "metadata" and option.key == "name" and value:
            project_name = value
        if option.section != "options" and option.section != "options.extras_require":
            continue
        if option.section == "options" and option.key == "python_requires":
            requires_python = value or None
            continue
        if option.section == "options":
            role = _OPTION_ROLES.get(option.key)
            if role is None:
                continue
            group, section = None, f"options.{option.key}"
        else:
            role, group, section = role_for_extra(option.key), option.key, "options.extras_require"
        if value.startswith("file:"):
            continue
        for item in _items(option):
            _add(path, text, index, item, role, group, section, project_name, deps, problems)
    return Manifest(
        path=path,
        ecosystem=Ecosystem.PYTHON,
        kind="setup.cfg",
        dependencies=tuple(deps),
        problems=tuple(problems),
        project_name=project_name,
        requires_python=requires_python,
    )


def _read_options(text: str) -> list[_Option]:
    options: list[_Option] = []
    section: str | None = None
    current: _Option | None = None
    key_indent = 0
    for line in physical_lines(text):
        content = line.content
        stripped = content.strip()
        indent = len(content) - len(content.lstrip())
        if stripped.startswith(("#", ";")):
            continue
        if current is not None and (not stripped or indent > key_indent):
            current.more.append(_Chunk(content, line.start, line.number))
            continue
        if not stripped:
            continue
        current = None
        header = _SECTION.match(stripped)
        if header is not None and indent == 0:
            section = header.group("name").strip()
            continue
        delimiter = _delimiter(content)
        if section is None or delimiter is None:
            continue
        key = content[:delimiter].strip().lower()
        if section.lower() in ("options", "metadata"):
            key = key.replace("-", "_")
        first_start = delimiter + 1
        current = _Option(section.lower() if section.lower().startswith("options") else section, key,
                          _Chunk(content[first_start:], line.start + first_start, line.number))  # fmt: skip
        key_indent = indent
        options.append(current)
    return options


def _delimiter(content: str) -> int | None:
    """Where the ``=`` or ``:`` ending an option's key is (the first one, with a key before it), or None.

    The same as matching ``\\s*(?P<key>[^=:]+?)\\s*[=:]``, in linear time: that regex is quadratic in a long
    run of whitespace on a line without a delimiter."""
    found = [index for index in (content.find("="), content.find(":")) if index >= 0]
    first = min(found) if found else None
    return first if first is not None and first > 0 else None


def _items(option: _Option) -> list[_Chunk]:
    """Requirement strings with offsets: one per line for multi-line values, ';'-separated for one-liners."""
    lines = [option.first, *option.more]
    while lines and not lines[-1].text.strip():
        lines.pop()
    if len(lines) > 1:
        chunks = [c for c in lines if c.text.strip() and not c.text.strip().startswith("#")]
    else:
        chunks = []
        first = option.first
        position = 0
        for piece in first.text.split(";"):
            chunks.append(_Chunk(piece, first.start + position, first.line))
            position += len(piece) + 1
    out: list[_Chunk] = []
    for chunk in chunks:
        lead = len(chunk.text) - len(chunk.text.lstrip())
        body = chunk.text.strip()
        if body and not body.startswith("#"):
            out.append(_Chunk(body, chunk.start + lead, chunk.line))
    return out


def _add(
    path: str,
    text: str,
    index: LineIndex,
    item: _Chunk,
    role: Role,
    group: str | None,
    section: str,
    project_name: str | None,
    deps: list[Dependency],
    problems: list[Problem],
) -> None:
    try:
        parts = split_requirement(item.text)
    except Pep508Error as exc:
        line, column = index.position(item.start + exc.offset)
        hint = (
            " (a one-line value is split on ';': put each requirement on its own line)"
            if (_looks_like_marker(item.text))
            else ""
        )
        problems.append(Problem(path, line, column, f"invalid requirement {item.text!r}: {exc.message}{hint}"))
        return
    skip: str | None = None
    if parts.url is not None:
        skip = skips.GIT if parts.url.lower().startswith("git") else skips.URL
    elif project_name and canonicalize_name(parts.name) == canonicalize_name(project_name):
        skip = skips.SELF
    start, end = item.start + parts.constraint_start, item.start + parts.constraint_end
    line, column = index.position(item.start + parts.name_start)
    deps.append(
        Dependency(
            ecosystem=Ecosystem.PYTHON,
            name=parts.name,
            key=canonicalize_name(parts.name),
            constraint=text[start:end],
            role=role,
            location=Location(path, line, column, start, end, section),
            group=group,
            extras=parts.extras,
            marker=parts.marker,
            skip_reason=skip,
        )
    )


def _looks_like_marker(value: str) -> bool:
    return re.match(r"\s*(python_version|python_full_version|sys_platform|platform_|implementation_|os_name|extra)",
                    value) is not None  # fmt: skip
