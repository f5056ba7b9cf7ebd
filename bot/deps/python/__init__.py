"""Python manifests: requirements files, ``pyproject.toml`` (PEP 621/735, build-system, Poetry) and
``setup.cfg``; format-preserving edits; constraint rewriting; lockfile regeneration."""

from __future__ import annotations

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
