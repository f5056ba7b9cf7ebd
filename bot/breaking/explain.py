"""The evidence of one update in words, the same in the PR body, the risk check, ``depup plan`` and its JSON:
a headline ("your code uses 2 of the 14 removed or changed names", "no use of the 14 removed or changed names",
"not analysed: time budget of 120 s used") and each use as ``file:line`` with what changed."""

from __future__ import annotations

from typing import Any

from bot.breaking.model import ApiDiff, Breakage, Use


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
    """The use's detail, prefixed by its kind unless the detail says it ("removed", "deprecated: use ...")."""
    kind = kinds.get(use.symbol, "changed")
    return use.detail if use.detail.startswith(kind) else f"{kind}: {use.detail}"


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


MAX_CHANGES = 200  # changes listed in JSON; the counts are of all of them
