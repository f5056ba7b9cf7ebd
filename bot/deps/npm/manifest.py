"""``package.json``: dependencies with their exact place in the text, roles, skip reasons and locked versions.

Rules (see ``specs`` for how a value is classified):

- sections: ``dependencies`` -> runtime, ``devDependencies`` -> dev, ``peerDependencies`` -> peer,
  ``optionalDependencies`` -> optional. A package listed in several sections is kept once per section: each
  entry is its own constraint, edited on its own.
- ``Location.start``/``end`` cover the value between its quotes; for an ``npm:name@range`` alias only the
  range part, so an alias is updated like any registry dependency (``key`` is the real package name).
- skipped (``skip_reason``), with why: ``local path`` (``file:``, ``./x``, ``link:``: not from a registry),
  ``workspace protocol`` (pnpm/yarn ``workspace:``: resolved inside the repo), ``git`` (git URLs, hosted
  shorthands like ``user/repo``: pinned to a commit or branch, not versions), ``url`` (tarball URLs),
  ``dist-tag`` (``latest``, ``next``: the maintainer asked for "whatever the tag says"; rewriting it to a
  range would change that intent, and the lockfile already records what it resolved to), ``alias`` (an
  alias without a range, or written with JSON escapes inside, where offsets cannot be mapped), ``invalid``
  (npm itself would refuse it; also reported as a problem).
- malformed input never raises: invalid JSON, a non-object section, a non-string value or a duplicate key
  become ``Problem`` entries with file, line and column. For duplicates the last entry wins, as in
  ``JSON.parse`` (and so in npm).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.deps.model import Dependency, Ecosystem, Location, Manifest, Problem, Role
from bot.deps.npm.jsonspan import Document, JsonError, Member, load_document
from bot.deps.npm.lockinfo import LockInfo
from bot.deps.npm.specs import Spec, classify

SECTIONS: Mapping[str, Role] = {
    "dependencies": Role.RUNTIME,
    "devDependencies": Role.DEV,
    "peerDependencies": Role.PEER,
    "optionalDependencies": Role.OPTIONAL,
}

# Sections that force versions of packages anywhere in the tree (npm ``overrides``, yarn ``resolutions``, pnpm
# ``pnpm.overrides``): each string entry is a dependency of its own (role runtime: it changes what is installed),
# edited like any other; an entry naming a direct dependency moves with it in the same pull request.
OVERRIDE_SECTIONS = ("overrides", "resolutions")

SKIP_REASONS = {
    "file": "local path",
    "workspace": "workspace protocol",
    "catalog": "catalog",
    "patch": "patch protocol",
    "git": "git",
    "url": "url",
    "tag": "dist-tag",
    "invalid": "invalid",
}


def parse_package_json(
    path: str,
    text: str,
    lock: Mapping[str, str] | LockInfo | None = None,
    *,
    lockfile: str | None = None,
) -> Manifest:
    """Parse one package.json (``path`` is repository-relative, ``text`` the decoded file).

    ``lock`` gives locked versions: a ``LockInfo`` (from ``read_lock``; the versions visible from this
    manifest's folder are used, and ``Manifest.lockfile`` is the lock's path) or a plain name -> version
    mapping (then pass ``lockfile=`` for the path).
    """
    lockfile_path = lock.path if isinstance(lock, LockInfo) else lockfile
    loaded = load_document(text)
    if isinstance(loaded, JsonError):
        problem = Problem(path, loaded.line, loaded.column, f"invalid JSON: {loaded.message}")
        return Manifest(path, Ecosystem.NPM, "package.json", problems=(problem,), lockfile=lockfile_path)
    if not isinstance(loaded.data, dict):
        problem = Problem(path, 1, 1, "package.json is not a JSON object")
        return Manifest(path, Ecosystem.NPM, "package.json", problems=(problem,), lockfile=lockfile_path)
    locked = lock.locked_for(path) if isinstance(lock, LockInfo) else (lock or {})
    reader = _Reader(path, loaded, locked)
    top = reader.effective(loaded.members(), "the top level")
    for member in top:
        role = SECTIONS.get(member.key)
        if role is not None:
            reader.read_section(member, role)
        elif member.key in OVERRIDE_SECTIONS and member.kind == "object":
            reader.read_overrides(member, member.key, loaded.data[member.key])
        elif member.key == "pnpm" and member.kind == "object":
            pnpm = {m.key: m for m in reader.effective(loaded.members(member.value_start), "`pnpm`")}
            if "overrides" in pnpm and pnpm["overrides"].kind == "object":
                reader.read_overrides(pnpm["overrides"], "pnpm.overrides", loaded.data["pnpm"]["overrides"])
    data: dict[str, Any] = loaded.data
    if isinstance(lock, LockInfo) and lock.directory == _folder(path):
        reader.problems.extend(lock.problems)
    workspaces = data.get("workspaces")
    if workspaces is not None and _globs(workspaces) is None:
        reader.problem_at(_member(top, "workspaces"), "`workspaces` should be a list of globs or {packages: [...]}")
    engines = data.get("engines")
    engines_node = engines.get("node") if isinstance(engines, dict) else None
    name = data.get("name")
    return Manifest(
        path,
        Ecosystem.NPM,
        "package.json",
        dependencies=tuple(reader.dependencies),
        problems=tuple(reader.problems),
        lockfile=lockfile_path,
        project_name=name if isinstance(name, str) else None,
        engines_node=engines_node if isinstance(engines_node, str) else None,
    )


def workspace_globs(text: str) -> list[str]:
    """The ``workspaces`` globs of a package.json (array form or ``{"packages": [...]}``); [] when none/invalid."""
    loaded = load_document(text)
    if isinstance(loaded, JsonError) or not isinstance(loaded.data, dict):
        return []
    return _globs(loaded.data.get("workspaces", [])) or []


def _globs(value: Any) -> list[str] | None:
    if isinstance(value, dict):
        value = value.get("packages", [])
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _member(members: list[Member], key: str) -> Member | None:
    return next((m for m in members if m.key == key), None)


class _Reader:
    def __init__(self, path: str, document: Document, locked: Mapping[str, str]) -> None:
        self.path = path
        self.document = document
        self.locked = locked
        self.dependencies: list[Dependency] = []
        self.problems: list[Problem] = []

    def problem_at(self, member: Member | None, message: str) -> None:
        line, column = self.document.position(member.key_start) if member else (1, 1)
        self.problems.append(Problem(self.path, line, column, message))

    def effective(self, members: tuple[Member, ...], where: str) -> list[Member]:
        """The members JSON.parse keeps (the last of each key), in file order; duplicates reported."""
        last = {member.key: member for member in members}
        for member in members:
            if last[member.key] is not member:
                later = self.document.position(last[member.key].key_start)[0]
                self.problem_at(
                    member, f'duplicate key "{member.key}" in {where}; npm uses the later one (line {later})'
                )
        return [member for member in members if last[member.key] is member]

    def read_section(self, section: Member, role: Role) -> None:
        if section.kind != "object":
            self.problem_at(section, f"`{section.key}` should be an object of package names to versions")
            return
        for entry in self.effective(self.document.members(section.value_start), f"`{section.key}`"):
            if entry.kind != "string":
                self.problem_at(entry, f'`{section.key}`: the version of "{entry.key}" should be a string')
                continue
            self.dependencies.append(self.dependency(section.key, role, entry))

    def read_overrides(self, section: Member, where: str, data: Mapping[str, Any], parent: str | None = None) -> None:
        """String entries of an overrides object; npm's nested objects (``{"foo": {".": "1", "bar": "2"}}``)
        are walked, ``.`` meaning the package that holds the object."""
        for entry in self.effective(self.document.members(section.value_start), f"`{where}`"):
            value = data.get(entry.key)
            name = parent if entry.key == "." and parent else override_target(entry.key)
            if entry.kind == "object" and isinstance(value, dict) and where != "resolutions":
                self.read_overrides(entry, f"{where}.{entry.key}", value, name)
            elif entry.kind == "string" and isinstance(value, str) and name is not None:
                if value.startswith("$"):  # npm: "$foo" takes the version of the direct dependency foo
                    dep = self.dependency(where, Role.RUNTIME, entry, "*", name=name)  # "*": not reported invalid
                    dep = replace(dep, constraint=value, skip_reason="reference to a direct dependency")
                else:
                    dep = self.dependency(where, Role.RUNTIME, entry, value, name=name)
                self.dependencies.append(dep)

    def dependency(
        self, section: str, role: Role, entry: Member, value: str | None = None, *, name: str | None = None
    ) -> Dependency:
        raw = self.document.text[entry.inner_start : entry.inner_end]
        if value is None:
            value = self.document.data[section][entry.key]
        assert value is not None
        spec = classify(value)
        start, end, constraint, key = entry.inner_start, entry.inner_end, value, name or entry.key
        skip: str | None = None
        if spec.kind == "alias" and spec.package is not None:
            key = spec.package
            if raw != value or not spec.range_text or spec.detail == "tag":
                skip = "dist-tag" if spec.detail == "tag" else "alias"
            else:
                start, constraint = entry.inner_start + spec.range_offset, spec.range_text
        elif spec.kind in SKIP_REASONS:
            skip = SKIP_REASONS[spec.kind]
            if spec.kind == "invalid":
                self.problem_at(entry, f'`{section}`: "{entry.key}": {_invalid_message(spec)}')
        line, column = self.document.position(entry.key_start)
        return Dependency(
            ecosystem=Ecosystem.NPM,
            name=name or entry.key,
            key=key,
            constraint=constraint,
            role=role,
            location=Location(self.path, line, column, start, end, section),
            locked=self.locked.get(name or entry.key),
            skip_reason=skip,
        )


def override_target(key: str) -> str | None:
    """The package an overrides/resolutions key forces: ``foo``, ``foo@^1`` (npm, pnpm), ``**/foo``,
    ``parent/foo``, ``@scope/parent/@scope/foo`` (yarn), ``parent>foo``, ``a@1>foo@<2`` (pnpm). None when the key
    names no package."""
    last = key.rsplit(">", 1)[-1].strip()
    parts = [p for p in last.split("/") if p and p != "**"]
    if not parts:
        return None
    name = f"{parts[-2]}/{parts[-1]}" if len(parts) >= 2 and parts[-2].startswith("@") else parts[-1]
    if name.startswith("@"):
        scope, _, rest = name.partition("/")
        rest = rest.split("@", 1)[0]
        name = f"{scope}/{rest}" if rest else ""
    else:
        name = name.split("@", 1)[0]
    return name or None


def _invalid_message(spec: Spec) -> str:
    return f"{spec.detail}; npm cannot install it"
