"""GitHub clients: the single place where depup talks to GitHub, and the seam where githubkit's and
httpx's exceptions become depup's ``GitHubError``s.

* ``clients.app()`` authenticates as the App (an RS256 JWT signed with the App's private key);
* ``clients.installation(id)`` as one installation (an installation token, cached in Redis so that every
  forked job of every worker shares it until a minute before it expires).

No client ever sleeps on a rate limit: a rate-limited call raises ``RateLimited`` with the wait GitHub asked
for, and the job runner reschedules the job. Calls that do the same thing when repeated (reads, PATCH
updates, creating git trees/commits/blobs, which are named by their content) get two quick in-process retries
on 5xx and timeouts; other writes are never retried here (the whole job is retried and checks state first).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, Response
from githubkit.cache import RedisCacheStrategy
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)
from githubkit.retry import RetryOption
from redis import Redis, RedisError

from bot import __version__
from bot.core import metrics
from bot.core.settings import Settings
from bot.core.tls import tls_context
from bot.errors import GitHubError, GitHubRequestError, GitHubUnavailable, NotFound, RateLimited, RedisUnavailable

log = logging.getLogger(__name__)

ETAG_PREFIX = "depup:etag:"
ETAG_TTL = 24 * 3600
ETAG_MAX_BYTES = 1024 * 1024
TOKEN_CACHE_PREFIX = "depup:ghauth"  # noqa: S105 - a key prefix, not a secret
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_RETRIES = 2

AppClient = GitHub[AppAuthStrategy]
InstallationClient = GitHub[AppInstallationAuthStrategy]


class GitHubClients:
    """Builds githubkit clients for one depup process. Cheap to create; holds no connections."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self._settings = settings
        self._redis = redis
        self._cache = RedisCacheStrategy(redis, prefix=TOKEN_CACHE_PREFIX)
        tls_context()  # made once, before a worker forks its job processes

    def app(self) -> AppClient:
        return GitHub(
            AppAuthStrategy(self._settings.app_id, self._settings.private_key),
            transport=Metered(httpx.HTTPTransport(verify=tls_context()), self._redis, None, self._api_root_path()),
            **self._options(),
        )

    def installation(self, installation_id: int) -> InstallationClient:
        return GitHub(
            AppInstallationAuthStrategy(self._settings.app_id, self._settings.private_key, installation_id),
            transport=WriteGate(
                self._redis, installation_id, self._settings.write_spacing_seconds, self._api_root_path()
            ),
            **self._options(),
        )

    def _api_root_path(self) -> str:
        return urlsplit(self._settings.github_api_url).path.rstrip("/")

    def _options(self) -> dict[str, Any]:
        """What every client shares: API root, identity, timeouts, token cache, and the error seam."""
        return {
            "base_url": self._settings.github_api_url + "/",
            "user_agent": f"depup/{__version__}",
            "timeout": httpx.Timeout(self._settings.github_timeout_seconds),
            "cache_strategy": self._cache,
            "http_cache": False,
            "auto_retry": translate_failure,
        }


class WriteGate(httpx.BaseTransport):
    """The transport of one installation's client.

    Writes are serialised across every worker process and machine, with a minimum spacing between them
    (GitHub's advice against secondary rate limits). Reads are conditional: an answer GitHub sent with an ETag
    is kept in Redis, and asked for again with ``If-None-Match``; a 304 (which GitHub does not count against
    the rate limit) is answered from the kept copy. Token exchanges pass untouched.
    """

    def __init__(self, redis: Redis, installation_id: int, spacing: float, api_root_path: str = "") -> None:
        self._inner = Metered(httpx.HTTPTransport(verify=tls_context()), redis, installation_id, api_root_path)
        self._redis = redis
        self._spacing = spacing
        self._installation = installation_id
        self._lock_key = f"depup:writes:{installation_id}"
        self._last_key = f"depup:writes:{installation_id}:last"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access_tokens"):
            return self._inner.handle_request(request)
        if request.method == "GET":
            return self._conditional(request)
        if request.method in _IDEMPOTENT:
            return self._inner.handle_request(request)
        with self._redis.lock(self._lock_key, timeout=120, blocking_timeout=300):
            last = self._redis.get(self._last_key)
            if last is not None and self._spacing > 0:
                wait = float(last) + self._spacing - time.time()
                if wait > 0:
                    time.sleep(min(wait, self._spacing))
            try:
                response = self._inner.handle_request(request)
                response.read()
                return response
            finally:
                self._redis.set(self._last_key, repr(time.time()), ex=3600)

    def _conditional(self, request: httpx.Request) -> httpx.Response:
        key = (
            ETAG_PREFIX
            + f"{self._installation}:"
            + hashlib.sha1(str(request.url).encode(), usedforsecurity=False).hexdigest()
        )
        kept: dict[bytes, bytes] = self._redis.hgetall(key)  # type: ignore[assignment]
        if kept:
            request.headers["If-None-Match"] = kept[b"etag"].decode()
        response = self._inner.handle_request(request)
        if response.status_code == 304 and kept:
            response.close()
            headers = {
                k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")
            }
            headers["content-type"] = kept[b"type"].decode()
            return httpx.Response(200, headers=headers, content=zlib.decompress(kept[b"body"]), request=request)
        etag = response.headers.get("etag")
        if response.status_code == 200 and etag:
            data = response.read()
            if len(data) <= ETAG_MAX_BYTES:
                with self._redis.pipeline() as pipe:
                    pipe.hset(
                        key,
                        mapping={
                            "etag": etag,
                            "type": response.headers.get("content-type", "application/json"),
                            "body": zlib.compress(data, 6),
                        },
                    )
                    pipe.expire(key, ETAG_TTL)
                    pipe.execute()
        return response

    def close(self) -> None:
        self._inner.close()


RATELIMIT_PREFIX = "depup:ratelimit:"
RATELIMIT_GRACE = 300  # seconds a rate-limit state is kept after its window reset
APP_INSTALLATION = "app"  # the label and key of requests made with the App's JWT (own rate limit)

# Keep the latest state: a newer window, or fewer requests left in a window that has not ended (answers of several
# workers arrive out of order; within one window the remaining count only goes down; a stale answer of an ended
# window is ignored).
_RATELIMIT_SCRIPT = """
local reset = tonumber(ARGV[3])
local known = tonumber(redis.call('HGET', KEYS[1], 'reset') or '-1')
local left = tonumber(redis.call('HGET', KEYS[1], 'remaining') or '-1')
local fewer = tonumber(ARGV[1]) <= left
if reset > known or (fewer and (reset == known or reset > tonumber(ARGV[4]))) then
  redis.call('HSET', KEYS[1], 'remaining', ARGV[1], 'limit', ARGV[2], 'reset', ARGV[3], 'updated', ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class RateLimitState:
    """The latest rate-limit headers seen for one installation (``app``: the App itself), kept in Redis."""

    installation: str
    remaining: int
    limit: int
    reset: int  # Unix time the window resets
    updated: float  # Unix time of the answer that said so


class Metered(httpx.BaseTransport):
    """Counts every request sent to GitHub (method, route template, status class, time to answer headers) and
    records the rate-limit headers of each answer: a gauge in this process and the latest state in Redis
    (``depup:ratelimit:<installation>``, read by ``depup status``). Never fails a request for its own sake."""

    def __init__(self, inner: httpx.BaseTransport, redis: Redis, installation_id: int | None, api_root_path: str):
        self._inner = inner
        self._redis = redis
        self._installation = str(installation_id) if installation_id is not None else APP_INSTALLATION
        self._root = api_root_path

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        route = metrics.github_route(path[len(self._root) :] if path.startswith(self._root + "/") else path)
        started = time.perf_counter()
        try:
            response = self._inner.handle_request(request)
        except BaseException:
            metrics.github_request(request.method, route, "error", time.perf_counter() - started)
            raise
        metrics.github_request(
            request.method, route, metrics.status_class(response.status_code), time.perf_counter() - started
        )
        # A token exchange is made with the App's JWT: its headers describe the App's own limit.
        self._rate_limit(APP_INSTALLATION if path.endswith("/access_tokens") else self._installation, response)
        return response

    def _rate_limit(self, installation: str, response: httpx.Response) -> None:
        headers = response.headers
        if headers.get("x-ratelimit-resource", "core") != "core":
            return
        try:
            remaining = int(headers["x-ratelimit-remaining"])
            limit = int(headers["x-ratelimit-limit"])
            reset = int(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        metrics.github_ratelimit(installation, remaining, limit, reset)
        now = time.time()
        ttl = max(int(reset - now), 0) + RATELIMIT_GRACE
        try:
            self._redis.eval(
                _RATELIMIT_SCRIPT, 1, RATELIMIT_PREFIX + installation, remaining, limit, reset, repr(now), ttl
            )
        except RedisError as e:
            log.debug("rate-limit state not stored", extra={"error": type(e).__name__})

    def close(self) -> None:
        self._inner.close()


def ratelimit_states(redis: Redis) -> list[RateLimitState]:
    """Every installation's latest rate-limit state in Redis (those that made requests within the window)."""
    keys = sorted(redis.scan_iter(match=RATELIMIT_PREFIX + "*", count=500))
    with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        rows: list[dict[bytes, bytes]] = pipe.execute()
    states = []
    for key, row in zip(keys, rows, strict=True):
        try:
            states.append(
                RateLimitState(
                    installation=(key.decode() if isinstance(key, bytes) else key)[len(RATELIMIT_PREFIX) :],
                    remaining=int(row[b"remaining"]),
                    limit=int(row[b"limit"]),
                    reset=int(row[b"reset"]),
                    updated=float(row[b"updated"]),
                )
            )
        except (KeyError, ValueError):
            continue  # expired between the scan and the read, or written by something else
    return sorted(states, key=lambda s: (s.installation != APP_INSTALLATION, s.installation.zfill(20)))


def translate_failure(exc: GitHubException, attempt: int) -> RetryOption:
    """githubkit's retry hook, used as the error seam.

    Returns a retry decision for a transient failure of an idempotent call; otherwise raises the
    matching ``GitHubError`` (chained to the original) out of githubkit's request loop.
    """
    request = _request_of(exc)
    if attempt < _READ_RETRIES and request is not None and _repeatable(request) and _is_transient(exc):
        return RetryOption(True, timedelta(seconds=0.5 * (attempt + 1)))
    raise_domain_error(exc)


# POSTs that do the same thing when sent twice: git objects (named by their content), adding labels,
# requesting reviewers, and creating a ref (a second try answers 422, which callers take as "it exists").
_REPEATABLE_POSTS = re.compile(
    r"/repos/[^/]+/[^/]+/(git/(trees|commits|blobs|refs)|issues/\d+/labels|pulls/\d+/requested_reviewers)$"
)


def _repeatable(request: httpx.Request) -> bool:
    """Calls that do the same thing when sent twice: reads, PATCH updates, and the POSTs above."""
    if request.method in _IDEMPOTENT or request.method == "PATCH":
        return True
    return request.method == "POST" and _REPEATABLE_POSTS.search(request.url.path) is not None


def raise_domain_error(exc: GitHubException) -> NoReturn:
    request = _request_of(exc)
    where: dict[str, Any] = {
        "method": request.method if request is not None else "",
        "url": str(request.url) if request is not None else "",
    }
    if isinstance(exc, RequestError) and isinstance(exc.exc, GitHubException):
        # Errors raised inside httpx's auth flow (the installation token exchange) arrive wrapped.
        raise_domain_error(exc.exc)
    if isinstance(exc, RequestError) and isinstance(exc.exc, RedisError):
        # The token cache (Redis) failed inside the auth flow: not GitHub's doing.
        raise RedisUnavailable(f"Redis unreachable (GitHub token cache): {type(exc.exc).__name__}") from exc
    if isinstance(exc, RateLimitExceeded):
        raise RateLimited(
            f"GitHub rate limit: retry after {exc.retry_after.total_seconds():.0f}s",
            retry_after=exc.retry_after.total_seconds(),
            secondary=isinstance(exc, SecondaryRateLimitExceeded),
            status=exc.response.status_code,
            **where,
        ) from exc
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        message = _error_message(exc)
        if status == 429:
            retry_after = float(exc.response.headers.get("retry-after", "60") or 60)
            raise RateLimited(
                f"GitHub answered 429: {message}", retry_after=retry_after, secondary=True, status=429, **where
            ) from exc
        if status >= 500:
            raise GitHubUnavailable(f"GitHub answered {status}: {message}", status=status, **where) from exc
        if status == 404:
            raise NotFound(f"not found: {where['method']} {where['url']}", status=404, **where) from exc
        raise GitHubRequestError(f"GitHub answered {status}: {message}", status=status, **where) from exc
    if isinstance(exc, RequestTimeout):
        raise GitHubUnavailable("GitHub did not answer in time", **where) from exc
    if isinstance(exc, RequestError):
        raise GitHubUnavailable(f"cannot reach GitHub: {type(exc.exc).__name__}", **where) from exc
    raise GitHubError(f"GitHub client error: {type(exc).__name__}: {exc}", **where) from exc


def _is_transient(exc: GitHubException) -> bool:
    if isinstance(exc, RateLimitExceeded):
        return False
    if isinstance(exc, RequestFailed):
        return exc.response.status_code >= 500
    if isinstance(exc, RequestError) and isinstance(exc.exc, GitHubException):
        return _is_transient(exc.exc)
    return isinstance(exc, RequestError)


def _request_of(exc: GitHubException) -> httpx.Request | None:
    if isinstance(exc, RequestFailed):
        return exc.request
    if isinstance(exc, RequestError):
        inner = exc.exc
        if isinstance(inner, GitHubException):
            return _request_of(inner)
        if isinstance(inner, httpx.RequestError):
            try:
                return inner.request
            except RuntimeError:  # httpx raises when the error was created without a request
                return None
    return None


def _error_message(exc: RequestFailed) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return exc.response.raw_response.reason_phrase or "error"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:500]
    return "error"


def json_body(response: Response[Any, Any]) -> Any:
    """A response's JSON as plain values (githubkit types it as TypedDicts; depup reads a few keys)."""
    return response.json()


class TooLarge(GitHubError):
    """A download was cut off: the body is larger than the caller allows."""


def download_bounded(gh: InstallationClient, path: str, max_bytes: int) -> bytes:
    """The body of a GET of ``path`` (redirects followed, as GitHub sends downloads to its storage), streamed and
    cut off past ``max_bytes`` (``TooLarge``); transport errors while reading become ``GitHubUnavailable``.
    The client is held open for the stream (githubkit closes a per-request client as soon as headers arrive)."""
    try:
        gh.__enter__()  # type: ignore[no-untyped-call]
        entered = True
    except RuntimeError:  # already inside the client's context: its client stays open anyway
        entered = False
    try:
        try:
            response = gh.request("GET", path, stream=True)
        except GitHubException as e:
            raise_domain_error(e)
        raw = response.raw_response
        try:
            chunks, total = [], 0
            for chunk in raw.iter_bytes(64 * 1024):
                total += len(chunk)
                if total > max_bytes:
                    raise TooLarge(f"larger than {max_bytes} bytes: GET {path}", method="GET", url=path)
                chunks.append(chunk)
            return b"".join(chunks)
        except httpx.HTTPError as e:
            raise GitHubUnavailable(f"download interrupted: {type(e).__name__}", method="GET", url=path) from e
        finally:
            raw.close()
    finally:
        if entered:
            gh.__exit__(None, None, None)
