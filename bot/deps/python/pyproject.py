"""``pyproject.toml``: PEP 621, PEP 735 dependency groups, ``[build-system]`` and Poetry.

tomlkit reads the structure (invalid TOML -> a Problem with its line and column); :mod:`tomlscan` says where
each string is written, so every Location points at the constraint *inside* its quoted string.

Sections and roles:

* ``[project].dependencies`` -> RUNTIME
* ``[project.optional-dependencies]`` -> OPTIONAL, or DEV when the extra's name is dev/test/docs/lint/typing/...
  (``roles.role_for_extra``); ``group`` is the extra. An extra naming the project itself (``all = ["me[a,b]"]``)
  is skipped (``self``).
* ``[dependency-groups]`` (PEP 735) -> DEV, ``group`` is the group; ``{include-group = "..."}`` entries are not
  dependencies (an include of a missing group is a Problem).
* ``[build-system].requires`` -> BUILD
* ``[tool.poetry.dependencies]`` -> RUNTIME (``optional = true`` -> OPTIONAL/DEV by the extra in
  ``[tool.poetry.extras]`` that lists it); its ``python`` key is the project's requires-python, not a dependency.
  git/path/url/file entries are skipped with their reason; a list of tables (one constraint per Python
  version) is skipped as ``multiple-constraints``. ``[tool.poetry.group.<g>.dependencies]`` -> DEV (group
  ``main`` -> RUNTIME) and legacy ``[tool.poetry.dev-dependencies]`` -> DEV.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from packaging.utils import canonicalize_name
from tomlkit.exceptions import ParseError, TOMLKitError

from bot.deps.model import Dependency, Ecosystem, Location, Manifest, Problem, Role
from bot.deps.python import skips
from bot.deps.python.constraints import poetry_as_pep440
from bot.deps.python.pep508 import Pep508Error, split_requirement
from bot.deps.python.roles import role_for_extra
from bot.deps.python.textpos import LineIndex
from bot.deps.python.tomlscan import TomlPath, TomlScanError, TomlString, scan_layout

_POETRY_SOURCES = (("git", skips.GIT), ("path", skips.LOCAL), ("file", skips.LOCAL), ("url", skips.URL))


@dataclass
class _State:
    path: str
    text: str
    strings: dict[TomlPath, TomlString]
    keys: dict[TomlPath, int]
    values: dict[TomlPath, int]
    index: LineIndex
    project_key: str | None
    deps: list[Dependency] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, offset: int, message: str) -> None:
        line, column = self.index.position(offset)
        self.problems.append(Problem(self.path, line, column, message))


def parse_pyproject(path: str, text: str) -> Manifest:
    """Parse a ``pyproject.toml`` into a Manifest (kind ``"pyproject"``)."""
    try:
        data: dict[str, Any] = tomlkit.parse(text).unwrap()
    except ParseError as exc:
        # tomlkit counts columns from 0 (and says "col 0" for an unexpected end of the file): 1-based here.
        problem = Problem(path, max(exc.line, 1), exc.col + 1, f"invalid TOML: {exc}")
        return Manifest(path=path, ecosystem=Ecosystem.PYTHON, kind="pyproject", problems=(problem,))
    except TOMLKitError as exc:  # a key repeated inside a table: KeyAlreadyPresent, which carries no position
        line, column = _tomllib_position(text)
        problem = Problem(path, line, column, f"invalid TOML: {exc}")
        return Manifest(path=path, ecosystem=Ecosystem.PYTHON, kind="pyproject", problems=(problem,))
    try:
        layout = scan_layout(text)
    except TomlScanError as exc:  # tomlkit accepted it: a construct the scanner does not know
        line, column = LineIndex(text).position(exc.offset)
        problem = Problem(path, line, column, f"cannot locate values in this TOML: {exc}")
        return Manifest(path=path, ecosystem=Ecosystem.PYTHON, kind="pyproject", problems=(problem,))
    project = _table(data.get("project"))
    poetry = _table(_table(data.get("tool")).get("poetry"))
    name = project.get("name") if isinstance(project.get("name"), str) else poetry.get("name")
    project_name = name if isinstance(name, str) else None
    project_key = canonicalize_name(project_name) if project_name else None
    state = _State(path, text, layout.strings, layout.keys, layout.values, LineIndex(text), project_key)
    _pep621(state, project)
    _dependency_groups(state, _table(data.get("dependency-groups")))
    build = _table(data.get("build-system")).get("requires")
    _pep508_list(state, ("build-system", "requires"), build, Role.BUILD, None, "build-system.requires")
    _poetry(state, poetry, has_project_deps="dependencies" in project)
    requires_python = project.get("requires-python")
    if not isinstance(requires_python, str):
        python = _table(poetry.get("dependencies")).get("python")  # Poetry's syntax: ^3.10 is >=3.10,<4.0
        requires_python = poetry_as_pep440(python) if isinstance(python, str) else None
    return Manifest(
        path=path,
        ecosystem=Ecosystem.PYTHON,
        kind="pyproject",
        dependencies=tuple(state.deps),
        problems=tuple(state.problems),
        project_name=project_name,
        requires_python=requires_python if isinstance(requires_python, str) else None,
        python_floor=_python_floor(state),
    )


_FLOOR_PATHS = (
    (("project", "requires-python"), "project.requires-python"),
    (("tool", "poetry", "dependencies", "python"), "tool.poetry.dependencies.python"),
)


FLOOR_SECTIONS = frozenset(section for _, section in _FLOOR_PATHS)


def _python_floor(state: _State) -> tuple[Dependency, ...]:
    """Where requires-python is written as a plain string: entries named ``python`` (``bot.deps.floor``)."""
    found = []
    for path, section in _FLOOR_PATHS:
        located = state.strings.get(path)
        if located is None or not located.plain:
            continue
        line, column = state.index.position(state.keys.get(path, located.start))
        found.append(
            Dependency(
                ecosystem=Ecosystem.PYTHON,
                name="python",
                key="python",
                constraint=located.value,
                role=Role.RUNTIME,
                location=Location(state.path, line, column, located.start, located.end, section),
            )
        )
    return tuple(found)


def _tomllib_position(text: str) -> tuple[int, int]:
    """Where Python's own TOML reader sees the first mistake (its messages end "(at line L, column C)")."""
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)$", str(exc))
        if found is not None:
            return int(found.group(1)), int(found.group(2))
    except RecursionError:
        pass
    return 1, 1


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# -- PEP 621 / 735 / build-system -------------------------------------------------------------------------
def _pep621(state: _State, project: Mapping[str, Any]) -> None:
    _pep508_list(state, ("project", "dependencies"), project.get("dependencies"), Role.RUNTIME, None,
                 "project.dependencies")  # fmt: skip
    for extra, items in _table(project.get("optional-dependencies")).items():
        path = ("project", "optional-dependencies", extra)
        _pep508_list(state, path, items, role_for_extra(extra), extra, "project.optional-dependencies")


def _dependency_groups(state: _State, groups: Mapping[str, Any]) -> None:
    known = {canonicalize_name(name) for name in groups}
    for group, items in groups.items():
        if not isinstance(items, list):
            _problem_at(state, ("dependency-groups", group), f"dependency group {group!r} is not a list")
            continue
        for index, item in enumerate(items):
            if isinstance(item, dict) and "include-group" in item:
                target = item["include-group"]
                if not isinstance(target, str) or canonicalize_name(target) not in known:
                    _problem_at(state, ("dependency-groups", group, index, "include-group"),
                                f"dependency group {group!r} includes unknown group {target!r}")  # fmt: skip
                continue
            _pep508_item(state, ("dependency-groups", group, index), item, Role.DEV, group, "dependency-groups")


def _pep508_list(state: _State, path: TomlPath, items: object, role: Role, group: str | None, section: str) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        _problem_at(state, path, f"{section} is not a list of requirement strings")
        return
    for index, item in enumerate(items):
        _pep508_item(state, (*path, index), item, role, group, section)


def _pep508_item(state: _State, path: TomlPath, item: object, role: Role, group: str | None, section: str) -> None:
    located = state.strings.get(path)
    if not isinstance(item, str) or located is None:
        _problem_at(state, path, f"{section}: expected a requirement string, got {item!r}")
        return
    try:
        parts = split_requirement(item)
    except Pep508Error as exc:
        offset = located.start + exc.offset if located.plain else located.start
        state.problem(offset, f"invalid requirement {item!r}: {exc.message}")
        return
    skip: str | None = None
    if parts.url is not None:
        skip = (
            skips.GIT
            if parts.url.lower().startswith("git")
            else (skips.LOCAL if parts.url.lower().startswith("file:") else skips.URL)
        )
    elif not located.plain:
        skip = skips.UNUSUAL_STRING
    elif state.project_key is not None and canonicalize_name(parts.name) == state.project_key:
        skip = skips.SELF
    if located.plain:
        start, end = located.start + parts.constraint_start, located.start + parts.constraint_end
        entry = located.start + parts.name_start
    else:
        start = end = entry = located.start
    line, column = state.index.position(entry)
    state.deps.append(
        Dependency(
            ecosystem=Ecosystem.PYTHON,
            name=parts.name,
            key=canonicalize_name(parts.name),
            constraint=parts.constraint,
            role=role,
            location=Location(state.path, line, column, start, end, section),
            group=group,
            extras=parts.extras,
            marker=parts.marker,
            skip_reason=skip,
        )
    )


def _problem_at(state: _State, path: TomlPath, message: str) -> None:
    offset = state.values.get(path, state.keys.get(path))
    if offset is None:
        offsets = [s.start for p, s in state.strings.items() if p[: len(path)] == path]
        offset = min(offsets) if offsets else 0
    state.problem(offset, message)


# -- Poetry --------------------------------------------------------------------------------------------------
def _poetry(state: _State, poetry: Mapping[str, Any], *, has_project_deps: bool) -> None:
    if not poetry:
        return
    optional_groups: dict[str, str] = {}
    for extra, names in _table(poetry.get("extras")).items():
        for name in names if isinstance(names, list) else []:
            if isinstance(name, str):
                optional_groups.setdefault(canonicalize_name(name), extra)
    main = ("tool", "poetry", "dependencies")
    _poetry_table(state, main, _table(poetry.get("dependencies")), Role.RUNTIME, None, optional_groups,
                  enrich_only=has_project_deps)  # fmt: skip
    legacy = ("tool", "poetry", "dev-dependencies")
    _poetry_table(state, legacy, _table(poetry.get("dev-dependencies")), Role.DEV, "dev", {})
    for group, body in _table(poetry.get("group")).items():
        path = ("tool", "poetry", "group", group, "dependencies")
        role = Role.RUNTIME if group == "main" else Role.DEV
        _poetry_table(state, path, _table(_table(body).get("dependencies")), role, group, {})


def _poetry_table(
    state: _State,
    path: TomlPath,
    table: Mapping[str, Any],
    role: Role,
    group: str | None,
    optional_groups: Mapping[str, str],
    *,
    enrich_only: bool = False,
) -> None:
    section = ".".join(str(p) for p in path)
    for name, spec in table.items():
        if path == ("tool", "poetry", "dependencies") and name == "python":
            continue
        key = canonicalize_name(name)
        dep_role, dep_group = role, group
        if isinstance(spec, dict) and spec.get("optional") is True:
            dep_group = optional_groups.get(key)
            dep_role = role_for_extra(dep_group) if dep_group else Role.OPTIONAL
        entry = _key_offset(state, (*path, name))
        base = _PoetryEntry(name, key, dep_role, dep_group, section, entry)
        if isinstance(spec, str):
            _poetry_constraint(state, base, (*path, name), (), None)
        elif isinstance(spec, dict):
            _poetry_dict(state, base, (*path, name), spec, enrich_only)
        elif isinstance(spec, list):
            for index, _ in enumerate(spec):
                _poetry_skipped(state, base, skips.MULTIPLE_CONSTRAINTS, (*path, name, index))
        else:
            state.problem(entry, f"{section}.{name}: unsupported dependency value {spec!r}")


@dataclass(frozen=True)
class _PoetryEntry:
    name: str
    key: str
    role: Role
    group: str | None
    section: str
    entry: int


def _poetry_dict(state: _State, base: _PoetryEntry, path: TomlPath, spec: Mapping[str, Any], enrich: bool) -> None:
    for source_key, reason in _POETRY_SOURCES:
        if source_key in spec:
            _poetry_skipped(state, base, reason, path)
            return
    extras = tuple(e for e in spec.get("extras", ()) if isinstance(e, str))
    marker = spec.get("markers") if isinstance(spec.get("markers"), str) else None
    if "version" not in spec:
        if not enrich:  # with [project] dependencies, such tables only add a source etc. to those
            _poetry_skipped(state, base, skips.NO_VERSION, path)
        return
    _poetry_constraint(state, base, (*path, "version"), extras, marker)


def _poetry_constraint(
    state: _State, base: _PoetryEntry, path: TomlPath, extras: tuple[str, ...], marker: str | None
) -> None:
    located = state.strings.get(path)
    if located is None:
        state.problem(base.entry, f"{base.section}.{base.name}: version is not a string")
        return
    skip = None if located.plain else skips.UNUSUAL_STRING
    start, end = located.start, located.end
    if located.plain:
        while start < end and state.text[start].isspace():
            start += 1
        while end > start and state.text[end - 1].isspace():
            end -= 1
    line, column = state.index.position(base.entry)
    state.deps.append(
        Dependency(
            ecosystem=Ecosystem.PYTHON,
            name=base.name,
            key=base.key,
            constraint=state.text[start:end] if located.plain else located.value.strip(),
            role=base.role,
            location=Location(state.path, line, column, start, end, base.section),
            group=base.group,
            extras=extras,
            marker=marker,
            skip_reason=skip,
        )
    )


def _poetry_skipped(state: _State, base: _PoetryEntry, reason: str, path: TomlPath) -> None:
    version = state.strings.get((*path, "version"))
    line, column = state.index.position(base.entry)
    state.deps.append(
        Dependency(
            ecosystem=Ecosystem.PYTHON,
            name=base.name,
            key=base.key,
            constraint=version.value.strip() if version is not None else "",
            role=base.role,
            location=Location(state.path, line, column, base.entry, base.entry, base.section),
            group=base.group,
            skip_reason=reason,
        )
    )


def _key_offset(state: _State, path: TomlPath) -> int:
    """Where a Poetry entry starts: its key (or its table header)."""
    if path in state.keys:
        return state.keys[path]
    offsets = [s.start for p, s in state.strings.items() if p[: len(path)] == path]
    return min(offsets) if offsets else 0
