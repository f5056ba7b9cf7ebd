"""The OSV API over HTTP (https://google.github.io/osv.dev/api/): the one HTTP seam of ``bot.security``.

``POST /v1/querybatch`` answers, in the order asked, the ids (and ``modified``) of the advisories affecting each
(package, version), at most 1000 queries a request, a query with many results carrying a ``next_page_token`` to
ask again with; ``GET /v1/vulns/{id}`` answers the full record. Every transport error, unusable status or
unexpected body (not JSON, nested too deeply, over ``MAX_ANSWER_BYTES``) becomes an ``AuditError`` here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx

from bot.core.tls import tls_context
from bot.security.model import OSV_ECOSYSTEM, AuditError, Pair

log = logging.getLogger(__name__)

BATCH = 1000  # OSV's limit of queries per querybatch request
MAX_PAGES = 20  # follow-up pages per query before giving up (real answers fit in one)
FETCHERS = 8  # concurrent record downloads
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a querybatch answer to 1000 queries is some 100 KB, a record a few KB


class OsvClient:
    """A client of one OSV server; use as a context manager (one HTTP connection pool)."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            verify=tls_context(),
            limits=httpx.Limits(max_connections=FETCHERS, max_keepalive_connections=FETCHERS),
            headers={"User-Agent": "depup (vulnerability audit)"},
            follow_redirects=False,
        )

    def __enter__(self) -> OsvClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def affecting(self, ecosystem: str, pairs: Sequence[Pair]) -> list[tuple[str, ...]]:
        """The ids of the advisories affecting each (package, version), in the order of ``pairs``."""
        found: list[list[str]] = [[] for _ in pairs]
        for start in range(0, len(pairs), BATCH):
            chunk = range(start, min(start + BATCH, len(pairs)))
            tokens: dict[int, str | None] = {i: None for i in chunk}
            for _ in range(MAX_PAGES):
                asked = list(tokens)
                queries = [_query(ecosystem, pairs[i], tokens[i]) for i in asked]
                results = self._batch(queries)
                tokens = {}
                for i, result in zip(asked, results, strict=True):
                    for vuln_id in _ids(result):
                        if vuln_id not in found[i]:
                            found[i].append(vuln_id)
                    token = result.get("next_page_token")
                    if isinstance(token, str) and token:
                        tokens[i] = token
                if not tokens:
                    break
            else:
                raise AuditError(f"OSV kept paging after {MAX_PAGES} pages of results")
        return [tuple(ids) for ids in found]

    def records(self, ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        """The full record of each id (fetched concurrently)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        with ThreadPoolExecutor(max_workers=min(FETCHERS, len(wanted))) as pool:
            return dict(zip(wanted, pool.map(self.record, wanted), strict=True))

    def record(self, vuln_id: str) -> Mapping[str, Any]:
        body = self._call("GET", f"/v1/vulns/{quote(vuln_id, safe='')}", None)
        if body.get("id") != vuln_id:
            raise AuditError(f"OSV answered another record than {vuln_id} at /v1/vulns/{vuln_id}")
        return body

    def _batch(self, queries: list[dict[str, Any]]) -> list[Mapping[str, Any]]:
        body = self._call("POST", "/v1/querybatch", {"queries": queries})
        results = body.get("results", [])
        if not isinstance(results, list) or len(results) != len(queries):
            raise AuditError(f"OSV answered {_count(results)} results to {len(queries)} queries")
        if not all(isinstance(r, Mapping) for r in results):
            raise AuditError("OSV answered a querybatch result that is not an object")
        return results

    def _call(self, method: str, path: str, payload: dict[str, Any] | None) -> Mapping[str, Any]:
        url = self.base_url + path
        try:
            with self._client.stream(method, url, json=payload) as response:
                status = response.status_code
                raw = _read(response, f"{method} {url}")
        except httpx.TimeoutException:
            raise AuditError(f"OSV did not answer {method} {url} in time") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise AuditError(f"OSV could not be reached ({method} {url}): {exc}") from None
        if status != 200:
            raise AuditError(f"OSV answered {status} to {method} {url}{_message(raw)}")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: arrays or objects nested about 1000 deep
            raise AuditError(f"OSV answered {method} {url} with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise AuditError(f"OSV answered {method} {url} with JSON that is not an object")
        return body


def _query(ecosystem: str, pair: Pair, token: str | None) -> dict[str, Any]:
    package, version = pair
    query: dict[str, Any] = {"package": {"name": package, "ecosystem": OSV_ECOSYSTEM[ecosystem]}, "version": version}
    if token is not None:
        query["page_token"] = token
    return query


def _ids(result: Mapping[str, Any]) -> list[str]:
    vulns = result.get("vulns", [])
    if not isinstance(vulns, list):
        raise AuditError("OSV answered a querybatch result whose vulns is not a list")
    ids = [v.get("id") for v in vulns if isinstance(v, Mapping)]
    if len(ids) != len(vulns) or not all(isinstance(i, str) and i for i in ids):
        raise AuditError("OSV answered a querybatch result with an advisory without an id")
    return [str(i) for i in ids]


def _count(results: object) -> str:
    return str(len(results)) if isinstance(results, list) else "no list of"


def _read(response: httpx.Response, what: str) -> bytes:
    """The answer's body, refused past ``MAX_ANSWER_BYTES`` while it streams in (a wrong URL or a broken
    server must not make a worker read gigabytes)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise AuditError(f"OSV answered {what} with more than {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _message(raw: bytes) -> str:
    """``: <the server's message>`` when it gave a short one."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {message[:200]}" if isinstance(message, str) and message else ""
