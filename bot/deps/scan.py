"""Find every manifest of a checkout and what belongs to it (includes, lockfiles, workspace members).

Several manifests (monorepos) are kept apart: one ``Manifest`` per file, each with its lockfile and the
locked versions read from it. Unreadable or malformed files become ``Problem``s; the rest proceeds.
"""

from __future__ import annotations

import os
import posixpath
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path

from packaging.utils import canonicalize_name

from bot.deps.model import Dependency, Manifest, Problem, Role
from bot.deps.npm.lockinfo import LockInfo, read_lock
from bot.deps.npm.manifest import parse_package_json, workspace_globs
from bot.deps.python import parse_pyproject, parse_requirements_file, parse_setup_cfg
from bot.deps.python.requirements import RequirementsFile
from bot.deps.python.roles import role_for_path

# Like Renovate's default ignorePaths, plus tool and environment folders that never hold a project manifest.
DEFAULT_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "vendor",
        "examples",
        "__tests__",
        "test",
        "tests",
        "__fixtures__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        ".yarn",
        ".next",
    }
)
MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MAX_LOCKFILE_BYTES = 64 * 1024 * 1024
# Renovate's pip_requirements file pattern (requirements.txt, requirements-dev.txt, dev-requirements.in, ...).
_REQUIREMENTS = re.compile(r"^[\w-]*requirements([-.]\w+)?\.(txt|in|pip)$")
_NPM_LOCKS = ("npm-shrinkwrap.json", "package-lock.json")  # npm prefers the shrinkwrap when both exist
_PY_LOCKS = ("uv.lock", "poetry.lock")


@dataclass(frozen=True)
class ScanResult:
    root: str
    manifests: tuple[Manifest, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        return tuple(d for m in self.manifests for d in m.dependencies)


def scan(root: Path, ignored_dirs: Iterable[str] = DEFAULT_IGNORED_DIRS) -> ScanResult:
    files = _walk(root, frozenset(ignored_dirs))
    problems: list[Problem] = []
    manifests = _python_manifests(root, files, problems) + _npm_manifests(root, files, problems)
    manifests.sort(key=lambda m: m.path)
    return ScanResult(str(root), tuple(manifests), tuple(problems))


def _walk(root: Path, ignored: frozenset[str]) -> list[str]:
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ignored and not Path(directory, d).is_symlink())
        rel = Path(directory).relative_to(root).as_posix()
        for name in sorted(filenames):
            found.append(name if rel == "." else f"{rel}/{name}")
    return found


def _read(root: Path, path: str, problems: list[Problem], limit: int = MAX_MANIFEST_BYTES) -> str | None:
    full = root / path
    try:
        if full.stat().st_size > limit:
            problems.append(Problem(path, 1, 1, f"file is larger than {limit // (1024 * 1024)} MB; skipped"))
            return None
        # Decode the bytes ourselves: read_text() would turn CRLF into LF and break byte-exact edits.
        return full.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(Problem(path, 1, 1, f"not UTF-8 text ({e.reason} at byte {e.start}); skipped"))
    except OSError as e:
        problems.append(Problem(path, 1, 1, f"cannot read: {e.strerror}"))
    return None


# --- Python ---------------------------------------------------------------------------------------------


def _is_requirements(path: str) -> bool:
    name = posixpath.basename(path)
    parent = posixpath.basename(posixpath.dirname(path))
    return bool(_REQUIREMENTS.match(name)) or (parent == "requirements" and name.endswith((".txt", ".in")))


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False also for names the file system refuses (too long, a NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _python_manifests(root: Path, files: list[str], problems: list[Problem]) -> list[Manifest]:
    requirements: dict[str, RequirementsFile] = {}
    pending: list[tuple[str, Role | None]] = [(p, None) for p in files if _is_requirements(p)]
    while pending:  # follow -r / -c includes, each file parsed once
        path, role = pending.pop(0)
        if path in requirements:
            continue
        text = _read(root, path, problems)
        if text is None:
            continue
        parsed = parse_requirements_file(path, text, role=role)
        requirements[path] = parsed
        for include in parsed.includes:
            if not _is_file(root / include.path):
                problems.append(Problem(path, include.line, 1, f"included file {include.written!r} not found"))
                continue
            # A constraints file pins what the including file installs, so its entries share that role.
            pending.append((include.path, (role or role_for_path(path)) if include.kind == "constraint" else None))

    manifests: dict[str, Manifest] = {}
    for name in ("pyproject.toml", "setup.cfg"):
        for path in (p for p in files if posixpath.basename(p) == name):
            text = _read(root, path, problems)
            if text is not None:
                parse = parse_pyproject if name == "pyproject.toml" else parse_setup_cfg
                manifests[path] = _with_python_lock(root, parse(path, text), files, problems)

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


def _with_python_lock(root: Path, manifest: Manifest, files: list[str], problems: list[Problem]) -> Manifest:
    if manifest.kind != "pyproject":
        return manifest
    directory = posixpath.dirname(manifest.path)
    for name in _PY_LOCKS:
        lock_path = posixpath.join(directory, name) if directory else name
        if lock_path not in files:
            continue
        text = _read(root, lock_path, problems, MAX_LOCKFILE_BYTES)
        if text is None:
            return replace(manifest, lockfile=lock_path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            problems.append(Problem(lock_path, 1, 1, f"not valid TOML: {e}"))
            return replace(manifest, lockfile=lock_path)
        except RecursionError:  # tomllib recurses once per nested array or inline table
            problems.append(Problem(lock_path, 1, 1, "not readable: arrays or tables nested too deeply"))
            return replace(manifest, lockfile=lock_path)
        packages = data.get("package")
        versions: dict[str, str] = {
            canonicalize_name(str(p["name"])): str(p["version"])
            for p in (packages if isinstance(packages, list) else [])
            if isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("version"), str)
        }
        return _locked(manifest, lock_path, versions)
    return manifest


# --- npm ------------------------------------------------------------------------------------------------


def _npm_manifests(root: Path, files: list[str], problems: list[Problem]) -> list[Manifest]:
    package_files = [p for p in files if posixpath.basename(p) == "package.json"]
    texts = {p: t for p in package_files if (t := _read(root, p, problems)) is not None}
    workspace_root = _workspace_roots(texts)
    locks: dict[str, LockInfo | None] = {}

    def lock_for(directory: str) -> LockInfo | None:
        if directory not in locks:
            locks[directory] = None
            for name in _NPM_LOCKS:
                path = posixpath.join(directory, name) if directory else name
                if path in files:
                    text = _read(root, path, problems, MAX_LOCKFILE_BYTES)
                    locks[directory] = read_lock(path, text) if text is not None else None
                    break
        return locks[directory]

    manifests = []
    for path, text in texts.items():
        directory = posixpath.dirname(path)
        lock = lock_for(directory)
        member_of = workspace_root.get(directory)
        if lock is None and member_of is not None:
            lock = lock_for(member_of)
        manifest = parse_package_json(path, text, lock)
        if member_of is not None:
            name = manifest.project_name or directory
            manifest = replace(manifest, dependencies=tuple(replace(d, group=name) for d in manifest.dependencies))
        manifests.append(manifest)
    return manifests


def _workspace_roots(texts: Mapping[str, str]) -> dict[str, str]:
    """Member directory -> the directory of the package.json whose ``workspaces`` globs include it."""
    directories = [posixpath.dirname(p) for p in texts]
    members: dict[str, str] = {}
    for path, text in texts.items():
        base = posixpath.dirname(path)
        for glob in workspace_globs(text):
            pattern = posixpath.normpath(posixpath.join(base, glob)).rstrip("/")
            for directory in directories:
                if directory != base and (fnmatchcase(directory, pattern) or _under_globstar(directory, pattern)):
                    members.setdefault(directory, base)
    return members


def _under_globstar(directory: str, pattern: str) -> bool:
    if "**" not in pattern:
        return False
    prefix = pattern.split("**", 1)[0].rstrip("/")
    return directory == prefix or directory.startswith(prefix + "/") if prefix else True
