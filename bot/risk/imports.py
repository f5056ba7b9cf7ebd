"""How widely a repository's code imports each package: counted from source files, never guessed.

Python: ``import x`` / ``from x import y`` statements, matched against the package's import names (the
normalised distribution name, or a table of well-known distributions whose module is named differently).
npm: ``import``/``export ... from``, ``require()`` and ``import()`` of the package or its subpaths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.deps.scan import DEFAULT_IGNORED_DIRS
from bot.risk.model import Imports

MAX_FILES = 20_000
MAX_FILE_BYTES = 1_000_000
# Directories whose files are not the project's own code: the scan's ignored directories (vendored trees,
# environments, caches) and build output, but tests, which import packages like the code they test.
SKIP_SOURCE_DIRS = frozenset({*DEFAULT_IGNORED_DIRS, "dist", "build", "coverage", "examples", "__fixtures__"})
_PY_SUFFIXES = (".py", ".pyi")
_JS_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".vue", ".svelte")
SOURCE_SUFFIXES = _PY_SUFFIXES + _JS_SUFFIXES
_PY_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w. \t,]+))", re.MULTILINE)
_JS_IMPORT = re.compile(
    r"""(?:\bimport\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?|\bexport\s+[\w*{}\s,$]+?\s+from\s+|"""
    r"""\brequire\s*\(\s*|\bimport\s*\(\s*)['"]([^'"\n]+)['"]"""
)
# Distributions whose import name is not their normalised name (PEP 503 name -> import names).
PYTHON_MODULES: dict[str, tuple[str, ...]] = {
    "pyyaml": ("yaml",),
    "beautifulsoup4": ("bs4",),
    "pillow": ("PIL",),
    "scikit-learn": ("sklearn",),
    "scikit-image": ("skimage",),
    "python-dateutil": ("dateutil",),
    "attrs": ("attr", "attrs"),
    "pywin32": ("win32api", "win32con", "win32com", "pywintypes", "win32file", "win32process"),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "psycopg2-binary": ("psycopg2",),
    "psycopg-binary": ("psycopg",),
    "protobuf": ("google.protobuf",),
    "python-dotenv": ("dotenv",),
    "pyjwt": ("jwt",),
    "setuptools": ("setuptools", "pkg_resources"),
    "python-multipart": ("multipart", "python_multipart"),
    "pyopenssl": ("OpenSSL",),
    "pycryptodome": ("Crypto",),
    "pycryptodomex": ("Cryptodome",),
    "djangorestframework": ("rest_framework",),
    "websocket-client": ("websocket",),
    "python-jose": ("jose",),
    "pyserial": ("serial",),
    "pygithub": ("github",),
    "mysqlclient": ("MySQLdb",),
    "gitpython": ("git",),
    "pyzmq": ("zmq",),
    "python-magic": ("magic",),
    "pyside6": ("PySide6",),
    "pyqt5": ("PyQt5",),
    "pyqt6": ("PyQt6",),
    "google-cloud-storage": ("google.cloud.storage",),
    "google-cloud-bigquery": ("google.cloud.bigquery",),
    "google-api-python-client": ("googleapiclient",),
    "msgpack-python": ("msgpack",),
    "ruamel-yaml": ("ruamel.yaml",),
    "pymupdf": ("fitz", "pymupdf"),
    "python-slugify": ("slugify",),
    "email-validator": ("email_validator",),
    "markdown": ("markdown",),
    "faiss-cpu": ("faiss",),
    "tensorflow-cpu": ("tensorflow",),
    "discord-py": ("discord",),
    "python-telegram-bot": ("telegram",),
    "pytest-asyncio": ("pytest_asyncio",),
}


def python_modules(key: str) -> tuple[str, ...]:
    """The import names of a distribution (PEP 503 normalised name)."""
    return PYTHON_MODULES.get(key) or (key.replace("-", "_"),)


def npm_module(name: str) -> str:
    """What code imports for an npm package: its name; ``@types/x`` provides types for ``x``."""
    if name.startswith("@types/"):
        rest = name.removeprefix("@types/")
        return "@" + rest.replace("__", "/", 1) if "__" in rest else rest
    return name


@dataclass
class ImportIndex:
    """Per source file, the modules it imports; built once per checkout, queried per package."""

    python_files: list[frozenset[str]] = field(default_factory=list)
    npm_files: list[frozenset[str]] = field(default_factory=list)
    truncated: bool = False  # MAX_FILES reached: counts are lower bounds

    def count(self, ecosystem: str, key: str) -> Imports:
        if ecosystem == "python":
            modules = python_modules(key)
            files = sum(1 for names in self.python_files if any(_imports(names, m) for m in modules))
            return Imports(files, len(self.python_files), modules)
        module = npm_module(key)
        return Imports(sum(1 for names in self.npm_files if module in names), len(self.npm_files), (module,))


def _imports(names: frozenset[str], module: str) -> bool:
    if module in names:
        return True
    if "." in module:  # namespace packages: google.cloud.storage matches google.cloud.storage.blob
        prefix = module + "."
        return any(name.startswith(prefix) for name in names)
    return False


def index_imports(root: Path) -> ImportIndex:
    index = ImportIndex()
    seen = 0
    for path in _source_files(root):
        seen += 1
        if seen > MAX_FILES:
            index.truncated = True
            break
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if path.suffix in _PY_SUFFIXES:
            index.python_files.append(frozenset(python_imports(text)))
        else:
            index.npm_files.append(frozenset(npm_imports(text)))
    return index


def python_imports(text: str) -> set[str]:
    """Dotted module names a Python source imports, with each of their parents (``a.b.c`` gives ``a``, ``a.b``)."""
    names: set[str] = set()
    for match in _PY_IMPORT.finditer(text):
        if match.group(1):
            if not match.group(1).startswith("."):
                names.update(_with_parents(match.group(1)))
            continue
        for part in match.group(2).split(","):
            module = part.strip().split()[0] if part.strip() else ""
            if module:
                names.update(_with_parents(module))
    return names


def _with_parents(module: str) -> Iterable[str]:
    parts = module.split(".")
    return (".".join(parts[: i + 1]) for i in range(len(parts)))


def npm_imports(text: str) -> set[str]:
    """Package names a JavaScript/TypeScript source imports (relative paths and ``node:`` builtins excluded)."""
    names: set[str] = set()
    for match in _JS_IMPORT.finditer(text):
        spec = match.group(1)
        if spec.startswith((".", "/", "node:")) or ":" in spec:
            continue
        parts = spec.split("/")
        names.add("/".join(parts[:2]) if spec.startswith("@") and len(parts) > 1 else parts[0])
    return names


def _source_files(root: Path) -> Iterable[Path]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_SOURCE_DIRS and not os.path.islink(os.path.join(directory, d))
        )
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                path = Path(directory, name)
                if not path.is_symlink():
                    yield path
