"""JavaScript (npm) support: package.json and package-lock.json reading, npm semver, edits and lockfiles.

Modules: ``semver`` (node's exact range semantics), ``specs`` (what a dependency value is), ``jsonspan``
(where values are in the text), ``manifest`` (package.json -> ``Manifest``), ``lockinfo`` (locked versions),
``edit`` (format-preserving rewrites), ``ranges`` (range strategies), ``lockfile`` (npm-regenerated locks).
"""

from __future__ import annotations

from bot.deps.npm.edit import ManifestEditError, apply_edits
from bot.deps.npm.lockfile import LockResult, install_spec, regenerate_lock
from bot.deps.npm.lockinfo import LockInfo, read_lock
from bot.deps.npm.manifest import parse_package_json, workspace_globs
from bot.deps.npm.ranges import RangeRewriteError, rewrite_range

__all__ = [
    "LockInfo",
    "LockResult",
    "ManifestEditError",
    "RangeRewriteError",
    "apply_edits",
    "install_spec",
    "parse_package_json",
    "read_lock",
    "regenerate_lock",
    "rewrite_range",
    "workspace_globs",
]
