"""A repository's files at one commit, read through the git data API (one tree listing, then blobs) into a
local directory the dependency engine can scan. Never a clone, never credentials in a URL.

Only what depup reads is fetched: manifests, lockfiles and requirement includes, the config file, and (within
a budget) source files for the import counts. Blobs are immutable, so they are cached in Redis by SHA: a
second scan of a repository fetches only files that changed.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from redis import Redis

from bot.deps.npm.discover import reads as npm_reads
from bot.deps.python.discover import reads as python_reads
from bot.deps.scan import DEFAULT_IGNORED_DIRS
from bot.errors import GitHubError
from bot.github.client import InstallationClient, json_body
from bot.risk.imports import SKIP_SOURCE_DIRS, SOURCE_SUFFIXES

CONFIG_PATH = ".github/depup.yml"
CONFIG_PATHS = (CONFIG_PATH, ".github/depup.yaml")
MAX_BLOB_BYTES = 64 * 1024 * 1024
MAX_SOURCE_BYTES = 512 * 1024
BLOB_TTL = 14 * 24 * 3600
_BLOB_KEY = "depup:blob:"


@dataclass(frozen=True)
class Snapshot:
    commit: str
    tree: str
    root: Path
    files: dict[str, str]  # path -> blob sha, for every file fetched
    sources_complete: bool  # every source file was fetched (the import counts are then facts)
    truncated: bool  # GitHub truncated the tree listing (very large repository)

    def text(self, path: str) -> str | None:
        target = self.root / path
        return target.read_text(encoding="utf-8", errors="replace") if path in self.files else None


def wanted(path: str) -> bool:
    """Files the engine reads: manifests, lockfiles, requirement includes, runtime evidence, the config."""
    return path in CONFIG_PATHS or python_reads(path) or npm_reads(path)


def read_snapshot(
    gh: InstallationClient,
    owner: str,
    repo: str,
    commit_sha: str,
    dest: Path,
    redis: Redis,
    *,
    source_budget: int = 300,
) -> Snapshot:
    """Fetch the files of ``commit_sha`` that depup reads into ``dest``."""
    commit = json_body(gh.rest.git.get_commit(owner, repo, commit_sha))
    tree_sha = str(commit["tree"]["sha"])
    listing = json_body(gh.rest.git.get_tree(owner, repo, tree_sha, recursive="1"))
    entries = [e for e in listing.get("tree", []) if isinstance(e, dict) and e.get("type") == "blob"]
    chosen: dict[str, str] = {}
    sources: dict[str, str] = {}
    for entry in entries:
        path, sha, size = str(entry.get("path", "")), str(entry.get("sha", "")), int(entry.get("size") or 0)
        if not _safe(path) or size > MAX_BLOB_BYTES:
            continue
        parts = PurePosixPath(path).parts
        vendored = any(p in DEFAULT_IGNORED_DIRS for p in parts[:-1]) and "/.yarn/patches/" not in f"/{path}"
        if wanted(path) and not vendored:
            chosen[path] = sha
        elif (
            path.endswith(SOURCE_SUFFIXES)
            and size <= MAX_SOURCE_BYTES
            and not any(p in SKIP_SOURCE_DIRS for p in parts[:-1])
        ):
            sources[path] = sha
    complete = len(sources) <= source_budget and not listing.get("truncated")
    if complete:
        chosen.update(sources)
    for path, sha in sorted(chosen.items()):
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob(gh, owner, repo, sha, redis))
    return Snapshot(commit_sha, tree_sha, dest, chosen, complete, bool(listing.get("truncated")))


def blob(gh: InstallationClient, owner: str, repo: str, sha: str, redis: Redis) -> bytes:
    """A blob's bytes, from the Redis cache when another scan fetched it before."""
    key = _BLOB_KEY + sha
    cached = redis.get(key)
    if isinstance(cached, bytes):
        return zlib.decompress(cached)
    document: Any = json_body(gh.rest.git.get_blob(owner, repo, sha))
    if document.get("encoding") != "base64":
        raise GitHubError(f"blob {sha} came back as {document.get('encoding')!r}, not base64")
    data = base64.b64decode(str(document.get("content", "")))
    redis.set(key, zlib.compress(data, 6), ex=BLOB_TTL)
    return data


def blob_sha(data: bytes) -> str:
    """The git object id of a blob with these bytes (what GitHub's tree lists), to compare without a request."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts and "\0" not in path
