"""Lockfile tools stay inside the repository, and never see depup's secrets.

uv, pip-compile, Poetry and npm run on a copy of a repository whose content anyone with push access chose, and
they follow the file references written in it: ``-r`` includes, a lockfile header's arguments, path and
``file:`` requirements, ``[tool.uv.sources]`` paths, npm ``file:`` specs, workspace globs, find-links. One
pointing outside the repository makes the tool read the worker's own files (its private key,
``/proc/self/environ``) and copy them into a lockfile or an error message, both of which depup posts to GitHub.
So before a tool runs, every reference it would follow is checked (``bot.deps.python.confine``,
``bot.deps.npm.confine``), and a single one outside the copy means the tool does not run: the lockfile is
reported as not regenerated, with the file and the reference. Remote URLs (``https:``, ``git+ssh:``...) are
not local files and pass.

The tool's environment is built from an allowlist (``tool_environment``): paths, locale, proxies, CA
certificates and the tool's own settings; never ``GITHUB_*``, ``REDIS_URL`` or ``DEPUP_*``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

PASSED_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SYSTEMROOT",
        "APPDATA", "LOCALAPPDATA", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy",
        "https_proxy", "no_proxy", "all_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
    }
)  # fmt: skip
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HOME = re.compile(r"^~[\w.-]*[\\/]")  # ~/x, ~user/x (not npm's ~1.2.3)
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")  # a Windows absolute path
_LOCAL_TRANSPORTS = frozenset({"file", "link"})  # git+file:, file:, and link: (npm and yarn specs)


def tool_environment(env: Mapping[str, str], prefixes: Sequence[str]) -> dict[str, str]:
    """The variables of ``env`` a lockfile tool may see: ``PASSED_VARIABLES`` and the tool's own ``prefixes``
    (``PIP_``, ``UV_``, ``npm_config_``..., compared without case)."""
    lowered = tuple(prefix.lower() for prefix in prefixes)
    return {key: value for key, value in env.items() if key in PASSED_VARIABLES or key.lower().startswith(lowered)}


@dataclass(frozen=True)
class Outside:
    """A reference in a repository's file that leads outside the repository."""

    file: str  # repository-relative
    where: str  # a line number, or the TOML or JSON key holding it
    written: str

    def __str__(self) -> str:
        return f"{self.file}{':' if self.where.isdigit() else ' '}{self.where}: {self.written[:200]!r}"


def refusal(found: Sequence[Outside]) -> str:
    """The problem text for a lockfile that is not regenerated because of ``found``."""
    shown = "; ".join(str(o) for o in found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    return f"refers to files outside the repository, which depup's lockfile tools do not read: {shown}"


def escapes(root: Path, base: Path, written: str) -> bool:
    """Whether ``written`` (a local path, or a ``file:`` URL), read relative to the directory ``base``, leads
    outside ``root``. A remote URL does not; a home-relative path (``~/x``), a Windows absolute path and a
    ``file:`` URL naming another host always do. Copies given to tools hold no symbolic links, so a relative
    path without a ``..`` part stays inside; others are resolved (links followed, as the tool would)."""
    text = written.strip()
    if not text:
        return False
    scheme = _SCHEME.match(text)
    if scheme is not None and not _DRIVE.match(text):
        name = scheme.group(1).lower()
        transport = name.rsplit("+", 1)[-1]
        if transport not in _LOCAL_TRANSPORTS:
            return False
        rest = text[len(name) + 1 :]
        if transport == "file" and rest.startswith("//"):
            parts = urlsplit("file:" + rest)
            if parts.netloc not in ("", "localhost"):
                return True  # file://host/share: another machine's files
            rest = parts.path
        text = unquote(rest.split("#", 1)[0]) or "."
    if text == "~" or _HOME.match(text) or _DRIVE.match(text) or text.startswith("\\"):
        return True
    relative = text.replace("\\", "/")
    if not relative.startswith("/") and ".." not in relative.split("/"):
        return False
    try:
        target = Path(os.path.normpath(base / relative)).resolve()
        return not target.is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL byte: not a path a tool can use safely
        return True


def outside_strings(root: Path, base: Path, file: str, strings: Iterable[tuple[str, str]]) -> list[Outside]:
    """The ``(where, string)`` pairs that lead outside ``root``: each string as a whole, and each of its words
    and ``--option=value`` values (settings such as ``pip-args`` hold command lines)."""
    found: list[Outside] = []
    for where, value in strings:
        words = {value, *value.split(), *(word.split("=", 1)[1] for word in value.split() if "=" in word)}
        if any(escapes(root, base, word) for word in words):
            found.append(Outside(file, where, value))
    return found


def walk_strings(value: object, where: str) -> Iterable[tuple[str, str]]:
    """Every string inside a TOML or JSON value, with the dotted key that holds it (keys included)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk_strings(key, where)
            yield from walk_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, f"{where}[{index}]")
