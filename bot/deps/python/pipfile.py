"""``Pipfile`` (pipenv's manifest, TOML) and ``Pipfile.lock`` (its lockfile, JSON).

Categories, as pipenv reads them: ``[packages]`` -> RUNTIME, ``[dev-packages]`` -> DEV, any other table that
is not ``[[source]]``, ``[requires]``, ``[scripts]``, ``[pipenv]`` or ``[pipfile]`` is a custom category: its
name is the dependency's group, its role DEV when the name says dev/test/docs/lint... (``roles.role_for_extra``),
else OPTIONAL (pipenv installs a custom category only when asked for it).

Entries: ``name = "SPEC"`` or ``name = {version = "SPEC", extras = [...], markers = "...", index = "..."}``;
``"*"`` means any version (the constraint is kept as written, ``*``; an edit replaces it inside its quotes).
Marker keys (``sys_platform = "== 'linux'"``) join ``markers`` into the dependency's marker. ``git``/``path``/
``file``/``editable`` entries are skipped with their reason; a table without ``version`` means any version
and has nothing an edit could replace. ``[requires] python_version`` / ``python_full_version`` is the
project's Python: ``requires_python`` is ``>=X.Y`` (the minor line it runs; see ``runtime.floor_specifier``).

``Pipfile.lock``: ``default`` locks ``[packages]``, ``develop`` ``[dev-packages]``, a custom category its own
name. Each entry's ``version`` (``==1.2.3``) is the locked version; a dependency missing from its section has an
unknown current version (``Dependency.unknown_current``), never one guessed from its constraint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import tomlkit
from packaging.utils import canonicalize_name
from tomlkit.exceptions import ParseError, TOMLKitError

from bot.deps.model import Dependency, Ecosystem, Location, Manifest, Problem, Role
from bot.deps.python import skips
from bot.deps.python.roles import role_for_extra
from bot.deps.python.runtime import floor_specifier
from bot.deps.python.textpos import LineIndex
from bot.deps.python.tomlscan import TomlScanError, scan_layout

KIND = "pipfile"
NOT_CATEGORIES = frozenset({"source", "requires", "scripts", "pipenv", "pipfile"})
MARKER_KEYS = (
    "os_name", "sys_platform", "platform_machine", "platform_python_implementation", "platform_release",
    "platform_system", "platform_version", "python_version", "python_full_version", "implementation_name",
    "implementation_version",
)  # fmt: skip
_SOURCES = (("git", skips.GIT), ("hg", skips.VCS), ("svn", skips.VCS), ("bzr", skips.VCS), ("path", skips.LOCAL),
            ("file", skips.URL))  # fmt: skip


def lock_section(category: str) -> str:
    """The ``Pipfile.lock`` section that locks a Pipfile category."""
    return {"packages": "default", "dev-packages": "develop"}.get(category, category)


def parse_pipfile(path: str, text: str) -> Manifest:
    """Parse a ``Pipfile`` into a Manifest (kind ``"pipfile"``)."""
    try:
        data: dict[str, Any] = tomlkit.parse(text).unwrap()
        layout = scan_layout(text)
    except ParseError as exc:
        return _broken(path, Problem(path, max(exc.line, 1), exc.col + 1, f"invalid TOML: {exc}"))
    except TOMLKitError as exc:  # a repeated key: no position from tomlkit
        return _broken(path, Problem(path, 1, 1, f"invalid TOML: {exc}"))
    except TomlScanError as exc:
        line, column = LineIndex(text).position(exc.offset)
        return _broken(path, Problem(path, line, column, f"cannot locate values in this TOML: {exc}"))
    index = LineIndex(text)
    deps: list[Dependency] = []
    problems: list[Problem] = []
    for category, table in data.items():
        if category in NOT_CATEGORIES:
            continue
        offset = layout.keys.get((category,), 0)
        if not isinstance(table, dict):
            line, column = index.position(offset)
            problems.append(Problem(path, line, column, f"[{category}] is not a table of packages"))
            continue
        role, group = _role(category)
        for name, spec in table.items():
            entry = layout.keys.get((category, name), offset)
            line, column = index.position(entry)
            base = Dependency(
                ecosystem=Ecosystem.PYTHON,
                name=name,
                key=canonicalize_name(name),
                constraint="",
                role=role,
                location=Location(path, line, column, entry, entry, category),
                group=group,
            )
            if isinstance(spec, str):
                deps.append(_with_string(base, layout.strings.get((category, name)), text))
            elif isinstance(spec, dict):
                deps.append(_from_table(base, spec, layout.strings.get((category, name, "version")), text))
            else:  # its type: a repr may be megabytes long, or fail (an integer past Python's int/str digit limit)
                message = f"[{category}] {name}: unsupported value of type {type(spec).__name__}"
                problems.append(Problem(path, line, column, message))
    requires = data.get("requires")
    python = None
    if isinstance(requires, dict):
        written = requires.get("python_full_version") or requires.get("python_version")
        python = floor_specifier(written) if isinstance(written, str) else None
    return Manifest(
        path=path,
        ecosystem=Ecosystem.PYTHON,
        kind=KIND,
        dependencies=tuple(deps),
        problems=tuple(problems),
        requires_python=python,
    )


def _broken(path: str, problem: Problem) -> Manifest:
    return Manifest(path=path, ecosystem=Ecosystem.PYTHON, kind=KIND, problems=(problem,))


def _role(category: str) -> tuple[Role, str | None]:
    if category == "packages":
        return Role.RUNTIME, None
    if category == "dev-packages":
        return Role.DEV, None
    return role_for_extra(category), category


def _with_string(base: Dependency, located: Any, text: str) -> Dependency:
    if located is None:
        return replace(base, skip_reason=skips.UNUSUAL_STRING)
    if not located.plain:
        return replace(base, constraint=located.value.strip(), skip_reason=skips.UNUSUAL_STRING)
    start, end = located.start, located.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    location = replace(base.location, start=start, end=end)
    return replace(base, constraint=text[start:end], location=location)


def _from_table(base: Dependency, spec: Mapping[str, Any], version: Any, text: str) -> Dependency:
    extras = (
        tuple(e for e in spec.get("extras", ()) if isinstance(e, str)) if isinstance(spec.get("extras"), list) else ()
    )
    marker = _marker(spec)
    dep = replace(base, extras=extras, marker=marker)
    if spec.get("editable") is True:
        return replace(dep, skip_reason=skips.EDITABLE)
    for key, reason in _SOURCES:
        if key in spec:
            return replace(dep, skip_reason=reason)
    if "version" not in spec:
        return dep  # any version, and no string to edit: only the lockfile can move
    return _with_string(dep, version, text)


def _marker(spec: Mapping[str, Any]) -> str | None:
    parts: list[str] = []
    written = spec.get("markers")
    if isinstance(written, str) and written.strip():
        parts.append(written.strip())
    for key in MARKER_KEYS:
        value = spec.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(f"{key} {value.strip()}")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)


@dataclass(frozen=True)
class PipfileLock:
    """The locked versions of a ``Pipfile.lock``, per section (``default``, ``develop``, custom categories)."""

    sections: dict[str, dict[str, str]]  # section -> canonical name -> version ("1.2.3", without "==")


class PipfileLockError(ValueError):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def parse_pipfile_lock(text: str) -> PipfileLock:
    """Read the locked versions; :class:`PipfileLockError` (with line and column) when it is not a lockfile."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PipfileLockError(f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from exc
    except RecursionError as exc:
        raise PipfileLockError("not readable: nested too deeply") from exc
    except ValueError as exc:  # an integer past Python's int/str digit limit: no JSONDecodeError, no position
        raise PipfileLockError(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("_meta"), dict):
        raise PipfileLockError("not a Pipfile.lock: no _meta object at the top")
    sections: dict[str, dict[str, str]] = {}
    for section, entries in data.items():
        if section == "_meta" or not isinstance(entries, dict):
            continue
        versions: dict[str, str] = {}
        for name, entry in entries.items():
            version = entry.get("version") if isinstance(entry, dict) else None
            if isinstance(version, str) and version.startswith("==") and "*" not in version:
                versions[canonicalize_name(name)] = version[2:].strip()
        sections[section] = versions
    return PipfileLock(sections)


def locked(manifest: Manifest, lock_path: str, lock: PipfileLock) -> Manifest:
    """``manifest`` with each dependency's locked version from its category's section of ``lock``."""
    deps: list[Dependency] = []
    for dep in manifest.dependencies:
        section = lock_section(dep.location.section)
        version = lock.sections.get(section, {}).get(dep.key)
        if version is not None:
            deps.append(replace(dep, locked=version))
        elif dep.skip_reason is None:
            why = f"{dep.name} is not in the {section!r} section of {lock_path}: the lockfile is out of date"
            deps.append(replace(dep, unknown_current=why))
        else:
            deps.append(dep)
    return replace(manifest, dependencies=tuple(deps), lockfile=lock_path)


def unreadable(manifest: Manifest, lock_path: str, why: str) -> Manifest:
    """``manifest`` whose lockfile could not be read: every current version is unknown."""
    reason = f"{lock_path} could not be read ({why})"
    deps = tuple(d if d.skip_reason else replace(d, unknown_current=reason) for d in manifest.dependencies)
    return replace(manifest, dependencies=deps, lockfile=lock_path)
