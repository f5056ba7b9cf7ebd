"""Python manifests: requirements files, ``pyproject.toml`` (PEP 621/735, build-system, Poetry) and
``setup.cfg``; format-preserving edits; constraint rewriting; lockfile regeneration."""

from __future__ import annotations

import posixpath

from bot.deps.model import Manifest
from bot.deps.python.constraints import allows, current_version, rewrite_constraint
from bot.deps.python.edit import apply_edits
from bot.deps.python.errors import ConstraintRewriteError, ManifestEditError
from bot.deps.python.lockfiles import LockResult, regenerate_lock
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
    "parse_pyproject",
    "parse_python_manifest",
    "parse_requirements",
    "parse_requirements_file",
    "parse_setup_cfg",
    "regenerate_lock",
    "rewrite_constraint",
]


def manifest_kind(path: str) -> str:
    """``"pyproject"``, ``"setup.cfg"`` or ``"requirements"`` (any other file is read as a requirements file)."""
    name = posixpath.basename(path)
    if name == "pyproject.toml":
        return "pyproject"
    if name == "setup.cfg":
        return "setup.cfg"
    return "requirements"


def parse_python_manifest(path: str, text: str) -> Manifest:
    """Parse a Python manifest, choosing the parser from the file name."""
    kind = manifest_kind(path)
    if kind == "pyproject":
        return parse_pyproject(path, text)
    if kind == "setup.cfg":
        return parse_setup_cfg(path, text)
    return parse_requirements(path, text)
