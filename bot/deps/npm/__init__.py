"""JavaScript (npm) support: package.json and package-lock.json reading, npm semver, edits and lockfiles.

Modules: ``semver`` (node's exact range semantics), ``specs`` (what a dependency value is), ``jsonspan``
(where values are in the text), ``manifest`` (package.json -> ``Manifest``), ``lockinfo`` (locked versions),
``edit`` (format-preserving rewrites), ``ranges`` (range strategies), ``lockfile`` (npm-regenerated locks).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.deps.npm.edit import ManifestEditError, apply_edits
    from bot.deps.npm.lockfile import LockResult, install_spec, regenerate_lock
    from bot.deps.npm.lockinfo import LockInfo, read_lock
    from bot.deps.npm.manifest import parse_package_json, workspace_globs
    from bot.deps.npm.ranges import RangeRewriteError, rewrite_range

# Each name is imported when first used (PEP 562): a plan that reads manifests does not load the edit and
# lockfile machinery.
_WHERE = {
    "LockInfo": "bot.deps.npm.lockinfo",
    "LockResult": "bot.deps.npm.lockfile",
    "ManifestEditError": "bot.deps.npm.edit",
    "RangeRewriteError": "bot.deps.npm.ranges",
    "apply_edits": "bot.deps.npm.edit",
    "install_spec": "bot.deps.npm.lockfile",
    "parse_package_json": "bot.deps.npm.manifest",
    "read_lock": "bot.deps.npm.lockinfo",
    "regenerate_lock": "bot.deps.npm.lockfile",
    "rewrite_range": "bot.deps.npm.ranges",
    "workspace_globs": "bot.deps.npm.manifest",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
