"""The public API removed, changed and deprecated between two releases of a Python package, read statically.

Both releases' distributions are downloaded (a pure wheel, else any wheel, else the sdist), unpacked with bounds
(``bot.breaking.unpack``) and read with griffe from their source only (``allow_inspection=False``): nothing is
imported, installed or run. The public API is what griffe considers public (``__all__``, else names without a
leading underscore, modules included), plus the names a package re-exports the way type checkers read them
(``from .app import Flask as Flask``, and ``from x import y`` in a package's ``__init__`` that has no ``__all__``).

griffe's breakages become ``ApiChange`` values named by the shortest public path a user writes (``flask.Flask``
rather than ``flask.app.Flask``; a class's ``__init__`` is the class), with the other public paths of the same
object as its ``aliases`` (``urllib3.util.retry.Retry`` and ``urllib3.util.Retry`` for ``urllib3.Retry``; at most
``MAX_ALIASES``, the shortest), so that a use through any of them is found while the change counts once. Names a
module-level ``__getattr__`` provides count as present: with a deprecation warning they are "deprecated", and a
name the current release provided that way and the target does not provide at all is "removed" (``flask.Markup``
in Flask 3.0).
Deprecations the target adds (``bot.breaking.python_deprecations``) are "deprecated".

``python_api_diff`` never raises: a release that cannot be read gives ``ApiDiff(analysed=False, why_not=...)``.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import griffe
from packaging.utils import canonicalize_name

from bot.breaking.fetch import (
    MAX_METADATA_BYTES,
    MAX_RELEASE_BYTES,
    AnalysisError,
    ReleaseFile,
    download,
    python_release_files,
)
from bot.breaking.model import ApiChange, ApiDiff
from bot.breaking.python_deprecations import ModuleDeprecations, may_deprecate, module_deprecations
from bot.breaking.unpack import Unpacked, unpack
from bot.deps.registry.urls import RegistryConfigError, pypi_json_base
from bot.risk.imports import python_modules

MAX_CHANGES = 500
MAX_ALIASES = 8  # other public paths kept per change (the shortest): re-exports of re-exports add up in big packages
MAX_RETRIES = 50  # comparisons rerun after dropping an alias griffe cannot resolve
DEFAULT_SECONDS = 120.0  # when no deadline is given
_REDUNDANT_ALIAS = re.compile(r"^[ \t]*(?:from[ \t]+\S+[ \t]+)?import[ \t][^\n#]*\bas\b", re.MULTILINE)
_NOT_API = frozenset({"__getattr__", "__dir__", "__all__", "__repr__", "__str__", "__doc__", "__module__"})
# kind changes callers do not notice: a factory assigned to a name became a function or a class, a function a class
_CALLABLE_STILL = frozenset({("attribute", "function"), ("attribute", "class"), ("function", "class")})
_KIND_ORDER = {"removed": 0, "changed": 1, "deprecated": 2}

logging.getLogger("griffe").setLevel(logging.CRITICAL + 1)  # griffe logs each annotation and alias it cannot resolve


class _OutOfTime(Exception):
    """The deadline passed while griffe was reading modules (raised from its extension hook)."""


@dataclass
class _Clock:
    deadline: float

    def left(self, what: str) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise AnalysisError(f"the API diff ran out of time while {what}")
        return remaining

    def check(self, what: str) -> None:
        self.left(what)


class _Deadline(griffe.Extension):
    """Stops griffe's reading of a package when the deadline has passed (checked at each module)."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock

    def on_module_instance(self, *, mod: griffe.Module, **kwargs: Any) -> None:
        if time.monotonic() > self._clock.deadline:
            raise _OutOfTime(mod.path)


@dataclass(frozen=True)
class _Release:
    version: str
    file: ReleaseFile
    unpacked: Unpacked


@dataclass
class _Api:
    """One release read by griffe: its top modules, the public paths of each object (the shortest first), and
    what each module's syntax tree deprecates."""

    roots: dict[str, griffe.Object]
    public: dict[str, str] = field(default_factory=dict)  # canonical path -> shortest public path
    spellings: dict[str, list[str]] = field(default_factory=dict)  # canonical path -> public paths reaching it
    objects: dict[str, griffe.Object] = field(default_factory=dict)  # public path -> object (first reached)
    modules: dict[str, ModuleDeprecations] = field(default_factory=dict)  # public module path -> deprecations

    def public_path(self, obj: griffe.Object | griffe.Alias) -> str | None:
        """The public path of ``obj``; an inherited member is named in the class that defines it (one change of
        ``Base.bind``, not one per subclass)."""
        hops = 0
        original = obj
        while isinstance(obj, griffe.Alias) and obj.inherited and hops < 50:
            hops += 1
            obj = obj.target
        found = self._own_public_path(obj)
        if found is None and original is not obj:  # defined in a private base: named in the public subclass
            return self._own_public_path(original)
        return found

    def _own_public_path(self, obj: griffe.Object | griffe.Alias) -> str | None:
        if obj.is_alias:
            parent = obj.parent
            base = self.public.get(parent.path) if parent is not None else None
            return f"{base}.{obj.name}" if base else None
        return self.public.get(obj.path)

    def provides(self, path: str) -> bool:
        """Whether ``path`` is a public name of this release, as a member or through a module's ``__getattr__``."""
        if path in self.objects:
            return True
        module, _, name = path.rpartition(".")
        deprecations = self.modules.get(module)
        return deprecations is not None and any(p.name == name for p in deprecations.provided)

    def reaches(self, path: str) -> bool:
        """Whether ``path`` still names something in this release: a public name, or a member reached from the
        longest public prefix of it (``urllib3.util.Retry.sleep``, whose class the walk reached first elsewhere)."""
        if self.provides(path):
            return True
        parts = path.split(".")
        for end in range(len(parts) - 1, 0, -1):
            found = self.objects.get(".".join(parts[:end]))
            if found is None:
                continue
            obj: griffe.Object | None = _target(found)
            try:
                for name in parts[end:]:
                    member = obj.all_members.get(name) if obj is not None else None
                    obj = _target(member) if member is not None else None
            except (griffe.AliasResolutionError, griffe.CyclicAliasError, KeyError, AttributeError):
                return False
            return obj is not None
        return False

    def aliases(self, symbol: str) -> list[str]:
        """The other public paths of the object ``symbol`` names: each path the walk reached it by, and each
        public path of the object that defines it followed by its name (``urllib3.util.retry.Retry.sleep`` for
        ``urllib3.Retry.sleep``); a name a module's ``__getattr__`` provides is spelled through its module's."""
        obj = self.objects.get(symbol)
        memo: dict[str, list[str]] = {}
        if isinstance(obj, griffe.Object):
            paths = self._spellings_of(obj, memo, 0)
        else:
            module, _, name = symbol.rpartition(".")
            parent = self.objects.get(module)
            paths = (
                [f"{p}.{name}" for p in self._spellings_of(parent, memo, 0)]
                if isinstance(parent, griffe.Object)
                else []
            )
        return [p for p in paths if p != symbol]

    def _spellings_of(self, obj: griffe.Object, memo: dict[str, list[str]], depth: int) -> list[str]:
        if obj.path in memo:
            return memo[obj.path]
        memo[obj.path] = found = list(self.spellings.get(obj.path, ()))
        parent = obj.parent
        if isinstance(parent, griffe.Object) and depth < 30 and parent.members.get(obj.name) is obj:
            for base in self._spellings_of(parent, memo, depth + 1):
                path = f"{base}.{obj.name}"
                if path not in found:
                    found.append(path)
        return found


def python_api_diff(package: str, current: str, target: str, *, deadline: float | None = None) -> ApiDiff:
    """The public API changes of ``package`` from ``current`` to ``target`` (``deadline``: a ``time.monotonic()``
    value); any failure is an unanalysed diff that says why."""
    key = canonicalize_name(package)
    clock = _Clock(deadline if deadline is not None else time.monotonic() + DEFAULT_SECONDS)
    try:
        return _diff(key, current, target, clock)
    except AnalysisError as exc:
        return _unanalysed(key, current, target, str(exc))
    except _OutOfTime as exc:
        return _unanalysed(key, current, target, f"the API diff ran out of time while reading the module {exc}")
    except RecursionError:
        return _unanalysed(key, current, target, f"the sources of {key} nest too deeply to be read")
    except Exception as exc:  # noqa: BLE001 (griffe and the archives can fail in many ways: never raise)
        reason = f"the API of {key} could not be read ({type(exc).__name__}: {exc})"
        return _unanalysed(key, current, target, " ".join(reason.split())[:300])


def _unanalysed(key: str, current: str, target: str, why: str) -> ApiDiff:
    return ApiDiff("python", key, current, target, analysed=False, why_not=why)


def _diff(key: str, current: str, target: str, clock: _Clock) -> ApiDiff:
    hints = python_modules(key)
    with tempfile.TemporaryDirectory(prefix="depup-api-") as tmp:
        old_release = _release(key, current, Path(tmp, "current"), hints, clock)
        new_release = _release(key, target, Path(tmp, "target"), hints, clock)
        names = tuple(n for n in old_release.unpacked.modules if not n.split(".")[-1].startswith("_"))
        if not names:
            raise AnalysisError(f"{old_release.file.filename} holds no public Python package to compare")
        clock.check(f"reading {old_release.file.filename}")
        old = _load(old_release.unpacked, names, clock)
        clock.check(f"reading {new_release.file.filename}")
        new = _load(new_release.unpacked, names, clock)
        changes = _changes(old, new, names, clock)
        returns = _returns(old, new)
    source = f"{_kind(old_release.file)} {old_release.file.filename} -> {new_release.file.filename}"
    if len(changes) > MAX_CHANGES:
        # the names callers write most are the shortest: keep those (``sqlalchemy.Table.bind`` before a dialect's)
        source += f"; {len(changes)} changes, the {MAX_CHANGES} with the shortest names kept"
        kept = set(sorted(changes, key=lambda c: (c.symbol.count("."), _order(c)))[:MAX_CHANGES])
        changes = [c for c in changes if c in kept]
    return ApiDiff(
        "python", key, current, target, analysed=True, changes=tuple(changes), source=source, returns=returns
    )


def _returns(old: _Api, new: _Api) -> tuple[tuple[str, str], ...]:
    """(function, class) for the current release's public functions annotated to return one of its public
    classes, so that ``engine = create_engine(...)`` makes ``engine.execute`` a use of ``Engine.execute``. The
    annotation is the current release's, else the target's (SQLAlchemy 1.4's create_engine has none, 2.0's says
    ``-> Engine``); the class is named by the current release's public path."""
    found: dict[str, str] = {}
    for path, obj in old.objects.items():
        if not isinstance(obj, griffe.Function) or path in found:
            continue
        later = new.objects.get(path)
        for function in (obj, later if isinstance(later, griffe.Function) else None):
            named = _returned_class(function)
            public = (old.public.get(named) or new.public.get(named)) if named else None
            if public is not None and public in old.objects and isinstance(old.objects[public], griffe.Class):
                found[path] = public
                break
    return tuple(sorted(found.items()))


def _returned_class(function: griffe.Function | None) -> str | None:
    """The canonical path of the one class a function's return annotation names (``X``, ``Optional[X]``,
    ``X | None``), else None."""
    annotation = function.returns if function is not None else None
    if isinstance(annotation, griffe.ExprSubscript) and str(annotation.left) in ("Optional", "typing.Optional"):
        annotation = annotation.slice
    if isinstance(annotation, griffe.ExprBinOp) and annotation.operator == "|" and str(annotation.right) == "None":
        annotation = annotation.left
    if isinstance(annotation, griffe.ExprName | griffe.ExprAttribute):
        try:
            return str(annotation.canonical_path)
        except (AttributeError, griffe.NameResolutionError):
            return None
    return None


def _kind(file: ReleaseFile) -> str:
    return "wheels" if file.filename.endswith(".whl") else "sdists"


# -- the distributions ---------------------------------------------------------------------------------------------


def _release(key: str, version: str, dest: Path, hints: tuple[str, ...], clock: _Clock) -> _Release:
    clock.check(f"listing the files of {key} {version}")
    files = release_files(key, version)
    clock.check(f"listing the files of {key} {version}")
    chosen = choose_file(files)
    if chosen is None:
        raise AnalysisError(f"{key} {version} publishes no wheel or sdist to read")
    if chosen.size is not None and chosen.size > MAX_RELEASE_BYTES:
        raise AnalysisError(f"{chosen.filename} is larger than {MAX_RELEASE_BYTES // 1024 // 1024} MB")
    data = download(chosen.url, timeout=clock.left(f"downloading {chosen.filename}"), what=chosen.filename)
    clock.check(f"downloading {chosen.filename}")
    return _Release(version, chosen, unpack(data, chosen.filename, dest, hints))


def release_files(key: str, version: str) -> tuple[ReleaseFile, ...]:
    """The files of a release, from the registry's document of that version, or where the registry (a mirror)
    has no such endpoint, from the project's document; file URLs relative to the document are resolved."""
    try:
        base = pypi_json_base()
    except RegistryConfigError as exc:
        raise AnalysisError(str(exc)) from exc
    try:
        files = python_release_files(key, version)
        document = f"{base}/pypi/{quote(key, safe='')}/{quote(version, safe='')}/json"
    except AnalysisError as exc:
        if "HTTP 404" not in str(exc):
            raise
        document = f"{base}/pypi/{quote(key, safe='')}/json"
        files = _project_release_files(document, key, version)
    return tuple(replace(f, url=urljoin(document, f.url)) for f in files)


def _project_release_files(url: str, key: str, version: str) -> tuple[ReleaseFile, ...]:
    body = download(url, max_bytes=MAX_METADATA_BYTES, what=f"the project {key}")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise AnalysisError(f"the project {key}: the registry sent malformed JSON") from exc
    releases = data.get("releases") if isinstance(data, dict) else None
    entries = releases.get(version) if isinstance(releases, dict) else None
    if not isinstance(entries, list):
        raise AnalysisError(f"{key} {version} is not a release the registry lists")
    return tuple(
        ReleaseFile(
            filename=e["filename"],
            url=e["url"],
            kind=str(e.get("packagetype") or ""),
            size=e["size"] if isinstance(e.get("size"), int) else None,
        )
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("filename"), str) and isinstance(e.get("url"), str)
    )


def choose_file(files: Iterable[ReleaseFile]) -> ReleaseFile | None:
    """A pure wheel (``py3-none-any`` before ``py2.py3``), else any wheel (manylinux x86_64 first), else the
    sdist; among equals the first by name."""
    wheels = sorted((f for f in files if f.filename.endswith(".whl")), key=lambda f: f.filename)
    pure = [w for w in wheels if w.filename.endswith("-none-any.whl")]
    if pure:
        return sorted(pure, key=lambda w: (not w.filename.endswith("-py3-none-any.whl"), w.filename))[0]
    if wheels:
        return sorted(wheels, key=lambda w: ("manylinux" not in w.filename, "x86_64" not in w.filename))[0]
    sdists = sorted(
        (f for f in files if f.kind == "sdist" or f.filename.endswith((".tar.gz", ".zip"))), key=lambda f: f.filename
    )
    return next((s for s in sdists if s.filename.endswith(".tar.gz")), sdists[0] if sdists else None)


# -- reading with griffe -------------------------------------------------------------------------------------------


def _load(unpacked: Unpacked, names: tuple[str, ...], clock: _Clock) -> _Api:
    loader = griffe.GriffeLoader(
        search_paths=[unpacked.search_path],
        allow_inspection=False,
        store_source=False,
        extensions=griffe.load_extensions(_Deadline(clock)),
    )
    roots: dict[str, griffe.Object] = {}
    for name in names:
        try:
            loaded = loader.load(name)
        except ImportError:  # ModuleNotFoundError: the release has no such package (removed, reported)
            continue
        if isinstance(loaded, griffe.Object):
            roots[name] = loaded
    api = _Api(roots)
    sources = _Sources()
    for root in roots.values():
        for module in _modules(root):
            _mark_reexports(module, sources)
        _drop_unresolvable_class_aliases(root)
    _walk(api, sources)
    return api


class _Sources:
    """Each module file's text and syntax tree, read and parsed once per release."""

    def __init__(self) -> None:
        self._texts: dict[Path, str] = {}
        self._trees: dict[Path, ast.Module | None] = {}

    def text(self, path: Path) -> str:
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._texts[path] = ""
        return self._texts[path]

    def tree(self, path: Path) -> ast.Module | None:
        if path not in self._trees:
            try:
                self._trees[path] = ast.parse(self.text(path))
            except (SyntaxError, ValueError, RecursionError):
                self._trees[path] = None
        return self._trees[path]


def _modules(root: griffe.Object) -> Iterator[griffe.Module]:
    stack: list[griffe.Object] = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, griffe.Module):
            yield obj
            stack.extend(m for m in obj.members.values() if not m.is_alias and isinstance(m, griffe.Module))


def _mark_reexports(module: griffe.Module, sources: _Sources) -> None:
    """Mark as public the imports a module re-exports by convention (griffe counts imported names as private)."""
    if module.exports or not isinstance(module.filepath, Path) or module.filepath.suffix not in (".py", ".pyi"):
        return
    if not module.is_init_module and not _REDUNDANT_ALIAS.search(sources.text(module.filepath)):
        return  # only a package's __init__ re-exports by plain import; elsewhere only ``import x as x`` does
    tree = sources.tree(module.filepath)
    if tree is None:
        return
    for node in _top_level(tree.body):
        if isinstance(node, ast.ImportFrom):
            external = node.level == 0 and (node.module or "").split(".")[0] in (*sys.stdlib_module_names, "__future__")
            for alias in node.names:
                bound = alias.asname or alias.name
                redundant = alias.asname is not None and alias.asname == alias.name
                reexport = module.is_init_module and not external and not bound.startswith("_") and alias.name != "*"
                member = module.members.get(bound)
                if member is not None and member.is_alias and (redundant or reexport):
                    member.public = True
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is not None and alias.asname == alias.name.rpartition(".")[2]:
                    member = module.members.get(alias.asname)
                    if member is not None and member.is_alias:
                        member.public = True


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, those under ``if``/``try`` included (``try: from x import y``), not those under
    ``if TYPE_CHECKING:`` (not there at run time)."""
    for node in body:
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
            for handler in node.handlers:
                yield from _top_level(handler.body)


def _walk(api: _Api, sources: _Sources) -> None:
    """Breadth first from the top modules: each object's shortest public path, and each public module's
    deprecations."""
    queue: deque[tuple[str, griffe.Object | griffe.Alias]] = deque(sorted(api.roots.items()))
    while queue:
        path, obj = queue.popleft()
        target = _target(obj)
        if target is None:
            api.objects.setdefault(path, obj)  # type: ignore[arg-type]
            continue
        api.objects.setdefault(path, target)
        if not isinstance(target, griffe.Module) or target.path not in api.public or path == target.path:
            # a module is written by its first public path or its own: not through another module's import of it
            # (``numpy.random.np``, from ``import numpy as np`` there), which would spell every name again under it
            api.spellings.setdefault(target.path, []).append(path)
        if target.path in api.public:
            continue
        api.public[target.path] = path
        if isinstance(target, griffe.Module) and isinstance(target.filepath, Path):
            api.modules[path] = _module_deprecations(target.filepath, sources)
        if isinstance(target, griffe.Module | griffe.Class):
            # own members only: an inherited one is named in the class defining it (``_Api.public_path``)
            for name, member in sorted(target.members.items()):
                if _is_public(member):
                    queue.append((f"{path}.{name}", member))


def _target(obj: griffe.Object | griffe.Alias) -> griffe.Object | None:
    if not obj.is_alias:
        return obj  # type: ignore[return-value]
    try:
        target = obj.final_target  # type: ignore[union-attr]
    except (griffe.AliasResolutionError, griffe.CyclicAliasError, KeyError, AttributeError, RecursionError):
        return None
    return target if isinstance(target, griffe.Object) else None


def _is_public(member: griffe.Object | griffe.Alias) -> bool:
    try:
        return bool(member.is_public)
    except (griffe.AliasResolutionError, griffe.CyclicAliasError, KeyError, AttributeError):
        return False


def _module_deprecations(path: Path, sources: _Sources) -> ModuleDeprecations:
    text = sources.text(path)
    if not may_deprecate(text):
        return ModuleDeprecations((), ())
    tree = sources.tree(path)
    return module_deprecations(text, tree) if tree is not None else ModuleDeprecations((), ())


# -- the changes ---------------------------------------------------------------------------------------------------


def _changes(old: _Api, new: _Api, names: tuple[str, ...], clock: _Clock) -> list[ApiChange]:
    found: dict[tuple[str, str], ApiChange] = {}

    def add(change: ApiChange) -> None:
        found.setdefault((change.symbol, change.detail), change)

    for name in names:
        if name not in old.roots:
            continue
        if name not in new.roots:
            add(ApiChange("removed", name, "removed"))
            continue
        for breakage in _breakages(old.roots[name], new.roots[name], clock):
            change = _from_breakage(breakage, old, new)
            if change is not None:
                add(change)
    for change in _getattr_changes(old, new):
        add(change)
    for change in _added_deprecations(old, new):
        add(change)
    # A name reported both removed and deprecated (provided by __getattr__) is deprecated.
    deprecated = {c.symbol for c in found.values() if c.kind == "deprecated" and c.detail.startswith("deprecated")}
    kept = [c for c in found.values() if not (c.kind == "removed" and c.symbol in deprecated)]
    return sorted(_with_aliases(kept, old, new), key=_order)


def _with_aliases(changes: Iterable[ApiChange], old: _Api, new: _Api) -> Iterator[ApiChange]:
    """Each change with the other public paths of its object in either release (of a removal: the current
    release's that the target no longer has), the shortest ``MAX_ALIASES``; a change also reported under another
    spelling of the same object is one change, named by the shortest."""
    covered: set[tuple[str, str, str]] = set()
    for change in sorted(changes, key=lambda c: (c.symbol.count("."), len(c.symbol), _order(c))):
        if (change.kind, change.symbol, change.detail) in covered:
            continue
        if change.kind == "removed":  # the current release's paths that the target no longer has either
            aliases = [a for a in old.aliases(change.symbol) if not new.reaches(a)]
        else:
            aliases = list(dict.fromkeys((*old.aliases(change.symbol), *new.aliases(change.symbol))))
        aliases = sorted(aliases, key=lambda a: (a.count("."), len(a), a))[:MAX_ALIASES]
        covered.update((change.kind, alias, change.detail) for alias in aliases)
        yield replace(change, aliases=tuple(aliases))


def _order(change: ApiChange) -> tuple[int, str, str]:
    return (_KIND_ORDER[change.kind], change.symbol, change.detail)


def _breakages(old: griffe.Object, new: griffe.Object, clock: _Clock) -> list[griffe.Breakage]:
    """griffe's breakages of ``old`` -> ``new``. An alias griffe cannot resolve where it needs to (an import in a
    class body of a module not loaded: ``numeric = psycopg.types.numeric``) is dropped and the comparison rerun."""
    for _attempt in range(MAX_RETRIES):
        found: list[griffe.Breakage] = []
        try:
            for index, breakage in enumerate(griffe.find_breaking_changes(old, new)):
                if index % 200 == 0:
                    clock.check(f"comparing the APIs of {old.path}")
                found.append(breakage)
        except griffe.AliasResolutionError as exc:
            if not _drop(exc.alias):
                raise
            continue
        return found
    raise AnalysisError(f"the API of {old.path} holds too many aliases that cannot be resolved")


def _drop(alias: griffe.Alias) -> bool:
    """Remove an unresolvable alias (the one an inherited member comes from) from its parent."""
    seen = 0
    while alias.inherited and seen < 50:
        seen += 1
        target = alias.target
        if not isinstance(target, griffe.Alias):
            return False
        alias = target
    parent = alias.parent
    if parent is None or parent.members.get(alias.name) is not alias:
        return False
    parent.del_member(alias.name)
    return True


def _drop_unresolvable_class_aliases(root: griffe.Object) -> None:
    """Imports in class bodies that point outside the loaded packages are no API, and make griffe's comparison
    fail when it asks whether they are public: they are dropped before comparing."""
    stack: list[griffe.Object] = [root]
    while stack:
        obj = stack.pop()
        for name, member in list(obj.members.items()):
            if member.is_alias:
                if isinstance(obj, griffe.Class) and _target(member) is None:
                    obj.del_member(name)
            elif isinstance(member, griffe.Module | griffe.Class):
                stack.append(member)


def _from_breakage(breakage: griffe.Breakage, old: _Api, new: _Api) -> ApiChange | None:
    kind = breakage.kind
    if kind is griffe.BreakageKind.OBJECT_REMOVED:
        symbol = old.public_path(breakage.obj)
        if symbol is None or symbol.rpartition(".")[2] in _NOT_API:
            return None
        if _dunder(symbol.rpartition(".")[2]) and isinstance(old.objects.get(symbol.rpartition(".")[0]), griffe.Class):
            return None  # a class's special methods (``__div__``, ``__setstate__``) are no names callers write
        module, _, name = symbol.rpartition(".")
        deprecations = new.modules.get(module)
        provided = next((p for p in deprecations.provided if p.name == name), None) if deprecations else None
        if provided is not None:  # still there, through the module's __getattr__
            if not provided.deprecated:
                return None
            return ApiChange("deprecated", symbol, _deprecated_detail(provided.message))
        return ApiChange("removed", symbol, "removed")
    symbol = new.public_path(breakage.obj) or old.public_path(breakage.obj)
    if symbol is None:
        return None
    parameter = breakage.old_value if kind is not griffe.BreakageKind.PARAMETER_ADDED_REQUIRED else None
    if getattr(parameter, "name", None) in ("self", "cls") and "." in symbol:
        return None  # how a method's own instance is passed is not the caller's concern
    symbol = symbol.removesuffix(".__init__")
    detail = _detail(breakage)
    return None if detail is None else ApiChange("changed", symbol, detail)


def _at(function: Any, parameter: Any) -> str:
    """`` at position N`` (griffe's index: ``self`` counts) for a parameter a caller can pass by position, so that
    a call passing N or more arguments by position is known to pass it (``Table("users", metadata)``)."""
    positional = (griffe.ParameterKind.positional_only, griffe.ParameterKind.positional_or_keyword)
    if getattr(parameter, "kind", None) not in positional:
        return ""
    names = [p.name for p in getattr(function, "parameters", ())]
    return f" at position {names.index(parameter.name)}" if parameter.name in names else ""


def _detail(breakage: griffe.Breakage) -> str | None:
    kinds = griffe.BreakageKind
    kind = breakage.kind
    old_value: Any = breakage.old_value
    new_value: Any = breakage.new_value
    if kind is kinds.PARAMETER_REMOVED:
        return f"parameter '{old_value.name}' removed"
    if kind is kinds.PARAMETER_CHANGED_REQUIRED:
        return f"parameter '{old_value.name}' became required{_at(breakage.obj, new_value)}"
    if kind is kinds.PARAMETER_ADDED_REQUIRED:
        return f"required parameter '{new_value.name}' added{_at(breakage.obj, new_value)}"
    if kind is kinds.PARAMETER_MOVED:
        old_index = _position(breakage.details, 0)
        new_index = _position(breakage.details, 1)
        return f"parameter '{old_value.name}' moved from position {old_index} to {new_index}"
    if kind is kinds.PARAMETER_CHANGED_KIND:
        return f"parameter '{old_value.name}' became {_kind_name(new_value.kind)} (was {_kind_name(old_value.kind)})"
    if kind is kinds.PARAMETER_CHANGED_DEFAULT:
        if _no_value(old_value.default) and _no_value(new_value.default):
            return None  # ``None`` became a private sentinel (``_NoArg.NO_ARG``): both mean "not given"
        return f"default of '{old_value.name}' changed from {_short(old_value.default)} to {_short(new_value.default)}"
    if kind is kinds.RETURN_CHANGED_TYPE:
        return f"return type changed from {_short(old_value)} to {_short(new_value)}"
    if kind is kinds.OBJECT_CHANGED_KIND:
        if (old_value.value, new_value.value) in _CALLABLE_STILL:
            return None  # still called the same way
        return f"changed from {_article(old_value.value)} to {_article(new_value.value)}"
    if kind is kinds.CLASS_REMOVED_BASE:
        kept = {_base_name(b) for b in new_value}
        removed = sorted(_base_name(b) for b in old_value if _base_name(b) not in kept and _base_name(b) != "object")
        if not removed:
            return None  # ``class X(object)`` became ``class X``
        return f"base class {', '.join(removed)} removed"
    if kind is kinds.ATTRIBUTE_CHANGED_TYPE:
        return f"type changed from {_short(old_value)} to {_short(new_value)}"
    if kind is kinds.ATTRIBUTE_CHANGED_VALUE:
        return None  # a constant's value changing (a version string) is not a break
    return str(kind.value)


def _no_value(default: object) -> bool:
    """Whether a parameter's default is a marker for "not given": ``None``, ``...`` or a private sentinel."""
    text = str(default).strip()
    return text in ("None", "...", "Ellipsis") or (text.startswith("_") and not text.startswith("__"))


def _position(details: str, which: int) -> str:
    # griffe: "position: from 1 to 2 (+1)"
    words = details.replace("(", " ").split()
    numbers = [w for w in words if w.isdigit()]
    return numbers[which] if len(numbers) > which else "?"


def _kind_name(kind: Any) -> str:
    return str(getattr(kind, "value", kind)).replace("-", " ")


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _base_name(base: Any) -> str:
    return str(getattr(base, "canonical_path", None) or base)


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:59] + "…"


def _deprecated_detail(message: str) -> str:
    return f"deprecated: {message}" if message else "deprecated"


def _getattr_changes(old: _Api, new: _Api) -> Iterator[ApiChange]:
    """Names the current release's module ``__getattr__`` provides: removed when the target provides them
    neither as a member nor through its own ``__getattr__``."""
    for module, deprecations in sorted(old.modules.items()):
        if module not in new.objects:
            continue  # the whole module is gone: griffe reports it
        for provided in deprecations.provided:
            symbol = f"{module}.{provided.name}"
            if not _public_name(provided.name) or symbol in old.objects or new.provides(symbol):
                continue
            detail = "removed"
            if provided.deprecated and provided.message:
                detail = f"removed (deprecated before: {provided.message})"
            yield ApiChange("removed", symbol, detail)


def _added_deprecations(old: _Api, new: _Api) -> Iterator[ApiChange]:
    """What the target deprecates that the current release has and did not deprecate."""
    before = set(_deprecations(old))
    for symbol, detail, parameter in sorted(_deprecations(new)):
        if (symbol, detail, parameter) in before or not old.provides(symbol):
            continue
        if any(s == symbol and p == parameter for s, _d, p in before):
            continue  # deprecated before, with another message
        yield ApiChange("deprecated", symbol, detail)


def _deprecations(api: _Api) -> Iterator[tuple[str, str, str | None]]:
    for module, deprecations in api.modules.items():
        obj = api.objects.get(module)
        canonical = obj.path if obj is not None else module
        for deprecation in deprecations.deprecations:
            path = f"{canonical}.{deprecation.qualname}" if deprecation.qualname else canonical
            symbol = api.public.get(path)
            if symbol is not None:
                yield symbol, deprecation.detail, deprecation.parameter
        for provided in deprecations.provided:
            if provided.deprecated and _public_name(provided.name):
                yield f"{module}.{provided.name}", _deprecated_detail(provided.message), None


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def _public_name(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))
