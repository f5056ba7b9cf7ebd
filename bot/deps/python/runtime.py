"""Which Python a project runs, when its manifest does not declare ``requires-python``.

Evidence, in this order (the first found wins), looked up from the manifest's folder:

1. ``.python-version`` (pyenv; one version a line, ``#`` comments) in the manifest's folder or an ancestor, as
   pyenv looks it up;
2. ``.tool-versions`` (asdf / mise: ``python 3.11.4 3.10.13``) likewise;
3. a Dockerfile (``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``) in the manifest's folder, else at the
   repository root, with ``FROM python:3.11-slim`` (any registry or namespace whose image is ``python``;
   ``${ARG}`` tags resolved from ``ARG NAME=default``).

Several versions (pyenv's several lines, asdf's fallbacks, multi-stage builds) give the lowest.

The specifier is ``>=X.Y`` from the lowest ``X.Y`` seen, patch dropped: a project running 3.11 needs releases
that support 3.11 (the chooser checks a release against the lowest Python the project's ``requires-python``
admits, so ``>=3.11.4`` would wrongly make that 3.12), and lines whose marker limits them to older Pythons are
never installed. ``==3.11.*`` would also claim that no newer Python ever runs the project, which a local pin
or a Docker base image does not say (CI matrices, the next upgrade of the image).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

from bot.deps.checkout import Checkout

_VERSION = re.compile(r"^(?:c?python-?|py)?(\d+)\.(\d+)(?![\d])")
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(?P<image>\S+)", re.IGNORECASE)
_ARG = re.compile(r"^\s*ARG\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>\S+)", re.IGNORECASE)
_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}?")
EVIDENCE_NAMES = (".python-version", ".tool-versions")


def is_dockerfile(name: str) -> bool:
    lowered = name.lower()
    return lowered == "dockerfile" or lowered.startswith("dockerfile.") or lowered.endswith(".dockerfile")


def is_evidence(path: str) -> bool:
    name = posixpath.basename(path)
    return name in EVIDENCE_NAMES or is_dockerfile(name)


def floor_specifier(written: str) -> str | None:
    """``>=X.Y`` for a written Python version (``3.11``, ``3.11.4``, ``python-3.12``, ``3.12-dev``), else None."""
    match = _VERSION.match(written.strip().lower())
    if match is None:
        return None
    return f">={int(match.group(1))}.{int(match.group(2))}"


def _lowest(versions: Iterable[str]) -> str | None:
    found = []
    for version in versions:
        match = _VERSION.match(version.strip().lower())
        if match is not None:
            found.append((int(match.group(1)), int(match.group(2))))
    return f"{min(found)[0]}.{min(found)[1]}" if found else None


def python_version_file(text: str) -> str | None:
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return _lowest(word for line in lines for word in line.split())


def tool_versions_file(text: str) -> str | None:
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "python":
            return _lowest(words[1:])
    return None


def dockerfile(text: str) -> tuple[str, str] | None:
    """The lowest Python of the ``FROM python:TAG`` lines, with the line as written."""
    args: dict[str, str] = {}
    found: list[tuple[tuple[int, int], str]] = []
    for line in _joined(text):
        arg = _ARG.match(line)
        if arg is not None:
            args[arg.group("name")] = arg.group("value").strip("\"'")
            continue
        match = _FROM.match(line)
        if match is None:
            continue
        image = _REFERENCE.sub(lambda m: args.get(m.group(1), m.group(2) or ""), match.group("image"))
        name, _, tag = image.partition(":")
        if posixpath.basename(name.split("@", 1)[0]).lower() != "python" or not tag:
            continue
        version = _VERSION.match(tag.split("@", 1)[0].lower())
        if version is not None:
            found.append(((int(version.group(1)), int(version.group(2))), f"FROM {image}"))
    if not found:
        return None
    (major, minor), shown = min(found)
    return f"{major}.{minor}", shown


def _joined(text: str) -> list[str]:
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        out.append(pending + raw)
        pending = ""
    if pending:
        out.append(pending)
    return out


class RuntimeEvidence:
    """Looks up the evidence for one checkout, each file read once."""

    def __init__(self, checkout: Checkout) -> None:
        self._checkout = checkout
        self._dockerfiles: dict[str, list[str]] = {}
        for path in checkout.files:
            if is_dockerfile(posixpath.basename(path)):
                self._dockerfiles.setdefault(posixpath.dirname(path), []).append(path)
        self._read: dict[str, str | None] = {}

    def python(self, folder: str) -> tuple[str, str] | None:
        """``(specifier, phrase)`` for the manifests of ``folder`` (repository-relative, "" for the root)."""
        readers: tuple[tuple[str, Callable[[str], str | None]], ...] = (
            (".python-version", python_version_file),
            (".tool-versions", tool_versions_file),
        )
        for name, reader in readers:
            for directory in ancestors(folder):
                path = posixpath.join(directory, name) if directory else name
                text = self._text(path)
                version = reader(text) if text is not None else None
                if version is not None:
                    shown = f"python {version}" if name == ".tool-versions" else version
                    return f">={version}", f"{path}: {shown}"
        for directory in dict.fromkeys([folder, ""]):
            for path in sorted(self._dockerfiles.get(directory, ())):
                text = self._text(path)
                found = dockerfile(text) if text is not None else None
                if found is not None:
                    return f">={found[0]}", f"{path}: {found[1]}"
        return None

    def _text(self, path: str) -> str | None:
        if path not in self._read:
            self._read[path] = self._checkout.read(path) if self._checkout.has(path) else None
        return self._read[path]


def ancestors(folder: str) -> list[str]:
    """``a/b`` -> [``a/b``, ``a``, ``""``]."""
    out = [folder]
    while folder:
        folder = posixpath.dirname(folder)
        out.append(folder)
    return out
