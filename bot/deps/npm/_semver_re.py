"""Regular expressions of npm's ``semver`` (``internal/re.js`` of npm/node-semver 7.x), translated to Python.

Ported from npm/node-semver, Copyright (c) Isaac Z. Schlueter and Contributors, ISC license (the full
notice is in ``NOTICE-node-semver`` beside this file).

The sources are kept in JavaScript notation so they can be compared with the original line by line, then
translated: ``\\s`` becomes JavaScript's whitespace class (Python's differs), ``\\d`` becomes ``[0-9]``
(Python's matches any Unicode digit) and ``$`` becomes ``\\Z`` (Python's ``$`` also matches before a final
newline). Like node, matching uses the "safe" variants with bounded repetitions; ``BUILD_STRIP`` alone uses
the unbounded source, exactly as ``classes/range.js`` does.
"""

from __future__ import annotations

import re

MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1
MAX_SAFE_BUILD_LENGTH = MAX_LENGTH - 6

# JavaScript's \s: WhiteSpace (incl. every Zs space and U+FEFF) plus LineTerminator.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS_CLASS_BODY = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

_LETTERDASHNUMBER = "[a-zA-Z0-9-]"
_SAFE_REPLACEMENTS = ((r"\s", 1), (r"\d", MAX_LENGTH), (_LETTERDASHNUMBER, MAX_SAFE_BUILD_LENGTH))


def js_trim(text: str) -> str:
    """``String.prototype.trim``."""
    return text.strip(JS_WHITESPACE)


def _make_safe(value: str) -> str:
    for token, limit in _SAFE_REPLACEMENTS:
        value = value.replace(f"{token}*", f"{token}{{0,{limit}}}").replace(f"{token}+", f"{token}{{1,{limit}}}")
    return value


def _to_python(js_source: str) -> str:
    py = js_source.replace(r"[v=\s]", f"[v={_WS_CLASS_BODY}]")
    py = py.replace(r"\s", f"[{_WS_CLASS_BODY}]").replace(r"\d", "[0-9]")
    return py.replace("$", r"\Z")


src: dict[str, str] = {}


def _token(name: str, value: str) -> None:
    src[name] = value


_token("NUMERICIDENTIFIER", r"0|[1-9]\d*")
_token("NUMERICIDENTIFIERLOOSE", r"\d+")
_token("NONNUMERICIDENTIFIER", rf"\d*[a-zA-Z-]{_LETTERDASHNUMBER}*")
_token(
    "MAINVERSION",
    rf"({src['NUMERICIDENTIFIER']})\.({src['NUMERICIDENTIFIER']})\.({src['NUMERICIDENTIFIER']})",
)
_token(
    "MAINVERSIONLOOSE",
    rf"({src['NUMERICIDENTIFIERLOOSE']})\.({src['NUMERICIDENTIFIERLOOSE']})\.({src['NUMERICIDENTIFIERLOOSE']})",
)
_token("PRERELEASEIDENTIFIER", f"(?:{src['NONNUMERICIDENTIFIER']}|{src['NUMERICIDENTIFIER']})")
_token("PRERELEASEIDENTIFIERLOOSE", f"(?:{src['NONNUMERICIDENTIFIER']}|{src['NUMERICIDENTIFIERLOOSE']})")
_token("PRERELEASE", rf"(?:-({src['PRERELEASEIDENTIFIER']}(?:\.{src['PRERELEASEIDENTIFIER']})*))")
_token(
    "PRERELEASELOOSE",
    rf"(?:-?({src['PRERELEASEIDENTIFIERLOOSE']}(?:\.{src['PRERELEASEIDENTIFIERLOOSE']})*))",
)
_token("BUILDIDENTIFIER", f"{_LETTERDASHNUMBER}+")
_token("BUILD", rf"(?:\+({src['BUILDIDENTIFIER']}(?:\.{src['BUILDIDENTIFIER']})*))")
_token("FULLPLAIN", f"v?{src['MAINVERSION']}{src['PRERELEASE']}?{src['BUILD']}?")
_token("FULL", f"^{src['FULLPLAIN']}$")
_token("LOOSEPLAIN", rf"[v=\s]*{src['MAINVERSIONLOOSE']}{src['PRERELEASELOOSE']}?{src['BUILD']}?")
_token("LOOSE", f"^{src['LOOSEPLAIN']}$")
_token("GTLT", "((?:<|>)?=?)")
_token("XRANGEIDENTIFIERLOOSE", rf"{src['NUMERICIDENTIFIERLOOSE']}|x|X|\*")
_token("XRANGEIDENTIFIER", rf"{src['NUMERICIDENTIFIER']}|x|X|\*")
for _suffix in ("", "LOOSE"):
    _ident = src[f"XRANGEIDENTIFIER{_suffix}"]
    _token(
        f"XRANGEPLAIN{_suffix}",
        rf"[v=\s]*({_ident})(?:\.({_ident})(?:\.({_ident})(?:{src['PRERELEASE' + _suffix]})?{src['BUILD']}?)?)?",
    )
    _token(f"XRANGE{_suffix}", rf"^{src['GTLT']}\s*{src['XRANGEPLAIN' + _suffix]}$")
_token("LONETILDE", "(?:~>?)")
_token("TILDETRIM", rf"(\s*){src['LONETILDE']}\s+")
_token("TILDE", f"^{src['LONETILDE']}{src['XRANGEPLAIN']}$")
_token("TILDELOOSE", f"^{src['LONETILDE']}{src['XRANGEPLAINLOOSE']}$")
_token("LONECARET", r"(?:\^)")
_token("CARETTRIM", rf"(\s*){src['LONECARET']}\s+")
_token("CARET", f"^{src['LONECARET']}{src['XRANGEPLAIN']}$")
_token("CARETLOOSE", f"^{src['LONECARET']}{src['XRANGEPLAINLOOSE']}$")
_token("COMPARATORLOOSE", rf"^{src['GTLT']}\s*({src['LOOSEPLAIN']})$|^$")
_token("COMPARATOR", rf"^{src['GTLT']}\s*({src['FULLPLAIN']})$|^$")
_token("COMPARATORTRIM", rf"(\s*){src['GTLT']}\s*({src['LOOSEPLAIN']}|{src['XRANGEPLAIN']})")
_token("HYPHENRANGE", rf"^\s*({src['XRANGEPLAIN']})\s+-\s+({src['XRANGEPLAIN']})\s*$")
_token("HYPHENRANGELOOSE", rf"^\s*({src['XRANGEPLAINLOOSE']})\s+-\s+({src['XRANGEPLAINLOOSE']})\s*$")
_token("STAR", r"(<|>)?=?\s*\*")
_token("GTE0", r"^\s*>=\s*0\.0\.0\s*$")
_token("GTE0PRE", r"^\s*>=\s*0\.0\.0-0\s*$")



class _Compiled(dict[str, "re.Pattern[str]"]):
    """The "safe" expressions by name, each compiled when first used: compiling all of them took a fifth of a
    warm 200-package plan, which matches with a handful."""

    def __missing__(self, name: str) -> re.Pattern[str]:
        compiled = self[name] = re.compile(_to_python(_make_safe(src[name])))  # KeyError for an unknown name
        return compiled


# The "safe" compiled expressions, used for all matching (node's ``safeRe``).
safe_re: dict[str, re.Pattern[str]] = _Compiled()
# The one unbounded expression node uses: stripping build metadata from a whole range.
BUILD_STRIP = re.compile(_to_python(src["BUILD"]))
SPACES = re.compile(f"[{_WS_CLASS_BODY}]+")
NUMERIC = re.compile(r"[0-9]+\Z")
