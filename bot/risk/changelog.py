"""Release notes for the risk model, read where the registry links them: a changelog file in the package's
source repository on GitHub, read through the contents API (no cloning, no scraping of web pages).

The registry's changelog / release-notes link is used when it points at a file on GitHub (``/blob/<ref>/<path>``);
otherwise, with a source-repository link on GitHub, the repository's root is listed and a file named like a
changelog (CHANGELOG, CHANGES, HISTORY, NEWS, RELEASES; .md/.rst/.txt or none) is read. Anything else, or
any failure, leaves the release notes unknown. One reader serves one survey and reads each repository once.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from redis import Redis

from bot.deps.model import PackageInfo
from bot.deps.registry.links import url_kind
from bot.errors import GitHubError
from bot.github.client import InstallationClient, json_body
from bot.risk.model import BreakingNotes
from bot.risk.notes import breaking_notes

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000  # the contents API inlines files up to 1 MB
MISSING_TTL = 24 * 3600
_NAMES = re.compile(r"^(changelog|changes|history|news|releases|release[-_]notes)(\.(md|markdown|rst|txt))?$", re.I)
_BLOB = re.compile(r"^/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/blob/(?P<ref>[^/]+)/(?P<path>.+)$")
_REPO = re.compile(r"^/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$")


class ChangelogReader:
    """A ``NotesSource`` for ``bot.risk.facts``: ``reader(info, current, target)``."""

    def __init__(self, github: InstallationClient, web_host: str = "github.com", redis: Redis | None = None) -> None:
        self._github = github
        self._host = web_host.lower()
        self._redis = redis  # remembers for a day which repositories have no readable changelog
        self._texts: dict[tuple[str, str, str | None, str | None], tuple[str, str] | None] = {}

    def __call__(self, info: PackageInfo, current: str, target: str) -> BreakingNotes | None:
        found = self.text_for(info)
        if found is None:
            return None
        text, source = found
        return breaking_notes(text, source, info.ecosystem.value, current, target)

    def text_for(self, info: PackageInfo) -> tuple[str, str] | None:
        """(changelog text, its URL) for a package, or None when none can be read."""
        for label, url in info.urls:
            if url_kind(label) in ("changelog", "release_notes"):
                blob = self._match(url, _BLOB)
                if blob is not None:
                    return self._read(blob["owner"], blob["repo"], unquote(blob["path"]), blob["ref"])
        for label, url in info.urls:
            if url_kind(label) == "source":
                repo = self._match(url, _REPO)
                if repo is not None:
                    return self._read(repo["owner"], repo["repo"], None, None)
        return None

    def _match(self, url: str, pattern: re.Pattern[str]) -> dict[str, str] | None:
        parts = urlsplit(url)
        if parts.scheme != "https" or (parts.hostname or "").lower() != self._host:
            return None
        match = pattern.match(parts.path)
        return match.groupdict() if match else None

    def _read(self, owner: str, repo: str, path: str | None, ref: str | None) -> tuple[str, str] | None:
        key = (owner.lower(), repo.lower(), path, ref)
        if key not in self._texts:
            missing = f"depup:changelog-missing:{owner.lower()}/{repo.lower()}:{path or ''}:{ref or ''}"
            if self._redis is not None and self._redis.exists(missing):
                self._texts[key] = None
            else:
                self._texts[key] = self._fetch(owner, repo, path, ref)
                if self._texts[key] is None and self._redis is not None:
                    self._redis.set(missing, 1, ex=MISSING_TTL)
        return self._texts[key]

    def _fetch(self, owner: str, repo: str, path: str | None, ref: str | None) -> tuple[str, str] | None:
        try:
            if path is None:
                listing = self._get(owner, repo, "", None)
                if not isinstance(listing, list):
                    return None
                names = sorted(
                    (
                        entry.get("name", "")
                        for entry in listing
                        if isinstance(entry, dict) and entry.get("type") == "file"
                    ),
                    key=lambda n: (not n.lower().startswith("changelog"), n.lower()),
                )
                path = next((n for n in names if _NAMES.match(n)), None)
                if path is None:
                    return None
            document = self._get(owner, repo, path, ref)
        except GitHubError as e:
            log.info("release notes unavailable", extra={"repo": f"{owner}/{repo}", "error": str(e)})
            return None
        text = _decode(document)
        if text is None:
            return None
        where = f"https://{self._host}/{owner}/{repo}/blob/{ref or 'HEAD'}/{path}"
        return text, where

    def _get(self, owner: str, repo: str, path: str, ref: str | None) -> Any:
        if ref:
            return json_body(self._github.rest.repos.get_content(owner, repo, path, ref=ref))
        return json_body(self._github.rest.repos.get_content(owner, repo, path))


def _decode(document: Any) -> str | None:
    if not isinstance(document, dict) or document.get("type") != "file" or document.get("encoding") != "base64":
        return None
    if int(document.get("size") or 0) > MAX_BYTES:
        return None
    try:
        return base64.b64decode(str(document.get("content", ""))).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None
