"""The PR body's section on code migrations: what each rewriter changed, file by file, and which ran and made
none (failed, timed out, changed nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.migrate.model import Migration

MAX_FILES_SHOWN = 30
MAX_LEFT_SHOWN = 10


def migrations_markdown(migrations: Sequence[Migration], problems: Sequence[str]) -> str:
    """The section (a heading, then lines), or "" when no rewriter applied."""
    if not migrations and not problems:
        return ""
    lines = ["### Code migrations", ""]
    if migrations:
        lines.append(
            "Static code rewriters migrated the code for this upgrade, each in a commit of its own after the "
            "upgrade commit (review them like any change; `/depup rollback` reverts them with the upgrade):"
        )
        lines.append("")
    for migration in migrations:
        lines.append(f"- **{migration.summary}** ({migration.tool}): `{migration.message}`")
        for path, note in migration.notes[:MAX_FILES_SHOWN]:
            lines.append(f"  - `{path}`: {note}")
        if len(migration.notes) > MAX_FILES_SHOWN:
            lines.append(f"  - and {len(migration.notes) - MAX_FILES_SHOWN} more files")
        if migration.left:
            lines.append(f"  - left for a person ({len(migration.left)}):")
            lines.extend(f"    - `{finding}`" for finding in migration.left[:MAX_LEFT_SHOWN])
    if problems:
        if migrations:
            lines.append("")
        lines.append("Rewriters that applied and made no migration (the upgrade is as it would be without them):")
        lines.append("")
        lines.extend(f"- {problem}" for problem in problems)
    return "\n".join(lines)
