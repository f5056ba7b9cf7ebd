"""Which parser reads a Python manifest, by its file name."""

from __future__ import annotations

import posixpath

from bot.deps.model import Manifest
from bot.deps.python.pipfile import parse_pipfile
from bot.deps.python.pyproject import parse_pyproject
from bot.deps.python.requirements import parse_requirements
from bot.deps.python.setupcfg import parse_setup_cfg
from bot.deps.python.setuppy import parse_setup_py


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
