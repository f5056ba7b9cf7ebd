"""The SSRF guard on its own: address classes, the default policy and what DEPUP_PROBE_ALLOW widens."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from bot.core.netguard import NetPolicy, check_address, classify
from bot.core.settings import Settings
from bot.errors import SettingsError

DEFAULT = NetPolicy()
EVERY_CLASS = NetPolicy.parse("http, loopback, private, link-local")


@pytest.mark.parametrize(
    ("address", "cls", "phrase"),
    [
        ("127.0.0.1", "loopback", "127.0.0.1 is a loopback address"),
        ("127.8.9.10", "loopback", "loopback"),
        ("::1", "loopback", "::1 is a loopback address"),
        ("10.0.0.5", "private", "10.0.0.5 is a private address"),
        ("172.16.0.1", "private", "private"),
        ("172.31.255.254", "private", "private"),
        ("192.168.1.1", "private", "private"),
        ("fd12:3456::1", "private", "unique local"),
        ("169.254.1.1", "link-local", "169.254.1.1 is a link-local address"),
        ("fe80::1", "link-local", "link-local"),
        ("169.254.169.254", "metadata", "169.254.169.254 is a cloud metadata address"),
        ("fd00:ec2::254", "metadata", "fd00:ec2::254 is a cloud metadata address"),
        ("100.100.100.200", "metadata", "cloud metadata"),
        ("0.0.0.0", "unspecified", "0.0.0.0 is the unspecified address"),
        ("::", "unspecified", "unspecified"),
        ("0.1.2.3", "reserved", "this network"),
        ("224.0.0.1", "multicast", "multicast"),
        ("ff02::1", "multicast", "multicast"),
        ("240.0.0.1", "reserved", "reserved"),
        ("255.255.255.255", "reserved", "broadcast"),
        ("100.64.0.1", "reserved", "shared address space"),
        ("192.0.2.1", "reserved", "documentation"),
        ("198.18.0.1", "reserved", "benchmarking"),
        ("2001:db8::1", "reserved", "documentation"),
        ("fec0::1", "reserved", "site-local"),
        ("4000::1", "reserved", "not a global unicast address"),
        ("::7f00:1", "reserved", "not a global unicast address"),  # IPv4-compatible (deprecated)
        ("::ffff:127.0.0.1", "loopback", "::ffff:127.0.0.1 is 127.0.0.1, a loopback address"),
        ("::ffff:10.1.2.3", "private", "is 10.1.2.3, a private address"),
        ("::ffff:169.254.169.254", "metadata", "is 169.254.169.254, a cloud metadata address"),
        ("64:ff9b::7f00:1", "loopback", "is 127.0.0.1, a loopback address"),  # NAT64
        ("2002:a00:1::1", "private", "is 10.0.0.1, a private address"),  # 6to4
    ],
)
def test_non_public_addresses_are_refused_by_default_and_named(address: str, cls: str, phrase: str) -> None:
    refusal = check_address(address, DEFAULT)
    assert refusal is not None
    assert refusal.address_class == cls
    assert phrase in refusal.reason
    assert str(refusal) == refusal.reason
    assert refusal.reason.startswith(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert check_address(address, DEFAULT) is None
    assert classify(address)[0] == "public"


def test_not_an_address_is_refused() -> None:
    refusal = check_address("localhost", EVERY_CLASS)
    assert refusal is not None
    assert "not an IP address" in refusal.reason


def test_default_policy_is_https_to_public_only() -> None:
    assert DEFAULT.allows_scheme("https")
    assert DEFAULT.allows_scheme("HTTPS")
    assert not DEFAULT.allows_scheme("http")
    assert NetPolicy.from_env({}) == DEFAULT
    assert NetPolicy.from_env({"DEPUP_PROBE_ALLOW": " "}) == DEFAULT
    assert DEFAULT.describe() == "https; public"


def test_operator_tokens_widen_each_class() -> None:
    policy = NetPolicy.from_env({"DEPUP_PROBE_ALLOW": "HTTP, loopback,,private , link-local"})
    assert policy.allows_scheme("http")
    for address in ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.5", "192.168.1.1", "172.16.0.1", "fd12::1"]:
        assert check_address(address, policy) is None, address
    for address in ["169.254.1.1", "fe80::1"]:
        assert check_address(address, policy) is None, address
    assert policy.describe() == "https, http; public, loopback, private, link-local"


@pytest.mark.parametrize(
    ("token", "allowed", "still_refused"),
    [
        ("loopback", "127.0.0.1", "10.0.0.1"),
        ("private", "10.0.0.1", "127.0.0.1"),
        ("link-local", "169.254.1.1", "10.0.0.1"),
    ],
)
def test_each_token_widens_only_its_class(token: str, allowed: str, still_refused: str) -> None:
    policy = NetPolicy.parse(token)
    assert check_address(allowed, policy) is None
    assert check_address(still_refused, policy) is not None
    assert not policy.allows_scheme("http")


def test_metadata_stays_refused_unless_a_cidr_covers_it() -> None:
    for address in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"]:
        refusal = check_address(address, EVERY_CLASS)
        assert refusal is not None and refusal.address_class == "metadata", address
    assert check_address("169.254.169.254", NetPolicy.parse("169.254.169.254/32")) is None
    assert check_address("169.254.169.254", NetPolicy.parse("169.254.0.0/16")) is None
    assert check_address("::ffff:169.254.169.254", NetPolicy.parse("169.254.169.254")) is None
    assert check_address("fd00:ec2::254", NetPolicy.parse("fd00:ec2::/32")) is None


def test_cidrs_allow_exactly_their_range() -> None:
    policy = NetPolicy.parse("10.1.0.0/16, 100.64.0.0/10")
    assert policy.networks == (ip_network("10.1.0.0/16"), ip_network("100.64.0.0/10"))
    assert check_address("10.1.2.3", policy) is None
    assert check_address("::ffff:10.1.2.3", policy) is None
    assert check_address("100.64.0.1", policy) is None
    assert check_address("10.2.0.1", policy) is not None
    assert check_address("127.0.0.1", policy) is not None
    assert not policy.allows_scheme("http")


def test_unspecified_and_multicast_are_never_allowed() -> None:
    policy = NetPolicy.parse("http,loopback,private,link-local,0.0.0.0/0,::/0")
    for address in ["0.0.0.0", "::", "::ffff:0.0.0.0", "224.0.0.1", "ff02::1"]:
        assert check_address(address, policy) is not None, address
    assert check_address("169.254.169.254", policy) is None  # 0.0.0.0/0 covers it: the operator said so


@pytest.mark.parametrize("value", ["https,intranet", "10.1.0.0/33", "file", "10.0.0.0/8;192.168.0.0/16"])
def test_unknown_tokens_are_a_settings_error(value: str) -> None:
    with pytest.raises(SettingsError, match="DEPUP_PROBE_ALLOW"):
        NetPolicy.from_env({"DEPUP_PROBE_ALLOW": value})


def test_policy_is_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT.loopback = True  # type: ignore[misc]


def test_the_operator_setting_is_read_with_the_other_settings() -> None:
    base = {"REDIS_URL": "redis://127.0.0.1:6379/3"}
    assert Settings.from_env(base).probe_allow == ""
    settings = Settings.from_env({**base, "DEPUP_PROBE_ALLOW": " http,10.1.0.0/16 "})
    assert settings.probe_allow == "http,10.1.0.0/16"
    assert NetPolicy.parse(settings.probe_allow).networks == (ip_network("10.1.0.0/16"),)
