"""pnpm: ``pnpm-workspace.yaml`` (the workspace's packages, catalogs, overrides, patched dependencies),
``pnpm-lock.yaml`` and regenerating it with pnpm."""

from __future__ import annotations

from pathlib import Path

import yaml


def workspace_packages(path: Path) -> list[str]:
    """The ``packages`` globs of a ``pnpm-workspace.yaml`` ([] when it has none or cannot be read)."""
    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8", "replace"))
    except (OSError, yaml.YAMLError, RecursionError):
        return []
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, list):
        return []
    return [p for p in packages if isinstance(p, str)]
