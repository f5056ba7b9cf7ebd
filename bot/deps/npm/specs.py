"""What kind of thing a package.json dependency value is, decided the way npm decides it.

The order of checks follows ``npm-package-arg``'s ``resolve`` (file paths, ``npm:`` aliases, hosted git,
URLs, paths with slashes, then registry specs: version, range, dist-tag). Only registry versions and ranges
(and the registry part of an alias) are something depup can update; everything else gets a skip reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from bot.deps.npm.semver import valid, valid_range

SpecKind = Literal["version", "range", "tag", "alias", "git", "url", "file", "workspace", "catalog", "patch", "invalid"]

_FILE = re.compile(r"(?:[.]|~/|/|[a-zA-Z]:)")
_URL = re.compile(r"(?:git[+])?[a-z]+:", re.IGNORECASE)
_SCP_GIT = re.compile(r"[^@]+@[^:.]+\.[^:]+:.+\Z")
_HOSTED_PREFIX = re.compile(r"(?:github|gitlab|bitbucket|gist):", re.IGNORECASE)
# hosted-git-info's GitHub shortcut: user/repo, optionally #committish.
_SHORTCUT = re.compile(r"[^:@%/\s.-][^:@%/\s]*/[^:@\s/%]+(?:#.*)?\Z")
_GIT_HOSTS = re.compile(
    r"(?:git\+)?https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)/[^/]+/[^/#]+/?(?:#.*)?\Z"
)
_TARBALL = re.compile(r"[.](?:tgz|tar\.gz|tar)\Z", re.IGNORECASE)
# npm package names (validate-npm-package-name, old packages may use capitals), optionally scoped.
_ALIAS = re.compile(
    r"npm:((?:@[a-z0-9~-][a-z0-9._~*-]*/)?[a-z0-9~-][a-z0-9._~-]*)(?:@(.*))?\Z", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class Spec:
    kind: SpecKind
    package: str | None = None  # for an alias: the real package name
    range_offset: int = 0  # for an alias: where the range starts in the value text
    range_text: str = ""  # for an alias: the range part ("" when none is written)
    detail: str = ""  # why a value is invalid, or the URL protocol


def classify(value: str) -> Spec:
    """Classify one dependency value as npm-package-arg would (POSIX rules)."""
    if value.lower().startswith("file:") or _FILE.match(value):
        return Spec("file")
    if value.lower().startswith("npm:"):
        return _alias(value)
    if value.lower().startswith("workspace:"):
        return Spec("workspace")  # pnpm / yarn: npm itself rejects it (unsupported URL type)
    if value.lower().startswith("catalog:"):
        return Spec("catalog", detail=value[len("catalog:") :].strip())  # pnpm (and bun) catalogs: the range is there
    if value.lower().startswith("patch:"):
        return Spec("patch")  # yarn Berry: a registry package with a patch of the repository applied
    if _HOSTED_PREFIX.match(value) or _SHORTCUT.match(value) or _SCP_GIT.match(value) or _GIT_HOSTS.match(value):
        return Spec("git")
    if _URL.match(value):
        protocol = value.split(":", 1)[0].lower()
        if protocol.startswith("git"):
            return Spec("git")
        if protocol in ("http", "https"):
            return Spec("url")
        if protocol in ("link", "portal"):
            return Spec("file", detail=protocol)  # yarn / pnpm link:, yarn portal: a local directory
        return Spec("invalid", detail=f'unsupported URL type "{protocol}:"')
    if "/" in value or _TARBALL.search(value):
        return Spec("file")
    return _registry(value)


def _registry(value: str) -> Spec:
    spec = value.strip()
    if valid(spec, loose=True) is not None:
        return Spec("version")
    if valid_range(spec, loose=True) is not None:
        return Spec("range")
    if quote(spec, safe="-_.!~*'()", errors="surrogatepass") != spec:  # a lone surrogate is no tag name either
        return Spec("invalid", detail=f'"{value}" is neither a version range nor a valid dist-tag name')
    return Spec("tag")


def _alias(value: str) -> Spec:
    match = _ALIAS.match(value)
    if match is None:
        return Spec("invalid", detail=f'"{value}": an npm: alias needs a package name')
    package, range_text = match.group(1), match.group(2)
    if range_text is None:
        return Spec("alias", package=package, range_offset=len(value), range_text="")
    inner = _registry(range_text) if range_text else Spec("range")
    if inner.kind not in ("version", "range", "tag"):
        return Spec("invalid", detail=f'"{value}": aliases only work for registry packages')
    return Spec(
        "alias",
        package=package,
        range_offset=match.start(2),
        range_text=range_text,
        detail=inner.kind,
    )
