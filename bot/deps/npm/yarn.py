"""yarn: ``yarn.lock`` (classic v1 and Berry, yarn 2 and later), the versions it locks per workspace, and
regenerating it with the project's own yarn.

Reading (``read_yarn_lock``):

- yarn 1 writes its own syntax (``"a@^1.0.0", a@^1.1.0:`` headers, ``version "1.2.3"``, two-space indents):
  read by a port of yarn 1's own tokenizer and parser (``src/lockfile/parse.js``), errors with line and column.
  Berry writes YAML with ``__metadata: {version, cacheKey}``: read with every scalar a string (as yarn does,
  js-yaml's failsafe schema). A file with yarn 1's header comment is yarn 1's syntax whoever wrote it.
- The lock is keyed by what package.json files ask for: ``name@range`` (yarn 1), ``name@npm:range`` (Berry adds
  the default ``npm:`` protocol to semver ranges and tags). So a dependency's locked version is the entry of
  the descriptor its package.json writes (aliases included: ``a@npm:b@^1``), for the root and every workspace.
  Berry lists workspaces as ``name@workspace:<folder>`` entries: a package.json is locked when its folder has
  one; their own ``dependencies`` give the descriptor yarn recorded when package.json alone cannot
  (``catalog:``). yarn 1 does not list workspaces: every package.json of the project is locked.
- ``resolutions`` of the root package.json: yarn 1 keeps the requested pattern as key with the forced version;
  Berry replaces the descriptor (``@types/node@npm:^18.14`` is locked as ``@types/node@npm:18.x``), which is
  applied here the way yarn applies it. A direct dependency a resolution forces is in ``JsLock.forced``:
  editing its range alone does not change the version in use.
- ``patch:`` resolutions (Berry; yarn's own ``builtin<compat/...>`` patches excluded) are ``Patch`` entries
  with the repository path of the patch file (``~/`` is the project root, ``./`` the workspace declaring it).
- ``local``: names resolved inside the repository (``workspace:``, ``portal:``, ``link:``, ``file:``).
- Bad input never raises: a ``Problem`` with line and column; nothing readable means ``readable`` False.

Regenerating (``YARN``, run by ``bot.deps.npm.relock``): see ``_Yarn``.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from bot.deps.confine import Outside, escapes, outside_strings, walk_strings
from bot.deps.model import Problem
from bot.deps.npm import semver
from bot.deps.npm.confine import references_outside
from bot.deps.npm.locks import JsLock, Patch
from bot.deps.npm.relock import SKIPPED_DIRS, Job, Step, copy_files, package_files, read_json
from bot.deps.npm.semver import valid_range
from bot.deps.npm.specs import classify
from bot.deps.npm.tools import Tool

_EMPTY: Mapping[str, str] = MappingProxyType({})
_V1_HEADER = re.compile(r"^(?:#.*\r?\n)*?#\s+yarn\s+lockfile\s+v1\r?\n", re.IGNORECASE)
_BERRY = re.compile(r"^__metadata:\s*$", re.MULTILINE)
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7})(?: |$)", re.MULTILINE)
_MULTIPLE_KEYS = re.compile(r" *, *")
_TAG = re.compile(r"^(?!v)[a-z0-9._-]+$", re.IGNORECASE)  # Berry's TAG_REGEXP: a dist-tag gets ``npm:`` too
_DEP_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_LOCAL_PROTOCOLS = frozenset({"workspace", "portal", "link", "file"})
_MAX_DEPTH = 64
_MAX_PROBLEMS = 20


# --- yarn 1 syntax ------------------------------------------------------------------------------------------


class V1Error(Exception):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


class _Token(NamedTuple):
    kind: str  # "string" | "number" | "boolean" | "colon" | "comma" | "newline" | "indent" | "invalid" | "eof"
    value: object
    line: int
    column: int  # 0-based, as yarn counts


def _tokens(text: str) -> Iterator[_Token]:
    """yarn 1's ``tokenise``: the same tokens, positions and errors, without its quadratic slicing."""
    i, n, line, column = 0, len(text), 1, 0
    after_newline = False
    while i < n:
        char = text[i]
        if char in "\r\n":
            chop = 2 if char == "\r" and text.startswith("\n", i + 1) else 1
            line, column = line + 1, 0
            yield _Token("newline", None, line, column)
            i += chop
            after_newline = True
            continue
        if char == "#":
            end = text.find("\n", i)
            chop = (n if end < 0 else end) - i  # a comment (yarn keeps them apart; nothing reads them)
        elif char == " ":
            if after_newline:
                end = i
                while end < n and text[end] == " ":
                    end += 1
                chop = end - i
                if chop % 2:
                    raise V1Error(line, column + 1, "invalid number of spaces (indentation is two spaces a level)")
                yield _Token("indent", chop // 2, line, column)
            else:
                chop = 1
        elif char == '"':
            end = i + 1
            while True:
                quote = text.find('"', end)
                if quote < 0:
                    end = n
                    break
                if not (text[quote - 1] == "\\" and (quote - 2 < i or text[quote - 2] != "\\")):
                    end = quote + 1
                    break
                end = quote + 1
            chop = end - i
            try:
                yield _Token("string", json.loads(text[i:end]), line, column)
            except ValueError:
                yield _Token("invalid", text[i:end], line, column)
                return
        elif "0" <= char <= "9":
            end = i
            while end < n and "0" <= text[end] <= "9":
                end += 1
            chop = end - i
            try:
                number: float = int(text[i:end])
            except ValueError:  # past Python's int/str digit limit; yarn's JavaScript reads every number as a double
                number = float(text[i:end])
            yield _Token("number", number, line, column)
        elif text.startswith("true", i):
            chop = 4
            yield _Token("boolean", True, line, column)
        elif text.startswith("false", i):
            chop = 5
            yield _Token("boolean", False, line, column)
        elif char in ":,":
            chop = 1
            yield _Token("colon" if char == ":" else "comma", None, line, column)
        elif char.isascii() and (char.isalpha() or char in "/-"):
            end = i
            while end < n and text[end] not in ": \n\r,":
                end += 1
            chop = end - i
            yield _Token("string", text[i:end], line, column)
        else:
            yield _Token("invalid", char, line, column)
            return
        column += chop
        i += chop
        after_newline = False
    yield _Token("eof", None, line, column)


class _V1Parser:
    """yarn 1's ``Parser.parse``: nested objects by indentation, several keys sharing one value."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self.token = _Token("eof", None, 1, 0)
        self.lines: dict[str, int] = {}  # top-level key -> its line

    def next(self) -> _Token:
        self.token = next(self._tokens, self.token)
        return self.token

    def unexpected(self, message: str) -> V1Error:
        return V1Error(self.token.line, self.token.column + 1, message)

    def parse(self, indent: int = 0) -> dict[str, object]:
        if indent > _MAX_DEPTH:
            raise self.unexpected("nested too deeply")
        result: dict[str, object] = {}
        while True:
            token = self.token
            if token.kind == "newline":
                following = self.next()
                if not indent:
                    continue
                if following.kind != "indent" or following.value != indent:
                    break
                self.next()
            elif token.kind == "indent":
                if token.value != indent:
                    break
                self.next()
            elif token.kind == "eof":
                break
            elif token.kind == "string":
                keys = [self._key(token)]
                self.next()
                while self.token.kind == "comma":
                    if self.next().kind != "string":
                        raise self.unexpected("expected a string after the comma")
                    keys.append(self._key(self.token))
                    self.next()
                value_token = self.token
                if value_token.kind == "colon":
                    self.next()
                    value: object = self.parse(indent + 1)
                    self._store(result, keys, value, indent, token.line)
                    if indent and self.token.kind != "indent":
                        break
                elif value_token.kind in ("string", "number", "boolean"):
                    self._store(result, keys, value_token.value, indent, token.line)
                    self.next()
                elif value_token.kind == "invalid":
                    raise self.unexpected(_describe(value_token))
                else:
                    raise self.unexpected(f"invalid value type ({_describe(value_token)})")
            else:
                raise self.unexpected(f"unexpected {_describe(token)}")
        return result

    def _key(self, token: _Token) -> str:
        if not token.value:
            raise self.unexpected("expected a key")
        return str(token.value)

    def _store(self, result: dict[str, object], keys: list[str], value: object, indent: int, line: int) -> None:
        for key in keys:
            result[key] = value
            if not indent:
                self.lines.setdefault(key, line)


def _describe(token: _Token) -> str:
    if token.kind == "invalid" and str(token.value).startswith('"'):
        return "unterminated or invalid string"
    if token.kind == "invalid":
        return f"character {str(token.value)[:20]!r}"
    return {"colon": "':'", "comma": "','", "eof": "end of file"}.get(token.kind, token.kind)


def parse_v1(text: str) -> tuple[dict[str, object], dict[str, int]]:
    """yarn 1 lockfile text -> (top-level keys -> values, top-level key -> line). Raises ``V1Error``."""
    parser = _V1Parser(text.removeprefix("\ufeff"))
    parser.next()
    try:
        data = parser.parse()
    except RecursionError:
        raise parser.unexpected("nested too deeply") from None
    return data, parser.lines


# --- Berry syntax -------------------------------------------------------------------------------------------


def parse_berry(text: str) -> tuple[dict[str, object], dict[str, int]] | Problem:
    """Berry lockfile text -> (top-level keys -> values, key -> line), every scalar a string; or the problem
    (file left empty, the caller names it)."""
    loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return Problem("", line, column, f"invalid YAML: {exc.problem or exc.context}")
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return Problem("", 1, 1, f"invalid YAML: {exc}")
    if root is None:
        return {}, {}
    if not isinstance(root, yaml.MappingNode):
        return Problem("", root.start_mark.line + 1, root.start_mark.column + 1, "yarn.lock is not a mapping")
    data: dict[str, object] = {}
    lines: dict[str, int] = {}
    memo: dict[int, object] = {}
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        data[key_node.value] = _plain(value_node, memo, 0)
        lines.setdefault(key_node.value, key_node.start_mark.line + 1)
    return data, lines


def _plain(node: yaml.Node, memo: dict[int, object], depth: int) -> object:
    """A composed node as str / dict / list; shared (anchored) nodes converted once, depth bounded."""
    if id(node) in memo:
        return memo[id(node)]
    if depth > _MAX_DEPTH:
        return None
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        items: list[object] = []
        memo[id(node)] = items
        items.extend(_plain(item, memo, depth + 1) for item in node.value)
        return items
    mapping: dict[str, object] = {}
    memo[id(node)] = mapping
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            mapping[key.value] = _plain(value, memo, depth + 1)
    return mapping


# --- descriptors --------------------------------------------------------------------------------------------


def split_descriptor(descriptor: str) -> tuple[str, str] | None:
    """``@scope/name@range`` -> (``@scope/name``, ``range``)."""
    at = descriptor.find("@", 1)
    if at <= 0:
        return None
    return descriptor[:at], descriptor[at + 1 :]


def berry_range(raw: str) -> str:
    """The range Berry records for a package.json range: the default ``npm:`` protocol before semver ranges and
    dist-tags (``Configuration.normalizeDependency``), everything else as written."""
    if valid_range(raw) is not None or _TAG.match(raw):
        return f"npm:{raw}"
    return raw


def _protocol(range_: str) -> str | None:
    head, colon, _ = range_.partition(":")
    return head if colon and re.fullmatch(r"[a-z][a-z0-9+.-]*", head) else None


def _params(range_: str) -> dict[str, str]:
    """The ``::a=1&b=2`` binding parameters of a Berry range."""
    _, sep, query = range_.partition("::")
    if not sep:
        return {}
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


@dataclass(frozen=True)
class _PatchSpec:
    inner: str  # the patched descriptor, decoded: "lodash@npm:4.17.21"
    paths: tuple[str, ...]  # the repository's patch files as written (yarn's builtin<...> patches left out)
    locator_folder: str | None  # folder of the workspace the relative paths are read from


def _patch_spec(range_: str) -> _PatchSpec | None:
    if not range_.startswith("patch:"):
        return None
    body = range_[len("patch:") :].split("::", 1)[0]
    inner, _, selector = body.partition("#")
    paths = []
    for path in selector.split("&") if selector else []:
        path = unquote(path)
        if path.removeprefix("optional!").startswith("builtin<"):
            continue
        paths.append(path)
    return _PatchSpec(unquote(inner), tuple(paths), _locator_folder(range_))


def _locator_folder(range_: str) -> str | None:
    """The workspace folder named by a range's ``locator=name@workspace:folder`` parameter."""
    locator = _params(range_).get("locator")
    parts = split_descriptor(locator) if locator else None
    if parts is None or not parts[1].startswith("workspace:"):
        return None
    return parts[1][len("workspace:") :]


def _project_path(base: str, folder: str | None, written: str) -> str | None:
    """A path as yarn reads it (``~/`` is the project root, else relative to ``folder``) as a repository path,
    None when it leaves the repository or is absolute."""
    if written.startswith("~/"):
        relative = written[2:]
    elif written.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", written):
        return None
    else:
        relative = posixpath.join(folder or ".", written)
    joined = posixpath.normpath(posixpath.join(base or ".", relative))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return "" if joined == "." else joined


# --- resolutions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolution:
    key: str  # as written
    value: str
    name: str
    range: str | None  # "lodash@^4" keys (Berry)
    nested: bool  # limited to dependencies of some package ("a/b"): never a workspace's direct dependency


def _resolutions(document: object) -> list[_Resolution]:
    table = document.get("resolutions") if isinstance(document, dict) else None
    if not isinstance(table, dict):
        return []
    found = []
    for key, value in table.items():
        if not isinstance(value, str) or not isinstance(key, str):
            continue
        path = key.strip().removeprefix("**/")
        parts: list[str] = []
        for part in path.split("/"):
            if parts and parts[-1].startswith("@") and "/" not in parts[-1] and "@" not in parts[-1][1:]:
                parts[-1] = f"{parts[-1]}/{part}"
            else:
                parts.append(part)
        last = parts[-1] if parts else ""
        split = split_descriptor(last)
        name, range_ = split if split else (last, None)
        if name:
            found.append(_Resolution(key, value, name, range_ or None, len(parts) > 1))
    return found


def _applies(resolution: _Resolution, name: str, raw: str, berry: bool) -> bool:
    """Whether ``resolution`` forces a workspace's own dependency ``name: raw``."""
    if resolution.nested or resolution.name != name:
        return False
    if resolution.range is None:
        return True
    # yarn 1 reads "name@range" keys as a package named "name@range": they never apply.
    return berry and berry_range(resolution.range) == berry_range(raw)


# --- reading ------------------------------------------------------------------------------------------------


def read_yarn_lock(path: str, text: str, manifests: Mapping[str, object]) -> JsLock:
    """The versions ``path`` (a yarn.lock) locks for each of ``manifests`` (package.json path -> parsed JSON, or
    None when invalid) in its folder or below. Never raises."""
    text = text.removeprefix("\ufeff")
    base = posixpath.dirname(path)
    conflict = _CONFLICT.search(text)
    if conflict is not None:
        line = text.count("\n", 0, conflict.start()) + 1
        problem = Problem(path, line, 1, "yarn.lock has merge conflict markers: run `yarn install` to resolve them")
        return JsLock(path, "yarn", "yarn.lock", problems=(problem,), readable=False)
    berry = _BERRY.search(text) is not None and not _V1_HEADER.match(text)
    if berry:
        loaded = parse_berry(text)
        if isinstance(loaded, Problem):
            problem = Problem(path, loaded.line, loaded.column, f"yarn.lock cannot be read: {loaded.message}")
            return JsLock(path, "yarn", "yarn.lock (Berry)", problems=(problem,), readable=False)
        return _Berry(path, base, manifests, *loaded).read()
    try:
        data, lines = parse_v1(text)
    except V1Error as exc:
        problem = Problem(path, exc.line, exc.column, f"yarn.lock v1 cannot be read: {exc.message}")
        return JsLock(path, "yarn", "yarn.lock v1", problems=(problem,), readable=False)
    return _V1(path, base, manifests, data, lines).read()


def _importers(base: str, manifests: Mapping[str, object]) -> dict[str, str]:
    """package.json path -> its folder relative to the lockfile's (``.`` for the same folder)."""
    found = {}
    for manifest in manifests:
        folder = posixpath.dirname(manifest)
        if folder == base:
            found[manifest] = "."
        elif not base or folder.startswith(base + "/"):
            found[manifest] = folder[len(base) + 1 :] if base else folder
    return found


def _dependencies(document: object) -> Iterator[tuple[str, str]]:
    """(name, range) of every dependency yarn installs for a package.json (peers are not installed)."""
    if not isinstance(document, dict):
        return
    for section in _DEP_SECTIONS:
        table = document.get(section)
        if isinstance(table, dict):
            for name, raw in table.items():
                if isinstance(name, str) and isinstance(raw, str):
                    yield name, raw


def _forces(resolution: _Resolution) -> bool:
    """Whether a resolution pins a registry version (one to a workspace, portal or folder makes it local)."""
    return _protocol(resolution.value) not in _LOCAL_PROTOCOLS


def _forced_reason(resolution: _Resolution, root: str) -> str:
    return f'`resolutions` "{resolution.key}": "{resolution.value}" in {root}'


class _V1:
    def __init__(
        self, path: str, base: str, manifests: Mapping[str, object], data: dict[str, object], lines: dict[str, int]
    ) -> None:
        self.path, self.base, self.manifests, self.data, self.lines = path, base, manifests, data, lines

    def read(self) -> JsLock:
        problems = [
            Problem(self.path, self.lines.get(key, 1), 1, f"entry {key!r} has no version")
            for key, entry in self.data.items()
            if not isinstance(entry, dict) or not isinstance(entry.get("version"), str)
        ]
        root = posixpath.join(self.base, "package.json") if self.base else "package.json"
        resolutions = _resolutions(self.manifests.get(root))
        importers: dict[str, Mapping[str, str]] = {}
        forced: dict[str, Mapping[str, str]] = {}
        for manifest in _importers(self.base, self.manifests):
            locked: dict[str, str] = {}
            pinned: dict[str, str] = {}
            for name, raw in _dependencies(self.manifests[manifest]):
                # yarn 1 looks for the bare name first (entries written by `--save` without a range).
                entry = self.data.get(name) if isinstance(self.data.get(name), dict) else self.data.get(f"{name}@{raw}")
                version = entry.get("version") if isinstance(entry, dict) else None
                if isinstance(version, str):
                    locked.setdefault(name, version)
                for resolution in resolutions:
                    if _forces(resolution) and _applies(resolution, name, raw, berry=False):
                        pinned.setdefault(name, _forced_reason(resolution, root))
            importers[manifest] = MappingProxyType(locked)
            if pinned:
                forced[manifest] = MappingProxyType(pinned)
        local = set()
        versions: dict[str, set[str]] = {}
        for key, entry in self.data.items():
            split = split_descriptor(key)
            resolved = entry.get("resolved") if isinstance(entry, dict) else None
            if split and (_protocol(split[1]) in ("file", "link") or str(resolved or "").startswith("file:")):
                local.add(split[0])
            elif split and isinstance(entry, dict) and isinstance(entry.get("version"), str):
                alias = split_descriptor(split[1][4:]) if split[1].startswith("npm:") else None
                if _protocol(split[1]) is None or alias is not None:
                    versions.setdefault(alias[0] if alias else split[0], set()).add(entry["version"])
        return JsLock(
            self.path,
            "yarn",
            "yarn.lock v1",
            MappingProxyType(importers),
            tuple(_capped(problems, self.path)),
            local=frozenset(local),
            versions=_sorted(versions),
            forced=MappingProxyType(forced),
        )


def _sorted(versions: Mapping[str, set[str]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({name: tuple(semver.sort_versions(v, loose=True)) for name, v in versions.items()})


class _Berry:
    def __init__(
        self, path: str, base: str, manifests: Mapping[str, object], data: dict[str, object], lines: dict[str, int]
    ) -> None:
        self.path, self.base, self.manifests, self.lines = path, base, manifests, lines
        self.metadata = data.pop("__metadata", None)
        self.entries: dict[str, dict[str, Any]] = {}  # descriptor -> entry
        self.loose: dict[str, dict[str, Any]] = {}  # descriptor without bindings, percent-decoded -> entry
        self.problems: list[Problem] = []
        for key, entry in data.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("resolution"), str):
                self.problems.append(Problem(path, lines.get(key, 1), 1, f"entry {key!r} has no resolution"))
                continue
            for descriptor in _MULTIPLE_KEYS.split(key.strip()):
                self.entries.setdefault(descriptor, entry)
                self.loose.setdefault(_loose(descriptor), entry)

    def read(self) -> JsLock:
        version = self.metadata.get("version") if isinstance(self.metadata, dict) else None
        fmt = f"yarn.lock (Berry, metadata v{version})" if isinstance(version, str) else "yarn.lock (Berry)"
        workspaces: dict[str, dict[str, Any]] = {}  # folder -> workspace entry
        for entry in self.entries.values():
            split = split_descriptor(entry["resolution"])
            if split and split[1].startswith("workspace:"):
                workspaces[posixpath.normpath(split[1][len("workspace:") :])] = entry
        root = posixpath.join(self.base, "package.json") if self.base else "package.json"
        resolutions = _resolutions(self.manifests.get(root))
        importers: dict[str, Mapping[str, str]] = {}
        forced: dict[str, Mapping[str, str]] = {}
        for manifest, folder in _importers(self.base, self.manifests).items():
            workspace = workspaces.get(folder)
            if workspace is None:
                continue
            recorded = workspace.get("dependencies")
            recorded = recorded if isinstance(recorded, dict) else {}
            locked: dict[str, str] = {}
            pinned: dict[str, str] = {}
            for name, raw in _dependencies(self.manifests[manifest]):
                applied = next((r for r in resolutions if _applies(r, name, raw, berry=True)), None)
                if applied is not None and _forces(applied):
                    pinned.setdefault(name, _forced_reason(applied, root))
                found = self._locked(name, raw, recorded.get(name), applied)
                version = found.get("version") if found is not None and _registry(found) else None
                if isinstance(version, str):
                    locked.setdefault(name, version)
            importers[manifest] = MappingProxyType(locked)
            if pinned:
                forced[manifest] = MappingProxyType(pinned)
        return JsLock(
            self.path,
            "yarn",
            fmt,
            MappingProxyType(importers),
            tuple(_capped(self.problems, self.path)),
            patches=self._patches(),
            local=self._local(),
            versions=self._versions(),
            forced=MappingProxyType(forced),
        )

    def _locked(self, name: str, raw: str, recorded: object, resolution: _Resolution | None) -> dict[str, Any] | None:
        if resolution is not None:
            return self._entry(f"{name}@{berry_range(resolution.value)}")
        found = self._entry(f"{name}@{berry_range(raw)}")
        # What yarn recorded for this workspace says the descriptor in another spelling; a different range is a
        # stale lock, not a match.
        if found is None and isinstance(recorded, str) and recorded.removeprefix("npm:") == raw:
            found = self._entry(f"{name}@{recorded}")
        if found is None and _protocol(raw) == "catalog":
            # The catalog's range is in .yarnrc.yml, which the lock does not repeat; whatever it is, it was
            # resolved from the registry: when every registry entry of the name has one version, that is it.
            same = {id(e): e for d, e in self.entries.items() if d.startswith(f"{name}@npm:") and _registry(e)}
            versions = {e.get("version") for e in same.values()}
            found = next(iter(same.values())) if len(versions) == 1 else None
        return found

    def _entry(self, descriptor: str) -> dict[str, Any] | None:
        found = self.entries.get(descriptor)
        if found is not None:
            return found
        # A patch: resolution is stored with its binding (``::locator=...``); yarn 3 percent-encodes the inner
        # descriptor where yarn 4 does not.
        return self.loose.get(_loose(descriptor))

    def _patches(self) -> tuple[Patch, ...]:
        found: dict[tuple[str, str | None, str], Patch] = {}
        for entry in self.entries.values():
            split = split_descriptor(entry["resolution"])
            spec = _patch_spec(split[1]) if split else None
            inner = split_descriptor(spec.inner) if spec else None
            if spec is None or inner is None:
                continue
            version = entry.get("version") if isinstance(entry.get("version"), str) else None
            for written in spec.paths:
                file = _project_path(self.base, spec.locator_folder, written)
                if file is not None:
                    found.setdefault((inner[0], version, file), Patch(inner[0], version, file))
        return tuple(sorted(found.values(), key=lambda p: (p.package, p.version or "", p.file)))

    def _versions(self) -> Mapping[str, tuple[str, ...]]:
        found: dict[str, set[str]] = {}
        for entry in self.entries.values():
            split = split_descriptor(entry["resolution"])
            if split and _registry(entry) and isinstance(entry.get("version"), str):
                spec = _patch_spec(split[1])
                inner = split_descriptor(spec.inner) if spec else None
                found.setdefault((inner or split)[0], set()).add(entry["version"])
        return _sorted(found)

    def _local(self) -> frozenset[str]:
        names: set[str] = set()
        for descriptor, entry in self.entries.items():
            split = split_descriptor(entry["resolution"])
            if split and _protocol(split[1]) in _LOCAL_PROTOCOLS:
                names.add(split[0])
                key = split_descriptor(descriptor)
                if key:
                    names.add(key[0])
        return frozenset(names)


def _registry(entry: Mapping[str, Any]) -> bool:
    """Whether an entry resolves to a registry package (possibly patched), whose version means a release."""
    split = split_descriptor(entry["resolution"])
    if split is None:
        return False
    spec = _patch_spec(split[1])
    inner = split_descriptor(spec.inner) if spec else None
    return _protocol((inner or split)[1]) == "npm"


def _loose(descriptor: str) -> str:
    return unquote(descriptor.split("::", 1)[0])


def _capped(problems: list[Problem], path: str) -> list[Problem]:
    if len(problems) <= _MAX_PROBLEMS:
        return problems
    more = Problem(path, problems[_MAX_PROBLEMS].line, 1, f"and {len(problems) - _MAX_PROBLEMS} more such entries")
    return [*problems[:_MAX_PROBLEMS], more]


# --- editing the lock text between tool runs ----------------------------------------------------------------


@dataclass
class _Block:
    start: int  # index of the header line
    end: int  # index after the block's last line
    keys: list[str] | None  # None: a header depup cannot read (kept as it is)
    changed: bool = False


def _blocks(lines: Sequence[str], berry: bool) -> list[_Block]:
    starts = [i for i, line in enumerate(lines) if line.strip() and line[0] not in " \t#"]
    blocks = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        blocks.append(_Block(start, end, _header_keys(lines[start], berry)))
    return blocks


def _header_keys(line: str, berry: bool) -> list[str] | None:
    if berry:
        loaded = parse_berry(line.rstrip("\r\n") + " x\n")
        if isinstance(loaded, Problem) or len(loaded[0]) != 1:
            return None
        return _MULTIPLE_KEYS.split(next(iter(loaded[0])).strip())
    keys: list[str] = []
    try:
        for token in _tokens(line.rstrip("\r\n")):
            if token.kind == "string":
                keys.append(str(token.value))
            elif token.kind == "colon":
                return keys
            elif token.kind != "comma":
                return None
    except V1Error:
        return None
    return None


def relabel(text: str, moves: Sequence[tuple[str, str]]) -> str:
    """Move each descriptor ``source`` to the entry that holds ``target`` (yarn then locks ``source`` at the
    target's version and drops ``target`` if nothing asks for it). Raises ``LookupError`` for a missing target."""
    berry = _BERRY.search(text) is not None and not _V1_HEADER.match(text)
    lines = text.splitlines(keepends=True)
    blocks = _blocks(lines, berry)
    for source, target in moves:
        holder = next((b for b in blocks if b.keys is not None and target in b.keys), None)
        if holder is None:
            raise LookupError(target)
        if source in (holder.keys or []):
            continue
        for block in blocks:
            if block.keys is not None and source in block.keys:
                block.keys.remove(source)
                block.changed = True
        assert holder.keys is not None
        holder.keys.append(source)
        holder.changed = True
    out: list[str] = list(lines[: blocks[0].start]) if blocks else list(lines)
    for block in blocks:
        if block.keys is not None and not block.keys:
            continue
        if block.changed and block.keys is not None:
            keys = sorted(block.keys)
            header = json.dumps(", ".join(keys)) if berry else ", ".join(json.dumps(k) for k in keys)
            out.append(f"{header}:\n")
            out.extend(lines[block.start + 1 : block.end])
        else:
            out.extend(lines[block.start : block.end])
    return "".join(out)


# --- regenerating -------------------------------------------------------------------------------------------

# __metadata.version -> the yarn versions that write it (checked in the published @yarnpkg/cli-dist bundles).
_BERRY_WRITERS = (
    (4, ">=2.4.1 <3.1.0"),  # yarn 2.x and 3.0
    (5, "~3.1.0"),
    (6, ">=3.2.0 <4.0.0"),
    (8, ">=4.0.0 <4.14.0"),
    (9, "~4.14.0"),
    (10, ">=4.15.0 <5.0.0"),
)
_HOOKS = "depup-yarn1-hooks.js"
# Berry reads every .yarnrc.yml from the project up to / and the user's home (plugins there would run): under
# its own file name only the filtered copy depup writes is found.
_RC_NAME = ".depup-yarnrc.yml"
_HOOKS_SOURCE = """\
// Written by depup. yarn 1 has no lockfile-only install: through its own step hooks (experimentalYarnHooks),
// `yarn install` resolves and writes yarn.lock without fetching tarballs, linking node_modules or building.
const skip = () => Promise.resolve();
global.experimentalYarnHooks = { fetchStep: skip, linkStep: skip, pnpStep: skip, buildStep: skip };
"""
# .yarnrc.yml settings that change what yarn resolves or writes, and cannot make it run a program or read a
# file the repository chose (yarnPath, plugins, folders, certificates and environment files are left out).
_BERRY_KEPT = frozenset(
    {
        "compressionLevel",  # part of the cache key: every checksum depends on it
        "nodeLinker",
        "npmMinimalAgeGate",
        "npmPreapprovedPackages",
        "packageExtensions",
        "enableTransparentWorkspaces",
        "defaultProtocol",
        "checksumBehavior",
        "supportedArchitectures",
        "catalog",
        "catalogs",
    }
)
_V1_RC_LINE = re.compile(r'^\s*("?)((?:@[^:\s"]+:)?registry)\1\s+"?([^"\s]+)"?\s*$')


class _Yarn:
    """yarn's steps, classic and Berry, in a copy holding package.json files, yarn.lock and filtered settings.

    - Berry: ``yarn install --mode=update-lockfile`` (fetches only packages the lock lacks, to checksum them;
      yarn 2 has no ``--mode`` and installs). Environment: scripts, telemetry, the global cache, immutable
      installs, constraints checks and hardened mode off, ``yarnPath`` ignored, cache and global folder in
      the scratch folder, the registry depup uses (``YARN_NPM_REGISTRY_SERVER``), git dependencies refused
      (``approvedGitRepositories``, yarn 4.14+; older yarn: not run when one would be fetched).
    - yarn 1: ``yarn install --non-interactive --ignore-scripts --ignore-engines --ignore-platform
      --no-default-rc`` with ``--registry``; its fetch, link and build steps are skipped through yarn's own
      hooks (as Renovate's "yarn-slim" does), so only packuments are downloaded (git dependencies are read
      from their repository for their package.json). Only ``registry`` lines of ``.yarnrc``/``.npmrc`` given.
    - In-range updates (``Job.packages``): yarn has no command recording an exact version while the manifest
      keeps its range (``yarn up -R`` and ``yarn upgrade`` take the newest in range, ``yarn set resolution``
      installs everything), so: the edited package.json asks for the exact versions, yarn locks them; then
      package.json is restored and each ``name@range`` descriptor is moved onto the entry of its exact version
      in yarn.lock; yarn installs again, keeping every other entry, and drops the exact descriptors.
    - Lockfile maintenance (``Job.refresh``): yarn.lock emptied (not deleted: Berry treats a folder with a
      lockfile as its project), then installed: every version the newest its range allows (Renovate's choice).
    """

    manager: str = "yarn"
    env_prefixes: tuple[str, ...] = ("YARN_", "npm_config_")

    def default_versions(self, lock_text: str) -> str:
        if not _BERRY.search(lock_text) or _V1_HEADER.match(lock_text):
            return "^1.22.0"
        match = re.search(r"^__metadata:\s*\n(?:[ \t]+.*\n)*?[ \t]+version:\s*['\"]?(\d+)", lock_text, re.MULTILINE)
        version = int(match.group(1)) if match else 0
        for written, versions in _BERRY_WRITERS:
            if version <= written:
                return versions
        return ">=4.15.0"  # a newer format than depup knows: the newest yarn

    def outside(self, project: Path, lock_name: str) -> list[Outside]:
        found = references_outside(project, lock_name)
        for path in package_files(project):
            document = read_json(path)
            if not isinstance(document, dict):
                continue
            relative = _relative(project, path)
            resolutions = document.get("resolutions")
            if resolutions is not None:
                found.extend(outside_strings(project, path.parent, relative, walk_strings(resolutions, "resolutions")))
            for section in (*_DEP_SECTIONS, "peerDependencies", "resolutions"):
                table = document.get(section)
                if isinstance(table, dict):
                    for name, raw in table.items():
                        if isinstance(raw, str):
                            found.extend(_protocol_paths(project, path.parent, relative, f"{section}.{name}", raw))
        found.extend(_lock_outside(project, lock_name))
        found.extend(_rc_outside(project))
        return found

    def prepare(self, project: Path, work: Path, job: Job) -> None:
        (work.parent / _HOOKS).write_text(_HOOKS_SOURCE)
        rc = _berry_settings(project)
        if rc:
            (work / _RC_NAME).write_text(yaml.safe_dump(rc, sort_keys=True))
        registries = _v1_registries(project)
        if registries:
            (work / ".yarnrc").write_text("".join(f"{json.dumps(k)} {json.dumps(v)}\n" for k, v in registries))
        copy_files(project, work, _patch_files(project, job.lock_name))
        for folder in _file_folders(project):
            _copy_tree(project / folder, work / folder)

    def steps(self, tool: Tool, work: Path, job: Job) -> list[Step] | str:
        classic = tool.major == 1
        refused = None if classic else _berry_refusal(tool, work, job)
        if refused is not None:
            return refused
        install = self._install(tool, work, job, classic)
        env = self._env(tool, work, job, classic)
        manifest = work / (str(job.member) if job.member is not None else "") / "package.json"
        lock = work / job.lock_name
        if job.refresh:
            return [Step(install, env=env, edit=lambda _: _truncate(lock))]
        if job.packages:
            specs = [_spec(spec) for spec in job.packages]
            return [
                Step(install, env=env, edit=lambda _: _pin(work, manifest, specs)),
                Step(install, restore_manifests=True, env=env, edit=lambda _: _move(work, manifest, lock, specs)),
            ]
        return [Step(install, env=env)]

    def _install(self, tool: Tool, work: Path, job: Job, classic: bool) -> tuple[str, ...]:
        if not classic:
            mode = ("--mode=update-lockfile",) if tool.major >= 3 else ()
            return (*tool.argv, "install", *mode)
        node, *script = tool.argv
        argv = (node, "--require", str(work.parent / _HOOKS), *script, "install", "--non-interactive")
        argv += ("--ignore-scripts", "--ignore-engines", "--ignore-platform", "--no-progress", "--no-default-rc")
        argv += ("--cache-folder", str(work.parent / "yarn-cache"))
        if (work / ".yarnrc").is_file():
            argv += ("--use-yarnrc", str(work / ".yarnrc"))
        if job.registry:
            argv += ("--registry", job.registry)
        return argv

    def _env(self, tool: Tool, work: Path, job: Job, classic: bool) -> dict[str, str]:
        # A home of its own: yarn reads settings (Berry: plugins too) from the user's home whatever else is set.
        (work.parent / "home").mkdir(exist_ok=True)
        env = {"HOME": str(work.parent / "home"), "YARN_IGNORE_PATH": "1", "SKIP_YARN_COREPACK_CHECK": "1"}
        env["COREPACK_ENABLE_STRICT"] = "0"
        if classic:
            return env | {
                "YARN_DISABLE_SELF_UPDATE_CHECK": "true",
                "YARN_CACHE_FOLDER": str(work.parent / "yarn-cache"),
            }
        env |= {
            "YARN_RC_FILENAME": _RC_NAME,
            "YARN_ENABLE_SCRIPTS": "0",
            "YARN_ENABLE_TELEMETRY": "0",
            "YARN_ENABLE_GLOBAL_CACHE": "0",
            "YARN_CACHE_FOLDER": str(work.parent / "yarn-cache"),
            "YARN_GLOBAL_FOLDER": str(work.parent / "yarn-global"),
            "YARN_ENABLE_IMMUTABLE_INSTALLS": "0",
            "YARN_ENABLE_PROGRESS_BARS": "0",
            "YARN_ENABLE_COLORS": "0",
            "YARN_ENABLE_HYPERLINKS": "0",
        }
        if tool.major >= 4:
            env |= {"YARN_ENABLE_CONSTRAINTS_CHECKS": "0", "YARN_ENABLE_HARDENED_MODE": "0"}
        if _at_least(tool.version, (4, 14)):
            env["YARN_APPROVED_GIT_REPOSITORIES"] = "depup-allows-no-git-repository"  # a pattern nothing matches
        if job.registry:
            env["YARN_NPM_REGISTRY_SERVER"] = job.registry.rstrip("/")
            parts = urlsplit(job.registry)
            if parts.scheme == "http" and parts.hostname:
                env["YARN_UNSAFE_HTTP_WHITELIST"] = parts.hostname
        return env


YARN = _Yarn()


def _at_least(version: str, wanted: tuple[int, int]) -> bool:
    numbers = re.match(r"(\d+)\.(\d+)", version)
    return numbers is not None and (int(numbers.group(1)), int(numbers.group(2))) >= wanted


def _spec(spec: str) -> tuple[str, str]:
    """``name@version`` / ``alias@npm:real@version`` -> (name, the exact range to ask for)."""
    split = split_descriptor(spec)
    if split is None:
        return spec, ""
    return split


def _pin(work: Path, manifest: Path, specs: Sequence[tuple[str, str]]) -> str | None:
    document = read_json(manifest)
    if not isinstance(document, dict):
        return f"{_relative(work, manifest)} cannot be read"
    for name, exact in specs:
        tables = [t for s in _DEP_SECTIONS if isinstance(t := document.get(s), dict) and isinstance(t.get(name), str)]
        if not tables or not exact:
            return f"{name} is not a dependency in {_relative(work, manifest)}"
        for table in tables:
            table[name] = exact
    manifest.write_text(json.dumps(document, indent=2) + "\n")
    shutil.rmtree(work / "node_modules", ignore_errors=True)
    return None


def _move(work: Path, manifest: Path, lock: Path, specs: Sequence[tuple[str, str]]) -> str | None:
    document = read_json(manifest)
    text = lock.read_text(encoding="utf-8") if lock.is_file() else ""
    berry = _BERRY.search(text) is not None and not _V1_HEADER.match(text)
    moves = []
    for name, exact in specs:
        ranges = dict.fromkeys(raw for n, raw in _dependencies(document) if n == name)
        for raw in ranges:
            if berry:
                moves.append((f"{name}@{berry_range(raw)}", f"{name}@{berry_range(exact)}"))
            else:
                moves.append((f"{name}@{raw}", f"{name}@{exact}"))
    try:
        lock.write_text(relabel(text, moves), encoding="utf-8")
    except LookupError as exc:
        return f"yarn did not lock {exc.args[0]} when asked for it"
    shutil.rmtree(work / "node_modules", ignore_errors=True)
    return None


def _truncate(lock: Path) -> str | None:
    lock.write_text("")
    return None


def _berry_refusal(tool: Tool, work: Path, job: Job) -> str | None:
    """Why Berry must not run on this copy: ``exec:`` dependencies run a program of the repository to make a
    package; git dependencies are packed by running their scripts (stopped by ``approvedGitRepositories`` from
    yarn 4.14 on; with an older yarn depup does not run when one would be fetched)."""
    text = (work / job.lock_name).read_text(encoding="utf-8", errors="replace")
    locked = set()
    if _BERRY.search(text) and not _V1_HEADER.match(text):
        loaded = parse_berry(text)
        if not isinstance(loaded, Problem):
            locked = {d for key in loaded[0] for d in _MULTIPLE_KEYS.split(key.strip())}
    for path in package_files(work):
        for name, raw in _all_specs(read_json(path)):
            if _protocol(raw) == "exec" or "exec:" in unquote(raw):
                return f"{_relative(work, path)}: {name} uses exec:, which runs a program of the repository"
            old_yarn = not _at_least(tool.version, (4, 14))
            if old_yarn and classify(raw).kind == "git" and (job.refresh or f"{name}@{raw}" not in locked):
                return (
                    f"{_relative(work, path)}: {name} is a git dependency; {tool.label} would pack it running "
                    "its scripts (yarn 4.14 and later can refuse that)"
                )
    return None


def _all_specs(document: object) -> Iterator[tuple[str, str]]:
    yield from _dependencies(document)
    resolutions = document.get("resolutions") if isinstance(document, dict) else None
    if isinstance(resolutions, dict):
        yield from ((k, v) for k, v in resolutions.items() if isinstance(k, str) and isinstance(v, str))


def _protocol_paths(project: Path, base: Path, file: str, where: str, raw: str) -> list[Outside]:
    """yarn's own local protocols (``portal:``, ``patch:`` files, ``exec:``), which the generic check does not
    know: each path must stay inside ``project`` (``~/`` is the project root in yarn's patch paths)."""
    written = raw.split("::", 1)[0]
    protocol = _protocol(written)
    paths: list[tuple[Path, str]] = []
    if protocol in ("portal", "link", "file", "exec"):
        paths.append((base, unquote(written.split(":", 1)[1].split("#", 1)[0])))
    elif protocol == "patch":
        spec = _patch_spec(raw)
        if spec is not None:
            for path in spec.paths:
                paths.append((project, path[2:]) if path.startswith("~/") else (base, path))
            inner = split_descriptor(spec.inner)
            if inner is not None:
                return [
                    *_found(project, paths, file, where, raw),
                    *_protocol_paths(project, base, file, where, inner[1]),
                ]
    return _found(project, paths, file, where, raw)


def _found(project: Path, paths: Sequence[tuple[Path, str]], file: str, where: str, raw: str) -> list[Outside]:
    if any(escapes(project, base, path) for base, path in paths):
        return [Outside(file, where, raw)]
    return []


def _lock_outside(project: Path, lock_name: str) -> list[Outside]:
    lock = project / lock_name
    if not lock.is_file() or lock.is_symlink():
        return []
    text = lock.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff")
    berry = _BERRY.search(text) is not None and not _V1_HEADER.match(text)
    loaded: tuple[dict[str, object], dict[str, int]] | Problem
    if berry:
        loaded = parse_berry(text)
    else:
        try:
            loaded = parse_v1(text)
        except V1Error as exc:
            loaded = Problem(lock_name, exc.line, exc.column, exc.message)
    if isinstance(loaded, Problem):
        # yarn stops at a lockfile it cannot read either; what it could still follow is checked word by word.
        words = re.findall(r"(?:file|link|portal|exec|patch):[^\s\"',]+", text)
        return [o for w in words for o in _lock_string(project, lock_name, "", w, descriptor=False)]
    data, lines = loaded
    found: list[Outside] = []
    for key, entry in data.items():
        where = str(lines.get(key, 1))
        for descriptor in _MULTIPLE_KEYS.split(key.strip()) if berry else [key]:
            found.extend(_lock_string(project, lock_name, where, descriptor))
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("resolution"), str):
            found.extend(_lock_string(project, lock_name, where, entry["resolution"]))
        if isinstance(entry.get("resolved"), str):
            found.extend(_lock_string(project, lock_name, where, entry["resolved"], descriptor=False))
        for section in ("dependencies", "optionalDependencies"):
            table = entry.get(section)
            if isinstance(table, dict):
                ranges = (v for v in table.values() if isinstance(v, str))
                found.extend(o for v in ranges for o in _lock_string(project, lock_name, where, v, descriptor=False))
    return found


def _lock_string(project: Path, file: str, where: str, value: str, *, descriptor: bool = True) -> list[Outside]:
    """A descriptor (``name@range``), a resolution, or a plain range / URL of a lock entry: paths are read from
    the workspace named by ``locator=`` (Berry), else from the project root."""
    split = split_descriptor(value) if descriptor else None
    range_ = split[1] if split else value
    folder = _locator_folder(range_)
    base = project / folder if folder is not None and not escapes(project, project, folder) else project
    where = where or "1"
    found = _protocol_paths(project, base, file, where, range_)
    if not found:
        found = outside_strings(project, base, file, [(where, range_.split("::", 1)[0])])
    return found


def _rc_outside(project: Path) -> list[Outside]:
    found: list[Outside] = []
    rc = project / ".yarnrc.yml"
    if rc.is_file() and not rc.is_symlink():
        try:
            settings = yaml.safe_load(rc.read_bytes().decode("utf-8", "replace"))
        except (yaml.YAMLError, RecursionError, ValueError):  # ValueError: a date or number PyYAML cannot build
            settings = None  # yarn stops at it too
        found.extend(outside_strings(project, project, ".yarnrc.yml", walk_strings(settings, "")))
        if isinstance(settings, dict):
            for where, value in walk_strings(
                {k: settings.get(k) for k in ("packageExtensions", "catalog", "catalogs")}, ""
            ):
                found.extend(_protocol_paths(project, project, ".yarnrc.yml", where, value))
    classic = project / ".yarnrc"
    if classic.is_file() and not classic.is_symlink():
        for number, line in enumerate(classic.read_text(errors="replace").splitlines(), 1):
            words = [w.strip('"') for w in line.split()[1:]] if not line.lstrip().startswith("#") else []
            found.extend(outside_strings(project, project, ".yarnrc", [(str(number), w) for w in words]))
    return found


def _berry_settings(project: Path) -> dict[str, object]:
    """The kept settings of the project's .yarnrc.yml (``_BERRY_KEPT``; registries only when remote)."""
    rc = project / ".yarnrc.yml"
    if not rc.is_file() or rc.is_symlink():
        return {}
    try:
        settings = yaml.safe_load(rc.read_bytes().decode("utf-8", "replace"))
    except (yaml.YAMLError, RecursionError, ValueError):  # ValueError: a date or number PyYAML cannot build
        return {}
    if not isinstance(settings, dict):
        return {}
    kept: dict[str, object] = {k: v for k, v in settings.items() if k in _BERRY_KEPT and not _interpolates(v)}
    server = settings.get("npmRegistryServer")
    if _remote(server):
        kept["npmRegistryServer"] = server
    scopes = settings.get("npmScopes")
    if isinstance(scopes, dict):
        remote = {
            str(scope): {"npmRegistryServer": value["npmRegistryServer"]}
            for scope, value in scopes.items()
            if isinstance(value, dict) and _remote(value.get("npmRegistryServer"))
        }
        if remote:
            kept["npmScopes"] = remote
    return kept


def _interpolates(value: object) -> bool:
    """Whether a setting reads environment variables (``${NAME}``): the tool's environment has none of them."""
    return any("${" in text for _, text in walk_strings(value, ""))


def _remote(url: object) -> bool:
    return isinstance(url, str) and "${" not in url and urlsplit(url).scheme in ("http", "https")


def _v1_registries(project: Path) -> list[tuple[str, str]]:
    """``registry`` / ``@scope:registry`` settings of the project's .npmrc and .yarnrc (remote URLs only)."""
    found: dict[str, str] = {}
    for name in (".npmrc", ".yarnrc"):
        path = project / name
        if not path.is_file() or path.is_symlink():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if name == ".npmrc":
                key, sep, value = line.partition("=")
                key, value = key.strip(), value.strip()
                matched = bool(sep) and re.fullmatch(r"(?:@[^:\s]+:)?registry", key) is not None
            else:
                match = _V1_RC_LINE.match(line)
                matched = match is not None
                key, value = (match.group(2), match.group(3)) if match else ("", "")
            if matched and _remote(value):
                found[key] = value
    return sorted(found.items())


def _patch_files(project: Path, lock_name: str) -> list[str]:
    """Project-relative patch files the lock and package.json files refer to (inside the project)."""
    specs: list[tuple[str, str]] = []  # (folder of the declaring package.json, range)
    for path in package_files(project):
        folder = _relative(project, path.parent)
        specs.extend((folder, raw) for _, raw in _all_specs(read_json(path)) if "patch:" in raw)
    lock = project / lock_name
    if lock.is_file() and not lock.is_symlink():
        text = lock.read_bytes().decode("utf-8", "replace")
        specs.extend(("", word) for word in re.findall(r"patch:[^\s\"',]+", text))
    files = set()
    for folder, raw in specs:
        spec = _patch_spec(raw[raw.index("patch:") :])
        if spec is None:
            continue
        for written in spec.paths:
            where = spec.locator_folder if spec.locator_folder is not None else folder
            found = _project_path("", where, written)
            if found:
                files.add(found)
    return sorted(files)


def _file_folders(project: Path) -> list[str]:
    """Folders that ``file:`` dependencies name inside the project (Berry checksums their whole content)."""
    folders = set()
    for path in package_files(project):
        for _, raw in _all_specs(read_json(path)):
            if _protocol(raw) == "file":
                target = _project_path(_relative(project, path.parent), None, unquote(raw[5:].split("#", 1)[0]))
                if target and (project / target).is_dir() and not (project / target).is_symlink():
                    folders.add(target)
    return sorted(folders)


def _copy_tree(source: Path, target: Path) -> None:
    for folder, dirnames, filenames in os.walk(source):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not os.path.islink(os.path.join(folder, d))]
        here = Path(folder)
        for name in filenames:
            if (here / name).is_symlink():
                continue
            destination = target / here.relative_to(source) / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(here / name, destination)


def _relative(project: Path, path: Path) -> str:
    return Path(os.path.relpath(path, project)).as_posix()
