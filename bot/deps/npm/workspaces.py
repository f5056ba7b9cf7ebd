"""Which folders a workspace glob names, segment by segment as npm, yarn, pnpm and bun match them (minimatch):
``*`` stays within one folder name, ``**`` spans any number of folders. ``packages/*`` is ``packages/a`` but
not ``packages/a/fixtures``."""

from __future__ import annotations

import posixpath

from config.globs import GlobError, compile_glob


def workspace_match(directory: str, glob: str) -> bool:
    """Whether the folder ``directory`` (relative to the workspace root) is named by ``glob``."""
    pattern = posixpath.normpath(glob.strip()).strip("/")
    if pattern in ("", "."):
        return directory in ("", ".")
    try:
        return bool(compile_glob(pattern, path=True).match(directory))
    except GlobError:  # a glob the package manager cannot match either
        return False
