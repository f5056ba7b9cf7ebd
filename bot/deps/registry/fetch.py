"""The one HTTP seam of the registry client: every transport error and unusable status becomes a ``LookupFailure``
here.

urllib3, not httpx: a cold plan reads hundreds of MB of registry JSON, and urllib3 reads a body in a few large
reads where httpx's layers (httpcore's pool lock, h11's events per 64 kB) cost twice the CPU for the same bytes
(measured: 1,000 PyPI Simple pages, 264 MB, 2.8 s of CPU through httpx against 1.2 s, 16 threads).

One ``urllib3.PoolManager`` per ``Fetcher``: keep-alive across packages and threads (at most
``max_connections`` per host, a request waits for a free one), gzip/deflate accepted, redirects followed (a few),
a timeout on each phase (connect, each read, the wait for a pooled connection), a cap on the body size so a
wrong URL cannot make a worker read gigabytes, and the proxy the environment names (``HTTPS_PROXY``,
``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, as httpx and pip read them).
"""

from __future__ import annotations

import functools
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.deps.model import Ecosystem
from bot.deps.registry.failures import LookupFailure
from bot.deps.registry.urls import redact

if TYPE_CHECKING:  # imported with the first request: a run answered from the cache never needs it
    import urllib3

USER_AGENT = "depup (dependency upgrades; registry metadata lookups)"
MAX_BODY_BYTES = 128 * 1024 * 1024
MAX_REDIRECTS = 5
READ_SIZE = 1 << 20  # decoded bytes per read: a 20 MB answer is 20 reads
# An answer's unread rest up to this many bytes is read and dropped to keep the connection (``_finish``).
DRAIN_LIMIT = 1 << 20


@dataclass(frozen=True)
class Validators:
    """What the last full answer said about itself, sent back to revalidate it."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class Fetched:
    """A 200 answer: its body (decompressed), its validators and its media type (lower case, no parameters)."""

    body: bytes
    validators: Validators
    content_type: str = "application/json"
    received: int | None = None  # bytes read when more than the body kept (``Fetcher.get``'s ``enough``)

    @property
    def size(self) -> int:
        return len(self.body) if self.received is None else self.received


@dataclass(frozen=True)
class NotModified:
    """A 304 answer to a conditional request: the cached copy is still current."""


Outcome = Fetched | NotModified | LookupFailure


class Fetcher:
    def __init__(self, *, timeout: float, max_connections: int, max_body: int = MAX_BODY_BYTES) -> None:
        self._max_body = max_body
        self._timeout = timeout
        self._max_connections = max_connections
        self._managers: dict[str | None, urllib3.PoolManager] = {}  # by proxy URL (None: direct)
        self._lock = threading.Lock()

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The pool for ``url``: direct, or through the proxy the environment names for it. Made with the first
        request (urllib3 and the TLS context take a few hundredths of a second to load)."""
        proxy = _proxy_for(url)
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is None:
                import urllib3

                from bot.core.tls import tls_context

                headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
                timeout = urllib3.Timeout(connect=self._timeout, read=self._timeout)
                retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=MAX_REDIRECTS)
                make = functools.partial(urllib3.ProxyManager, proxy) if proxy else urllib3.PoolManager
                manager = make(
                    num_pools=8,
                    maxsize=self._max_connections,
                    block=True,  # at most maxsize connections per host: a request waits for one
                    headers=headers,
                    ssl_context=tls_context(),
                    timeout=timeout,
                    retries=retries,
                )
                self._managers[proxy] = manager
            return manager

    def close(self) -> None:
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()

    def get(
        self,
        ecosystem: Ecosystem,
        name: str,
        url: str,
        validators: Validators,
        accept: str | None = None,
        enough: Callable[[bytearray], int | None] | None = None,
    ) -> Outcome:
        """``enough``: called with the body kept so far after each read; once it gives an offset, the body up
        to there is the answer (``prefix.MemberEnd``)."""
        from urllib3.exceptions import (
            DecodeError,
            EmptyPoolError,
            HTTPError,
            MaxRetryError,
            NewConnectionError,
            TimeoutError,
        )

        where = redact(url)
        headers = validators.headers()
        if accept is not None:
            headers["Accept"] = accept
        response: urllib3.BaseHTTPResponse | None = None
        try:
            manager = self._manager(url)
            response = manager.request(
                "GET", url, headers={**manager.headers, **headers}, preload_content=False, pool_timeout=self._timeout
            )
            if response.status == 304 and validators:
                return NotModified()
            if response.status != 200:
                return _status_failure(ecosystem, name, where, response.status)
            read = self._read(response, enough)
            if read is None:
                return LookupFailure(ecosystem, name, f"{where} answered more than {self._max_body} bytes", "malformed")
            body, received = read
            return Fetched(
                body,
                Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")),
                response.headers.get("Content-Type", "").split(";")[0].strip().lower(),
                received if received != len(body) else None,
            )
        except MaxRetryError as exc:
            reason = exc.reason
            # NewConnectionError (refused, no such host) is a ConnectTimeoutError in urllib3's hierarchy.
            if isinstance(reason, TimeoutError) and not isinstance(reason, NewConnectionError):
                return _timed_out(ecosystem, name, where, reason)
            if reason is not None and "redirect" in str(reason):
                said = f"{where} redirected more than {MAX_REDIRECTS} times"
                return LookupFailure(ecosystem, name, said, "unreachable")
            return _unreachable(ecosystem, name, where, url, reason or exc)
        except (TimeoutError, EmptyPoolError) as exc:
            return _timed_out(ecosystem, name, where, exc)
        except DecodeError as exc:
            return LookupFailure(ecosystem, name, f"{where} sent an undecodable body ({exc})", "malformed")
        except (HTTPError, OSError, ValueError) as exc:  # ValueError: a URL urllib3 cannot read
            return _unreachable(ecosystem, name, where, url, exc)
        finally:
            if response is not None:
                _finish(response)

    def _read(
        self, response: urllib3.BaseHTTPResponse, enough: Callable[[bytearray], int | None] | None
    ) -> tuple[bytes, int] | None:
        """The body in one growing buffer (no list of chunks joined at the end: half the peak memory of a big
        answer) and how many bytes were read, or None past the size cap. A ``bytearray``: the JSON decoders
        read it as it is. Reading stops where ``enough`` gives an offset (``_finish`` deals with the rest)."""
        length = response.length_remaining
        if length is not None and length > self._max_body:
            return None
        body = bytearray()
        received = 0
        for chunk in response.stream(READ_SIZE):
            received += len(chunk)
            if received > self._max_body:
                return None
            body += chunk
            if enough is not None and (kept := enough(body)) is not None:
                del body[kept:]
                break
        return body, received  # type: ignore[return-value]  # bytes-like; nothing writes to it after


def _finish(response: urllib3.BaseHTTPResponse) -> None:
    """Give the connection back to the pool. An answer not read to its end (an error status, a body over the
    cap, a rest past ``enough``) is read on and dropped, undecoded, when what is left is short: the connection
    is kept (a new one costs a TLS handshake, seconds behind some proxies). A longer rest (a big project's JSON
    API document after its ``info``, a body of unknown length) closes the connection instead."""
    if not response.closed:
        rest = response.length_remaining
        if rest is not None and rest <= DRAIN_LIMIT:
            response.drain_conn()
        else:
            response.close()
    response.release_conn()


def _proxy_for(url: str) -> str | None:
    """The proxy URL the environment names for ``url`` (urllib's reading of ``*_PROXY`` and ``NO_PROXY``)."""
    proxies = urllib.request.getproxies_environment()
    if not proxies:
        return None
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # public, not in typeshed
    if not proxy or bypass(parts.hostname or "", proxies):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _timed_out(ecosystem: Ecosystem, name: str, where: str, exc: BaseException) -> LookupFailure:
    phase = {"EmptyPoolError": "PoolTimeout"}.get(type(exc).__name__, type(exc).__name__.removesuffix("Error"))
    return LookupFailure(ecosystem, name, f"{where} timed out ({phase})", "timeout")


def _unreachable(ecosystem: Ecosystem, name: str, where: str, url: str, exc: BaseException) -> LookupFailure:
    """``ConnectError: [Errno 111] Connection refused``: urllib3's connection errors start with the connection's
    repr (host and port, already in ``where``), left out."""
    from urllib3.exceptions import NewConnectionError

    label = type(exc).__name__
    said = str(exc).replace(url, where)
    if isinstance(exc, NewConnectionError):
        label = "ConnectError"
        said = said.split("): ", 1)[-1]
    return LookupFailure(ecosystem, name, f"{where} is unreachable ({label}: {said})", "unreachable")


def _status_failure(ecosystem: Ecosystem, name: str, where: str, status: int) -> LookupFailure:
    if status in (404, 410):
        return LookupFailure(ecosystem, name, f"{name} is not on the registry ({where} answered {status})", "not_found")
    if status == 304:
        return LookupFailure(ecosystem, name, f"{where} answered 304 to an unconditional request", "malformed")
    return LookupFailure(ecosystem, name, f"{where} answered HTTP {status}", "unreachable")
