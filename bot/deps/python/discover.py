"""Python dependency files of a checkout: requirements files (and their includes), ``pyproject.toml`` and
``setup.cfg`` with the lockfiles that belong to them (``uv.lock``, ``poetry.lock``, pip-compile outputs)."""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace

from packaging.utils import canonicalize_name

from bot.deps.checkout import MAX_LOCKFILE_BYTES, Checkout, is_file
from bot.deps.model import Manifest, Problem, Role
from bot.deps.python.pyproject import parse_pyproject
from bot.deps.python.requirements import RequirementsFile, parse_requirements_file
from bot.deps.python.roles import role_for_path
from bot.deps.python.setupcfg import parse_setup_cfg

# Renovate's pip_requirements file pattern (requirements.txt, requirements-dev.txt, dev-requirements.in, ...).
_REQUIREMENTS = re.compile(r"^[\w-]*requirements([-.]\w+)?\.(txt|in|pip)$")
_PY_LOCKS = ("uv.lock", "poetry.lock")
# Every file name this module reads (the snapshot of a repository fetches these and nothing else of Python's).
_READS = re.compile(
    r"(^|/)([\w.-]*requirements[\w.-]*\.(txt|in|pip)|pyproject\.toml|setup\.cfg|uv\.lock|poetry\.lock)$"
    r"|(^|/)requirements?/[^/]+\.(txt|in)$"
)


def reads(path: str) -> bool:
    """Whether discovery may read ``path`` (a manifest, lockfile, include or runtime evidence)."""
    return bool(_READS.search(path))


def is_requirements(path: str) -> bool:
    name = posixpath.basename(path)
    parent = posixpath.basename(posixpath.dirname(path))
    return bool(_REQUIREMENTS.match(name)) or (parent == "requirements" and name.endswith((".txt", ".in")))


def python_manifests(checkout: Checkout) -> list[Manifest]:
    root, files = checkout.root, checkout.files
    requirements: dict[str, RequirementsFile] = {}
    pending: list[tuple[str, Role | None]] = [(p, None) for p in files if is_requirements(p)]
    while pending:  # follow -r / -c includes, each file parsed once
        path, role = pending.pop(0)
        if path in requirements:
            continue
        text = checkout.read(path)
        if text is None:
            continue
        parsed = parse_requirements_file(path, text, role=role)
        requirements[path] = parsed
        for include in parsed.includes:
            if not is_file(root / include.path):
                checkout.problems.append(Problem(path, include.line, 1, f"included file {include.written!r} not found"))
                continue
            # A constraints file pins what the including file installs, so its entries share that role.
            pending.append((include.path, (role or role_for_path(path)) if include.kind == "constraint" else None))

    manifests: dict[str, Manifest] = {}
    for name in ("pyproject.toml", "setup.cfg"):
        for path in (p for p in files if posixpath.basename(p) == name):
            text = checkout.read(path)
            if text is not None:
                parse = parse_pyproject if name == "pyproject.toml" else parse_setup_cfg
                manifests[path] = _with_python_lock(checkout, parse(path, text))

    compiled_for: dict[str, str] = {}  # source manifest -> compiled requirements file that locks it
    for path, parsed in requirements.items():
        if parsed.compiled is not None:
            for source in parsed.compiled.sources:
                source_path = posixpath.normpath(posixpath.join(posixpath.dirname(path), source))
                compiled_for.setdefault(source_path, path)
    for path, parsed in requirements.items():
        manifest = parsed.manifest
        lock = compiled_for.get(path)
        if lock is not None:
            manifest = _locked(manifest, lock, _pins(requirements[lock]))
        if parsed.compiled is not None and all(s in manifests or s in requirements for s in _sources(path, parsed)):
            continue  # a compiled file whose inputs are known manifests is their lockfile, not a manifest
        manifests[path] = manifest
    for source, lock in compiled_for.items():
        if source in manifests and manifests[source].lockfile is None:
            manifests[source] = _locked(manifests[source], lock, _pins(requirements[lock]))
    return list(manifests.values())


def _sources(path: str, parsed: RequirementsFile) -> list[str]:
    assert parsed.compiled is not None
    return [posixpath.normpath(posixpath.join(posixpath.dirname(path), s)) for s in parsed.compiled.sources]


def _pins(compiled: RequirementsFile) -> dict[str, str]:
    pins: dict[str, str] = {}
    for dep in compiled.manifest.dependencies:
        if dep.constraint.startswith("==") and "*" not in dep.constraint:
            pins[dep.key] = dep.constraint[2:].strip()
    return pins


def _locked(manifest: Manifest, lockfile: str, versions: Mapping[str, str]) -> Manifest:
    deps = tuple(replace(d, locked=versions.get(d.key, d.locked)) for d in manifest.dependencies)
    return replace(manifest, dependencies=deps, lockfile=lockfile)


def _with_python_lock(checkout: Checkout, manifest: Manifest) -> Manifest:
    if manifest.kind != "pyproject":
        return manifest
    directory = posixpath.dirname(manifest.path)
    for name in _PY_LOCKS:
        lock_path = posixpath.join(directory, name) if directory else name
        if not checkout.has(lock_path):
            continue
        text = checkout.read(lock_path, MAX_LOCKFILE_BYTES)
        if text is None:
            return replace(manifest, lockfile=lock_path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            checkout.fail(lock_path, f"not valid TOML: {e}")
            return replace(manifest, lockfile=lock_path)
        except RecursionError:  # tomllib recurses once per nested array or inline table
            checkout.fail(lock_path, "not readable: arrays or tables nested too deeply")
            return replace(manifest, lockfile=lock_path)
        packages = data.get("package")
        versions: dict[str, str] = {
            canonicalize_name(str(p["name"])): str(p["version"])
            for p in (packages if isinstance(packages, list) else [])
            if isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("version"), str)
        }
        return _locked(manifest, lock_path, versions)
    return manifest
