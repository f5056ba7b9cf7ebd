"""The SSRF guard of health probes: which URL schemes and which IP addresses a probe may reach.

A repository's config names the URLs; only the operator decides what depup's network lets them reach. By
default a probe may use ``https`` only and connect only to public (globally routable unicast) addresses. The
operator widens that with ``DEPUP_PROBE_ALLOW``, a comma-separated list of tokens:

- ``http``: plain http URLs too;
- ``loopback``: 127.0.0.0/8 and ::1;
- ``private``: RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique local addresses (fc00::/7);
- ``link-local``: 169.254.0.0/16 and fe80::/10;
- a CIDR (``10.1.0.0/16``) or a single address: that range, whatever its class.

Cloud metadata addresses (169.254.169.254, fd00:ec2::254, ...) stay refused under ``link-local`` and
``private``: only a CIDR that covers them lets a probe reach them. The unspecified addresses (0.0.0.0, ::)
and multicast are never allowed. An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is judged as the IPv4
address it carries; so are NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Literal

from bot.errors import SettingsError

ENV_VAR = "DEPUP_PROBE_ALLOW"

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

AddressClass = Literal[
    "public", "loopback", "private", "link-local", "metadata", "multicast", "unspecified", "reserved"
]

# Instance metadata and credential endpoints of cloud providers: the classic SSRF prize.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "169.254.170.23",  # AWS EKS pod identity
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS (IPv6)
        "fd00:ec2::23",  # AWS EKS pod identity (IPv6)
    )
)


def _table(rows: tuple[tuple[str, AddressClass, str], ...]) -> tuple[tuple[IPNetwork, AddressClass, str], ...]:
    return tuple((ip_network(net), cls, label) for net, cls, label in rows)


# Every IPv4 range that is not public, most specific first; anything else is public.
_IPV4 = _table(
    (
        ("0.0.0.0/32", "unspecified", "the unspecified address"),
        ("0.0.0.0/8", "reserved", "in 'this network' (0.0.0.0/8)"),
        ("127.0.0.0/8", "loopback", "a loopback address"),
        ("10.0.0.0/8", "private", "a private address (RFC 1918)"),
        ("172.16.0.0/12", "private", "a private address (RFC 1918)"),
        ("192.168.0.0/16", "private", "a private address (RFC 1918)"),
        ("169.254.0.0/16", "link-local", "a link-local address"),
        ("100.64.0.0/10", "reserved", "in the shared address space (100.64.0.0/10)"),
        ("192.0.0.0/24", "reserved", "an IETF protocol assignment (192.0.0.0/24)"),
        ("192.0.2.0/24", "reserved", "a documentation address"),
        ("198.51.100.0/24", "reserved", "a documentation address"),
        ("203.0.113.0/24", "reserved", "a documentation address"),
        ("192.88.99.0/24", "reserved", "a 6to4 relay address (deprecated)"),
        ("198.18.0.0/15", "reserved", "a benchmarking address"),
        ("224.0.0.0/4", "multicast", "a multicast address"),
        ("255.255.255.255/32", "reserved", "the broadcast address"),
        ("240.0.0.0/4", "reserved", "a reserved address (240.0.0.0/4)"),
    )
)

# IPv6: only global unicast (2000::/3) is public, minus the special ranges inside it. Ranges carrying an
# IPv4 address (mapped, NAT64, 6to4) are unwrapped before this table is consulted.
_IPV6 = _table(
    (
        ("::/128", "unspecified", "the unspecified address"),
        ("::1/128", "loopback", "a loopback address"),
        ("fc00::/7", "private", "a unique local address (fc00::/7)"),
        ("fe80::/10", "link-local", "a link-local address"),
        ("fec0::/10", "reserved", "a site-local address (deprecated)"),
        ("ff00::/8", "multicast", "a multicast address"),
        ("2001:db8::/32", "reserved", "a documentation address"),
        ("3fff::/20", "reserved", "a documentation address"),
        ("2001::/23", "reserved", "an IETF protocol assignment (2001::/23)"),
        ("5f00::/16", "reserved", "a segment routing identifier (5f00::/16)"),
    )
)
_GLOBAL_UNICAST = ip_network("2000::/3")
_NAT64 = ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class NetPolicy:
    """What a probe may reach. The default: https only, public addresses only.

    ``networks`` are operator-given ranges allowed whatever their class (metadata addresses included).
    """

    schemes: frozenset[str] = frozenset({"https"})
    loopback: bool = False
    private: bool = False
    link_local: bool = False
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> NetPolicy:
        """The policy a ``DEPUP_PROBE_ALLOW`` value describes; ``SettingsError`` names a token it cannot read."""
        schemes = {"https"}
        loopback = private = link_local = False
        networks: list[IPNetwork] = []
        for raw in text.split(","):
            word = raw.strip().lower()
            if not word or word == "https":
                continue
            if word == "http":
                schemes.add("http")
            elif word == "loopback":
                loopback = True
            elif word == "private":
                private = True
            elif word in {"link-local", "linklocal"}:
                link_local = True
            else:
                try:
                    networks.append(ip_network(word, strict=False))
                except ValueError:
                    raise SettingsError(
                        f"{ENV_VAR}: {raw.strip()!r} is neither http, loopback, private, link-local nor a CIDR"
                    ) from None
        return cls(frozenset(schemes), loopback, private, link_local, tuple(networks))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NetPolicy:
        """The policy of the process environment (``DEPUP_PROBE_ALLOW``; unset: the default policy)."""
        return cls.parse(env.get(ENV_VAR, ""))

    def allows_scheme(self, scheme: str) -> bool:
        return scheme.lower() in self.schemes

    def allows_class(self, cls: AddressClass) -> bool:
        return {
            "public": True,
            "loopback": self.loopback,
            "private": self.private,
            "link-local": self.link_local,
        }.get(cls, False)

    def describe(self) -> str:
        """One line for logs, e.g. ``https, http; public, loopback, 10.1.0.0/16``."""
        reach = ["public"]
        reach += [name for name, on in (("loopback", self.loopback), ("private", self.private)) if on]
        reach += ["link-local"] if self.link_local else []
        reach += [str(n) for n in self.networks]
        return f"{', '.join(sorted(self.schemes, reverse=True))}; {', '.join(reach)}"


@dataclass(frozen=True)
class Refusal:
    """Why an address may not be probed. ``reason`` is one line such as "127.0.0.1 is a loopback address"."""

    address: str
    address_class: AddressClass
    reason: str

    def __str__(self) -> str:
        return self.reason


def classify(address: str | IPAddress) -> tuple[AddressClass, str]:
    """The class of ``address`` and a phrase naming it ("a loopback address"), judging the IPv4 address
    inside IPv4-mapped, NAT64 and 6to4 IPv6 addresses. ``ValueError`` if it is not an IP address."""
    ip = ip_address(address) if isinstance(address, str) else address
    inner = _embedded_ipv4(ip)
    if inner is not None:
        cls, label = classify(inner)
        return cls, f"{inner}, {label}" if cls != "public" else label
    if ip in METADATA_ADDRESSES:
        return "metadata", "a cloud metadata address"
    if isinstance(ip, IPv4Address):
        for net, cls, label in _IPV4:
            if ip in net:
                return cls, label
        return "public", "a public address"
    for net, cls, label in _IPV6:
        if ip in net:
            return cls, label
    if ip not in _GLOBAL_UNICAST:
        return "reserved", "not a global unicast address"
    return "public", "a public address"


def check_address(address: str | IPAddress, policy: NetPolicy) -> Refusal | None:
    """None if a probe may connect to ``address`` under ``policy``; else the refusal and its reason.

    A string that is not an IP address is refused (class "reserved")."""
    text = str(address)
    try:
        ip = ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return Refusal(text, "reserved", f"{text!r} is not an IP address")
    cls, label = classify(ip)
    if cls in {"unspecified", "multicast"}:
        return Refusal(text, cls, f"{text} is {label}")
    inner = _embedded_ipv4(ip)
    if any(candidate in net for net in policy.networks for candidate in (ip, inner) if candidate is not None):
        return None
    if policy.allows_class(cls):
        return None
    return Refusal(text, cls, f"{text} is {label}")


def _embedded_ipv4(ip: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64 well-known prefix, 6to4), if any."""
    if isinstance(ip, IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour
