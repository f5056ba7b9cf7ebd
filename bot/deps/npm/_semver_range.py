"""npm's ``Range`` and ``Comparator`` (``classes/range.js``, ``classes/comparator.js`` of npm/node-semver 7.x).

Ported from npm/node-semver, Copyright (c) Isaac Z. Schlueter and Contributors, ISC license (see
``NOTICE-node-semver``). The desugaring functions keep node's names and order so a reader can check them
against the original; each returns exactly the text node builds (``valid_range`` output is compared with
node's own test vectors).

One deliberate difference: node accepts a range of any length, and its ``[v=\\s]*`` (in ``LOOSEPLAIN`` and
``XRANGEPLAIN``) makes ``COMPARATORTRIM`` quadratic in a run of ``v``, ``=`` and spaces. Ranges come from
other people's package.json files and registry documents, so ``parse_range`` refuses a range longer than
``MAX_RANGE_LENGTH`` characters or holding a run of more than ``MAX_PREFIX_RUN`` of those characters (real
ranges are under 100 characters with runs of at most 2, like the ``= `` of ``>= 14``) before any regex runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bot.deps.npm._semver_re import _WS_CLASS_BODY, BUILD_STRIP, SPACES, js_trim, safe_re
from bot.deps.npm._semver_version import InvalidRange, InvalidVersion, SemVer, compare, parse_version

_NULL_SET = "<0.0.0-0"
MAX_RANGE_LENGTH = 1024
MAX_PREFIX_RUN = 8
_PREFIX_RUN = re.compile(f"[v={_WS_CLASS_BODY}]{{{MAX_PREFIX_RUN + 1}}}")


@dataclass(frozen=True)
class Comparator:
    operator: str  # "", "<", "<=", ">", ">="
    semver: SemVer | None  # None: any version

    @property
    def value(self) -> str:
        return "" if self.semver is None else self.operator + self.semver.version

    def test(self, version: SemVer) -> bool:
        if self.semver is None:
            return True
        order = compare(version, self.semver)
        return {
            "": order == 0,
            ">": order > 0,
            ">=": order >= 0,
            "<": order < 0,
            "<=": order <= 0,
        }[self.operator]


@dataclass(frozen=True)
class Range:
    raw: str
    set: tuple[tuple[Comparator, ...], ...]
    loose: bool = False
    include_prerelease: bool = False

    @property
    def range(self) -> str:
        return "||".join(" ".join(js_trim(c.value) for c in comps) for comps in self.set)

    def test(self, version: str | SemVer) -> bool:
        if not version:  # node: `if (!version) return false` (also covers a JSON false / null)
            return False
        if isinstance(version, str):
            try:
                version = parse_version(version, self.loose)
            except InvalidVersion:
                return False
        return any(_test_set(comps, version, self.include_prerelease) for comps in self.set)


def _parse_comparator_text(comp: str, loose: bool) -> Comparator:
    comp = " ".join(SPACES.split(js_trim(comp)))
    match = safe_re["COMPARATORLOOSE" if loose else "COMPARATOR"].match(comp)
    if match is None:
        raise InvalidRange(f"Invalid comparator: {comp}")
    operator = match.group(1) or ""
    if operator == "=":
        operator = ""
    version_text = match.group(2)
    return Comparator(operator, parse_version(version_text, loose) if version_text else None)


@lru_cache(maxsize=4096)
def parse_range(text: str, loose: bool = False, include_prerelease: bool = False) -> Range:
    """``new Range(text, options)``; raises ``InvalidRange`` where node throws, and for ranges too long or too
    odd to parse in linear time (see the module's docstring)."""
    if len(text) > MAX_RANGE_LENGTH:
        raise InvalidRange(f"range is longer than {MAX_RANGE_LENGTH} characters")
    raw = SPACES.sub(" ", js_trim(text))
    if _PREFIX_RUN.search(raw):
        raise InvalidRange(f"range has more than {MAX_PREFIX_RUN} 'v', '=' and spaces in a row")
    sets = [_parse_set(js_trim(part), loose, include_prerelease) for part in raw.split("||")]
    sets = [comps for comps in sets if comps]
    if not sets:
        raise InvalidRange(f"Invalid SemVer Range: {raw}")
    if len(sets) > 1:
        first = sets[0]
        sets = [comps for comps in sets if comps[0].value != _NULL_SET] or [first]
        if len(sets) > 1:
            for comps in sets:
                if len(comps) == 1 and comps[0].value == "":
                    sets = [comps]
                    break
    return Range(raw, tuple(sets), loose, include_prerelease)


def _parse_set(text: str, loose: bool, include_prerelease: bool) -> tuple[Comparator, ...]:
    text = BUILD_STRIP.sub("", text)
    text = safe_re["HYPHENRANGELOOSE" if loose else "HYPHENRANGE"].sub(_hyphen_replace(include_prerelease), text, 1)
    text = safe_re["COMPARATORTRIM"].sub(r"\g<1>\g<2>\g<3>", text)
    text = safe_re["TILDETRIM"].sub(r"\g<1>~", text)
    text = safe_re["CARETTRIM"].sub(r"\g<1>^", text)
    joined = " ".join(_parse_comparator(comp, loose, include_prerelease) for comp in text.split(" "))
    gte0 = safe_re["GTE0PRE" if include_prerelease else "GTE0"]
    comps = [gte0.sub("", js_trim(comp), 1) for comp in SPACES.split(joined)]
    if loose:
        comps = [comp for comp in comps if safe_re["COMPARATORLOOSE"].match(comp)]
    comparators = [_parse_comparator_text(comp_text, loose) for comp_text in comps]  # all parsed first, as node
    by_value: dict[str, Comparator] = {}
    for comparator in comparators:
        if comparator.value == _NULL_SET:
            return (comparator,)
        by_value[comparator.value] = comparator
    if len(by_value) > 1:
        by_value.pop("", None)
    return tuple(by_value.values())


def _parse_comparator(comp: str, loose: bool, include_prerelease: bool) -> str:
    comp = safe_re["BUILD"].sub("", comp, 1)
    comp = " ".join(_replace_caret(c, loose, include_prerelease) for c in SPACES.split(js_trim(comp)))
    comp = " ".join(_replace_tilde(c, loose, include_prerelease) for c in SPACES.split(js_trim(comp)))
    comp = " ".join(_replace_xrange(c, loose, include_prerelease) for c in SPACES.split(comp))
    return safe_re["STAR"].sub("", js_trim(comp), 1)


def _is_x(identifier: str | None) -> bool:
    return not identifier or identifier.lower() == "x" or identifier == "*"


def _inc(number: str) -> str:
    return str(int(number) + 1)


def _replace_tilde(comp: str, loose: bool, include_prerelease: bool) -> str:
    z = "-0" if include_prerelease else ""

    def repl(m: re.Match[str]) -> str:
        major, minor, patch, pre = m.group(1), m.group(2), m.group(3), m.group(4)
        if _is_x(major):
            return ""
        if _is_x(minor):
            return f">={major}.0.0{z} <{_inc(major)}.0.0-0"
        if _is_x(patch):
            return f">={major}.{minor}.0{z} <{major}.{_inc(minor)}.0-0"
        if pre:
            return f">={major}.{minor}.{patch}-{pre} <{major}.{_inc(minor)}.0-0"
        return f">={major}.{minor}.{patch} <{major}.{_inc(minor)}.0-0"

    return safe_re["TILDELOOSE" if loose else "TILDE"].sub(repl, comp, 1)


def _replace_caret(comp: str, loose: bool, include_prerelease: bool) -> str:
    z = "-0" if include_prerelease else ""

    def repl(m: re.Match[str]) -> str:
        major, minor, patch, pre = m.group(1), m.group(2), m.group(3), m.group(4)
        if _is_x(major):
            return ""
        if _is_x(minor):
            return f">={major}.0.0{z} <{_inc(major)}.0.0-0"
        if _is_x(patch):
            if major == "0":
                return f">={major}.{minor}.0{z} <{major}.{_inc(minor)}.0-0"
            return f">={major}.{minor}.0{z} <{_inc(major)}.0.0-0"
        floor = f">={major}.{minor}.{patch}-{pre}" if pre else f">={major}.{minor}.{patch}"
        if major == "0":
            if minor == "0":
                return f"{floor} <{major}.{minor}.{_inc(patch)}-0"
            return f"{floor} <{major}.{_inc(minor)}.0-0"
        return f"{floor} <{_inc(major)}.0.0-0"

    return safe_re["CARETLOOSE" if loose else "CARET"].sub(repl, comp, 1)


def _replace_xrange(comp: str, loose: bool, include_prerelease: bool) -> str:
    comp = js_trim(comp)

    def repl(m: re.Match[str]) -> str:
        gtlt, major, minor, patch = m.group(1), m.group(2), m.group(3), m.group(4)
        if (_is_x(major) and not _is_x(minor)) or (_is_x(minor) and patch and not _is_x(patch)):
            return comp  # invalid x-range order such as 1.x.5: left for the comparator parser to reject
        x_major = _is_x(major)
        x_minor = x_major or _is_x(minor)
        any_x = x_minor or _is_x(patch)
        if gtlt == "=" and any_x:
            gtlt = ""
        pre = "-0" if include_prerelease else ""
        if x_major:
            return _NULL_SET if gtlt in (">", "<") else "*"
        if gtlt and any_x:
            minor_out = "0" if x_minor else minor
            patch_out = "0"
            major_out = major
            if gtlt == ">":
                gtlt = ">="
                if x_minor:
                    major_out, minor_out = _inc(major), "0"
                else:
                    minor_out = _inc(minor)
            elif gtlt == "<=":
                gtlt = "<"
                if x_minor:
                    major_out = _inc(major)
                else:
                    minor_out = _inc(minor)
            if gtlt == "<":
                pre = "-0"
            return f"{gtlt}{major_out}.{minor_out}.{patch_out}{pre}"
        if x_minor:
            return f">={major}.0.0{pre} <{_inc(major)}.0.0-0"
        if any_x:
            return f">={major}.{minor}.0{pre} <{major}.{_inc(minor)}.0-0"
        return m.group(0)

    return safe_re["XRANGELOOSE" if loose else "XRANGE"].sub(repl, comp, 1)


def _hyphen_replace(include_prerelease: bool) -> Callable[[re.Match[str]], str]:
    z = "-0" if include_prerelease else ""

    def repl(m: re.Match[str]) -> str:
        start, f_major, f_minor, f_patch, f_pre = m.group(1, 2, 3, 4, 5)
        end, t_major, t_minor, t_patch, t_pre = m.group(7, 8, 9, 10, 11)
        if _is_x(f_major):
            start = ""
        elif _is_x(f_minor):
            start = f">={f_major}.0.0{z}"
        elif _is_x(f_patch):
            start = f">={f_major}.{f_minor}.0{z}"
        elif f_pre:
            start = f">={start}"
        else:
            start = f">={start}{z}"
        if _is_x(t_major):
            end = ""
        elif _is_x(t_minor):
            end = f"<{_inc(t_major)}.0.0-0"
        elif _is_x(t_patch):
            end = f"<{t_major}.{_inc(t_minor)}.0-0"
        elif t_pre:
            end = f"<={t_major}.{t_minor}.{t_patch}-{t_pre}"
        elif include_prerelease:
            end = f"<{t_major}.{t_minor}.{_inc(t_patch)}-0"
        else:
            end = f"<={end}"
        return js_trim(f"{start} {end}")

    return repl


def _test_set(comps: tuple[Comparator, ...], version: SemVer, include_prerelease: bool) -> bool:
    if not all(comp.test(version) for comp in comps):
        return False
    if version.prerelease and not include_prerelease:
        # A prerelease only matches when some comparator names a prerelease of the same major.minor.patch:
        # ^1.2.3-pr.1 admits 1.2.3-pr.2 but not 1.2.4-alpha.
        return any(
            comp.semver is not None
            and comp.semver.prerelease
            and (comp.semver.major, comp.semver.minor, comp.semver.patch)
            == (version.major, version.minor, version.patch)
            for comp in comps
        )
    return True
