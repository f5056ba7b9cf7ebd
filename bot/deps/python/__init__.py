"""Python manifests: requirements files, ``pyproject.toml`` (PEP 621/735, build-system, Poetry) and
``setup.cfg``; format-preserving edits; constraint rewriting; lockfile regeneration."""

from __future__ import annotations

import posixpath

from bot.deps.model import Manifest
from bot.deps.python.constraints import allows, current_version, rewrite_constraint
from bot.deps.python.edit import apply_edits
from bot.deps.python.errors import ConstraintRewriteError, ManifestEditError
from bot.deps.python.lockfiles import LockResult, regenerate_lock
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


def manifest_kind(path: str) -> str:
    """``"pyproject"``, ``"setup.cfg"``, ``"setup.py"``, ``"pipfile"`` or ``"requirements"`` (any other file is
    read as a requirements file)."""
    name = posixpath.basename(path)
    return {"pyproject.toml": "pyproject", "setup.cfg": "setup.cfg", "setup.py": "setup.py", "Pipfile": "pipfile"}.get(
        name, "requirements"
    )


def parse_python_manifest(path: str, text: str) -> Manifest:
    """Parse a Python manifest, choosing the parser from the file name."""
    parsers = {"pyproject": parse_pyproject, "setup.cfg": parse_setup_cfg, "setup.py": parse_setup_py,
               "pipfile": parse_pipfile}  # fmt: skip
    return parsers.get(manifest_kind(path), parse_requirements)(path, text)
