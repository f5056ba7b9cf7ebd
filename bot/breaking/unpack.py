"""Unpack a downloaded Python distribution (a wheel or an sdist) for static reading, with bounds.

Only Python sources (``.py``, ``.pyi``) and the metadata that names the import packages (``top_level.txt``,
``RECORD``) are written, as regular files under the target directory: an entry whose path is absolute or climbs
out (``..``) refuses the whole archive, links and devices are never created, and the number of files and the total
unpacked size are bounded (counted from the bytes actually written, not from what the archive declares).
Nothing unpacked is ever imported or run.
"""

from __future__ import annotations

import io
import posixpath
import stat
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.breaking.fetch import AnalysisError

MAX_UNPACKED_BYTES = 80 * 1024 * 1024
MAX_FILES = 12_000
MAX_ENTRIES = 60_000  # entries of any kind an archive may list before it is refused
_KEPT_SUFFIXES = (".py", ".pyi")
_KEPT_METADATA = ("top_level.txt", "RECORD")
# Directories of an sdist that hold no importable package of the distribution.
_NOT_PACKAGES = frozenset(
    {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "bench", "scripts", "tools",
     "build", "dist", "ci", "contrib", "extras", "tasks", "requirements", "artwork", "news", "changes"}
)  # fmt: skip
_NOT_MODULES = frozenset({"setup", "conftest", "noxfile", "tasks", "fabfile", "versioneer", "bootstrap", "runtests"})


@dataclass(frozen=True)
class Unpacked:
    """Where the distribution's modules are (the search path) and the top-level import names found there."""

    search_path: Path
    modules: tuple[str, ...]
    files: int
    size: int


def unpack(data: bytes, filename: str, dest: Path, hints: tuple[str, ...] = ()) -> Unpacked:
    """Unpack ``data`` (the file named ``filename``) into ``dest`` and find its import names.

    ``hints`` are import names expected for the distribution (``python_modules``); they are preferred when an
    sdist's layout leaves the choice open.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if filename.endswith(".whl"):
        files, size = _write_all(_zip_entries(data, filename), dest, filename)
        modules = _wheel_modules(dest)
        _mark_namespace_subpackages(dest, modules)
        return Unpacked(dest, modules, files, size)
    if filename.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")):
        files, size = _write_all(_tar_entries(data, filename), dest, filename)
    elif filename.endswith(".zip"):
        files, size = _write_all(_zip_entries(data, filename), dest, filename)
    else:
        raise AnalysisError(f"{filename} is neither a wheel nor an sdist this analysis reads")
    root = _sdist_root(dest)
    modules = _package_modules(root, hints)
    _mark_namespace_subpackages(root, modules)
    return Unpacked(root, modules, files, size)


def _zip_entries(data: bytes, filename: str) -> Iterator[tuple[str, IO[bytes]]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise AnalysisError(f"{filename} is not a readable zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise AnalysisError(f"{filename} lists more than {MAX_ENTRIES} entries")
        for info in infos:
            mode = info.external_attr >> 16
            if info.is_dir() or (stat.S_IFMT(mode) and not stat.S_ISREG(mode)):
                continue  # directories are made as needed; symlinks and other special entries are never created
            if _kept(info.filename):
                try:
                    with archive.open(info) as member:
                        yield info.filename, member
                except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                    raise AnalysisError(f"{filename}: {info.filename} cannot be read ({exc})") from exc
            else:
                _check_path(info.filename, filename)


def _tar_entries(data: bytes, filename: str) -> Iterator[tuple[str, IO[bytes]]]:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise AnalysisError(f"{filename} is not a readable tar archive ({exc})") from exc
    seen = 0
    try:
        while True:
            try:
                info = archive.next()
            except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                raise AnalysisError(f"{filename} is not a readable tar archive ({exc})") from exc
            if info is None:
                break
            seen += 1
            if seen > MAX_ENTRIES:
                raise AnalysisError(f"{filename} lists more than {MAX_ENTRIES} entries")
            if not info.isreg():
                continue  # links, devices and directories are never created
            if not _kept(info.name):
                _check_path(info.name, filename)
                continue
            member = archive.extractfile(info)
            if member is not None:
                yield info.name, member
    finally:
        archive.close()


def _kept(name: str) -> bool:
    base = posixpath.basename(name)
    return base.endswith(_KEPT_SUFFIXES) or (base in _KEPT_METADATA and ".dist-info/" in name)


def _check_path(name: str, filename: str) -> tuple[str, ...]:
    normalised = name.replace("\\", "/")
    parts = tuple(p for p in normalised.split("/") if p not in ("", "."))
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in parts or not parts:
        raise AnalysisError(f"{filename} names a path outside the archive ({name!r}); it was not unpacked")
    return parts


def _write_all(entries: Iterator[tuple[str, IO[bytes]]], dest: Path, filename: str) -> tuple[int, int]:
    files = 0
    total = 0
    for name, member in entries:
        parts = _check_path(name, filename)
        files += 1
        if files > MAX_FILES:
            raise AnalysisError(f"{filename} holds more than {MAX_FILES} Python files")
        target = dest.joinpath(*parts)
        if target.exists():
            continue  # a duplicate entry: the first one stays
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("xb") as out:
            while chunk := member.read(64 * 1024):
                total += len(chunk)
                if total > MAX_UNPACKED_BYTES:
                    raise AnalysisError(
                        f"{filename} unpacks to more than {MAX_UNPACKED_BYTES // 1024 // 1024} MB of Python sources"
                    )
                out.write(chunk)
    return files, total


def _mark_namespace_subpackages(root: Path, modules: tuple[str, ...]) -> None:
    """Give each directory of Python files inside a package an empty ``__init__.py`` (Python imports such
    namespace portions, ``flask/sansio/app.py`` as ``flask.sansio.app``; griffe only reads packages)."""
    for module in modules:
        package = root.joinpath(*module.split("."))
        if not package.is_dir():
            continue
        for directory in sorted(p for p in package.rglob("*") if p.is_dir() and not p.is_symlink()):
            if not directory.name.isidentifier() or any(directory.glob("__init__.py*")):
                continue
            if not any(directory.rglob("*.py*")):
                continue
            if all(any(parent.glob("__init__.py*")) for parent in directory.parents if package in parent.parents):
                (directory / "__init__.py").write_bytes(b"")


def _wheel_modules(root: Path) -> tuple[str, ...]:
    """The top-level import names of an unpacked wheel: ``top_level.txt``, else the paths of ``RECORD``, else the
    package directories and modules at its root."""
    names: set[str] = set()
    for info in sorted(root.glob("*.dist-info")):
        top_level = info / "top_level.txt"
        if top_level.is_file():
            names.update(line.strip().replace("/", ".") for line in _lines(top_level))
        elif (info / "RECORD").is_file():
            for line in _lines(info / "RECORD"):
                path = line.split(",", 1)[0]
                first = path.split("/", 1)[0]
                if "/" in path and not first.endswith((".dist-info", ".data")):
                    names.add(first)
                elif path.endswith(".py") and "/" not in path:
                    names.add(path.removesuffix(".py"))
    names = {n for n in names if n and _importable(n.split(".")[0]) and _present(root, n)}
    if not names:
        names = set(_package_modules(root, ()))
    return tuple(sorted(names))


def _sdist_root(dest: Path) -> Path:
    """The directory of an unpacked sdist holding its packages: ``<name>-<version>/src`` or ``<name>-<version>``."""
    entries = [p for p in dest.iterdir() if p.is_dir()]
    base = entries[0] if len(entries) == 1 and not (dest / "__init__.py").exists() else dest
    src = base / "src"
    return src if src.is_dir() and any(src.iterdir()) else base


def _package_modules(root: Path, hints: tuple[str, ...]) -> tuple[str, ...]:
    found: set[str] = set()
    for path in sorted(root.iterdir()):
        if path.is_dir() and _importable(path.name) and path.name.lower() not in _NOT_PACKAGES:
            if (path / "__init__.py").is_file() or (path / "__init__.pyi").is_file():
                found.add(path.name)
        elif path.suffix == ".py" and _importable(path.stem) and path.stem.lower() not in _NOT_MODULES:
            found.add(path.stem)
    hinted = {h for h in hints if h.split(".")[0] in found}
    return tuple(sorted(hinted or found))


def _present(root: Path, name: str) -> bool:
    path = root.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file() or path.with_suffix(".pyi").is_file()


def _importable(name: str) -> bool:
    return name.isidentifier() and name not in sys.stdlib_module_names


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()
