"""Before uv, pip-compile or Poetry runs on a copy of a repository: what it would read must lie inside the copy
(``bot.deps.confine`` says why), and it must not build anything, since a build runs code the repository chose
(a ``setup.py``, an in-tree build backend, a backend package of its choosing from the index).

References checked, in the copy:

- the command: its input files and every option value (``-c``, ``--constraint``, ``--override``, ``-o``...),
  relative to the directory it runs in;
- requirements files: the command's inputs, the compiled file itself (pip-compile reads its current pins), and
  every file they include, followed: each include, editable, path or ``file:`` requirement, index and
  find-links value;
- every ``pyproject.toml``: the dependency lists of ``[project]``, ``[dependency-groups]`` and
  ``[build-system]``, all of ``[tool.uv]`` (sources, indexes, find-links, workspace members, cache-dir...),
  ``[tool.pip-tools]`` (pip-compile reads it as options) and Poetry's dependency and source tables; and all of
  ``uv.toml``, ``poetry.toml`` and ``.pip-tools.toml`` when the copy has them.

Builds refused (measured: ``UV_NO_BUILD`` and ``PIP_ONLY_BINARY=:all:`` do not stop these):

- a compile's input that is a project without static metadata: ``setup.py``, ``setup.cfg``, a ``pyproject.toml``
  whose ``[project]`` leaves the dependencies dynamic (pip-compile and uv read static ones without building),
  or any project when build dependencies are asked for;
- a requirement in a compile's inputs that is not a wheel: a directory, an sdist, a VCS or URL requirement,
  editable or not (pip builds each to learn its dependencies, and so does uv for directories);
- for ``uv lock``: a workspace member (the project included) whose name, version, dependencies or Python
  requirement are dynamic (uv builds members even with ``UV_NO_BUILD``; it refuses other source builds itself);
- for Poetry: a path dependency on a directory without static metadata.
"""

from __future__ import annotations

import os
import posixpath
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.deps.confine import Outside, escapes, outside_strings, refusal, walk_strings
from bot.deps.python.requirements import Reference, parse_requirements_file, positional_arguments

PROJECT_FILES = frozenset({"pyproject.toml", "setup.cfg", "setup.py"})
COMPILE_KINDS = frozenset({"pip-compile", "uv-pip-compile"})
_SETTINGS_FILES = ("uv.toml", "poetry.toml", ".pip-tools.toml")
_POETRY_TABLES = ("dependencies", "dev-dependencies", "group", "source")
_SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__"})
# [project] fields a tool needs; when one of them is dynamic, the tool runs the build backend to learn it.
_PIP_TOOLS_NEEDS = frozenset({"dependencies", "optional-dependencies"})
_UV_NEEDS = frozenset({"version", "dependencies", "optional-dependencies", "requires-python"})
_BUILD_DEPS_OPTIONS = ("--build-deps-for", "--all-build-deps", "--only-build-deps")


def confinement_problem(
    work: Path, cwd: Path, kind: str, args: Sequence[str], compiled: str | None, *, allow_builds: bool = False
) -> str | None:
    """Why the tool of ``kind`` must not run ``args`` (its command line without the executable) in ``cwd``, or
    None. ``compiled`` is the repository-relative path of the file a compile writes."""
    if kind == "pipenv":
        return _pipfile_problem(work, cwd / "Pipfile", allow_builds)
    survey = _Survey(work, cwd, args, compiled)
    outside = survey.outside()
    if outside:
        return refusal(outside)
    if allow_builds:
        return None
    built = survey.builds(kind)
    if not built:
        return None
    shown = "; ".join(built[:5]) + (f" and {len(built) - 5} more" if len(built) > 5 else "")
    return (
        f"regenerating it would build {shown}, which runs code from the repository or the index: depup does not "
        "run it (a project whose [project] table lists its dependencies statically is read without building)"
    )


_PIPFILE_LOCAL = ("path", "file")  # Pipfile entry keys naming a local file or directory
_PIPFILE_BUILT = ("path", "file", "git", "hg", "svn", "bzr")  # entries pipenv builds (a wheel file excepted)


def _pipfile_problem(work: Path, pipfile: Path, allow_builds: bool) -> str | None:
    """pipenv reads the Pipfile's ``[[source]]`` indexes and its entries' ``path``/``file``/VCS locations, and
    builds every entry that is not a released wheel (a directory, an sdist, a repository) to learn its
    dependencies; ``PIP_ONLY_BINARY`` keeps it from building what the index offers only as source."""
    document = _toml(pipfile)
    if document is None:
        return None  # not TOML: pipenv stops at it without following anything
    relative = os.path.relpath(pipfile, work)
    strings: list[tuple[str, str]] = []
    for index, source in enumerate(document.get("source", []) if isinstance(document.get("source"), list) else []):
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            strings.append((f"source[{index}].url", source["url"]))
    built: list[str] = []
    for category, table in document.items():
        if category in ("source", "requires", "scripts", "pipenv", "pipfile") or not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if not isinstance(spec, dict):
                continue
            strings.extend((f"{category}.{name}.{key}", spec[key]) for key in _PIPFILE_LOCAL
                           if isinstance(spec.get(key), str))  # fmt: skip
            location = next((spec[k] for k in _PIPFILE_BUILT if isinstance(spec.get(k), str)), None)
            if spec.get("editable") is True or (location is not None and not _is_wheel(location)):
                built.append(f"{relative} [{category}] {name}")
    outside = outside_strings(work, pipfile.parent, relative, strings)
    if outside:
        return refusal(outside)
    if built and not allow_builds:
        shown = "; ".join(built[:5]) + (f" and {len(built) - 5} more" if len(built) > 5 else "")
        return (
            f"regenerating it would build {shown} (a local, editable or version-control entry), which runs code "
            "from the repository or elsewhere: depup does not run it"
        )
    return None


@dataclass(frozen=True)
class _Followed:
    relative: str
    path: Path
    references: tuple[Reference, ...]
    is_input: bool  # one of the command's inputs or what they include (the compiled file itself is not)


class _Survey:
    def __init__(self, work: Path, cwd: Path, args: Sequence[str], compiled: str | None) -> None:
        self.work, self.cwd, self.args, self.compiled = work, cwd, list(args), compiled
        self.sources = [cwd / name for name in positional_arguments(args)]
        self.requirement_files = list(self._follow())

    def outside(self) -> list[Outside]:
        found = [
            Outside(self.compiled, "header", arg)
            if self.compiled
            else Outside(self._relative(self.cwd), "command", arg)
            for arg in self.args
            if escapes(self.work, self.cwd, arg) or ("=" in arg and escapes(self.work, self.cwd, arg.split("=", 1)[1]))
        ]
        if found:
            return found  # the requirements files are read only once the command itself stays inside
        for followed in self.requirement_files:
            for reference in followed.references:
                # pip reads includes and find-links next to the file, requirement paths from its working directory
                if self._escapes(followed.path.parent, reference.written) or self._escapes(self.cwd, reference.written):
                    found.append(Outside(followed.relative, str(reference.line), reference.written))
        for path in _files(self.work, ("pyproject.toml", *_SETTINGS_FILES)):
            found.extend(self._settings_outside(path))
        return found

    def builds(self, kind: str) -> list[str]:
        if kind in COMPILE_KINDS:
            needs = _PIP_TOOLS_NEEDS if kind == "pip-compile" else _UV_NEEDS
            build_deps = any(arg.startswith(_BUILD_DEPS_OPTIONS) for arg in self.args)
            found = [
                self._relative(source)
                for source in self.sources
                if source.name in PROJECT_FILES
                and (build_deps or source.name != "pyproject.toml" or not _static(source, needs))
            ]
            for followed in self.requirement_files:
                found.extend(
                    f"{followed.relative}:{reference.line}: {reference.written}"
                    for reference in followed.references
                    if followed.is_input and reference.requirement and not _is_wheel(reference.written)
                )
            return found
        if kind == "uv":
            return [self._relative(p) for p in _uv_members(self.cwd / "pyproject.toml") if not _static(p, _UV_NEEDS)]
        if kind == "poetry":
            return [self._relative(p) for p in _poetry_path_projects(self.cwd / "pyproject.toml") if not _poetic(p)]
        return []

    def _follow(self) -> Iterator[_Followed]:
        pending = [(p, True) for p in self.sources if p.name not in PROJECT_FILES]
        if self.compiled is not None and not self.compiled.endswith(".toml"):  # a pylock.toml is not read by pip
            pending.append((self.work / self.compiled, False))
        seen: set[Path] = set()
        while pending:
            path, is_input = pending.pop()
            if path in seen or not _is_file(path):
                continue
            seen.add(path)
            try:
                text = path.read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            relative = self._relative(path)
            parsed = parse_requirements_file(relative, text)
            yield _Followed(relative, path, parsed.references, is_input)
            inside = [i.written for i in parsed.includes if not self._escapes(path.parent, i.written)]
            pending.extend((path.parent / written, is_input) for written in inside)

    def _settings_outside(self, path: Path) -> list[Outside]:
        document = _toml(path)
        if document is None:
            return []  # not TOML: the tool stops at it without following anything
        relative = self._relative(path)
        if path.name != "pyproject.toml":
            return outside_strings(self.work, path.parent, relative, walk_strings(document, ""))
        project, tool = _table(document, "project"), _table(document, "tool")
        poetry = _table(tool, "poetry")
        checked: dict[str, Any] = {
            "project.dependencies": project.get("dependencies"),
            "project.optional-dependencies": project.get("optional-dependencies"),
            "dependency-groups": document.get("dependency-groups"),
            "build-system.requires": _table(document, "build-system").get("requires"),
            "tool.uv": tool.get("uv"),
            "tool.pip-tools": tool.get("pip-tools"),
            **{f"tool.poetry.{name}": poetry.get(name) for name in _POETRY_TABLES},
        }
        strings = (pair for where, value in checked.items() if value is not None for pair in walk_strings(value, where))
        return outside_strings(self.work, path.parent, relative, strings)

    def _escapes(self, base: Path, written: str) -> bool:
        return escapes(self.work, base, written)

    def _relative(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.work)).as_posix()


def _static(pyproject: Path, needs: frozenset[str]) -> bool:
    """Whether ``pyproject``'s ``[project]`` gives everything in ``needs`` without running its build backend."""
    project = _table(_toml(pyproject) or {}, "project")
    dynamic = project.get("dynamic", [])
    return isinstance(project.get("name"), str) and isinstance(dynamic, list) and not needs.intersection(dynamic)


def _poetic(pyproject: Path) -> bool:
    """Whether Poetry reads a path dependency's metadata without building it: Poetry's own table, or static
    ``[project]`` metadata."""
    document = _toml(pyproject) or {}
    poetry = _table(_table(document, "tool"), "poetry")
    named = isinstance(poetry.get("name"), str) and isinstance(poetry.get("version"), str)
    return named or _static(pyproject, _UV_NEEDS)


def _uv_members(root: Path) -> list[Path]:
    """The ``pyproject.toml`` of the project and of each member of its uv workspace."""
    workspace = _table(_table(_table(_toml(root) or {}, "tool"), "uv"), "workspace")
    members, excluded = _strings(workspace.get("members")), _strings(workspace.get("exclude"))
    found = [root]
    for pattern in members:
        try:
            directories = sorted(root.parent.glob(pattern))
        except (ValueError, NotImplementedError):  # an empty or absolute pattern: uv refuses it too
            continue
        for directory in directories:
            relative = directory.relative_to(root.parent).as_posix()
            candidate = directory / "pyproject.toml"
            if candidate.is_file() and candidate not in found and not any(Path(relative).match(e) for e in excluded):
                found.append(candidate)
    return found


def _poetry_path_projects(root: Path) -> list[Path]:
    """The ``pyproject.toml`` of each directory a Poetry project depends on by path (a missing one included)."""
    poetry = _table(_table(_toml(root) or {}, "tool"), "poetry")
    tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    tables += [_table(group, "dependencies") for group in _table(poetry, "group").values() if isinstance(group, dict)]
    found: list[Path] = []
    for table in tables:
        for spec in table.values():
            for choice in spec if isinstance(spec, list) else [spec]:
                path = choice.get("path") if isinstance(choice, dict) else None
                if isinstance(path, str) and not _is_wheel(path):
                    found.append(root.parent / path / "pyproject.toml")
    return found


def _is_wheel(written: str) -> bool:
    """Whether a requirement names a wheel (installed without running anything), by its path or URL."""
    text = written.strip().split("#", 1)[0].split(";", 1)[0].strip()
    if "://" in text or text.lower().startswith("file:"):
        text = urlsplit(text).path
    name = posixpath.basename(text.replace("\\", "/"))
    return name.split("[", 1)[0].lower().endswith(".whl")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte: the tool cannot open it either
        return False


def _files(work: Path, names: Sequence[str]) -> Iterable[Path]:
    for folder, dirnames, filenames in os.walk(work):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for name in names:
            if name in filenames:
                yield Path(folder) / name


def _toml(path: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8", "replace"))
    except (OSError, ValueError, RecursionError):  # TOMLDecodeError, or a number past Python's digit limit
        return None


def _table(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
