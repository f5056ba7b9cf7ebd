"""The survey as text for a terminal, and as JSON (schema ``depup.plan/1``, see docs/plan.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.deps.model import Manifest, Problem
from bot.deps.proposals import Proposal, Update
from bot.deps.registry.client import RegistryStats
from bot.deps.survey import Survey

SCHEMA = "depup.plan/1"


def to_json(result: Survey, now: datetime | None = None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "root": result.root,
        "generated_at": _time(now or datetime.now(UTC)),
        "manifests": [
            {
                "path": m.path,
                "ecosystem": m.ecosystem.value,
                "kind": m.kind,
                "lockfile": m.lockfile,
                "requires_python": m.requires_python,
                "engines_node": m.engines_node,
                "runtime_evidence": m.runtime_evidence,
                "dependencies": len(m.dependencies),
                "problems": _problems(m.problems),
            }
            for m in result.manifests
        ],
        "dependencies": [_proposal(p) for p in result.proposals],
        "problems": _problems(result.problems),
        "unread": [{"path": u.path, "reason": u.reason} for u in result.unread],
        "registry": {
            "packages": len(result.packages),
            "requests": result.registry.requests,
            "cache_hits": result.registry.cache_hits,
            "revalidated": result.registry.revalidated,
            "failures": result.registry.failures,
            "cache_misses": result.registry.misses,
            "bytes": result.registry.bytes,
            "cache_bytes": result.registry.cache_bytes,
            "link_requests": result.registry.link_requests,
            "link_cache_hits": result.registry.link_hits,
            "fallbacks": result.registry.fallbacks,
            "stale": result.registry.stale,
        },
    }


def _proposal(p: Proposal) -> dict[str, Any]:
    d = p.dependency
    return {
        "file": d.location.file,
        "line": d.location.line,
        "column": d.location.column,
        "section": d.location.section,
        "ecosystem": d.ecosystem.value,
        "name": d.name,
        "package": d.key,
        "role": d.role.value,
        "group": d.group,
        "constraint": d.constraint,
        "extras": list(d.extras),
        "marker": d.marker,
        "locked": d.locked,
        "current": p.current,
        "current_unknown": d.unknown_current,
        "lock_note": d.lock_note,
        "patched": d.patched,
        "updates": [_update(u) for u in p.updates],
        "reason": p.reason,
        "notes": list(p.notes),
    }


def _update(u: Update) -> dict[str, Any]:
    return {
        "version": u.version,
        "constraint": u.constraint,
        "update_type": u.update_type,
        "major": u.is_major,
        "strategy": u.strategy,
        "published": _time(u.published) if u.published else None,
    }


def _problems(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "column": p.column, "message": p.message} for p in problems]


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_text(result: Survey) -> str:
    lines: list[str] = []
    by_file: dict[str, list[Proposal]] = {}
    for p in result.proposals:
        by_file.setdefault(p.dependency.location.file, []).append(p)
    for manifest in result.manifests:
        lock = f", lockfile {manifest.lockfile}" if manifest.lockfile else ""
        runtime = _runtime(manifest)
        lines.append(f"{manifest.path} ({manifest.ecosystem.value} {manifest.kind}{lock}{runtime})")
        rows = [("package", "role", "current", "proposed")]
        for p in by_file.get(manifest.path, []):
            proposed = "  ".join(_describe(u) for u in p.updates) or (p.reason or "")
            current = p.current or ("unknown" if p.dependency.unknown_current else "-")
            rows.append((p.dependency.name, p.dependency.role.value, current, proposed))
            rows.extend(("", "", "", f"  held back: {note}") for note in p.notes)
            extra = [p.dependency.unknown_current, p.dependency.lock_note]
            extra.append(f"patched by {p.dependency.patched}" if p.dependency.patched else None)
            rows.extend(("", "", "", f"  {line}") for line in extra if line)
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines.extend(
            "  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3] for r in rows
        )
        lines.extend(f"  ! line {p.line}, column {p.column}: {p.message}" for p in manifest.problems)
        lines.append("")
    lines.extend(f"! {p.file}:{p.line}:{p.column}: {p.message}" for p in result.problems)
    if result.unread:
        lines.append("Not read:")
        lines.extend(f"  {u.path}: {u.reason}" for u in result.unread)
    updates = sum(len(p.updates) for p in result.proposals)
    lines.append(
        f"{len(result.proposals)} dependencies in {len(result.manifests)} manifests, {updates} updates proposed; "
        f"{len(result.packages)} packages, {result.registry.requests} registry requests, "
        f"{result.registry.cache_hits} from cache"
    )
    lines.append(f"registry cache: {cache_summary(result.registry)}")
    return "\n".join(lines) + "\n"


def cache_summary(stats: RegistryStats) -> str:
    """One line on what the registry cache did: hits, misses, revalidated, bytes from the registries and Redis."""
    links = ""
    if stats.link_requests or stats.link_hits:
        links = f", project links {stats.link_requests} asked, {stats.link_hits} cached"
    return (
        f"{stats.cache_hits} hits, {stats.misses} misses, {stats.revalidated} revalidated (304), "
        f"{_size(stats.bytes)} from the registries, {_size(stats.cache_bytes)} from the cache{links}"
    )


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.0f} kB"
    return f"{count} B"


def _runtime(manifest: Manifest) -> str:
    declared = manifest.requires_python if manifest.ecosystem.value == "python" else manifest.engines_node
    if declared is None:
        return ""
    name = "Python" if manifest.ecosystem.value == "python" else "Node"
    return f"; {name} {declared}" + (f" from {manifest.runtime_evidence}" if manifest.runtime_evidence else "")


def _describe(u: Update) -> str:
    change = "lockfile only" if u.constraint is None else u.constraint
    return f"{u.version} ({u.update_type}, {change})"
