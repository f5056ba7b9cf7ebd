"""What npm would read, checked to lie inside the project it runs on (``bot.deps.confine`` says why).

npm works in a copy of the project: the workspace root's and every member's ``package.json``, the lockfile and
the registry lines of ``.npmrc``. A local spec (``file:``, ``link:``, ``git+file:``, a path) is read relative
to the ``package.json`` holding it and must stay inside the project. Checked: the dependency sections,
``overrides`` (every nested value) and ``workspaces`` of each ``package.json``; every key and string of the
lockfile (its ``packages`` keys are paths from the root, ``resolved`` and ``version`` may be local specs); the
registry lines of ``.npmrc``. Scripts are not checked: npm runs none (``--ignore-scripts``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from bot.deps.confine import Outside, outside_strings, walk_strings
from bot.deps.npm.relock import package_files, read_json

_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies", "overrides", "workspaces")


def references_outside(project: Path, lock_name: str, npmrc_lines: Iterable[str] = ()) -> list[Outside]:
    """Every reference leading outside ``project`` (the workspace root) that npm would follow there."""
    found: list[Outside] = []
    for path in package_files(project):
        document = read_json(path)
        if isinstance(document, dict):
            strings = (pair for key in _SECTIONS if key in document for pair in walk_strings(document[key], key))
            found.extend(outside_strings(project, path.parent, _relative(project, path), strings))
    lock = read_json(project / lock_name)
    if lock is not None:
        found.extend(outside_strings(project, project, lock_name, walk_strings(lock, "")))
    registries = ((str(number), line.split("=", 1)[1]) for number, line in enumerate(npmrc_lines, 1) if "=" in line)
    found.extend(outside_strings(project, project, ".npmrc", registries))
    return found


def _relative(project: Path, path: Path) -> str:
    return Path(os.path.relpath(path, project)).as_posix()
