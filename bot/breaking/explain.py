"""The evidence of one update in words, the same in the PR body, the risk check, ``depup plan`` and its JSON:
a headline ("your code uses 2 of the 14 removed or changed names", "no use of the 14 removed or changed names",
"not analysed: time budget of 120 s used") and each use as ``file:line`` with what changed."""

from __future__ import annotations

from typing import Any

from bot.breaking.model import ApiDiff, Breakage, Use

MAX_CHANGES = 200  # changes listed in JSON; the counts are of all of them
MAX_DETAIL = 160  # characters of a change's detail in a use's line
MAX_PLACES = 8  # further places of one change named on its "also at" line


def headline(breakage: Breakage) -> str:
    diff = breakage.diff
    if not diff.analysed:
        return f"not analysed: {diff.why_not or 'no reason given'}"
    breaking = len(diff.breaking)
    names = f"{breaking} removed or changed name{'' if breaking == 1 else 's'}"
    deprecated = len(diff.changes) - breaking
    extra = f" ({deprecated} deprecated)" if deprecated else ""
    if not diff.changes:
        return "the API diff removes or changes no public name"
    if breakage.scanned == 0:
        return f"{names}{extra}; uses in the code: not available"
    uses = breakage.breaking_uses
    symbols = len({u.symbol for u in uses})
    read = f"{breakage.scanned} source file{'' if breakage.scanned == 1 else 's'} read"
    if uses:
        places = f"{len(uses)} place{'' if len(uses) == 1 else 's'}"
        return f"your code uses {symbols} of the {names}{extra} in {places} ({read})"
    warned = len(breakage.uses)
    if warned:
        return f"no use of the {names}; {warned} use{'' if warned == 1 else 's'} of deprecated names ({read})"
    return f"no use of the {names}{extra} ({read})"


def use_line(use: Use, kinds: dict[str, str]) -> str:
    """``app/views.py:12: flask.Markup: removed``."""
    return f"{use.file}:{use.line}: {use.symbol}: {what_changed(use, kinds)}"


def what_changed(use: Use, kinds: dict[str, str]) -> str:
    """The use's detail, prefixed by its kind unless the detail says it ("removed", "deprecated: use ..."), cut
    to ``MAX_DETAIL`` characters (a deprecation's whole docstring is no use in a list)."""
    kind = kinds.get(use.symbol, "changed")
    text = use.detail if use.detail.startswith(kind) else f"{kind}: {use.detail}"
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1].rstrip() + "\u2026"


def by_change(breakage: Breakage) -> list[tuple[Use, tuple[Use, ...]]]:
    """The uses grouped by what they use: the first use of each change, then its other uses; removed and changed
    names before deprecated ones, so thirty uses of one deprecated function read as one entry, not thirty."""
    kinds = kinds_of(breakage.diff)
    groups: dict[tuple[str, str], list[Use]] = {}
    for use in breakage.uses:
        groups.setdefault((use.symbol, use.detail), []).append(use)
    ordered = sorted(groups.values(), key=lambda uses: kinds.get(uses[0].symbol) == "deprecated")
    return [(uses[0], tuple(uses[1:])) for uses in ordered]


def places(uses: tuple[Use, ...], limit: int = MAX_PLACES) -> tuple[list[str], int]:
    """``file:line`` of at most ``limit`` uses, and how many more there are."""
    return [f"{u.file}:{u.line}" for u in uses[:limit]], max(0, len(uses) - limit)


def kinds_of(diff: ApiDiff) -> dict[str, str]:
    return {c.symbol: c.kind for c in diff.changes}


def breakage_json(breakage: Breakage | None) -> dict[str, Any] | None:
    """The ``api`` member of a plan item (docs/plan.schema.json); None: not analysed by policy."""
    if breakage is None:
        return None
    diff = breakage.diff
    kinds = kinds_of(diff)
    return {
        "analysed": diff.analysed,
        "why_not": diff.why_not,
        "source": diff.source,
        "summary": headline(breakage),
        "removed_or_changed": len(diff.breaking),
        "deprecated": len(diff.changes) - len(diff.breaking),
        "scanned": breakage.scanned,
        "changes": [{"kind": c.kind, "symbol": c.symbol, "detail": c.detail} for c in diff.changes[:MAX_CHANGES]],
        "uses": [
            {
                "file": u.file,
                "line": u.line,
                "symbol": u.symbol,
                "kind": kinds.get(u.symbol, "changed"),
                "detail": u.detail,
            }
            for u in breakage.uses
        ],
    }
