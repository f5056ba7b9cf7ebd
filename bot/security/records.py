"""OSV records (https://ossf.github.io/osv-schema/) read as depup's ``Vulnerability`` values.

Records come from the network: every field is checked for its type and anything unexpected is ignored, except
a record without a string ``id``, which is not a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bot.deps.npm import semver
from bot.risk.model import Vulnerability
from bot.security.model import OSV_ECOSYSTEM, AuditError

OSV_WEB = "https://osv.dev/vulnerability/"
SUMMARY_CHARS = 200  # a summary is one line of a PR body: longer texts (PYSEC details) are cut at a word
_SPACE = re.compile(r"\s+")


def vulnerability(record: Mapping[str, Any], ecosystem: str, package: str) -> Vulnerability:
    """The record as a ``Vulnerability`` of ``package`` (its fix versions are those of that package only)."""
    return Vulnerability(
        id=record_id(record),
        aliases=tuple(a for a in _list(record.get("aliases")) if isinstance(a, str)),
        summary=short_summary(_text(record.get("summary")) or _text(record.get("details"))),
        fixed_in=fixed_versions(record, ecosystem, package),
        url=advisory_url(record),
    )


def record_id(record: Mapping[str, Any]) -> str:
    value = record.get("id")
    if not isinstance(value, str) or not value:
        raise AuditError("the OSV server answered a record without an id")
    return value


def advisory_url(record: Mapping[str, Any]) -> str:
    """The record's first reference of type ADVISORY, else its page on osv.dev."""
    for reference in _list(record.get("references")):
        if isinstance(reference, Mapping) and reference.get("type") == "ADVISORY":
            url = reference.get("url")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                return url
    return web_url(record_id(record))


def web_url(vulnerability_id: str) -> str:
    return OSV_WEB + quote(vulnerability_id, safe="")


def fixed_versions(record: Mapping[str, Any], ecosystem: str, package: str) -> tuple[str, ...]:
    """The ``fixed`` events of the record's ECOSYSTEM/SEMVER ranges for this package, lowest first."""
    found: list[str] = []
    for affected in _list(record.get("affected")):
        if not isinstance(affected, Mapping) or not _names(affected.get("package"), ecosystem, package):
            continue
        for range_ in _list(affected.get("ranges")):
            if not isinstance(range_, Mapping) or range_.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue
            for event in _list(range_.get("events")):
                fixed = event.get("fixed") if isinstance(event, Mapping) else None
                if isinstance(fixed, str) and fixed and fixed not in found:
                    found.append(fixed)
    return sort_versions(ecosystem, found)


def sort_versions(ecosystem: str, versions: Iterable[str]) -> tuple[str, ...]:
    """Versions in the ecosystem's order; ones that do not parse keep their order after the others."""
    readable: list[tuple[Any, str]] = []
    unreadable: list[str] = []
    for version in dict.fromkeys(versions):
        key = version_key(ecosystem, version)
        if key is None:
            unreadable.append(version)
        else:
            readable.append((key, version))
    readable.sort(key=lambda item: item[0])
    return (*(v for _, v in readable), *unreadable)


def version_key(ecosystem: str, version: str) -> Any:
    """A sortable key for a version of the ecosystem, or None when it does not parse."""
    if ecosystem == "python":
        try:
            return Version(version)
        except (InvalidVersion, ValueError):  # ValueError: a number longer than int() reads (4300 digits)
            return None
    valid = semver.valid(version, loose=True)
    if valid is None:
        return None
    parsed = semver.parse(valid)
    pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in parsed.prerelease)
    return (parsed.major, parsed.minor, parsed.patch, 0 if pre else 1, pre)


def short_summary(text: str | None) -> str | None:
    """One line of at most ``SUMMARY_CHARS`` characters (cut at a word, with an ellipsis)."""
    if not text:
        return None
    line = _SPACE.sub(" ", text).strip()
    if len(line) <= SUMMARY_CHARS:
        return line or None
    cut = line[: SUMMARY_CHARS - 1]
    if " " in cut[SUMMARY_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def _names(package: object, ecosystem: str, name: str) -> bool:
    if not isinstance(package, Mapping) or package.get("ecosystem") != OSV_ECOSYSTEM[ecosystem]:
        return False
    theirs = package.get("name")
    if not isinstance(theirs, str):
        return False
    if ecosystem == "python":
        return canonicalize_name(theirs) == canonicalize_name(name)
    return theirs == name


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
