"""Python manifests: requirements files, ``pyproject.toml`` (PEP 621/735, build-system, Poetry) and
``setup.cfg``; format-preserving edits; constraint rewriting; lockfile regeneration."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.deps.python.constraints import allows, current_version, rewrite_constraint
    from bot.deps.python.edit import apply_edits
    from bot.deps.python.errors import ConstraintRewriteError, ManifestEditError
    from bot.deps.python.lockfiles import LockResult, regenerate_lock
    from bot.deps.python.parse import manifest_kind, parse_python_manifest
    from bot.deps.python.pipfile import parse_pipfile
    from bot.deps.python.pyproject import parse_pyproject
    from bot.deps.python.requirements import (
        CompiledHeader,
        FileOption,
        Include,
        RequirementsFile,
        compiled_header,
        parse_requirements,
        parse_requirements_file,
    )
    from bot.deps.python.setupcfg import parse_setup_cfg
    from bot.deps.python.setuppy import parse_setup_py

# Each name is imported when first used (PEP 562): a plan that reads manifests does not load the edit and
# lockfile machinery (tomlkit, subprocess runners).
_WHERE = {
    "CompiledHeader": "bot.deps.python.requirements",
    "ConstraintRewriteError": "bot.deps.python.errors",
    "FileOption": "bot.deps.python.requirements",
    "Include": "bot.deps.python.requirements",
    "LockResult": "bot.deps.python.lockfiles",
    "ManifestEditError": "bot.deps.python.errors",
    "RequirementsFile": "bot.deps.python.requirements",
    "allows": "bot.deps.python.constraints",
    "apply_edits": "bot.deps.python.edit",
    "compiled_header": "bot.deps.python.requirements",
    "current_version": "bot.deps.python.constraints",
    "manifest_kind": "bot.deps.python.parse",
    "parse_pipfile": "bot.deps.python.pipfile",
    "parse_pyproject": "bot.deps.python.pyproject",
    "parse_python_manifest": "bot.deps.python.parse",
    "parse_requirements": "bot.deps.python.requirements",
    "parse_requirements_file": "bot.deps.python.requirements",
    "parse_setup_cfg": "bot.deps.python.setupcfg",
    "parse_setup_py": "bot.deps.python.setuppy",
    "regenerate_lock": "bot.deps.python.lockfiles",
    "rewrite_constraint": "bot.deps.python.constraints",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CompiledHeader",
    "ConstraintRewriteError",
    "FileOption",
    "Include",
    "LockResult",
    "ManifestEditError",
    "RequirementsFile",
    "allows",
    "apply_edits",
    "compiled_header",
    "current_version",
    "manifest_kind",
    "parse_pipfile",
    "parse_pyproject",
    "parse_python_manifest",
    "parse_requirements",
    "parse_requirements_file",
    "parse_setup_cfg",
    "parse_setup_py",
    "regenerate_lock",
    "rewrite_constraint",
]
