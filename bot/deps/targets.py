"""Which runtime versions an update must keep supporting: Python for PyPI packages, Node for npm packages.

Python: the project's ``requires-python`` intersected with the Python versions the dependency's environment
marker applies to. With a declared ``requires-python`` a release must support the lowest such version (the
oldest Python the project promises to run on). Without one, only a marker says anything: a marker that caps
the Python version (``python_version < "3.8"``) means the line exists for those old Pythons, so a release must
support the newest of them; a marker with only a floor means its lowest. With neither, nothing is checked.

Node: a release's ``engines.node`` must admit the lowest Node version the project's ``engines.node`` allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName, default_environment
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bot.deps.npm import semver

KNOWN_PYTHONS = tuple(Version(v) for v in ["2.7", *(f"3.{minor}" for minor in range(16))])
KNOWN_NODES = tuple(["0.10.0", "0.12.0", *(f"{major}.0.0" for major in range(4, 27))])
_VERSION_TOKEN = re.compile(r"\d+(?:\.\d+){0,2}")
_PLATFORMS = (
    {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
    {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
)


@dataclass(frozen=True)
class PythonTarget:
    """The Python version a release must support, and why (for the explanation shown to maintainers)."""

    version: Version | None  # None: nothing to check
    because: str
    excluded: bool = False  # the marker and requires-python leave no Python at all: the line never applies


def python_target(requires_python: str | None, marker: str | None, runtime: str | None = None) -> PythonTarget:
    """``runtime`` (config ``runtime.python``): the Python the project runs on, which a release must support
    instead of the lowest ``requires-python`` allows (when it satisfies requires-python and no marker of the
    dependency speaks of the Python version)."""
    project = _specifier(requires_python)
    applies = _marker_pythons(marker)
    version = _release(runtime) if runtime else None
    if version is not None and applies is None and (project is None or project.contains(version)):
        return PythonTarget(version, f"runtime.python {runtime}")
    if project is None and applies is None:
        return PythonTarget(None, "the project does not declare requires-python")
    candidates = [
        v for v in KNOWN_PYTHONS if (project is None or project.contains(v)) and (applies is None or v in applies)
    ]
    if not candidates:
        return PythonTarget(None, "no Python version satisfies both requires-python and the marker", excluded=True)
    if project is not None:
        return PythonTarget(min(candidates), f"requires-python {requires_python}")
    capped = KNOWN_PYTHONS[-1] not in candidates
    chosen = max(candidates) if capped else min(candidates)
    return PythonTarget(chosen, f"environment marker {marker}")


def python_supported(requires_python: str | None, target: PythonTarget) -> bool:
    if target.version is None or not requires_python:
        return True
    spec = _specifier(requires_python)
    return spec is None or spec.contains(target.version, prereleases=True)


def node_target(engines_node: str | None, runtime: str | None = None) -> str | None:
    """The lowest Node version the project's engines.node allows, or None when unknown; ``runtime`` (config
    ``runtime.node``, "14.21") replaces that floor with the Node the project really runs on."""
    if runtime:
        version = ".".join([*runtime.strip().lstrip("v").split("."), "0", "0"][:3])
        if semver.valid(version) and (not engines_node or semver.satisfies(version, engines_node)):
            return version
    if not engines_node or semver.valid_range(engines_node) is None:
        return None
    # Release lines, plus every version written in the range itself (">=18.12" starts at 18.12.0).
    written = {".".join([*m.split("."), "0", "0"][:3]) for m in _VERSION_TOKEN.findall(engines_node)}
    candidates = semver.sort_versions({*KNOWN_NODES, *(v for v in written if semver.valid(v))})
    return next((v for v in candidates if semver.satisfies(v, engines_node)), None)


def node_supported(engines_node: str | None, target: str | None) -> bool:
    if target is None or not engines_node:
        return True
    return _node_admits(engines_node, target)


@lru_cache(maxsize=4096)
def _node_admits(engines_node: str, version: str) -> bool:
    """Releases repeat the same few engines ranges: answer each (range, version) once."""
    return semver.valid_range(engines_node) is None or semver.satisfies(version, engines_node)


def _release(text: str) -> Version | None:
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


@lru_cache(maxsize=4096)
def _specifier(text: str | None) -> SpecifierSet | None:
    if not text:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _marker_pythons(marker: str | None) -> frozenset[Version] | None:
    """Python versions for which the marker holds on some common platform; None when it ignores Python."""
    if not marker or "python_" not in marker:
        return None
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return None
    found = set()
    for python in KNOWN_PYTHONS:
        for platform in _PLATFORMS:
            env = {**default_environment(), **platform}
            env["python_version"] = str(python)
            env["python_full_version"] = f"{python}.0"
            try:
                if parsed.evaluate(env):  # type: ignore[arg-type]
                    found.add(python)
                    break
            except (UndefinedComparison, UndefinedEnvironmentName):
                continue
    return frozenset(found)
