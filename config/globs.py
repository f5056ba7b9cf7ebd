"""Globs in the config file: package-name globs (``eslint-*``, ``@types/*``) and path globs (``services/**``).

Syntax: ``*`` any run of characters (in a path glob: within one segment), ``?`` one character, ``[abc]`` /
``[!abc]`` / ``[a-z]`` a character class, ``**`` (path globs only, a whole segment) any number of segments.
A leading ``!`` negates a pattern in a list: a name matches a list when some positive pattern matches it
(or there are only negative ones) and no negative pattern does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


class GlobError(ValueError):
    """A glob that cannot be used; the message says why."""


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, *, path: bool = False) -> re.Pattern[str]:
    if not pattern:
        raise GlobError("empty pattern")
    if pattern.startswith("!"):
        raise GlobError("'!' only negates a whole pattern of a list")
    if path:
        segments = pattern.strip("/").split("/")
        if any(s != "**" and "**" in s for s in segments):
            raise GlobError("'**' must be a whole path segment, like 'a/**/b'")
        regex = ""
        for index, segment in enumerate(segments):
            first, last = index == 0, index == len(segments) - 1
            if segment == "**":
                regex += ".*" if first and last else "(?:.*/)?" if first else "(?:/.*)?" if last else "/(?:.*/)?"
            else:
                regex += ("" if first or segments[index - 1] == "**" else "/") + _segment(segment, path=True)
    else:
        regex = _segment(pattern, path=False)
    return re.compile(f"(?s:{regex})\\Z")


def _segment(text: str, *, path: bool) -> str:
    star = "[^/]*" if path else ".*"
    one = "[^/]" if path else "."
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            while i + 1 < len(text) and text[i + 1] == "*":
                i += 1
            out.append(star)
        elif char == "?":
            out.append(one)
        elif char == "[":
            end = text.find("]", i + 2 if text[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end == -1:
                raise GlobError(f"'[' at position {i + 1} is never closed")
            body = text[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            if not body:
                raise GlobError(f"empty character class at position {i + 1}")
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        elif char == "]":
            raise GlobError(f"']' at position {i + 1} closes no '['")
        else:
            out.append(re.escape(char))
        i += 1
    regex = "".join(out)
    try:
        re.compile(regex)
    except re.error as e:
        raise GlobError(f"invalid character class ({e.msg})") from None
    return regex


def check_glob(pattern: str, *, path: bool = False) -> str | None:
    """Why ``pattern`` (possibly ``!``-negated) is not a valid glob, or None."""
    try:
        compile_glob(pattern[1:] if pattern.startswith("!") else pattern, path=path)
    except GlobError as e:
        return str(e)
    return None


def glob_matches(patterns: Iterable[str], name: str, *, path: bool = False) -> bool:
    """Whether ``name`` matches the list (positive patterns, ``!`` exclusions). Empty list: nothing matches."""
    positive = negative = has_positive = has_any = False
    for pattern in patterns:
        has_any = True
        if pattern.startswith("!"):
            if compile_glob(pattern[1:], path=path).match(name):
                negative = True
        else:
            has_positive = True
            if not positive and compile_glob(pattern, path=path).match(name):
                positive = True
    if negative:
        return False
    return positive or (has_any and not has_positive)


__all__ = ["GlobError", "check_glob", "compile_glob", "glob_matches"]
