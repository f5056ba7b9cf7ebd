"""One health probe: request a configured URL through the SSRF guard and judge the answer.

For every hop (the URL, then each redirect, at most ``MAX_REDIRECTS``) the probe

1. checks the scheme against the policy;
2. resolves the host name ONCE (an IP literal is not resolved) and checks every address it resolves to:
   one refused address refuses the hop;
3. connects to a checked address (the connection is pinned to it: nothing is resolved again, so a DNS answer
   that changes between check and connect cannot redirect the probe), while the ``Host`` header, TLS SNI and
   certificate verification use the host name of the URL;
4. sends ``GET`` and reads the status, the headers and at most ``BODY_LIMIT`` bytes of the body.

The whole probe, redirects included, is bounded by ``timeout``: every DNS lookup, connect, TLS handshake and
read gets only the time left. Proxies from the environment are never used. Network problems never raise:
they are a failed ``ProbeResult`` whose ``error`` says what kind of problem it was and ``detail`` says it in
one line. Bodies are never logged or stored; only whether they contain ``body_contains``.
"""

from __future__ import annotations

import functools
import io
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.client import HTTPException, HTTPResponse
from ipaddress import ip_address
from typing import Literal, cast
from urllib.parse import quote, urljoin, urlsplit

from bot.core.netguard import NetPolicy, check_address
from bot.errors import DepupError
from config.model import HealthUrl

MAX_REDIRECTS = 3
BODY_LIMIT = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "depup-health-probe"
DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str, int], Sequence[str]]
"""``resolver(host, port)``: the IP addresses (as strings) of ``host``; may raise ``OSError``."""

ProbeError = Literal[
    "url",  # the URL cannot be requested (malformed, unsupported scheme, credentials in it)
    "refused",  # the SSRF guard refused a scheme or an address (of the URL or of a redirect)
    "dns",  # the host name did not resolve
    "connection",  # connecting, sending or receiving failed
    "tls",  # the TLS handshake or the certificate failed
    "timeout",  # the probe ran out of time
    "protocol",  # the answer was not valid HTTP
    "redirects",  # more than MAX_REDIRECTS redirects
    "status",  # an answer with another status than expected
    "body",  # the body (its first BODY_LIMIT bytes) lacks body_contains
    "latency",  # the answer came slower than max_latency_ms
]


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one probe of ``url`` (the configured URL, even when redirects were followed).

    ``status`` and ``latency_ms`` are those of the final answer (None when there was none); ``latency_ms``
    runs from the start of the probe to the end of the body read, DNS and redirects included. ``address`` is
    the IP address of the last connection (or the refused address). ``error`` is None exactly when ``ok``.
    ``detail`` is one human line: "200 in 85 ms", "refused: 127.0.0.1 is a loopback address", ...
    """

    url: str
    ok: bool
    status: int | None
    latency_ms: int | None
    address: str | None
    error: ProbeError | None
    detail: str


class _Failed(DepupError):
    """Ends a probe early (internal: ``probe`` turns it into a failed result)."""

    def __init__(self, error: ProbeError, detail: str, address: str | None = None) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail
        self.address = address


@dataclass(frozen=True)
class _Hop:
    url: str
    scheme: str
    host: str  # as in the URL, without brackets; lowercase
    port: int
    target: str  # the request target: path and query, percent-encoded
    host_header: str

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class _Answer:
    status: int
    location: str | None
    body: bytes
    truncated: bool
    address: str


def system_resolver(host: str, port: int) -> list[str]:
    """The TCP addresses of ``host`` from ``socket.getaddrinfo``, without duplicates, in its order."""
    addresses: list[str] = []
    for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6) and str(sockaddr[0]) not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


def probe(
    target: HealthUrl,
    policy: NetPolicy,
    *,
    timeout: float = 10.0,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> ProbeResult:
    """Probe ``target`` once under ``policy`` within ``timeout`` seconds; never raises for network problems.

    ``resolver`` replaces DNS (tests); ``ssl_context`` the default TLS context (``ssl.create_default_context``:
    system trust store, host name checked), e.g. for a private CA. Redirects are followed (each hop guarded
    like the first) unless ``expected_status`` is itself a redirect status, which is then judged as is.
    """
    context = ssl_context or _default_context()  # before the clock starts: loading trust stores is slow
    start = time.monotonic()
    deadline = start + timeout
    resolve = resolver or system_resolver
    follow = target.expected_status not in REDIRECT_STATUSES
    url = target.url
    redirects = 0
    try:
        while True:
            hop = _parse(url, policy, redirects)
            answer = _exchange(hop, policy, resolve, context, deadline, timeout, redirects)
            if not (follow and answer.status in REDIRECT_STATUSES and answer.location):
                break
            if redirects == MAX_REDIRECTS:
                raise _Failed("redirects", f"more than {MAX_REDIRECTS} redirects", answer.address)
            url = urljoin(url, answer.location)
            redirects += 1
    except _Failed as failed:
        return ProbeResult(target.url, False, None, None, failed.address, failed.error, failed.detail)
    latency_ms = round((time.monotonic() - start) * 1000)
    return _judge(target, answer, latency_ms, redirects)


@dataclass(frozen=True)
class Fetched:
    """The answer of ``guarded_get``: its status and (at most ``body_limit`` bytes of) its body."""

    status: int
    body: bytes
    truncated: bool
    address: str


class GuardedGetFailed(DepupError):
    """``guarded_get`` got no answer: ``error`` is the kind (as a probe's), the message says it in one line."""

    def __init__(self, error: ProbeError, detail: str) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail


def guarded_get(
    url: str,
    policy: NetPolicy,
    *,
    timeout: float = 10.0,
    headers: Sequence[tuple[str, str]] = (),
    body_limit: int = BODY_LIMIT,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Fetched:
    """``GET url`` through the same SSRF guard as a probe (scheme, every resolved address checked, the
    connection pinned, one deadline), with ``headers`` added; redirects are NOT followed (a redirect is an
    answer like any other, so headers such as ``Authorization`` never travel to another host). Raises
    ``GuardedGetFailed`` when there is no answer."""
    context = ssl_context or _default_context()
    deadline = time.monotonic() + timeout
    try:
        hop = _parse(url, policy, 0)
        answer = _exchange(hop, policy, resolver or system_resolver, context, deadline, timeout, 0, headers, body_limit)
    except _Failed as failed:
        raise GuardedGetFailed(failed.error, failed.detail) from None
    return Fetched(answer.status, answer.body, answer.truncated, answer.address)


@functools.cache
def _default_context() -> ssl.SSLContext:
    """One default TLS context for the process (system trust store, host names checked): it is thread-safe,
    and loading the trust store for every probe would take longer than many health answers."""
    return ssl.create_default_context()


def _judge(target: HealthUrl, answer: _Answer, latency_ms: int, redirects: int) -> ProbeResult:
    seen = f"{answer.status} in {latency_ms} ms"
    if redirects:
        seen += f" after {redirects} redirect{'s' if redirects > 1 else ''}"
    error: ProbeError | None = None
    if answer.status != target.expected_status:
        error, detail = "status", f"{seen}, expected {target.expected_status}"
    elif target.body_contains is not None and target.body_contains.encode() not in answer.body:
        where = f"the first {BODY_LIMIT // 1024} KiB of the body" if answer.truncated else "the body"
        error, detail = "body", f"{seen}, but {where} does not contain {target.body_contains!r}"
    elif target.max_latency_ms is not None and latency_ms > target.max_latency_ms:
        error, detail = "latency", f"{seen}, slower than {target.max_latency_ms} ms"
    else:
        detail = seen
    return ProbeResult(target.url, error is None, answer.status, latency_ms, answer.address, error, detail)


def _parse(url: str, policy: NetPolicy, redirects: int) -> _Hop:
    where = f"redirect {redirects} to " if redirects else ""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as e:
        shown = "a URL" if redirects else repr(url)  # a Location may carry secrets: only the config's URL is shown
        raise _Failed("url", f"{where}{shown} is not a valid URL: {e}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS and redirects:
        raise _Failed("refused", f"refused: {where}a {scheme or 'schemeless'} URL (http and https only)")
    if scheme not in DEFAULT_PORTS:
        raise _Failed("url", f"{scheme or 'schemeless'} URLs cannot be probed (http and https only)")
    if not policy.allows_scheme(scheme):
        hint = " (the operator allows them with DEPUP_PROBE_ALLOW=http)" if scheme == "http" else ""
        raise _Failed("refused", f"refused: {where}{scheme} URLs are not allowed{hint}")
    if not host:
        raise _Failed("url", f"{where}{'a URL' if redirects else repr(url)} has no host")
    if parts.username is not None or parts.password is not None:
        raise _Failed("url", f"{where}a URL with credentials: not supported")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    port = port or DEFAULT_PORTS[scheme]
    try:
        header_host = f"[{host}]" if ":" in host else host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _Failed("url", f"{where}{host!r} is not a valid host name") from None
    host_header = header_host if DEFAULT_PORTS[scheme] == port else f"{header_host}:{port}"
    return _Hop(url, scheme, host, port, quote(path, safe="/%:@!$&'()*+,;=-._~?"), host_header)


def _exchange(
    hop: _Hop,
    policy: NetPolicy,
    resolve: Resolver,
    context: ssl.SSLContext,
    deadline: float,
    timeout: float,
    redirects: int,
    headers: Sequence[tuple[str, str]] = (),
    body_limit: int = BODY_LIMIT,
) -> _Answer:
    where = f"redirect {redirects} to {hop.origin}: " if redirects else ""
    addresses = _addresses(hop, resolve, deadline, timeout, where)
    for address in addresses:
        refusal = check_address(address, policy)
        if refusal is not None:
            of = "" if address == hop.host else f", resolved from {hop.host}"
            raise _Failed("refused", f"refused: {where}{refusal.reason}{of}", address)
    sock: socket.socket | None = None
    address = addresses[0]
    try:
        problem: OSError | None = None
        for address in addresses:  # pinned: only ever the addresses just checked, never resolved again
            try:
                sock = _open_socket(address, hop.port, _left(deadline))
                break
            except TimeoutError:
                raise
            except OSError as e:
                problem = e
        if sock is None:
            raise _Failed("connection", f"{where}cannot connect to {hop.origin}: {_why(problem)}", address)
        if hop.scheme == "https":
            sock = _handshake(sock, hop.host, context, deadline)
        return _request(hop, sock, deadline, address, headers, body_limit)
    except TimeoutError:
        raise _Failed("timeout", f"{where}timed out after {timeout:g} s", address) from None
    except ssl.SSLCertVerificationError as e:
        raise _Failed("tls", f"{where}TLS certificate of {hop.host}: {e.verify_message or e}", address) from None
    except ssl.SSLError as e:
        raise _Failed("tls", f"{where}TLS with {hop.origin} failed: {e.reason or e}", address) from None
    except HTTPException as e:
        raise _Failed("protocol", f"{where}not a valid HTTP answer: {type(e).__name__} {e}".strip(), address) from None
    except OSError as e:
        raise _Failed("connection", f"{where}connection to {hop.origin} failed: {_why(e)}", address) from None
    finally:
        if sock is not None:
            sock.close()


def _addresses(hop: _Hop, resolve: Resolver, deadline: float, timeout: float, where: str) -> list[str]:
    """The addresses of the hop's host: the literal itself, or the resolver's answer (asked once)."""
    try:
        ip_address(hop.host)
        return [hop.host]
    except ValueError:
        pass
    box: list[Sequence[str] | Exception] = []

    def run() -> None:
        try:
            box.append(list(resolve(hop.host, hop.port)))
        except (OSError, ValueError) as e:
            box.append(e)

    worker = threading.Thread(target=run, name="depup-probe-dns", daemon=True)
    worker.start()
    worker.join(max(_left(deadline, raising=False), 0))
    if worker.is_alive():
        raise _Failed("timeout", f"{where}timed out after {timeout:g} s resolving {hop.host}")
    if not box:
        raise _Failed("dns", f"{where}resolving {hop.host} failed")
    answer = box[0]
    if isinstance(answer, Exception):
        raise _Failed("dns", f"{where}{hop.host} does not resolve: {_why(answer)}")
    if not answer:
        raise _Failed("dns", f"{where}{hop.host} has no addresses")
    return [str(a) for a in answer]


def _open_socket(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to exactly ``address`` (an IP literal: nothing is resolved)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _handshake(sock: socket.socket, host: str, context: ssl.SSLContext, deadline: float) -> ssl.SSLSocket:
    """TLS over ``sock`` with SNI and certificate checks for ``host``; the handshake as a whole is bounded."""
    tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    try:
        tls.setblocking(False)
        while True:
            try:
                tls.do_handshake()
                return tls
            except ssl.SSLWantReadError:
                wanted = selectors.EVENT_READ
            except ssl.SSLWantWriteError:
                wanted = selectors.EVENT_WRITE
            with selectors.DefaultSelector() as selector:  # not select.select: it fails on descriptors > 1023
                selector.register(tls, wanted)
                if not selector.select(_left(deadline)):
                    raise TimeoutError("TLS handshake timed out")
    except BaseException:
        tls.close()
        raise


def _request(
    hop: _Hop,
    sock: socket.socket,
    deadline: float,
    address: str,
    headers: Sequence[tuple[str, str]] = (),
    body_limit: int = BODY_LIMIT,
) -> _Answer:
    bounded = _DeadlineSocket(sock, deadline)
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers)
    head = (
        f"GET {hop.target} HTTP/1.1\r\nHost: {hop.host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
        f"Accept: */*\r\nAccept-Encoding: identity\r\n{extra}Connection: close\r\n\r\n"
    )
    bounded.sendall(head.encode("ascii"))
    response = HTTPResponse(cast(socket.socket, bounded), method="GET")
    try:
        response.begin()
        if response.status in REDIRECT_STATUSES:
            return _Answer(response.status, response.getheader("Location"), b"", False, address)
        chunks: list[bytes] = []
        size = 0
        while size < body_limit:
            chunk = response.read(body_limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        truncated = size >= body_limit and not response.isclosed()
        return _Answer(response.status, None, b"".join(chunks), truncated, address)
    finally:
        response.close()


class _DeadlineSocket:
    """The parts of a socket ``HTTPResponse`` uses, with every send and receive bounded by the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def arm(self) -> None:
        self._sock.settimeout(_left(self._deadline))

    def sendall(self, data: bytes) -> None:
        self.arm()
        self._sock.sendall(data)

    def recv_into(self, buffer: memoryview) -> int:
        self.arm()
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        return io.BufferedReader(_Reader(self))

    def close(self) -> None:
        """The caller closes the real socket."""


class _Reader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._sock.recv_into(buffer)


def _left(deadline: float, *, raising: bool = True) -> float:
    left = deadline - time.monotonic()
    if left <= 0 and raising:
        raise TimeoutError("probe deadline passed")
    return left


def _why(error: Exception | None) -> str:
    return (getattr(error, "strerror", None) or str(error) or type(error).__name__) if error else "no address"
