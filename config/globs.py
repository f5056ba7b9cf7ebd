"""Globs in the config file: package-name globs (``eslint-*``, ``@types/*``) and path globs (``services/**``).

Syntax: ``*`` any run of characters (in a path glob: within one segment), ``?`` one character, ``[abc]`` /
``[!abc]`` / ``[a-z]`` a character class, ``**`` (path globs only, a whole segment, at most two in a glob) any
number of segments. Stars never backtrack into each other (see ``_join``), so matching stays fast for any glob.
A leading ``!`` negates a pattern in a list: a name matches a list when some positive pattern matches it
(or there are only negative ones) and no negative pattern does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

MAX_GLOBSTARS = 2


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
        if segments.count("**") > MAX_GLOBSTARS:  # each one multiplies the time to match a deep path
            raise GlobError(f"at most {MAX_GLOBSTARS} '**' segments in one glob")
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


_STAR = object()  # where a ``*`` was, in the pieces _segment collects


def _segment(text: str, *, path: bool) -> str:
    one = "[^/]" if path else "."
    out: list[str | object] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            while i + 1 < len(text) and text[i + 1] == "*":
                i += 1
            out.append(_STAR)
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
    regex = _join(out, "[^/]*" if path else ".*")
    try:
        re.compile(regex)
    except re.error as e:
        raise GlobError(f"invalid character class ({e.msg})") from None
    return regex


def _join(pieces: list[str | object], star: str) -> str:
    """The regex of a glob's pieces, with each ``*X`` between two stars matched at the first place ``X`` fits and
    never reconsidered (an atomic group), as ``fnmatch.translate`` does since Python 3.9: with plain ``.*``
    for every star, ``*a*a*a*a*a*a*a*a*a*a*b`` took 36 s against a 40-character name (backtracking is exponential
    in the number of stars). The first fit is always right: the part between two stars has a fixed length."""
    regex: list[str] = []
    i = 0
    while i < len(pieces) and pieces[i] is not _STAR:
        regex.append(str(pieces[i]))
        i += 1
    while i < len(pieces):
        i += 1  # past a star
        fixed: list[str] = []
        while i < len(pieces) and pieces[i] is not _STAR:
            fixed.append(str(pieces[i]))
            i += 1
        if i == len(pieces):  # the last star: whatever follows must end the text
            regex.append(star + "".join(fixed))
        else:
            regex.append(f"(?>{star}?{''.join(fixed)})")
    return "".join(regex)


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
