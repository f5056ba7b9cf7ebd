"""How a written constraint changes when a dependency moves to a chosen version.

Strategies (the ``range_strategy`` config option):

* ``pin`` -- always an exact version: ``==X`` (PEP 440; ``===`` kept) or a bare ``X`` (Poetry's exact form).
* ``bump`` -- keep the operators, move them to the new version: ``>=`` floors become the new version
  (``>`` becomes ``>=``), ``~=``/``^``/``~`` keep their number of release segments (``~=1.21.0`` -> ``~=1.26.4``),
  ``==1.2.*`` keeps its prefix length, and an upper bound the new version reaches is raised (rule below).
* ``widen`` -- keep what is allowed today and only extend: ``None`` when the new version is already allowed;
  otherwise upper bounds are raised, ``~=X`` / ``==X.*`` are first spelled as ``>=X,<next``, Poetry ``^``/``~``
  and ``X.*`` get an alternative (``^1.2 || ^2.3``). Exact pins become the new pin.
* ``lockfile-only`` -- ``None`` when the new version is already allowed (only the lockfile moves); otherwise
  the constraint must change and ``bump`` is used.

Upper bounds (``<U``) keep their precision: the segment raised is U's last non-zero one, the result is the next
value of that segment above the new version, padded with zeros to U's length. So ``>=1.3,<1.4`` -> bump to
1.4.54: ``>=1.4.54,<1.5``; widen to 2.0.1: ``>=1.3,<2.1``; ``<0.19.0`` -> ``<0.20.0``; ``<2.0`` -> ``<3.0``.
This matches Renovate's pep440 versioning on the common cases (its widen computes ``<2.1`` for the same input);
Renovate additionally narrows a ``<2.0`` bound to minor precision, which reads as a surprise, so it is not copied.

Every result is checked to admit the new version; when that cannot be done (``!=`` excludes it, an invalid
constraint) :class:`ConstraintRewriteError` is raised. ``None`` always means "keep the constraint as written".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bot.deps.python.errors import ConstraintRewriteError

Strategy = Literal["pin", "bump", "widen", "lockfile-only"]
Style = Literal["pep440", "poetry"]

_CLAUSE = re.compile(r"^(===|~=|==|!=|<=|>=|<|>|\^|~|=)?\s*(\S+)$")
_UNION = re.compile(r"\s*\|\|?\s*")
_SPACE_SEP = re.compile(r"(?<=[0-9a-zA-Z*])\s+(?=[<>=!~^])")


@dataclass(frozen=True)
class _Clause:
    op: str  # "" for a bare version (Poetry exact / wildcard)
    version: str

    @property
    def wildcard(self) -> bool:
        return self.version.endswith(".*")


@dataclass(frozen=True)
class _Form:
    clauses: tuple[_Clause, ...]
    sep: str  # between clauses, as written: ",", ", " or " "
    op_space: str  # between operator and version, as written

    def render(self, clauses: list[_Clause]) -> str:
        return self.sep.join(f"{c.op}{self.op_space if c.op else ''}{c.version}" for c in clauses)


# -- public API -----------------------------------------------------------------------------------------------
def allows(constraint: str, version: str, style: Style = "pep440", *, prereleases: bool = True) -> bool:
    """Whether ``constraint`` admits ``version``.

    ``prereleases`` is passed to packaging explicitly (packaging 26 admits pre-releases by default); it defaults
    to True because the caller has already chosen the version, pre-release policy included.
    """
    try:
        parsed = Version(version)
        return any(spec.contains(parsed, prereleases=prereleases) for spec in _specifier_sets(constraint, style))
    except (InvalidSpecifier, InvalidVersion) as exc:
        raise ConstraintRewriteError(f"cannot evaluate {constraint!r} for {version!r}: {exc}") from exc


@lru_cache(maxsize=4096)
def _specifier_sets(constraint: str, style: Style) -> tuple[SpecifierSet, ...]:
    """The constraint as PEP 440 specifier sets (one per Poetry ``||`` alternative), parsed once per text."""
    return tuple(SpecifierSet(spec) for spec in _as_pep440(constraint, style))


def poetry_as_pep440(constraint: str) -> str | None:
    """A Poetry constraint (``^3.10``, ``~3.9``, ``>=3.8,<3.13``, ``^3.8 || ^4.0``) as one PEP 440 specifier, for
    what reads ``requires-python`` (targets, runtime evidence): a union becomes the lowest floor of its
    alternatives, its upper bounds dropped (one specifier cannot say "or"). None for any Python (``*``) and when
    it cannot be read."""
    if re.fullmatch(r"\s*\d+\.\d+\s*", constraint):  # python = "3.11" is the 3.11 line to Poetry
        return f"=={constraint.strip()}.*"
    try:
        _specifier_sets(constraint, "poetry")  # readable
    except (ConstraintRewriteError, InvalidSpecifier):
        return None
    alternatives = _as_pep440(constraint, "poetry")
    if len(alternatives) == 1:
        return alternatives[0] or None
    floors = [current_version(a.strip(), "poetry") for a in _UNION.split(constraint.strip())]
    if any(f is None for f in floors):
        return None  # an alternative with no floor: any Python
    return f">={min((f for f in floors if f is not None), key=Version)}"


def current_version(constraint: str, style: Style = "pep440") -> str | None:
    """The version a constraint is written against: ``==1.2.3`` -> 1.2.3, ``>=1.3,<1.4`` -> 1.3, ``^1.2`` -> 1.2,
    ``1.2.*`` -> 1.2; None when there is no floor (``*``, ``<2``, unions)."""
    text = constraint.strip()
    if not text or (style == "poetry" and "|" in text):
        return None
    try:
        form = _parse(text, style)
    except ConstraintRewriteError:
        return None
    for op in ("===", "==", "", "~=", "^", "~", ">=", ">"):
        for clause in form.clauses:
            if clause.op == op and clause.version != "*":
                return clause.version[:-2] if clause.wildcard else clause.version
    return None


def rewrite_constraint(current: str, new_version: str, strategy: Strategy, style: Style = "pep440") -> str | None:
    """The constraint to write for ``new_version``, or None to keep ``current`` as it is."""
    try:
        new = Version(new_version)
    except InvalidVersion as exc:
        raise ConstraintRewriteError(f"invalid version {new_version!r}") from exc
    text = current.strip()
    allowed = bool(text) and allows(text, new_version, style)
    if style == "poetry" and "|" in text:
        result = _rewrite_union(text, new_version, strategy, allowed)
    else:
        result = _rewrite_single(text, new_version, new, strategy, style, allowed)
    if result is None or result == current:
        return None
    if not allows(result, new_version, style):
        raise ConstraintRewriteError(f"cannot rewrite {current!r} to admit {new_version} ({strategy})")
    return result


# -- parsing ---------------------------------------------------------------------------------------------------
def _parse(text: str, style: Style) -> _Form:
    if style == "pep440":
        pieces = text.split(",")
        sep = ", " if re.search(r",\s", text) else ","
    else:
        pieces = re.split(r",|" + _SPACE_SEP.pattern, text)
        sep = (", " if re.search(r",\s", text) else ",") if "," in text else " "
    clauses: list[_Clause] = []
    op_space = ""
    for piece in pieces:
        match = _CLAUSE.match(piece.strip())
        if match is None:
            raise ConstraintRewriteError(f"cannot read constraint {text!r}")
        op = match.group(1) or ""
        if (style == "pep440" and op in ("", "^", "~", "=")) or (op == "=" and style == "poetry"):
            raise ConstraintRewriteError(f"cannot read constraint {text!r}")
        if op and piece.strip()[len(op) :][:1].isspace():
            op_space = " "
        clauses.append(_Clause(op, match.group(2)))
    return _Form(tuple(clauses), sep, op_space)


def _as_pep440(constraint: str, style: Style) -> list[str]:
    text = constraint.strip()
    if style == "pep440":
        # Pipfile's forms: "*" is any version, a bare version ("3.*", "1.2") is that version (pipenv adds "==")
        if text == "*":
            return [""]
        return [f"=={text}" if text[:1].isdigit() else text]
    out: list[str] = []
    for alternative in _UNION.split(text):
        if alternative.strip() in ("", "*"):
            out.append("")
            continue
        parts: list[str] = []
        for clause in _parse(alternative.strip(), style).clauses:
            parts.extend(_poetry_clause(clause))
        out.append(",".join(parts))
    return out


def _poetry_clause(clause: _Clause) -> list[str]:
    if clause.version == "*":
        return []
    if clause.op == "^":
        return [f">={clause.version}", f"<{_caret_upper(clause.version)}"]
    if clause.op == "~":
        return [f">={clause.version}", f"<{_tilde_upper(clause.version)}"]
    if clause.op == "":
        return [f"=={clause.version}"]
    return [f"{clause.op}{clause.version}"]


def _release(version: str) -> list[int]:
    return list(Version(version.removesuffix(".*")).release)


def _caret_upper(version: str) -> str:
    release = _release(version)
    index = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
    return _join([*release[:index], release[index] + 1])


def _tilde_upper(version: str) -> str:
    release = _release(version)
    return _join([release[0] + 1]) if len(release) == 1 else _join([release[0], release[1] + 1])


def _join(parts: list[int]) -> str:
    return ".".join(str(p) for p in parts)


# -- rewriting -------------------------------------------------------------------------------------------------
def _same_segments(new_version: str, new: Version, count: int) -> str:
    """The new version written with ``count`` release segments (``~=1.21.0`` + 1.26.4 -> 1.26.4)."""
    release = list(new.release)
    if len(release) == count:
        return new_version
    return _join((release + [0] * count)[:count])


def _next_bound(upper: str, new: Version) -> str:
    """Raise an upper bound past ``new`` at the bound's own precision (its last non-zero segment)."""
    bound = _release(upper)
    index = max((i for i, part in enumerate(bound) if part != 0), default=len(bound) - 1)
    release = list(new.release) + [0] * (index + 1)
    return _join([*release[:index], release[index] + 1, *([0] * (len(bound) - index - 1))])


def _rewrite_single(
    text: str, new_version: str, new: Version, strategy: Strategy, style: Style, allowed: bool
) -> str | None:
    if text in ("", "*"):
        if strategy == "pin":
            return new_version if style == "poetry" else f"=={new_version}"
        if strategy == "bump" and style == "pep440":
            return f">={new_version}"
        return None
    form = _parse(text, style)
    exact = len(form.clauses) == 1 and form.clauses[0].op in ("==", "===", "") and not form.clauses[0].wildcard
    if strategy == "pin" or exact:
        op = form.clauses[0].op if exact else ("" if style == "poetry" else "==")
        return form.render([_Clause(op, new_version)])
    if allowed and strategy in ("widen", "lockfile-only"):
        return None
    if strategy == "widen":
        return _widen(form, text, new_version, new, style)
    return form.render([_bump_clause(c, new_version, new) for c in form.clauses])


def _bump_clause(clause: _Clause, new_version: str, new: Version) -> _Clause:
    op, version = clause.op, clause.version
    if op in (">=", ">"):
        return _Clause(">=", new_version)
    if op in ("~=", "^", "~"):
        candidate = _same_segments(new_version, new, len(_release(version)))
        spec = [f"{op}{candidate}"] if op == "~=" else _poetry_clause(_Clause(op, candidate))
        if not SpecifierSet(",".join(spec)).contains(new, prereleases=True):
            candidate = new_version
        return _Clause(op, candidate)
    if clause.wildcard:
        prefix = len(_release(version))
        return _Clause(op, _join((list(new.release) + [0] * prefix)[:prefix]) + ".*")
    if op in ("==", "===", ""):
        return _Clause(op, new_version)
    if op == "<" and new >= Version(version):
        return _Clause("<", _next_bound(version, new))
    if op == "<=" and new > Version(version):
        return _Clause("<=", new_version)
    if op == "!=" and Version(version) == new:
        raise ConstraintRewriteError(f"!={version} excludes the new version")
    return clause


def _widen(form: _Form, text: str, new_version: str, new: Version, style: Style) -> str:
    clauses = list(form.clauses)
    if style == "poetry" and len(clauses) == 1 and (clauses[0].op in ("^", "~") or clauses[0].wildcard):
        replacement = _bump_clause(clauses[0], new_version, new)
        return f"{text} || {form.render([replacement])}"
    expanded: list[_Clause] = []
    for clause in clauses:
        if clause.op == "~=":
            release = _release(clause.version)
            expanded += [_Clause(">=", clause.version), _Clause("<", _join([*release[:-2], release[-2] + 1]))]
        elif clause.wildcard and clause.op == "==":
            prefix = clause.version[:-2]
            release = _release(prefix)
            expanded += [_Clause(">=", prefix), _Clause("<", _join([*release[:-1], release[-1] + 1]))]
        else:
            expanded.append(clause)
    out: list[_Clause] = []
    for clause in expanded:
        if clause.op in (">=", ">") and new < Version(clause.version):
            out.append(_Clause(">=", new_version))
        elif clause.op in ("<", "<=", "!=", "==", "==="):
            out.append(_bump_clause(clause, new_version, new))
        else:
            out.append(clause)
    return form.render(out)


def _rewrite_union(text: str, new_version: str, strategy: Strategy, allowed: bool) -> str | None:
    if strategy == "pin":
        return new_version
    if allowed and strategy in ("widen", "lockfile-only"):
        return None
    alternatives = _UNION.split(text)
    if strategy == "widen":
        return f"{text} || ^{new_version}"
    last = _rewrite_single(alternatives[-1].strip(), new_version, Version(new_version), "bump", "poetry", False)
    separator: str = re.findall(r"\s*\|\|?\s*", text)[-1]
    return separator.join([*alternatives[:-1], last or alternatives[-1]])
