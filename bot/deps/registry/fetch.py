"""The one HTTP seam of the registry client: every httpx error and unusable status becomes a ``LookupFailure`` here.

One ``httpx.Client`` per ``Fetcher``: HTTP keep-alive across packages and threads, gzip/deflate accepted,
redirects followed (a few), a timeout on each phase (connect, write, each read, pool wait), and a cap on the
body size so a wrong URL cannot make a worker read gigabytes.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.deps.model import Ecosystem
from bot.deps.registry.failures import LookupFailure
from bot.deps.registry.urls import redact

if TYPE_CHECKING:  # imported with the first request: a run answered from the cache never needs it
    import httpx

USER_AGENT = "depup (dependency upgrades; registry metadata lookups)"
MAX_BODY_BYTES = 128 * 1024 * 1024
MAX_REDIRECTS = 5


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


def http2_available() -> bool:
    """Whether httpx can speak HTTP/2 here (the ``h2`` package is installed)."""
    return importlib.util.find_spec("h2") is not None


class Fetcher:
    """``http2``: negotiate HTTP/2 where the server offers it (one multiplexed connection per host); the pool
    still allows ``max_connections`` so that HTTP/1.1 servers get one connection per concurrent request."""

    def __init__(
        self, *, timeout: float, max_connections: int, max_body: int = MAX_BODY_BYTES, http2: bool = False
    ) -> None:
        self._max_body = max_body
        self._settings = (timeout, max_connections, http2)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        """The client, made with the first request (httpx and the TLS context take a tenth of a second to load)."""
        with self._lock:
            if self._client is None:
                import httpx

                from bot.core.tls import tls_context

                timeout, max_connections, http2 = self._settings
                self._client = httpx.Client(
                    timeout=httpx.Timeout(timeout),
                    verify=tls_context(),
                    limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
                    follow_redirects=True,
                    max_redirects=MAX_REDIRECTS,
                    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                    http2=http2 and http2_available(),
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()

    def get(
        self,
        ecosystem: Ecosystem,
        name: str,
        url: str,
        validators: Validators,
        accept: str | None = None,
        enough: Callable[[bytearray], int | None] | None = None,
    ) -> Outcome:
        """``enough``: called with the body kept so far after each chunk; once it gives an offset, the body up
        to there is the answer, and the rest is read and dropped (``prefix.MemberEnd``)."""
        import httpx

        where = redact(url)
        headers = validators.headers()
        if accept is not None:
            headers["Accept"] = accept
        try:
            with self._http().stream("GET", url, headers=headers) as response:
                if response.status_code == 304 and validators:
                    return NotModified()
                if response.status_code != 200:
                    return _status_failure(ecosystem, name, where, response.status_code)
                read = self._read(response, enough)
                if read is None:
                    return LookupFailure(
                        ecosystem, name, f"{where} answered more than {self._max_body} bytes", "malformed"
                    )
                body, received = read
                return Fetched(
                    body,
                    Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")),
                    response.headers.get("Content-Type", "").split(";")[0].strip().lower(),
                    received if received != len(body) else None,
                )
        except httpx.TimeoutException as exc:
            return LookupFailure(ecosystem, name, f"{where} timed out ({type(exc).__name__})", "timeout")
        except httpx.DecodingError as exc:
            return LookupFailure(ecosystem, name, f"{where} sent an undecodable body ({exc})", "malformed")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return LookupFailure(
                ecosystem,
                name,
                f"{where} is unreachable ({type(exc).__name__}: {_said(exc, url, where)})",
                "unreachable",
            )

    def _read(
        self, response: httpx.Response, enough: Callable[[bytearray], int | None] | None
    ) -> tuple[bytes, int] | None:
        """The body in one growing buffer (no list of chunks joined at the end: half the peak memory of a big
        answer) and how many bytes were read, or None past the size cap. A ``bytearray``: the JSON decoders
        read it as it is. Once ``enough`` gives an offset, the rest is read and dropped, not closed halfway:
        a connection closed halfway cannot be reused, and opening new ones can cost more than the bytes
        (seconds each behind some proxies)."""
        body = bytearray()
        received = 0
        kept: int | None = None
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > self._max_body:
                return None
            if kept is None:
                body += chunk
                if enough is not None and (kept := enough(body)) is not None:
                    del body[kept:]
        return body, received  # type: ignore[return-value]  # bytes-like; nothing writes to it after


def _said(exc: Exception, url: str, where: str) -> str:
    """The exception's message with the URL as given replaced by its redacted form."""
    return str(exc).replace(url, where)


def _status_failure(ecosystem: Ecosystem, name: str, where: str, status: int) -> LookupFailure:
    if status in (404, 410):
        return LookupFailure(ecosystem, name, f"{name} is not on the registry ({where} answered {status})", "not_found")
    if status == 304:
        return LookupFailure(ecosystem, name, f"{where} answered 304 to an unconditional request", "malformed")
    return LookupFailure(ecosystem, name, f"{where} answered HTTP {status}", "unreachable")
