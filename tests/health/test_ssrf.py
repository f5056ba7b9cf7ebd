"""The SSRF guard inside probes: refused schemes and addresses (in URLs, DNS answers and redirects) are never
connected to, DNS is asked once per hop and the connection is pinned to the address that was checked.

Only loopback is ever really connected to. To show where a probe *would* connect for other addresses, the
``connections`` fixture replaces the probe's socket opener: it records every address the probe connects to
and carries the connection to the loopback test server (or fails the test for an address not routed).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence

import pytest

import bot.health.probe as probe_module
from bot.core.netguard import NetPolicy
from bot.health.probe import probe
from config.model import HealthUrl
from tests.health.conftest import Pki
from tests.health.server import ProbeServer
from tests.health.test_probe import LOCAL, FakeDns

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("10.0.0.5", "private"),
    ("192.168.1.10", "private"),
    ("172.16.4.2", "private"),
    ("169.254.10.20", "link-local"),
    ("169.254.169.254", "cloud metadata"),
    ("fd00:ec2::254", "cloud metadata"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "127.0.0.1, a loopback"),
    ("0.0.0.0", "unspecified"),
]


class Connections:
    """Where probes connected; ``route`` says which addresses are carried to the loopback server."""

    def __init__(self, server: ProbeServer) -> None:
        self.server = server
        self.route: set[str] = set()
        self.calls: list[tuple[str, int]] = []

    def open(self, address: str, port: int, timeout: float) -> socket.socket:
        self.calls.append((address, port))
        assert address in self.route, f"the probe connected to {address}, which no test allowed"
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)


@pytest.fixture
def connections(server: ProbeServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Connections]:
    recorder = Connections(server)
    monkeypatch.setattr(probe_module, "_open_socket", recorder.open)
    yield recorder


class Rebinding(FakeDns):
    """A name whose answer changes after the first question: the DNS rebinding attack."""

    def __init__(self, host: str, first: Sequence[str], later: Sequence[str]) -> None:
        super().__init__({host: first})
        self.host = host
        self.later = later

    def __call__(self, host: str, port: int) -> Sequence[str]:
        answer = super().__call__(host, port)
        self.table[self.host] = self.later
        return answer


def url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize(("address", "named"), REFUSED_ADDRESSES)
def test_refused_address_in_the_url_is_never_connected_to(address: str, named: str, connections: Connections) -> None:
    dns = FakeDns({})
    result = probe(HealthUrl(f"https://{url_host(address)}/health"), NetPolicy(), resolver=dns)
    assert (result.ok, result.error, result.status, result.address) == (False, "refused", None, address)
    assert result.detail.startswith(f"refused: {address} is ")
    assert named in result.detail
    assert connections.calls == [] and dns.calls == []  # an IP literal is not resolved


@pytest.mark.parametrize(("address", "named"), REFUSED_ADDRESSES)
def test_refused_address_in_a_dns_answer_is_never_connected_to(
    address: str, named: str, connections: Connections
) -> None:
    dns = FakeDns({"app.example.test": [address]})
    result = probe(HealthUrl("https://app.example.test/health"), NetPolicy(), resolver=dns)
    assert (result.ok, result.error, result.address) == (False, "refused", address)
    assert named in result.detail and result.detail.endswith(", resolved from app.example.test")
    assert connections.calls == []


def test_one_refused_address_among_public_ones_refuses_the_host(connections: Connections) -> None:
    connections.route.add("93.184.216.34")
    dns = FakeDns({"app.example.test": ["93.184.216.34", "10.0.0.5"]})
    result = probe(HealthUrl("http://app.example.test/ok"), NetPolicy.parse("http"), resolver=dns)
    assert (result.error, result.address) == ("refused", "10.0.0.5")
    assert connections.calls == []


def test_http_is_refused_by_default(server: ProbeServer) -> None:
    dns = FakeDns({"app.example.test": ["93.184.216.34"]})
    result = probe(HealthUrl("http://app.example.test/ok"), NetPolicy(), resolver=dns)
    assert (result.ok, result.error) == (False, "refused")
    assert "http URLs are not allowed" in result.detail and "DEPUP_PROBE_ALLOW=http" in result.detail
    assert dns.calls == []
    # loopback alone is not enough for plain http, and http alone is not enough for loopback
    assert probe(HealthUrl(server.url("/ok")), NetPolicy.parse("loopback")).error == "refused"
    assert probe(HealthUrl(server.url("/ok")), NetPolicy.parse("http")).error == "refused"
    assert server.seen == []


def test_operator_policy_allows_them_again(connections: Connections) -> None:
    policy = NetPolicy.from_env({"DEPUP_PROBE_ALLOW": "http,loopback,private,link-local,169.254.169.254/32"})
    connections.route |= {"127.0.0.1", "10.0.0.5", "192.168.1.10", "172.16.4.2", "169.254.10.20", "169.254.169.254"}
    for address in sorted(connections.route):
        result = probe(HealthUrl(f"http://{address}/ok", body_contains="ready"), policy)
        assert result.ok, result.detail
        assert result.address == address
    assert sorted(connections.calls) == sorted((a, 80) for a in connections.route)
    assert {s.host for s in connections.server.seen} >= {"10.0.0.5", "169.254.169.254"}


def test_metadata_needs_a_cidr_even_when_link_local_is_allowed(connections: Connections) -> None:
    result = probe(HealthUrl("http://169.254.169.254/latest/meta-data/"), NetPolicy.parse("http,link-local"))
    assert result.error == "refused" and "cloud metadata" in result.detail
    assert connections.calls == []


def test_dns_is_asked_once_and_the_connection_is_pinned_to_the_checked_address(server: ProbeServer) -> None:
    # The name resolves to loopback (allowed) first and to the metadata address afterwards. A probe that
    # resolved again to connect would go to 169.254.169.254; this one asks once and connects to 127.0.0.1.
    dns = Rebinding("rebind.example.test", ["127.0.0.1"], ["169.254.169.254"])
    url = server.url("/ok", host="rebind.example.test")
    result = probe(HealthUrl(url, body_contains="ready"), LOCAL, resolver=dns)
    assert result.ok, result.detail
    assert result.address == "127.0.0.1"
    assert dns.calls == [("rebind.example.test", server.port)]
    assert server.seen[0].host == f"rebind.example.test:{server.port}"  # the Host header keeps the name


def test_dns_rebinding_from_a_public_address_to_loopback_cannot_reach_loopback(connections: Connections) -> None:
    # Default address rules (public only): the first answer is public and passes the check; the second would
    # be loopback. The probe must connect to the public address it checked and never ask DNS again.
    connections.route.add("93.184.216.34")
    dns = Rebinding("public.example.test", ["93.184.216.34"], ["127.0.0.1"])
    result = probe(HealthUrl("http://public.example.test/ok"), NetPolicy.parse("http"), resolver=dns)
    assert result.ok, result.detail
    assert result.address == "93.184.216.34"
    assert dns.calls == [("public.example.test", 80)]
    assert connections.calls == [("93.184.216.34", 80)]
    assert connections.server.seen[0].host == "public.example.test"


def test_every_redirect_hop_is_resolved_once_and_pinned(connections: Connections) -> None:
    server = connections.server
    connections.route |= {"93.184.216.34", "93.184.216.35"}
    dns = FakeDns({"a.example.test": ["93.184.216.34"], "b.example.test": ["93.184.216.35"]})
    location = "http://b.example.test/redirect/1"
    result = probe(HealthUrl(f"http://a.example.test/to?location={location}"), NetPolicy.parse("http"), resolver=dns)
    assert result.ok, result.detail
    assert result.detail.endswith("after 2 redirects")
    assert dns.calls == [("a.example.test", 80), ("b.example.test", 80), ("b.example.test", 80)]
    assert connections.calls == [("93.184.216.34", 80), ("93.184.216.35", 80), ("93.184.216.35", 80)]
    assert [s.host for s in server.seen] == ["a.example.test", "b.example.test", "b.example.test"]


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254 is a cloud metadata address"),
        ("http://[fd00:ec2::254]/latest/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://10.0.0.5/admin", "10.0.0.5 is a private address"),
        ("http://[::ffff:192.168.0.1]/", "192.168.0.1, a private address"),
        ("http://0.0.0.0:6379/", "0.0.0.0 is the unspecified address"),
        ("http://internal.example.test/", "10.9.8.7 is a private address (RFC 1918), resolved from internal"),
        ("file:///etc/passwd", "a file URL"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "a gopher URL"),
    ],
)
def test_a_redirect_to_a_refused_address_fails_the_probe(
    location: str, named: str, server: ProbeServer, connections: Connections
) -> None:
    connections.route.add("127.0.0.1")
    dns = FakeDns({"internal.example.test": ["10.9.8.7"]})
    result = probe(HealthUrl(server.url(f"/to?location={location}")), LOCAL, resolver=dns)
    assert (result.ok, result.error, result.status) == (False, "refused", None)
    assert result.detail.startswith("refused: redirect 1 to ")
    assert named in result.detail
    assert connections.calls == [("127.0.0.1", server.port)]  # the first hop only


def test_a_redirect_from_https_to_http_is_refused_when_http_is_not_allowed(
    tls_server: ProbeServer, server: ProbeServer, pki: Pki
) -> None:
    dns = FakeDns({"health.example.test": ["127.0.0.1"]})
    location = server.url("/ok")
    url = tls_server.url(f"/to?location={location}", host="health.example.test")
    result = probe(HealthUrl(url), NetPolicy.parse("loopback"), resolver=dns, ssl_context=pki.client_context())
    assert result.error == "refused"
    assert "redirect 1 to" in result.detail and "http URLs are not allowed" in result.detail
    assert server.seen == []
    allowed = probe(HealthUrl(url), NetPolicy.parse("http,loopback"), resolver=dns, ssl_context=pki.client_context())
    assert allowed.ok, allowed.detail
