"""The Auditor against the local OSV server: Python through the real pip-audit CLI, npm through OSV's API."""

from __future__ import annotations

import pytest
from redis import Redis

from bot.risk.model import Vulnerability
from bot.security import AuditFailure, Auditor, audit_for, audit_from, pipaudit
from bot.security.cache import TTL, cache_key
from tests.support.osv_server import Fault, OsvServer


def ids(vulns: tuple[Vulnerability, ...]) -> list[str]:
    return sorted(v.id for v in vulns)


def answers(result: object) -> dict[tuple[str, str], tuple[Vulnerability, ...]]:
    assert isinstance(result, dict), result
    return result


def test_python_versions_are_audited_by_pip_audit_against_the_osv_server(osv_server: OsvServer) -> None:
    # requests: PYSEC-2018-28 (< 2.20.0) and PYSEC-2023-74 (>= 2.3.0, < 2.31.0); django 3.2: two advisories.
    pairs = [("requests", "2.19.1"), ("requests", "2.22.0"), ("requests", "2.31.0"), ("django", "3.2")]
    found = answers(Auditor(None, osv_server.url).vulnerabilities("python", pairs))

    assert list(found) == pairs
    assert ids(found[("requests", "2.19.1")]) == ["PYSEC-2018-28", "PYSEC-2023-74"]
    assert found[("requests", "2.31.0")] == ()
    (leak,) = found[("requests", "2.22.0")]
    assert leak.id == "PYSEC-2023-74"
    assert leak.aliases == ("CVE-2023-32681", "GHSA-j8r2-6x86-q33q")
    assert leak.fixed_in == ("2.31.0",)
    assert leak.url == "https://github.com/psf/requests/security/advisories/GHSA-j8r2-6x86-q33q"  # first ADVISORY
    assert leak.summary is not None and leak.summary.startswith("Requests is a HTTP library.")
    assert len(leak.summary) <= 200 and "\n" not in leak.summary
    traversal = next(v for v in found[("django", "3.2")] if v.id == "PYSEC-2021-7")
    assert traversal.fixed_in == ("2.2.21", "3.1.9", "3.2.1")
    # three versions of requests: three rounds of distinct names, one pip-audit run (and /v1/query) each
    assert [s.body["package"]["name"] for s in osv_server.served if s.endpoint == "query"].count("requests") == 3
    assert osv_server.count("vulns") == 4  # each advisory's record read once, for its link


def test_npm_versions_are_audited_through_querybatch_and_the_records(osv_server: OsvServer) -> None:
    pairs = [
        ("lodash", "4.17.15"),
        ("lodash", "4.17.21"),
        ("minimist", "0.0.8"),
        ("minimist", "1.2.5"),
        ("react-dom", "16.4.1"),  # caught by the range, not by the record's (incomplete) versions list
        ("@types/node", "20.0.0"),
    ]
    found = answers(Auditor(None, osv_server.url).vulnerabilities("npm", pairs))

    assert ids(found[("lodash", "4.17.15")]) == ["GHSA-29mw-wpgm-hmr9", "GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"]
    assert found[("lodash", "4.17.21")] == ()
    assert ids(found[("minimist", "1.2.5")]) == ["GHSA-xvch-5gv4-984h"]
    assert found[("@types/node", "20.0.0")] == ()
    pollution = next(v for v in found[("lodash", "4.17.15")] if v.id == "GHSA-p6mc-m468-83gw")
    assert pollution == Vulnerability(
        id="GHSA-p6mc-m468-83gw",
        aliases=("CVE-2020-8203",),
        summary="Prototype Pollution in lodash",
        fixed_in=("4.17.19",),  # lodash's own range only, not lodash-es's 4.17.20
        url="https://nvd.nist.gov/vuln/detail/CVE-2020-8203",
    )
    (minimist,) = [v for v in found[("minimist", "0.0.8")] if v.id == "GHSA-xvch-5gv4-984h"]
    assert minimist.fixed_in == ("0.2.4", "1.2.6")  # the package is listed twice: both fixes, in version order
    (xss,) = found[("react-dom", "16.4.1")]
    assert xss.fixed_in == ("16.0.1", "16.1.2", "16.2.1", "16.3.3", "16.4.2")
    assert osv_server.count("querybatch") == 1
    assert osv_server.count("query") == 0
    assert osv_server.count("vulns") == 6  # each distinct advisory once


def test_the_audit_helper_tells_what_an_update_fixes_and_what_remains(osv_server: OsvServer) -> None:
    audit, failures = audit_for(
        Auditor(None, osv_server.url),
        [
            ("python", "requests", "2.19.1", "2.22.0"),
            ("npm", "lodash", "4.17.15", "4.17.21"),
            ("npm", "minimist", "0.0.8", "1.2.5"),
        ],
    )
    assert failures == ()

    audited = audit("python", "requests", "2.19.1", "2.22.0")
    assert audited is not None
    fixed, present = audited
    assert ids(fixed) == ["PYSEC-2018-28"]
    assert ids(present) == ["PYSEC-2023-74"]
    assert audit("npm", "lodash", "4.17.15", "4.17.21") is not None
    assert [ids(x) for x in audit("npm", "lodash", "4.17.15", "4.17.21") or ()] == [
        ["GHSA-29mw-wpgm-hmr9", "GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"],
        [],
    ]
    assert [ids(x) for x in audit("npm", "minimist", "0.0.8", "1.2.5") or ()] == [
        ["GHSA-vh95-rmgr-6w4m"],
        ["GHSA-xvch-5gv4-984h"],
    ]
    assert audit("npm", "lodash", "4.17.15", "4.17.20") is None  # a version not audited: unknown
    assert audit("python", "flask", "1.0", "2.0") is None


def test_the_audit_helper_matches_advisories_by_alias_and_knows_failed_audits() -> None:
    old = Vulnerability("PYSEC-2023-74", aliases=("CVE-2023-32681",))
    same_by_alias = Vulnerability("GHSA-j8r2-6x86-q33q", aliases=("CVE-2023-32681",))
    other = Vulnerability("PYSEC-2018-28")
    audit = audit_from(
        {
            "python": {("requests", "2.19.1"): (old, other), ("requests", "2.22.0"): (same_by_alias,)},
            "npm": AuditFailure("npm", "OSV answered 500"),
        }
    )
    assert audit("python", "requests", "2.19.1", "2.22.0") == ((other,), (same_by_alias,))
    assert audit("npm", "lodash", "4.17.15", "4.17.21") is None


def test_answers_are_cached_in_redis_for_six_hours(
    osv_server: OsvServer, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    auditor = Auditor(redis_client, osv_server.url)
    first = auditor.vulnerabilities("python", [("requests", "2.19.1"), ("requests", "2.31.0")])
    npm_first = auditor.vulnerabilities("npm", [("lodash", "4.17.15")])
    assert redis_client.ttl(cache_key("python", "requests", "2.31.0")) > TTL - 60
    assert redis_client.get(cache_key("python", "requests", "2.31.0")) == b"[]"
    served = osv_server.count()

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip-audit ran although every answer was cached")

    monkeypatch.setattr(pipaudit, "run_pip_audit", no_run)
    again = Auditor(redis_client, osv_server.url)
    assert again.vulnerabilities("python", [("requests", "2.31.0"), ("requests", "2.19.1")]) == {
        ("requests", "2.31.0"): answers(first)[("requests", "2.31.0")],
        ("requests", "2.19.1"): answers(first)[("requests", "2.19.1")],
    }
    assert again.vulnerabilities("npm", [("lodash", "4.17.15")]) == npm_first
    assert osv_server.count() == served  # no request at all


def test_a_server_error_is_an_audit_failure_and_is_not_cached(osv_server: OsvServer, redis_client: Redis) -> None:
    auditor = Auditor(redis_client, osv_server.url)
    osv_server.inject(Fault(status=500))

    python = auditor.vulnerabilities("python", [("requests", "2.19.1")])
    assert isinstance(python, AuditFailure)
    assert python.ecosystem == "python"
    assert "500" in python.reason and "/v1/query" in python.reason
    npm = auditor.vulnerabilities("npm", [("lodash", "4.17.15")])
    assert isinstance(npm, AuditFailure)
    assert npm.reason.startswith("OSV answered 500 to POST") and "injected fault" in npm.reason
    assert redis_client.keys("depup:vulns:*") == []

    osv_server.reset()
    assert ids(answers(auditor.vulnerabilities("npm", [("lodash", "4.17.15")]))[("lodash", "4.17.15")])
    assert osv_server.count("querybatch") == 1  # the failure was not remembered


def test_a_missing_record_fails_npm_but_only_costs_python_its_advisory_link(osv_server: OsvServer) -> None:
    osv_server.inject(Fault(status=404, body=b'{"code":5,"message":"Bug not found."}'), "vulns")
    npm = Auditor(None, osv_server.url).vulnerabilities("npm", [("lodash", "4.17.15")])
    assert isinstance(npm, AuditFailure) and "404" in npm.reason and "Bug not found" in npm.reason
    python = answers(Auditor(None, osv_server.url).vulnerabilities("python", [("requests", "2.22.0")]))
    (leak,) = python[("requests", "2.22.0")]
    assert leak.url == "https://osv.dev/vulnerability/PYSEC-2023-74"


def test_unknown_packages_have_no_known_vulnerabilities(osv_server: OsvServer) -> None:
    # OSV answers {} for a package it has no advisory for (it cannot tell "unknown" from "clean"), so pip-audit
    # --strict skips nothing: the answer is "none known", not a failure.
    found = Auditor(None, osv_server.url).vulnerabilities("python", [("no-such-package-xyz", "1.0")])
    assert found == {("no-such-package-xyz", "1.0"): ()}


def test_what_pip_audit_cannot_audit_is_a_failure_with_a_reason(osv_server: OsvServer) -> None:
    auditor = Auditor(None, osv_server.url)
    bad_version = auditor.vulnerabilities("python", [("requests", "2.19.1"), ("legacy", "1.0-beta-final-2")])
    assert bad_version == AuditFailure(
        "python", "legacy '1.0-beta-final-2' is not a PEP 440 version, which pip-audit cannot audit"
    )
    bad_name = auditor.vulnerabilities("python", [("--index-url=http://x", "1.0")])
    assert isinstance(bad_name, AuditFailure) and "not a Python package name" in bad_name.reason
    assert osv_server.count() == 0
    assert isinstance(auditor.vulnerabilities("go", [("x", "1")]), AuditFailure)
    assert auditor.vulnerabilities("npm", []) == {}
    # a skipped dependency in pip-audit's report (what --strict guards against) is a failure too
    skipped = '{"dependencies": [{"name": "foo", "skip_reason": "could not deduce package version"}], "fixes": []}'
    with pytest.raises(pipaudit.AuditError, match="could not audit foo: could not deduce package version"):
        pipaudit.parse_report(skipped, ["foo"])
    with pytest.raises(pipaudit.AuditError, match="did not report bar"):
        pipaudit.parse_report('{"dependencies": [{"name": "foo", "version": "1", "vulns": []}]}', ["foo", "bar"])


def test_an_unreachable_or_slow_server_is_an_audit_failure(osv_server: OsvServer) -> None:
    with OsvServer() as gone:
        url = gone.url
    npm = Auditor(None, url, timeout=5).vulnerabilities("npm", [("lodash", "4.17.15")])
    assert isinstance(npm, AuditFailure) and "could not be reached" in npm.reason
    python = Auditor(None, url, timeout=5).vulnerabilities("python", [("requests", "2.19.1")])
    assert isinstance(python, AuditFailure) and "ConnectionError" in python.reason

    osv_server.inject(Fault(status=None, delay=2.5))
    slow = Auditor(None, osv_server.url, timeout=1).vulnerabilities("python", [("requests", "2.19.1")])
    assert isinstance(slow, AuditFailure)
    assert "pip-audit" in slow.reason and ("Timeout" in slow.reason or "did not finish" in slow.reason)


def test_versions_of_one_package_go_in_separate_runs_of_distinct_names() -> None:
    from packaging.version import Version

    a1, a2, a3, b1 = ("a", Version("1")), ("a", Version("2")), ("a", Version("3")), ("b", Version("1"))
    assert pipaudit.plan_runs([a1, b1, a2, a3, a1]) == [[a1, b1], [a2], [a3]]
    many = [(f"p{i}", Version("1")) for i in range(pipaudit.PER_RUN + 1)]
    assert [len(run) for run in pipaudit.plan_runs(many)] == [pipaudit.PER_RUN, 1]
