"""Rewriting an npm range so that it admits a chosen version, per range strategy.

``rewrite_range(current, new_version, strategy)`` returns the new text, or None to keep the range as written.
Ranges are read as npm reads package.json values (loose mode). The text is edited token by token, so
operators, ``v``/``=`` prefixes, spacing and x-range style (``1.x``, ``1.2.*``) survive.

Rules, with why:

- ``pin``: the exact version. What pinning means; None when already that exact text.
- ``bump`` (keep the operator, raise the floor): ``^16.8.0`` -> ``^16.14.0``, ``~4.17.15`` -> ``~4.17.21``,
  ``>=1.2.3`` -> ``>=1.5.0``, exact ``4.17.1`` -> ``4.21.2``, ``^1`` -> ``^1.5.0`` (an operator's floor is
  always written in full, as Renovate does); a major keeps the chosen version as floor:
  ``^16.8.0`` -> ``^19.2.0``. Renovate writes ``^19.0.0`` there; we do not, because 19.0.0 to 19.1.x were
  never the version depup tested and proposed, and a floor below it would let a fresh install (or a
  consumer of a library) resolve to an older, untested release. ``>X`` becomes ``>=new`` (``>new`` would
  exclude the version itself). Upper bounds (``<2``, ``<=1.5``) are kept when they still admit the version,
  else raised to the version's next step at the precision written (``<2`` -> ``<4`` for 3.1.0). X-ranges
  keep their precision and style: ``1.x`` -> ``2.x``, None while ``1.x`` still admits the version (a floor
  cannot be raised without inventing precision the maintainer did not write). Hyphen ranges raise the low
  end to the version and the high end only when needed. In a ``||`` union only the alternative that admits
  the version is bumped, or the last one when none does (unions are written oldest first).
- ``widen`` (keep what is allowed, add the new version): None when the range already admits it. A range
  ending in an upper bound gets that bound raised (``>=1 <2`` -> ``>=1 <4``; ``1 - 2`` -> ``1 - 3``) when that
  is enough; otherwise an alternative for the version's release line is appended: ``^1.2.0`` ->
  ``^1.2.0 || ^2.0.0`` (``^0.M.0`` for 0.x, ``~N.M.0`` for tildes, ``N.x`` for x-ranges, the full version
  for a prerelease, which no ``^N.0.0`` admits, and for a version below the floor). An exact pin is
  replaced (widening a pin would not keep it a pin), as Renovate does.
- ``lockfile-only``: None when the range admits the version (only the lockfile changes); otherwise a
  lockfile-only update cannot reach it and the ``bump`` rule applies (Renovate's update-lockfile falls back
  the same way).
- ``*``, ``x``, ``""`` (any version) are only ever rewritten by ``pin``.

Every result is checked with node's semantics (``satisfies``); a form this module cannot rewrite so that
it admits the version raises ``RangeRewriteError`` rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from bot.deps.npm.semver import SemVer, parse, satisfies, valid_range
from bot.errors import DepupError

Strategy = Literal["pin", "bump", "widen", "lockfile-only"]


class RangeRewriteError(DepupError):
    """The range cannot be rewritten to admit the version with this strategy."""


_OPERATORS = ("^", "~>", "~", ">=", "<=", ">", "<", "=")
_UNION = re.compile(r"\s*\|\|\s*")
_HYPHEN = re.compile(r"(?P<lo>\S+)(?P<sep>\s+-\s+)(?P<hi>\S+)\Z")
_PART = r"(?:0|[1-9][0-9]*|[xX*])"
_TOKEN = re.compile(
    rf"(?P<op>\^|~>|~|>=|<=|>|<|=)?(?P<ws>\s*)(?P<prefix>[v=]?)"
    rf"(?P<major>{_PART})(?:\.(?P<minor>{_PART}))?(?:\.(?P<patch>{_PART}))?"
    r"(?P<pre>-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?P<build>\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z"
)


@dataclass(frozen=True)
class _Token:
    op: str
    ws: str
    prefix: str
    parts: tuple[str, ...]  # as written, 1 to 3 items, may contain x/X/*
    pre: str
    build: str

    @property
    def precision(self) -> int:
        """How many leading numeric parts are written (``1.x`` -> 1, ``*`` -> 0)."""
        count = 0
        for part in self.parts:
            if not part.isdigit():
                break
            count += 1
        return count

    @property
    def is_any(self) -> bool:
        return self.precision == 0 and self.op in ("", "=", ">=", "<=")

    @property
    def is_exact(self) -> bool:
        return self.op in ("", "=") and self.precision == 3

    @property
    def is_x_range(self) -> bool:
        return self.op in ("", "=") and 0 < self.precision < 3

    def render(self) -> str:
        return f"{self.op}{self.ws}{self.prefix}{'.'.join(self.parts)}{self.pre}{self.build}"

    def with_version(self, version: SemVer, precision: int | None = None) -> _Token:
        """This token naming ``version``, at the written precision (x-parts kept) or the full version."""
        keep = self.precision if precision is None else precision
        if keep >= 3 or version.prerelease:
            numbers: tuple[str, ...] = (str(version.major), str(version.minor), str(version.patch))
            pre = "-" + ".".join(str(p) for p in version.prerelease) if version.prerelease else ""
            return replace(self, parts=numbers, pre=pre, build="")
        numbers = (str(version.major), str(version.minor))[:keep]
        return replace(self, parts=numbers + self.parts[keep:], pre="", build="")


def _parse_token(text: str) -> _Token:
    match = _TOKEN.match(text)
    if match is None:
        raise RangeRewriteError(f"cannot read {text!r} as a range comparator")
    parts = tuple(p for p in (match["major"], match["minor"], match["patch"]) if p is not None)
    return _Token(match["op"] or "", match["ws"], match["prefix"], parts, match["pre"] or "", match["build"] or "")


@dataclass(frozen=True)
class _Alternative:
    """One ``||`` alternative: either a hyphen range or space-separated comparators (with their spacing)."""

    tokens: tuple[_Token, ...]
    spaces: tuple[str, ...]  # spaces[i] follows tokens[i]
    hyphen: str | None = None  # the " - " separator for a hyphen range (then tokens == (low, high))

    def render(self) -> str:
        if self.hyphen is not None:
            return self.tokens[0].render() + self.hyphen + self.tokens[1].render()
        return "".join(t.render() + s for t, s in zip(self.tokens, self.spaces, strict=True))

    @property
    def is_any(self) -> bool:
        return self.hyphen is None and all(t.is_any for t in self.tokens)


def _parse_alternative(text: str) -> _Alternative:
    hyphen = _HYPHEN.match(text)
    if hyphen is not None:
        return _Alternative((_parse_token(hyphen["lo"]), _parse_token(hyphen["hi"])), ("", ""), hyphen["sep"])
    if not text:
        return _Alternative((), ())
    pieces = re.split(r"(\s+)", text)
    words, gaps = pieces[0::2], [*pieces[1::2], ""]
    tokens: list[_Token] = []
    spaces: list[str] = []
    index = 0
    while index < len(words):
        word, gap = words[index], gaps[index]
        if word in _OPERATORS and index + 1 < len(words):  # "> = 1" is not npm; ">= 1.2.3" is
            word, gap = word + gap + words[index + 1], gaps[index + 1]
            index += 1
        tokens.append(_parse_token(word))
        spaces.append(gap)
        index += 1
    return _Alternative(tuple(tokens), tuple(spaces))


@dataclass(frozen=True)
class _Range:
    lead: str
    alternatives: tuple[_Alternative, ...]
    separators: tuple[str, ...]  # separators[i] sits between alternatives i and i+1
    trail: str

    def render(self) -> str:
        body = self.alternatives[0].render()
        for separator, alternative in zip(self.separators, self.alternatives[1:], strict=True):
            body += separator + alternative.render()
        return self.lead + body + self.trail


def _parse_range(text: str) -> _Range:
    stripped = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    pieces = _UNION.split(stripped)
    separators = tuple(_UNION.findall(stripped))
    return _Range(lead, tuple(_parse_alternative(p) for p in pieces), separators, trail)


def rewrite_range(current: str, new_version: str, strategy: Strategy) -> str | None:
    """The range to write so that ``new_version`` is admitted under ``strategy``; None = keep ``current``.

    Raises ``RangeRewriteError`` when ``current`` is not an npm range, ``new_version`` is not a version,
    or the range has a form this module cannot rewrite safely.
    """
    try:
        version = parse(new_version, loose=True)
    except ValueError as exc:
        raise RangeRewriteError(f"{new_version!r} is not a version") from exc
    if valid_range(current, loose=True) is None:
        raise RangeRewriteError(f"{current!r} is not a version range")
    admitted = satisfies(version.version, current, loose=True)
    if strategy == "pin":
        result = version.version
    elif strategy in ("widen", "lockfile-only") and admitted:
        return None
    else:
        parsed = _parse_range(current)
        if all(alternative.is_any for alternative in parsed.alternatives):
            return None
        result = (_widen if strategy == "widen" else _bump)(parsed, version).render()
    if result == current:
        return None
    if not satisfies(version.version, result, loose=True):
        raise RangeRewriteError(f"cannot rewrite {current!r} to admit {version.version} ({strategy})")
    return result


def _bump(parsed: _Range, version: SemVer) -> _Range:
    target = len(parsed.alternatives) - 1
    for index, alternative in enumerate(parsed.alternatives):
        if satisfies(version.version, alternative.render(), loose=True):
            target = index
            break
    alternatives = list(parsed.alternatives)
    alternatives[target] = _bump_alternative(alternatives[target], version)
    return replace(parsed, alternatives=tuple(alternatives))


def _bump_alternative(alternative: _Alternative, version: SemVer) -> _Alternative:
    if alternative.hyphen is not None:
        low, high = alternative.tokens
        return replace(alternative, tokens=(low.with_version(version, 3), _raise_high_end(high, version)))
    return replace(alternative, tokens=tuple(_bump_token(token, version) for token in alternative.tokens))


def _bump_token(token: _Token, version: SemVer) -> _Token:
    if token.is_any:
        return token
    if token.op in ("<", "<="):
        return token if satisfies(version.version, token.render(), loose=True) else _raise_bound(token, version)
    if token.op == ">":
        return replace(token.with_version(version, 3), op=">=")
    if token.is_x_range:
        return token if satisfies(version.version, token.render(), loose=True) else token.with_version(version)
    return token.with_version(version, 3)


def _raise_high_end(high: _Token, version: SemVer) -> _Token:
    """The high end of a hyphen range (inclusive, x-parts meaning "any"), raised only when needed."""
    if satisfies(version.version, f"<={high.render()}", loose=True):
        return high
    return high.with_version(version)


def _raise_bound(token: _Token, version: SemVer) -> _Token:
    """An upper bound moved just past ``version``, written at the bound's own precision.

    ``<=1.5`` -> ``<=1.7`` (for 1.7.2); ``<2`` -> ``<4`` and ``<2.0.0`` -> ``<4.0.0`` (for 3.1.0: "below the
    next major" keeps that meaning); ``<1.5.0`` -> ``<1.8.0`` (next minor); ``<1.2.4`` -> ``<1.7.3``.
    """
    if token.op == "<=":
        return token.with_version(version)
    written = token.precision
    step = written
    if written == 3 and not token.pre:
        step = 1 if token.parts[1:] == ("0", "0") else 2 if token.parts[2] == "0" else 3
    if step == 1:
        bound = SemVer(version.major + 1, 0, 0)
    elif step == 2:
        bound = SemVer(version.major, version.minor + 1, 0)
    else:
        bound = SemVer(version.major, version.minor, version.patch + 1)
    return token.with_version(bound, written)


def _widen(parsed: _Range, version: SemVer) -> _Range:
    last = parsed.alternatives[-1]
    if len(parsed.alternatives) == 1 and len(last.tokens) == 1 and last.tokens[0].is_exact:
        return replace(parsed, alternatives=(replace(last, tokens=(last.tokens[0].with_version(version, 3),)),))
    raised: _Alternative | None = None
    if last.hyphen is not None:
        low, high = last.tokens
        raised = replace(last, tokens=(low, _raise_high_end(high, version)))
    elif last.tokens and last.tokens[-1].op in ("<", "<="):
        raised = replace(last, tokens=(*last.tokens[:-1], _raise_bound(last.tokens[-1], version)))
    if raised is not None and satisfies(version.version, raised.render(), loose=True):
        return replace(parsed, alternatives=(*parsed.alternatives[:-1], raised))
    # Nothing to raise, or raising is not enough (a version below the floor, a prerelease): add an alternative.
    separator = parsed.separators[-1] if parsed.separators else " || "
    line = _release_line(last.tokens[0] if last.tokens else _parse_token("*"), version)
    return replace(
        parsed,
        alternatives=(*parsed.alternatives, _Alternative((line,), ("",))),
        separators=(*parsed.separators, separator),
    )


def _release_line(model: _Token, version: SemVer) -> _Token:
    """An alternative admitting ``version``'s release line, in the style of ``model``."""
    plain = replace(model, ws="" if model.op in ("", "=") else model.ws)
    if version.prerelease:
        keep = plain.op in ("^", "~", "~>", "=")
        return replace(plain.with_version(version, 3), op=plain.op if keep else "", ws=plain.ws if keep else "")
    if model.is_x_range:
        return plain.with_version(version)
    if model.op in ("~", "~>"):
        return plain.with_version(SemVer(version.major, version.minor, 0), 3)
    if model.op == "^":
        if version.major:
            floor = SemVer(version.major, 0, 0)
        elif version.minor:
            floor = SemVer(0, version.minor, 0)
        else:
            floor = SemVer(0, 0, version.patch)
        return plain.with_version(floor, 3)
    if model.op in (">", ">=", "<", "<="):
        return replace(plain.with_version(version, 3), op="", ws="")
    return plain.with_version(version, 3)
