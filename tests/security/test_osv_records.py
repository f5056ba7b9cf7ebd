"""OSV records read as Vulnerability values, and the local OSV server's version matching on real records."""

from __future__ import annotations

import httpx
import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.risk.model import Vulnerability
from bot.security.cache import VulnerabilityCache, cache_key, decode, encode
from bot.security.records import advisory_url, fixed_versions, short_summary, sort_versions, vulnerability
from tests.support.osv_server import OsvServer, _in_range


def test_a_record_becomes_a_vulnerability_of_one_package(osv_server: OsvServer) -> None:
    record = osv_server.records["GHSA-35jh-r3h4-6jhm"]
    assert vulnerability(record, "npm", "lodash-es") == Vulnerability(
        id="GHSA-35jh-r3h4-6jhm",
        aliases=("CVE-2021-23337",),
        summary="Command Injection in lodash",
        fixed_in=("4.17.21",),
        url="https://nvd.nist.gov/vuln/detail/CVE-2021-23337",
    )
    assert fixed_versions(record, "npm", "lodash.template") == ()  # last_affected only: no fix
    # PyPI names compare canonically; GIT ranges (commit hashes) are not versions
    assert fixed_versions(osv_server.records["PYSEC-2018-28"], "python", "Requests") == ("2.20.0",)
    assert fixed_versions(osv_server.records["PYSEC-2018-28"], "npm", "requests") == ()


def test_links_summaries_and_version_order() -> None:
    assert advisory_url({"id": "OSV-2020-1", "references": [{"type": "WEB", "url": "https://x.test"}]}) == (
        "https://osv.dev/vulnerability/OSV-2020-1"
    )
    assert advisory_url({"id": "X", "references": "junk"}) == "https://osv.dev/vulnerability/X"
    assert short_summary("  two\n lines ") == "two lines"
    assert short_summary("") is None
    long = short_summary("word " * 100)
    assert long is not None and len(long) <= 200 and long.endswith("word…")
    assert sort_versions("python", ["3.2.5", "3.1.13", "junk version", "3.10"]) == (
        "3.1.13",
        "3.2.5",
        "3.10",
        "junk version",
    )
    assert sort_versions("npm", ["1.2.6", "0.2.4", "5.0.0-beta.3", "5.0.0-alpha.1", "4.19.2"]) == (
        "0.2.4",
        "1.2.6",
        "4.19.2",
        "5.0.0-alpha.1",
        "5.0.0-beta.3",
    )


@pytest.mark.parametrize(
    ("ecosystem", "name", "version", "expected"),
    [
        ("npm", "react-dom", "16.4.1", ["GHSA-mvjj-gqq2-p4hw"]),  # range, though not in the versions list
        ("npm", "react-dom", "16.4.2", []),
        ("npm", "react-dom", "16.0.0", ["GHSA-mvjj-gqq2-p4hw"]),
        ("npm", "lodash.trim", "4.5.1", ["GHSA-29mw-wpgm-hmr9"]),  # last_affected is inclusive
        ("npm", "lodash.trim", "4.5.2", []),
        ("npm", "minimist", "1.2.5", ["GHSA-xvch-5gv4-984h"]),
        ("npm", "minimist", "1.2.6", []),
        ("npm", "minimist", "0.2.3", ["GHSA-xvch-5gv4-984h"]),  # the second listing of the package
        ("PyPI", "Django", "3.2", ["PYSEC-2021-109", "PYSEC-2021-7"]),
        ("PyPI", "django", "3.2.1", ["PYSEC-2021-109"]),
        ("PyPI", "django", "3.0", []),  # between two ranges of one event list
        ("PyPI", "requests", "2.2.1", ["PYSEC-2018-28"]),
        ("PyPI", "lodash", "4.17.15", []),
    ],
)
def test_the_server_matches_versions_as_osv_does(
    osv_server: OsvServer, ecosystem: str, name: str, version: str, expected: list[str]
) -> None:
    assert sorted(r["id"] for r in osv_server.affecting(ecosystem, name, version)) == expected


def test_range_events_are_evaluated_in_version_order() -> None:
    events = [{"fixed": "1.2.6"}, {"introduced": "1.0.0"}, {"fixed": "0.2.4"}, {"introduced": "0"}]
    assert [_in_range(events, "npm", v) for v in ("0.1.0", "0.2.4", "1.0.0", "1.2.5", "1.2.6")] == [
        True,
        False,
        True,
        True,
        False,
    ]


def test_the_server_speaks_osv_json(osv_server: OsvServer) -> None:
    query = {"package": {"name": "lodash", "ecosystem": "npm"}, "version": "4.17.20"}
    one = httpx.post(f"{osv_server.url}/v1/query", json=query).json()
    assert sorted(v["id"] for v in one["vulns"]) == ["GHSA-29mw-wpgm-hmr9", "GHSA-35jh-r3h4-6jhm"]
    none = {"package": {"name": "lodash", "ecosystem": "npm"}, "version": "4.17.21"}
    assert httpx.post(f"{osv_server.url}/v1/query", json=none).json() == {}
    batch = httpx.post(f"{osv_server.url}/v1/querybatch", json={"queries": [none, query]}).json()
    assert batch["results"][0] == {}
    assert set(batch["results"][1]["vulns"][0]) == {"id", "modified"}
    assert httpx.post(f"{osv_server.url}/v1/querybatch", json={"queries": [none] * 1001}).status_code == 400
    assert httpx.get(f"{osv_server.url}/v1/vulns/GHSA-29mw-wpgm-hmr9").json()["id"] == "GHSA-29mw-wpgm-hmr9"
    assert httpx.get(f"{osv_server.url}/v1/vulns/GHSA-none").status_code == 404
    assert osv_server.count("querybatch") == 2 and osv_server.count() == 6


def test_the_cache_round_trips_and_ignores_unreadable_entries(redis_client: Redis) -> None:
    vulns = (Vulnerability("GHSA-x", ("CVE-1",), "s", ("1.0",), "https://x.test"), Vulnerability("PYSEC-1"))
    assert decode(encode(vulns)) == vulns
    cache = VulnerabilityCache(redis_client)
    cache.store("npm", {("@scope/a", "1.0.0"): vulns, ("b", "2.0.0"): ()})
    redis_client.set(cache_key("npm", "c", "1.0.0"), b'[{"id": 1}]')
    pairs = [("@scope/a", "1.0.0"), ("b", "2.0.0"), ("c", "1.0.0"), ("d", "1.0.0")]
    assert cache.read("npm", pairs) == {("@scope/a", "1.0.0"): vulns, ("b", "2.0.0"): ()}
    unreachable = VulnerabilityCache(Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0)))
    assert unreachable.read("npm", pairs) == {}
    unreachable.store("npm", {("b", "2.0.0"): ()})  # logged, not raised
