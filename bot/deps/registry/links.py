"""Project links registries publish: which ones depup keeps, and what each is for.

Labels are kept as the project wrote them; ``url_kind`` tells what a label means, normalised as PEP 753 says
(case, punctuation and whitespace ignored) with its well-known aliases.
"""

from __future__ import annotations

import re
from typing import Literal

UrlKind = Literal["homepage", "source", "changelog", "release_notes", "issues"]

_ALIASES: dict[str, UrlKind] = {
    "homepage": "homepage",
    "home": "homepage",
    "source": "source",
    "sourcecode": "source",
    "repository": "source",
    "repo": "source",
    "github": "source",
    "gitlab": "source",
    "code": "source",
    "changelog": "changelog",
    "changes": "changelog",
    "whatsnew": "changelog",
    "history": "changelog",
    "news": "changelog",
    "releasenotes": "release_notes",
    "releases": "release_notes",
    "issues": "issues",
    "bugs": "issues",
    "issuetracker": "issues",
    "bugtracker": "issues",
    "tracker": "issues",
}

_NOT_LABEL_CHARS = re.compile(r"[\W_]+")
_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")
_SHORTCUTS = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}
_SHORTHAND = re.compile(r"^(?:(?P<site>github|gitlab|bitbucket):)?(?P<path>[\w.-]+/[\w.-]+)$")


def url_kind(label: str) -> UrlKind | None:
    """What a project link is for, or None for links depup does not use (documentation, funding, ...)."""
    return _ALIASES.get(_NOT_LABEL_CHARS.sub("", label).lower())


def repository_url(value: str) -> str:
    """A browsable https URL for an npm ``repository`` (git+https, git://, ssh, ``github:user/repo``, ``user/repo``)."""
    text = value.strip()
    shorthand = _SHORTHAND.match(text)
    if shorthand is not None and "://" not in text:
        host = _SHORTCUTS[shorthand.group("site") or "github"]
        return f"https://{host}/{shorthand.group('path').removesuffix('.git')}"
    text = text.removeprefix("git+")
    scp = _SCP_LIKE.match(text)
    if scp is not None and "://" not in text:
        text = f"https://{scp.group('host')}/{scp.group('path')}"
    for scheme in ("git://", "ssh://", "git+ssh://"):
        if text.startswith(scheme):
            text = "https://" + text.removeprefix(scheme).split("@", 1)[-1]
    return text.removesuffix(".git").rstrip("/")
