"""The public API an npm package removed, changed or deprecated between two releases, read statically.

Two things are compared. The ``exports`` map of each release's version document (a subpath the target no longer
exports is removed, and so is a ``main``/``module`` entry that went away). And the published type declarations:
the package's own (``types``/``typings``/``exports[...].types``, else ``index.d.ts``), else its DefinitelyTyped
package ``@types/<name>`` at the newest version of the same major.minor (else the same major). The declaration
files of both releases are unpacked (``.d.ts`` only, bounded in size and count, no links, no path leaving the
folder), with the ``@types/`` packages they import (one level, ``@types/node`` excepted: node's own API is not the
package's), and read by the TypeScript compiler's checker (``bot.breaking.typescript``), which follows
``export *``/``export { x } from`` within the package, ``export =`` and ``declare namespace`` merges and inherited
interface members, and a global script's ``declare module '<package>'`` (mongoose). Nothing downloaded is installed
or run.

What is compared per exported name: removed; no longer a value or no longer callable (unless its type is not known,
e.g. declared by a package that is not read); the arity of a function's overloads; and for a type users write
functions for (callable, every other member optional: ``React.FC``, express's ``RequestHandler``), a call signature
parameter whose type lost members ("call signature: parameter 'props' type changed from PropsWithChildren<P> to P
(no longer has 'children')"). A function's parameter that lost members is not a change: its callers may still pass
them. The members of a name the target re-exports from a package that is not read are not known, so not removed.
At most ``MAX_CHANGES`` are kept, the most important first (``_importance``).

Symbols are what a user writes: ``react-dom.render``, ``react-dom/client.Root.render``, ``express.Request.param``,
``express`` (the module itself, when it is callable), ``nanoid/async`` (a subpath).
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
import tarfile
import tempfile
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.breaking import typescript
from bot.breaking.fetch import (
    TIMEOUT,
    AnalysisError,
    download,
    npm_packument,
    npm_tarball_url,
    npm_version_document,
)
from bot.breaking.model import ApiChange, ApiDiff
from bot.deps.npm import semver

MAX_TARBALL_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 16 * 1024 * 1024  # of the declaration files kept
MAX_MEMBERS = 20_000  # tar members of one tarball
MAX_DECLARATION_FILES = 2_000
MAX_ENTRIES = 60  # subpaths with declarations, per release
MAX_TYPE_DEPENDENCIES = 6  # @types packages a declaration package imports, per release
MAX_CHANGES = 400
MAX_DETAIL = 300  # characters of one change's detail
MAX_SYMBOL_CHARS = 200  # a longer name (a quoted property) is not kept
MAX_RETURNS = 400
DEFAULT_BUDGET = 120.0  # seconds, when the caller gives no deadline
_DECLARATION = re.compile(r"\.d\.(?:ts|mts|cts)$")
_IMPORTED = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+|/\s*<reference\s+types\s*=\s*)["']([^"'\s]+)["']"""
)
_REEXPORTED = re.compile(r"""\bexport\s*(?:\*(?:\s*as\s+\w+)?|\{[^}]*\})\s*from\s*["']([^"'\s]+)["']""")
SIGNATURE_PREFIX = "call signature: "  # a change of what a function written for a type receives
_VALUE_KINDS = frozenset({"function", "class", "variable", "enum", "namespace", "method", "property"})


@dataclass(frozen=True)
class _Side:
    """One release's declarations: where they came from and what the checker read."""

    source: str  # "express 5.0.0" | "@types/express 5.0.3"
    subpaths: frozenset[str]  # exported subpaths of the package itself ("." "./client"), empty if no map
    entries: dict[str, dict[str, Any]]  # subpath -> {"symbols": {...}, "returns": {...}}


def npm_api_diff(package: str, current: str, target: str, *, deadline: float | None = None) -> ApiDiff:
    """The API changes of ``package`` from ``current`` to ``target``; ``analysed=False`` with the reason when the
    releases cannot be read (never raises)."""
    deadline = deadline if deadline is not None else time.monotonic() + DEFAULT_BUDGET
    try:
        return _diff(package, current, target, deadline)
    except AnalysisError as exc:
        return ApiDiff("npm", package, current, target, analysed=False, why_not=str(exc))
    except (OSError, tarfile.TarError, ValueError, KeyError, TypeError) as exc:
        why = f"the releases of {package} could not be read ({type(exc).__name__}: {str(exc)[:200]})"
        return ApiDiff("npm", package, current, target, analysed=False, why_not=why)


def _diff(package: str, current: str, target: str, deadline: float) -> ApiDiff:
    with ThreadPoolExecutor(2, thread_name_prefix="npm-api") as pool:  # the two releases are read side by side
        read = {v: pool.submit(_version_document, package, v, deadline) for v in (current, target)}
        documents = {v: future.result() for v, future in read.items()}
    changes: dict[str, ApiChange] = {}
    for change in _exports_changes(package, documents[current], documents[target]):
        changes.setdefault(change.symbol, change)
    with tempfile.TemporaryDirectory(prefix="depup-npm-api-") as scratch:
        folders = {current: Path(scratch, "current"), target: Path(scratch, "target")}
        packuments = _Packuments(deadline)
        with ThreadPoolExecutor(2, thread_name_prefix="npm-api") as pool:
            unpacking = {
                v: pool.submit(_declarations, package, v, documents[v], folders[v], packuments)
                for v in (current, target)
            }
            sources = {v: future.result() for v, future in unpacking.items()}
        entries = {v: _entries(folders[v], sources[v][1]) for v in (current, target)}
        for version in (current, target):
            if not entries[version]:
                raise AnalysisError(f"no type declarations in {sources[version][0]} could be found")
        jobs = [{"root": str(folders[v]), "package": package, "entries": entries[v]} for v in (current, target)]
        answer = typescript.run({"command": "api", "jobs": jobs}, timeout=_left(deadline))
    results = answer.get("jobs")
    if not isinstance(results, list) or len(results) != 2:
        raise AnalysisError("the TypeScript reader answered no declarations")
    old, new = (r.get("entries", {}) if isinstance(r, dict) else {} for r in results)
    if not any(_symbols(entry) for entry in old.values()):  # no changes found would claim "nothing changed"
        raise AnalysisError(f"the type declarations of {sources[current][0]} declare nothing importable that was read")
    for change in _declaration_changes(package, old, new):
        changes.setdefault(change.symbol, change)
    kept, capped = _kept(package, changes.values())
    old_source, new_source = sources[current][0], sources[target][0]
    source = (
        f"type declarations of {old_source.rsplit(' ', 1)[0]}"
        if old_source.rsplit(" ", 1)[0] == new_source.rsplit(" ", 1)[0]
        else f"type declarations of {old_source} and {new_source}"
    )
    return ApiDiff(
        "npm",
        package,
        current,
        target,
        analysed=True,
        changes=kept,
        source=f"{source} and the exports maps{capped}",
        returns=_returns(package, old),
    )


_KIND_ORDER = {"removed": 0, "changed": 1, "deprecated": 2}


def _kept(package: str, changes: Iterable[ApiChange]) -> tuple[tuple[ApiChange, ...], str]:
    """The ``MAX_CHANGES`` most important changes, most important first, and what the cap left out (as a note for
    the diff's source). The uses are matched against what is kept (the diff is cached and shared by every
    repository), so what a user names directly comes first: a member of a type is met less often than an export."""
    bounded = [ApiChange(c.kind, c.symbol, c.detail[:MAX_DETAIL]) for c in changes if len(c.symbol) <= MAX_SYMBOL_CHARS]
    ordered = sorted(bounded, key=lambda c: _importance(package, c))
    if len(ordered) <= MAX_CHANGES:
        return tuple(ordered), ""
    return tuple(ordered[:MAX_CHANGES]), f" (the {MAX_CHANGES} most important of {len(ordered)} changes)"


def _importance(package: str, change: ApiChange) -> tuple[int, int, str, str]:
    """The order changes are kept and shown in: the package and its subpaths, then what they export (the root's
    exports before a subpath's), then members; removed before changed before deprecated; then by name."""
    module = _module_of(package, change.symbol)
    depth = change.symbol.count(".", len(module)) * 2 + (module != package)
    return depth, _KIND_ORDER.get(change.kind, 3), change.symbol, change.detail


def _module_of(package: str, symbol: str) -> str:
    """``react-dom/client`` of ``react-dom/client.Root.render``, ``socket.io`` of ``socket.io.Server``."""
    rest = symbol[len(package) :]
    return package + rest.split(".", 1)[0] if rest.startswith("/") else package


def _version_document(package: str, version: str, deadline: float) -> dict[str, Any]:
    return npm_version_document(package, version, timeout=_left(deadline))


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise AnalysisError("the time for the analysis ran out")
    return min(left, TIMEOUT)


# -- the exports map ---------------------------------------------------------------------------------------


def exported_subpaths(document: Mapping[str, Any]) -> frozenset[str] | None:
    """The subpaths (".", "./client", "./lib/*") the ``exports`` map names, None when there is no map."""
    exports = document.get("exports")
    if exports is None:
        return None
    if isinstance(exports, str | list):
        return frozenset({"."})
    if not isinstance(exports, dict):
        return frozenset()
    if not any(isinstance(k, str) and k.startswith(".") for k in exports):
        return frozenset({"."})  # conditions only: the package's root
    return frozenset(k for k, v in exports.items() if isinstance(k, str) and k.startswith(".") and v is not None)


def _exports_changes(package: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterable[ApiChange]:
    before, after = exported_subpaths(old), exported_subpaths(new)
    if before is not None and after is not None:
        for subpath in sorted(before - after):
            if not subpath.endswith("package.json"):  # a package's own metadata, not its API
                yield ApiChange("removed", _subpath_symbol(package, subpath), "removed from the exports map")
        return
    had_root = any(isinstance(old.get(f), str) and old.get(f) for f in ("main", "module"))
    if before is None and after is not None and had_root and "." not in after:
        yield ApiChange("removed", package, "the package root is no longer exported (its exports map has no '.')")
    elif after is None and had_root and not any(isinstance(new.get(f), str) and new.get(f) for f in ("main", "module")):
        gone = ", ".join(f"'{f}'" for f in ("main", "module") if isinstance(old.get(f), str) and old.get(f))
        yield ApiChange("removed", package, f"the {gone} entry is gone and no exports map replaces it")


def _subpath_symbol(package: str, subpath: str) -> str:
    return package if subpath == "." else f"{package}/{subpath.removeprefix('./')}"


# -- declarations: which package, which files ---------------------------------------------------------------


def types_package(package: str) -> str:
    """DefinitelyTyped's name for ``package``: ``@types/express``, ``@types/babel__core`` for ``@babel/core``."""
    if package.startswith("@") and "/" in package:
        scope, name = package[1:].split("/", 1)
        return f"@types/{scope}__{name}"
    return f"@types/{package}"


def declares_types(document: Mapping[str, Any]) -> bool:
    """Whether a version document names its own declarations (``types``, ``typings``, an exports ``types``)."""
    for field in ("types", "typings"):
        if isinstance(document.get(field), str) and document[field]:
            return True
    return _has_types_condition(document.get("exports"))


def _has_types_condition(value: Any, depth: int = 0) -> bool:
    if depth > 8 or not isinstance(value, dict):
        return False
    return any(
        (key == "types" and value[key]) or _has_types_condition(value[key], depth + 1)
        for key in value
        if isinstance(key, str)
    )


def pick_types_version(versions: Iterable[str], version: str) -> str | None:
    """The newest @types version with ``version``'s major.minor, else the newest of its major."""
    valid = [v for v in versions if semver.valid(v) and not semver.is_prerelease(v)]
    major, minor = semver.major(version), semver.minor(version)
    same_minor = semver.max_satisfying(valid, f">={major}.{minor}.0 <{major}.{minor + 1}.0-0")
    return same_minor or semver.max_satisfying(valid, f">={major}.0.0 <{major + 1}.0.0-0")


class _Packuments:
    """The packuments one diff reads, each downloaded once (both releases usually need the same @types one)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._read: dict[str, dict[str, Any] | AnalysisError] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> dict[str, Any]:
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:  # the other release's thread waits for the same packument instead of reading it again
            if name not in self._read:
                try:
                    self._read[name] = npm_packument(name, timeout=_left(self.deadline))
                except AnalysisError as exc:
                    self._read[name] = exc
            found = self._read[name]
        if isinstance(found, AnalysisError):
            raise found
        return found


def _declarations(
    package: str, version: str, document: Mapping[str, Any], folder: Path, packuments: _Packuments
) -> tuple[str, Mapping[str, Any]]:
    """Unpack one release's declarations into ``folder``: ``(what they are, the package.json they came with)``."""
    deadline = packuments.deadline
    if declares_types(document):
        _unpack_declarations(_tarball(document, package, version, deadline), folder, f"{package} {version}")
        _unpack_type_dependencies(document, folder, packuments)
        return f"{package} {version}", document
    types_name = types_package(package)
    try:
        packument = packuments.get(types_name)
    except AnalysisError as exc:
        if "HTTP 404" not in str(exc):
            raise
        packument = None
    versions = packument.get("versions") if isinstance(packument, dict) else None
    chosen = pick_types_version(versions, version) if isinstance(versions, dict) and semver.valid(version) else None
    if chosen is None or not isinstance(versions, dict):
        # No DefinitelyTyped package of this major: the package may still ship an index.d.ts it does not name.
        _unpack_declarations(_tarball(document, package, version, deadline), folder, f"{package} {version}")
        if (folder / "index.d.ts").is_file():
            return f"{package} {version}", document
        raise AnalysisError(f"no type declarations in {package} {version} or {types_name}")
    types_document = versions[chosen]
    _unpack_declarations(_tarball(types_document, types_name, chosen, deadline), folder, f"{types_name} {chosen}")
    _unpack_type_dependencies(types_document, folder, packuments)
    return f"{types_name} {chosen}", types_document


def _tarball(document: Mapping[str, Any], name: str, version: str, deadline: float) -> bytes:
    url = npm_tarball_url(dict(document), name, version)
    return download(url, max_bytes=MAX_TARBALL_BYTES, timeout=_left(deadline), what=f"the tarball of {name} {version}")


def _unpack_type_dependencies(document: Mapping[str, Any], folder: Path, packuments: _Packuments) -> None:
    """The dependencies the declarations need (``wanted_dependencies``), into ``node_modules`` (one level)."""
    dependencies = document.get("dependencies")
    if not isinstance(dependencies, dict):
        return
    wanted = wanted_dependencies(dependencies, folder)
    for name in wanted:
        # A dependency that cannot be read leaves its types unknown (members inherited from it are not seen);
        # only running out of time ends the analysis.
        try:
            packument = packuments.get(name)
            versions = packument.get("versions")
            if not isinstance(versions, dict):
                continue
            chosen = semver.max_satisfying(list(versions), dependencies[name])
            if chosen is None or not isinstance(versions.get(chosen), dict):
                continue
            target = folder / "node_modules" / name
            tarball = _tarball(versions[chosen], name, chosen, packuments.deadline)
            _unpack_declarations(tarball, target, f"{name} {chosen}")
        except AnalysisError:
            if packuments.deadline - time.monotonic() <= 0:
                raise


def wanted_dependencies(dependencies: Mapping[str, Any], folder: Path) -> list[str]:
    """The dependencies whose declarations the ones in ``folder`` need: the ``@types/`` packages they import, and
    the packages they re-export from (react-router-dom 7 is ``export * from 'react-router'``: unread, each of its
    names would look removed). At most ``MAX_TYPE_DEPENDENCIES``; never @types/node."""
    imported = _imported_packages(folder)
    reexported = _imported_packages(folder, _REEXPORTED)
    return sorted(
        name
        for name, wanted_range in dependencies.items()
        if isinstance(name, str)
        and isinstance(wanted_range, str)
        and name != "@types/node"
        and ((name.startswith("@types/") and _untyped_name(name) in imported) or name in reexported)
    )[:MAX_TYPE_DEPENDENCIES]


def _untyped_name(types_name: str) -> str:
    bare = types_name.removeprefix("@types/")
    if "__" in bare:
        scope, name = bare.split("__", 1)
        return f"@{scope}/{name}"
    return bare


def _imported_packages(folder: Path, pattern: re.Pattern[str] = _IMPORTED) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.d.*ts"):
        if "node_modules" in path.relative_to(folder).parts:
            continue
        for spec in pattern.findall(path.read_text(encoding="utf-8", errors="replace")):
            if spec.startswith((".", "/")) or spec.startswith("node:"):
                continue
            parts = spec.split("/")
            names.add("/".join(parts[:2]) if spec.startswith("@") and len(parts) > 1 else parts[0])
    return names


def _unpack_declarations(tarball: bytes, folder: Path, what: str) -> None:
    """The declaration files and package.json of a tarball into ``folder`` (the tarball's top folder stripped).

    Refused: more than ``MAX_MEMBERS`` members or ``MAX_DECLARATION_FILES`` declarations, more than
    ``MAX_UNPACKED_BYTES`` of them. Skipped: links, devices, absolute paths and paths with ``..``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as archive:
            _extract(archive, folder, what)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise AnalysisError(f"the tarball of {what} is not a readable tar.gz ({exc})") from exc


def _extract(archive: tarfile.TarFile, folder: Path, what: str) -> None:
    total = files = 0
    for count, member in enumerate(archive, start=1):
        if count > MAX_MEMBERS:
            raise AnalysisError(f"the tarball of {what} has more than {MAX_MEMBERS} files")
        if not member.isfile():
            continue  # directories are made as needed; links and devices are never unpacked
        relative = _inside(member.name)
        if relative is None or not (relative == "package.json" or _DECLARATION.search(relative)):
            continue
        files += 1
        total += member.size
        if files > MAX_DECLARATION_FILES:
            raise AnalysisError(f"{what} has more than {MAX_DECLARATION_FILES} declaration files")
        if total > MAX_UNPACKED_BYTES:
            raise AnalysisError(f"the declarations of {what} are larger than {MAX_UNPACKED_BYTES // 2**20} MB")
        source = archive.extractfile(member)
        if source is None:
            continue
        destination = folder / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read(member.size + 1)[: member.size])


def _inside(name: str) -> str | None:
    """The member's path without the tarball's top folder ("package/", "express/"), None if it would escape."""
    if name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if len(parts) < 2 or ".." in parts or parts[1] == "node_modules":
        return None
    relative = posixpath.join(*parts[1:])
    return relative if not relative.startswith("node_modules/") else None


def _entries(folder: Path, document: Mapping[str, Any]) -> dict[str, str]:
    """subpath -> declaration file (relative to ``folder``) for the checker to read."""
    found: dict[str, str] = {}
    exports = document.get("exports")
    if isinstance(exports, dict) and any(isinstance(k, str) and k.startswith(".") for k in exports):
        for subpath, value in sorted(exports.items()):
            if isinstance(subpath, str) and subpath.startswith(".") and "*" not in subpath:
                file = _types_target(value) or _sibling_declaration(folder, value)
                if file is not None:
                    found[subpath] = file
    elif isinstance(exports, dict):
        file = _types_target(exports) or _sibling_declaration(folder, exports)
        if file is not None:
            found["."] = file
    if "." not in found:
        for field in ("types", "typings"):
            if isinstance(document.get(field), str) and document[field]:
                found["."] = _types_file(folder, document[field])
                break
        else:
            found["."] = "index.d.ts"
    if not isinstance(exports, dict):
        # No exports map: every declaration file is importable by its path (react-dom/server -> server.d.ts).
        for path in sorted(folder.rglob("*.d.ts")):
            relative = path.relative_to(folder).as_posix()
            if relative.startswith("node_modules/") or relative.count("/") > 1:
                continue
            stem = relative.removesuffix(".d.ts")
            subpath = "./" + (stem.removesuffix("/index") if stem.endswith("/index") else stem)
            if stem != "index" and subpath not in found:
                found[subpath] = relative
    kept = {}
    for subpath, file in sorted(found.items())[:MAX_ENTRIES]:
        normalised = posixpath.normpath(file.removeprefix("./"))
        if not normalised.startswith("..") and (folder / normalised).is_file():
            kept[subpath] = normalised
    return kept


def _types_target(value: Any, depth: int = 0) -> str | None:
    """The declaration file an exports entry gives TypeScript: its ``types`` condition, else a .d.ts target."""
    if depth > 8:
        return None
    if isinstance(value, str):
        return value if _DECLARATION.search(value) else None
    if isinstance(value, list):
        return next((t for t in (_types_target(v, depth + 1) for v in value) if t), None)
    if isinstance(value, dict):
        if "types" in value:
            found = _types_target(value["types"], depth + 1)
            if found is None and isinstance(value["types"], str):
                found = value["types"]
            if found:
                return found
        for key in ("import", "require", "node", "default"):
            if key in value:
                found = _types_target(value[key], depth + 1)
                if found:
                    return found
        for key in sorted(k for k in value if isinstance(k, str)):
            found = _types_target(value[key], depth + 1)
            if found:
                return found
    return None


def _sibling_declaration(folder: Path, value: Any, depth: int = 0) -> str | None:
    """The .d.ts beside an exported .js file, which TypeScript reads for it (``./x/index.js`` -> ``x/index.d.ts``)."""
    if depth > 8:
        return None
    if isinstance(value, str):
        candidate = posixpath.normpath(_with_declaration_suffix(value).removeprefix("./"))
        return candidate if not candidate.startswith("..") and (folder / candidate).is_file() else None
    if isinstance(value, dict):
        for key in ("import", "require", "node", "default", *sorted(k for k in value if isinstance(k, str))):
            if key in value:
                found = _sibling_declaration(folder, value[key], depth + 1)
                if found:
                    return found
    return None


def _types_file(folder: Path, path: str) -> str:
    """The file a ``types``/``typings`` field names, resolved as TypeScript does: as written, with ``.d.ts``
    added (old @types packages say ``"types": "index"``), then as a folder with an ``index.d.ts``."""
    stem = path.removeprefix("./").rstrip("/")
    candidates = (stem, f"{stem}.d.ts", _with_declaration_suffix(stem))  # the last: x.js -> x.d.ts, x -> x/index.d.ts
    chosen = [c for c in candidates if _DECLARATION.search(c)]
    return next((c for c in chosen if (folder / c).is_file()), chosen[0] if chosen else path)


def _with_declaration_suffix(path: str) -> str:
    if _DECLARATION.search(path):
        return path
    if path.endswith((".js", ".mjs", ".cjs")):
        return re.sub(r"\.(m|c)?js$", lambda m: f".d.{m.group(1) or ''}ts", path)
    return path.rstrip("/") + ("/index.d.ts" if not path.endswith(".ts") else "")


# -- comparing what the checker read ------------------------------------------------------------------------


def _declaration_changes(package: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterable[ApiChange]:
    for subpath in sorted(old):
        base = _subpath_symbol(package, subpath)
        before = _symbols(old[subpath])
        if subpath not in new:
            if before:
                yield ApiChange("removed", base, "subpath no longer has type declarations")
            continue
        after = _symbols(new[subpath])
        # the members of a removed name are not listed again; nor those of a name the target re-exports from a
        # package that is not read, whose members are not known
        covered = [name for name, info in after.items() if info.get("kind") == "reexport"]
        for name in sorted(before):
            if name in after:
                yield from _symbol_changes(_qualified(base, name), before[name], after[name])
            elif not any(name.startswith(parent + ".") for parent in covered):
                covered.append(name)
                kind = str(before[name].get("kind") or "name")
                yield ApiChange("removed", _qualified(base, name), f"{kind} removed")
        for name in sorted(after):
            text = after[name].get("deprecated")
            if isinstance(text, str):
                detail = f"deprecated: {text}" if text else "deprecated"
                yield ApiChange("deprecated", _qualified(base, name), detail[:200])


def _symbols(entry: Any) -> dict[str, dict[str, Any]]:
    symbols = entry.get("symbols") if isinstance(entry, dict) else None
    return {k: v for k, v in symbols.items() if isinstance(v, dict)} if isinstance(symbols, dict) else {}


def _qualified(base: str, name: str) -> str:
    return f"{base}.{name}" if name else base


def _symbol_changes(symbol: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Iterable[ApiChange]:
    was, now = before.get("kind"), after.get("kind")
    if "reexport" in (was, now):  # one side re-exports from a package that is not read: nothing to compare
        return
    if was in _VALUE_KINDS and now not in _VALUE_KINDS:
        yield ApiChange("changed", symbol, f"no longer a value (was a {was}, now a {now})")
        return
    old_sigs, new_sigs = _signatures(before), _signatures(after)
    opaque = bool(after.get("opaque"))  # its type is not known: whether it is callable is not either
    if not old_sigs or not new_sigs:
        if old_sigs and not new_sigs and now in _VALUE_KINDS and now not in ("class", "namespace") and not opaque:
            yield ApiChange("changed", symbol, f"no longer callable (now a {now})")
        return
    if was in _VALUE_KINDS:
        detail = _signature_change(old_sigs, new_sigs)
    else:
        # The call signature of a type users write functions for (``React.FC``): such a function ignores the
        # parameters it does not need, so the arity does not matter, but it reads members of what it receives.
        # (A function's parameter losing members is the callers' freedom, not a break: it is not compared.)
        loss = _parameter_loss(_parameters(before), _parameters(after))
        detail = f"{SIGNATURE_PREFIX}{loss}" if loss else None
    if detail:
        yield ApiChange("changed", symbol, detail)


Signature = tuple[tuple[str, bool, bool], ...]  # (name, optional, rest) per parameter


@dataclass(frozen=True)
class _Parameter:
    name: str
    type: str  # as the checker writes it: "PropsWithChildren<P>"
    members: frozenset[str] | None  # the type's property names, None when not known (any, primitives, too many)


def _signatures(info: Mapping[str, Any]) -> list[Signature]:
    sigs = info.get("sigs")
    if not isinstance(sigs, list):
        return []
    out = []
    for sig in sigs:
        if isinstance(sig, list):
            out.append(tuple((str(p[0]), bool(p[1]), bool(p[2])) for p in sig if isinstance(p, list) and len(p) >= 3))
    return out


def _parameters(info: Mapping[str, Any]) -> list[tuple[_Parameter, ...]]:
    sigs = info.get("sigs")
    if not isinstance(sigs, list):
        return []
    out = []
    for sig in sigs:
        if not isinstance(sig, list):
            continue
        params = []
        for p in sig:
            if isinstance(p, list) and len(p) == 5:
                members = frozenset(str(m) for m in p[4]) if isinstance(p[4], list) else None
                params.append(_Parameter(str(p[0]), str(p[3]), members))
        out.append(tuple(params))
    return out


def _parameter_loss(old: list[tuple[_Parameter, ...]], new: list[tuple[_Parameter, ...]]) -> str | None:
    """A parameter whose type lost members (``props: PropsWithChildren<P>`` -> ``props: P`` loses ``children``),
    between signatures paired by position when both sides have as many: a type that only changed its spelling, or
    that gained members, is no change; neither is a type not known on either side."""
    if len(old) != len(new):
        return None
    for before, after in zip(old, new, strict=True):
        for was, now in zip(before, after, strict=False):
            if was.name != now.name or was.members is None or now.members is None:
                continue
            lost = sorted(was.members - now.members)
            if lost:
                names = ", ".join(repr(m) for m in lost[:5]) + (", ..." if len(lost) > 5 else "")
                return (f"parameter '{was.name}' type changed from {was.type} to {now.type} (no longer has {names})")[
                    :MAX_DETAIL
                ]
    return None


def _arity(sig: Signature) -> tuple[int, float]:
    required = sum(1 for _, optional, _ in sig if not optional)
    most = float("inf") if any(rest for _, _, rest in sig) else float(len(sig))
    return required, most


def _signature_change(old: list[Signature], new: list[Signature]) -> str | None:
    """What a call written for ``old`` may no longer do with ``new``, in one line (None when nothing)."""
    new_arities = [_arity(s) for s in new]
    for sig in old:
        required, most = _arity(sig)
        counts = range(required, int(min(most, required + 8)) + 1)
        refused = [n for n in counts if not any(lo <= n <= hi for lo, hi in new_arities)]
        if refused:
            names = ", ".join(name for name, _, _ in sig)
            n = refused[0]
            return f"no overload takes {n} argument{'s' if n != 1 else ''} any more (was ({names}))"
    old_names = [{name for name, _, _ in sig} for sig in old]
    new_names = set().union(*({name for name, _, _ in sig} for sig in new))
    common = set.intersection(*old_names) if old_names else set()
    gone = sorted(common - new_names)
    if gone and all(len(s) > 0 for s in old):
        return f"parameter {', '.join(repr(g) for g in gone)} removed"
    return None


def _returns(package: str, entries: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(function symbol, returned type symbol) where the returned type is exported by the same subpath."""
    pairs = []
    for subpath in sorted(entries):
        entry = entries[subpath]
        returns = entry.get("returns") if isinstance(entry, dict) else None
        symbols = _symbols(entry)
        if not isinstance(returns, dict):
            continue
        base = _subpath_symbol(package, subpath)
        for name in sorted(returns):
            type_name = returns[name]
            if isinstance(type_name, str) and type_name in symbols:
                pair = (_qualified(base, name), _qualified(base, type_name))
                if max(len(pair[0]), len(pair[1])) <= MAX_SYMBOL_CHARS:
                    pairs.append(pair)
    # the functions a user calls directly first (``createRoot`` before a member's factory), as changes are kept
    return tuple(sorted(pairs, key=lambda p: (p[0].count("."), p))[:MAX_RETURNS])
