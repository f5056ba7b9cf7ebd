"""Probes against a real loopback server: judging answers, bounds on size and time, redirects, TLS."""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence

import pytest

from bot.core.netguard import NetPolicy
from bot.health.probe import BODY_LIMIT, ProbeResult, probe
from config.model import HealthUrl
from tests.health.conftest import TLS_HOST, Pki
from tests.health.server import ProbeServer

LOCAL = NetPolicy.parse("http,loopback")  # what an operator running everything on one machine would set


class FakeDns:
    """A resolver that answers from a table and counts the questions."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


def run(url: str, policy: NetPolicy = LOCAL, timeout: float = 5.0, **target: object) -> ProbeResult:
    return probe(HealthUrl(url, **target), policy, timeout=timeout)  # type: ignore[arg-type]


def test_a_healthy_answer(server: ProbeServer) -> None:
    result = run(server.url("/ok"), body_contains="ready", max_latency_ms=5000)
    assert result.ok, result.detail
    assert (result.status, result.error, result.address) == (200, None, "127.0.0.1")
    assert result.url == server.url("/ok")
    assert result.latency_ms is not None and 0 <= result.latency_ms < 5000
    assert result.detail == f"200 in {result.latency_ms} ms"
    assert server.seen[0].host == f"127.0.0.1:{server.port}"
    assert server.seen[0].user_agent == "depup-health-probe"


def test_an_unexpected_status_fails(server: ProbeServer) -> None:
    result = run(server.url("/status/500"))
    assert not result.ok
    assert (result.status, result.error) == (500, "status")
    assert result.detail.endswith(", expected 200")
    assert result.latency_ms is not None


def test_the_expected_status_may_be_an_error_status(server: ProbeServer) -> None:
    assert run(server.url("/status/503"), expected_status=503).ok


def test_body_contains(server: ProbeServer) -> None:
    assert run(server.url("/ok"), body_contains="status: ready").ok
    result = run(server.url("/ok"), body_contains="status: green")
    assert (result.ok, result.status, result.error) == (False, 200, "body")
    assert "does not contain 'status: green'" in result.detail
    assert "ready" not in result.detail  # the body itself is never repeated


def test_latency_ceiling(server: ProbeServer) -> None:
    slow = run(server.url("/slow?ms=300"), max_latency_ms=100)
    assert (slow.ok, slow.status, slow.error) == (False, 200, "latency")
    assert slow.latency_ms is not None and slow.latency_ms >= 300
    assert slow.detail == f"200 in {slow.latency_ms} ms, slower than 100 ms"
    assert run(server.url("/slow?ms=50"), max_latency_ms=2000).ok


def test_only_the_first_64_kib_of_the_body_are_read(server: ProbeServer) -> None:
    assert run(server.url("/big"), body_contains="BEGIN").ok
    result = run(server.url("/big"), body_contains="END")  # the last bytes of 1 MiB: never read
    assert result.error == "body"
    assert "the first 64 KiB of the body" in result.detail


def test_an_endless_body_does_not_hold_the_probe(server: ProbeServer) -> None:
    started = time.monotonic()
    result = run(server.url("/endless"), timeout=5.0, body_contains="ready")
    assert result.ok, result.detail
    assert time.monotonic() - started < 4.0  # stopped at the limit, not at the 5 s timeout
    assert BODY_LIMIT == 64 * 1024


def test_a_slow_answer_times_out_within_the_timeout(server: ProbeServer) -> None:
    started = time.monotonic()
    result = run(server.url("/slow?ms=3000"), timeout=0.5)
    elapsed = time.monotonic() - started
    assert (result.ok, result.error, result.status, result.latency_ms) == (False, "timeout", None, None)
    assert result.detail == "timed out after 0.5 s"
    assert 0.4 < elapsed < 2.5  # the answer would come after 3 s


def test_the_timeout_bounds_the_whole_probe_not_each_read(server: ProbeServer) -> None:
    # One byte every 50 ms never trips a per-read timeout; the total must still stop at 0.5 s.
    started = time.monotonic()
    result = run(server.url("/dribble"), timeout=0.5)
    assert result.error == "timeout"
    assert time.monotonic() - started < 10  # the status line alone would take 50 s


def test_a_closed_port_is_a_connection_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run(f"http://127.0.0.1:{port}/ok")
    assert (result.ok, result.error, result.address) == (False, "connection", "127.0.0.1")
    assert f"cannot connect to http://127.0.0.1:{port}" in result.detail


def test_a_server_hanging_up_is_a_protocol_failure(server: ProbeServer) -> None:
    result = run(server.url("/hang-up"))
    assert (result.ok, result.error) == (False, "protocol")


def test_a_host_that_does_not_resolve() -> None:
    dns = FakeDns({})
    result = probe(HealthUrl("https://nowhere.example.test/"), NetPolicy(), resolver=dns)
    assert (result.ok, result.error) == (False, "dns")
    assert "nowhere.example.test does not resolve" in result.detail
    assert dns.calls == [("nowhere.example.test", 443)]


def test_a_host_without_addresses() -> None:
    result = probe(HealthUrl("https://empty.example.test/"), NetPolicy(), resolver=FakeDns({"empty.example.test": []}))
    assert result.error == "dns"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.test/", "example.test/health", "https:///nohost", "https://u:p@example.test/", "https://x:99999/"],
)
def test_urls_that_cannot_be_probed(url: str) -> None:
    result = run(url, NetPolicy())
    assert (result.ok, result.error) == (False, "url"), result.detail


def test_redirects_are_followed_up_to_three(server: ProbeServer) -> None:
    result = run(server.url("/redirect/3"), body_contains="ready")
    assert result.ok, result.detail
    assert result.detail.endswith("after 3 redirects")
    assert [s.path for s in server.seen] == ["/redirect/3", "/redirect/2", "/redirect/1", "/ok"]


def test_a_fourth_redirect_fails(server: ProbeServer) -> None:
    result = run(server.url("/redirect/4"))
    assert (result.ok, result.error, result.status) == (False, "redirects", None)
    assert result.detail == "more than 3 redirects"
    assert len(server.seen) == 4  # the fourth Location is never requested


def test_an_expected_redirect_status_is_judged_as_is(server: ProbeServer) -> None:
    result = run(server.url("/redirect/1"), expected_status=302)
    assert result.ok and result.status == 302
    assert len(server.seen) == 1


def test_tls_uses_the_host_name_while_connecting_to_the_checked_address(tls_server: ProbeServer, pki: Pki) -> None:
    dns = FakeDns({TLS_HOST: ["127.0.0.1"]})
    url = tls_server.url("/ok", host=TLS_HOST)
    result = probe(HealthUrl(url, body_contains="ready"), LOCAL, resolver=dns, ssl_context=pki.client_context())
    assert result.ok, result.detail
    assert result.address == "127.0.0.1"
    assert tls_server.server_names == [TLS_HOST]  # SNI: the name, not the address
    assert tls_server.seen[0].host == f"{TLS_HOST}:{tls_server.port}"
    assert dns.calls == [(TLS_HOST, tls_server.port)]


def test_tls_certificate_must_match_the_host_name(tls_server: ProbeServer, pki: Pki) -> None:
    context = pki.client_context()
    # The certificate is for TLS_HOST: the same server under another name, or by address, fails verification.
    other = probe(
        HealthUrl(tls_server.url("/ok", host="other.example.test")),
        LOCAL,
        resolver=FakeDns({"other.example.test": ["127.0.0.1"]}),
        ssl_context=context,
    )
    assert (other.ok, other.error) == (False, "tls")
    assert "other.example.test" in other.detail
    by_address = probe(HealthUrl(tls_server.url("/ok")), LOCAL, ssl_context=context)
    assert by_address.error == "tls"
    assert tls_server.seen == []


def test_tls_with_the_default_trust_store_refuses_a_private_ca(tls_server: ProbeServer) -> None:
    dns = FakeDns({TLS_HOST: ["127.0.0.1"]})
    result = probe(HealthUrl(tls_server.url("/ok", host=TLS_HOST)), LOCAL, resolver=dns)
    assert result.error == "tls"
    assert "certificate" in result.detail


def test_a_tls_handshake_that_never_completes_times_out() -> None:
    with socket.socket() as listener:  # the kernel accepts the connection; nobody ever answers the ClientHello
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        dns = FakeDns({TLS_HOST: ["127.0.0.1"]})
        started = time.monotonic()
        result = probe(HealthUrl(f"https://{TLS_HOST}:{port}/"), LOCAL, timeout=0.5, resolver=dns)
    assert result.error == "timeout"
    assert time.monotonic() - started < 3.0
