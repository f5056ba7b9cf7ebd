"""Fuzzing what registries and the OSV service answer: PyPI JSON documents, npm packuments, OSV querybatch
answers and advisory records, and pip-audit reports; random JSON shapes, random bytes, and random edits of the
answers recorded in ``tests/fixtures/registry`` and ``tests/fixtures/osv``.

Properties:

- ``parse_pypi``/``parse_npm`` give a package or raise a ``RegistryAnswerError`` (a ``DepupError``); what they
  give survives the Redis cache's encoding unchanged;
- over real HTTP, ``RegistryClient.lookup_many`` answers a ``PackageInfo`` or a ``LookupFailure`` for every
  package asked, whatever the status, headers and body, and never falls back on its catch-all for unexpected
  errors (that would be a crash it hid);
- OSV records become ``Vulnerability`` values or an ``AuditError``; ``Auditor.vulnerabilities`` answers
  vulnerabilities or an ``AuditFailure``, never an exception; pip-audit reports parse or raise ``AuditError``;
- bounds: body size caps, page limits and deep documents are refused cleanly.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis import Redis

from bot.deps.model import Ecosystem, PackageInfo
from bot.deps.registry import LookupFailure, RegistryClient
from bot.deps.registry.codec import decode_parsed, encode_parsed
from bot.deps.registry.failures import RegistryAnswerError
from bot.deps.registry.fetch import Fetcher, Validators
from bot.deps.registry.npm import parse_npm, parse_npm_body
from bot.deps.registry.parsed import Parsed
from bot.deps.registry.pypi import parse_pypi
from bot.risk.model import Vulnerability
from bot.security import osv as osv_module
from bot.security.audit import Auditor
from bot.security.model import AuditError, AuditFailure
from bot.security.pipaudit import parse_report
from bot.security.records import vulnerability
from tests.fuzz.budget import Budget, bounded, budgets
from tests.fuzz.mutate import deep_json_texts, json_values, mutated_bytes, mutated_json, nested_text
from tests.support import redisdb
from tests.support.http import LiveServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _recorded(folder: str, limit: int) -> list[Any]:
    """The recorded answer bodies of the smallest ``limit`` files (each example copies only what it changes)."""
    paths = sorted((FIXTURES / "registry" / folder).rglob("*.json"), key=lambda p: (p.stat().st_size, p.name))
    return [json.loads(path.read_text())["body"] for path in paths[:limit]]


PYPI_DOCUMENTS = _recorded("pypi", 12)
NPM_DOCUMENTS = _recorded("npm", 12)
OSV_RECORDS = [json.loads(p.read_text()) for p in sorted((FIXTURES / "osv").glob("*.json"))]
VERSION_TEXTS = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"v?[0-9]{1,3}(\.[0-9]{1,3}){0,3}(-[a-z0-9.]{1,8})?(\+[a-z0-9.]{1,8})?", fullmatch=True),
    st.sampled_from(["1" * 5_000, "1." + "9" * 5_000, "0" * 300 + ".1.2", "1.0.0-" + "a." * 200, "9" * 17 + ".0.0"]),
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2024-02-30T00:00:00Z", "nan"]),
)


def _shaped(documents: list[Any]) -> st.SearchStrategy[Any]:
    """Recorded documents edited, random JSON, and documents of the right shape with hostile leaves."""
    pypi_like = st.fixed_dictionaries(
        {
            "info": st.fixed_dictionaries({"name": st.text(max_size=10), "version": VERSION_TEXTS}) | json_values(8),
            "releases": st.dictionaries(
                VERSION_TEXTS,
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "upload_time_iso_8601": VERSION_TEXTS,
                            "upload_time": VERSION_TEXTS,
                            "yanked": json_values(3),
                            "yanked_reason": json_values(3),
                            "requires_python": json_values(3),
                        },
                    )
                    | json_values(3),
                    max_size=3,
                )
                | json_values(3),
                max_size=6,
            ),
        }
    )
    npm_like = st.fixed_dictionaries(
        {
            "name": st.text(max_size=10) | json_values(3),
            "versions": st.dictionaries(
                VERSION_TEXTS,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "peerDependencies": st.dictionaries(st.text(max_size=8), json_values(3), max_size=3),
                        "peerDependenciesMeta": json_values(4),
                        "engines": json_values(4) | st.lists(st.text(max_size=12), max_size=3),
                        "deprecated": json_values(3),
                        "repository": json_values(3),
                        "homepage": json_values(3),
                    },
                )
                | json_values(3),
                max_size=6,
            ),
            "time": st.dictionaries(VERSION_TEXTS, VERSION_TEXTS | json_values(3), max_size=6) | json_values(3),
            "dist-tags": st.dictionaries(st.text(max_size=8), VERSION_TEXTS | json_values(3), max_size=3),
            "repository": json_values(3) | st.sampled_from(["github:a/b", "git@h.invalid:a/b.git", "a/b", "x" * 5000]),
        }
    )
    return st.one_of(mutated_json(documents), json_values(), pypi_like, npm_like)


def check_parsed(parse: Callable[[object], Parsed], document: object) -> None:
    try:
        parsed = bounded(lambda: parse(document))
    except RegistryAnswerError:
        return
    assert isinstance(parsed.info, PackageInfo) and parsed.info.name
    assert all(isinstance(r.version, str) for r in parsed.info.releases)
    assert decode_parsed(encode_parsed(parsed), None) == parsed  # what the client stores in Redis and reads back


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_pypi_documents(budget: Budget) -> None:
    @budget.settings()
    @given(document=_shaped(PYPI_DOCUMENTS))
    def check(document: Any) -> None:
        budget.count()
        check_parsed(parse_pypi, document)

    budget.run("registry: PyPI JSON documents", check)


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_npm_packuments(budget: Budget) -> None:
    @budget.settings()
    @given(document=_shaped(NPM_DOCUMENTS))
    def check(document: Any) -> None:
        budget.count()
        check_parsed(parse_npm, document)
        # The client reads packuments from their bytes (msgspec, the kept fields only): the same package, or
        # the same refusal.
        try:
            body = json.dumps(document, allow_nan=False).encode()
        except ValueError:  # NaN or infinity: not JSON
            return
        try:
            expected: object = parse_npm(json.loads(body))
        except RegistryAnswerError as exc:
            expected = (type(exc), str(exc))
        try:
            got: object = parse_npm_body(body)
        except RegistryAnswerError as exc:
            got = (type(exc), str(exc))
        assert got == expected

    budget.run("registry: npm packuments", check)


# -- over HTTP ---------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("Content-Type", "application/json")])


class ScriptedServer:
    """Answers every request with the answer the running example chose (per path prefix when given)."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.default = Answer()
        self.lock = threading.Lock()

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        with self.lock:
            answer = next((a for prefix, a in self.answers.items() if path.startswith(prefix)), self.default)
        reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}.get(answer.status, "Whatever")
        start_response(f"{answer.status} {reason}", answer.headers)
        return [answer.body]


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[ScriptedServer, str]]:
    server = ScriptedServer()
    with LiveServer(server.app, quiet=True) as live:
        yield server, live.url


statuses = st.sampled_from([200, 200, 200, 200, 304, 404, 410, 500, 503, 301, 204, 418])
extra_headers = st.lists(
    st.sampled_from(
        [
            ("Content-Encoding", "gzip"),
            ("Content-Encoding", "br"),
            ("Content-Encoding", "deflate"),
            ("ETag", '"x"'),
            ("Last-Modified", "yesterday"),
            ("Content-Type", "text/html"),
            ("Location", "/again"),
        ]
    ),
    max_size=3,
    unique=True,
)


def _bodies(documents: list[Any]) -> st.SearchStrategy[bytes]:
    raw = [json.dumps(d).encode() for d in documents]
    return st.one_of(
        _shaped(documents).map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=200),
        mutated_bytes(raw),
        deep_json_texts().map(str.encode),
        st.sampled_from([b"", b"null", b"[]", b"1e400", b'{"name": NaN}', b"\xef\xbb\xbf{}", gzip.compress(b"{}")]),
    )


@pytest.mark.parametrize("budget", budgets(quick=10))
def test_registry_answers_over_http(
    budget: Budget,
    scripted: tuple[ScriptedServer, str],
    redis_client: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, url = scripted

    @budget.settings()
    @given(
        status=statuses,
        body=st.one_of(_bodies(PYPI_DOCUMENTS), _bodies(NPM_DOCUMENTS)),
        headers=extra_headers,
        gzipped=st.booleans(),
        cached=st.booleans(),
    )
    def check(status: int, body: bytes, headers: list[tuple[str, str]], gzipped: bool, cached: bool) -> None:
        budget.count()
        redisdb.reset(redis_client)
        caplog.clear()
        if gzipped:
            body, headers = gzip.compress(body), [*headers, ("Content-Encoding", "gzip")]
        server.default = Answer(status, body, [("Content-Type", "application/json"), *headers])
        asked = [(Ecosystem.PYTHON, "pkg"), (Ecosystem.NPM, "pkg"), (Ecosystem.NPM, "@scope/pkg")]
        with RegistryClient(redis_client if cached else None, pypi_base=url, npm_base=url, timeout=5) as client:
            answers, again = bounded(lambda: (client.lookup_many(asked), client.lookup_many(asked)))  # again: cached
        for results in (answers, again):
            assert sorted(results, key=str) == sorted(asked, key=str)
            for result in results.values():
                assert isinstance(result, PackageInfo | LookupFailure)
                if isinstance(result, LookupFailure):
                    assert result.reason and result.kind in ("unreachable", "not_found", "malformed", "timeout")
        assert not [r for r in caplog.records if "unexpectedly" in r.getMessage()], "a crash hidden by the catch-all"

    with caplog.at_level(logging.ERROR, logger="bot.deps.registry.client"):
        budget.run("registry: answers over HTTP (status, headers, body)", check)


# -- OSV ----------------------------------------------------------------------------------------------------------

osv_records = st.one_of(
    mutated_json(OSV_RECORDS),
    json_values(),
    st.fixed_dictionaries(
        {
            "id": st.text(max_size=12) | json_values(2),
            "affected": st.lists(
                st.fixed_dictionaries(
                    {
                        "package": st.fixed_dictionaries(
                            {
                                "ecosystem": st.sampled_from(["PyPI", "npm", "Go"]),
                                "name": st.sampled_from(["pkg", "Pkg"]),
                            }
                        )
                        | json_values(2),
                        "ranges": st.lists(
                            st.fixed_dictionaries(
                                {
                                    "type": st.sampled_from(["ECOSYSTEM", "SEMVER", "GIT"]),
                                    "events": st.lists(
                                        st.dictionaries(st.sampled_from(["introduced", "fixed"]), VERSION_TEXTS)
                                        | json_values(2),
                                        max_size=4,
                                    ),
                                }
                            )
                            | json_values(2),
                            max_size=3,
                        ),
                    }
                )
                | json_values(2),
                max_size=3,
            ),
            "references": json_values(4),
            "summary": json_values(2) | st.text(max_size=600),
            "aliases": json_values(3),
        }
    ),
)


@pytest.mark.parametrize("budget", budgets(quick=60))
def test_osv_records(budget: Budget) -> None:
    @budget.settings()
    @given(record=osv_records, ecosystem=st.sampled_from(["python", "npm"]), package=st.sampled_from(["pkg", "PKG"]))
    def check(record: Any, ecosystem: str, package: str) -> None:
        budget.count()
        if not isinstance(record, dict):
            return
        try:
            found = vulnerability(record, ecosystem, package)
        except AuditError:
            return
        assert isinstance(found, Vulnerability) and found.id
        assert found.summary is None or len(found.summary) <= 200

    budget.run("security: OSV records", check)


pip_audit_reports = st.one_of(
    json_values().map(json.dumps),
    st.text(max_size=100),
    deep_json_texts(),
    st.fixed_dictionaries(
        {
            "dependencies": st.lists(
                st.fixed_dictionaries(
                    {"name": st.sampled_from(["pkg", "Pkg", "other"]) | json_values(2)},
                    optional={
                        "version": VERSION_TEXTS,
                        "vulns": st.lists(
                            st.fixed_dictionaries(
                                {"id": st.text(max_size=8) | json_values(2)},
                                optional={
                                    "fix_versions": st.lists(VERSION_TEXTS, max_size=3) | json_values(2),
                                    "aliases": json_values(3),
                                    "description": json_values(2) | st.text(max_size=300),
                                },
                            )
                            | json_values(2),
                            max_size=3,
                        )
                        | json_values(2),
                        "skip_reason": json_values(2),
                    },
                )
                | json_values(2),
                max_size=3,
            )
            | json_values(2)
        }
    ).map(json.dumps),
)


@pytest.mark.parametrize("budget", budgets(quick=60))
def test_pip_audit_reports(budget: Budget) -> None:
    @budget.settings()
    @given(text=pip_audit_reports)
    def check(text: str) -> None:
        budget.count()
        try:
            answers = parse_report(text, ["pkg"])
        except AuditError:
            return
        assert set(answers) == {"pkg"} and all(isinstance(v, Vulnerability) for v in answers["pkg"])

    budget.run("security: pip-audit reports", check)


def _querybatch(ids: list[Any], token: Any) -> st.SearchStrategy[bytes]:
    result = st.fixed_dictionaries({}, optional={"vulns": st.just([{"id": i} for i in ids]) | json_values(3),
                                                   "next_page_token": st.just(token)})  # fmt: skip
    return st.one_of(
        st.fixed_dictionaries({"results": st.lists(result | json_values(2), max_size=3)}).map(
            lambda d: json.dumps(d).encode()
        ),
        json_values().map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=50),
        deep_json_texts().map(str.encode),
    )


@pytest.mark.parametrize("budget", budgets(quick=10))
def test_osv_answers_over_http(budget: Budget, scripted: tuple[ScriptedServer, str]) -> None:
    server, url = scripted
    ids = [r["id"] for r in OSV_RECORDS]

    @budget.settings()
    @given(
        batch=st.data(),
        batch_status=st.sampled_from([200, 200, 200, 400, 500]),
        record=st.one_of(
            osv_records.map(lambda r: json.dumps(r).encode()), st.binary(max_size=40), deep_json_texts().map(str.encode)
        ),
        record_status=st.sampled_from([200, 200, 404, 500]),
        pairs=st.lists(st.tuples(st.sampled_from(["pkg", "lodash", ""]), VERSION_TEXTS), min_size=1, max_size=3),
    )
    def check(
        batch: st.DataObject, batch_status: int, record: bytes, record_status: int, pairs: list[tuple[str, str]]
    ) -> None:
        budget.count()
        asked_ids = batch.draw(st.lists(st.sampled_from(ids) | st.text(max_size=5), max_size=3))
        token = batch.draw(st.none() | st.text(max_size=4) | json_values(2))
        server.answers = {
            "/v1/querybatch": Answer(batch_status, batch.draw(_querybatch(asked_ids, token))),
            "/v1/vulns/": Answer(record_status, record),
        }
        answer = bounded(lambda: Auditor(None, url, timeout=5).vulnerabilities("npm", pairs))  # up to 20 pages
        if isinstance(answer, AuditFailure):
            assert answer.reason and answer.ecosystem == "npm"
        else:
            assert set(answer) == set(pairs)
            assert all(isinstance(v, Vulnerability) for found in answer.values() for v in found)

    try:
        budget.run("security: OSV answers over HTTP", check)
    finally:
        server.answers = {}


# -- bounds and regressions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version", ["1" * 5_000, "2." + "0" * 4_400 + "1"], ids=["5000-digit-release", "4400-digit-minor"]
)
def test_regression_pypi_version_with_a_huge_number_is_skipped(version: str) -> None:
    """PEP 440 accepts any number of digits, int() refuses over 4,300: ``Version("1" * 5000)`` raised ValueError
    (not InvalidVersion) out of parse_pypi, failing the package as an "internal error"; such a release is skipped
    like any version pip cannot use. The same number in an OSV fix version broke the sort of fix versions."""
    document = {
        "info": {"name": "pkg", "version": "1.0"},
        "releases": {"1.0": [{"upload_time_iso_8601": "2024-01-01T00:00:00Z"}], version: [{}]},
    }
    parsed = parse_pypi(document)
    assert [r.version for r in parsed.info.releases] == ["1.0"]
    ranges = [{"type": "ECOSYSTEM", "events": [{"fixed": version}]}]
    record = {"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": ranges}]}
    assert vulnerability(record, "python", "pkg").fixed_in == (version,)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_regression_publish_times_out_of_range_in_utc_are_unknown(moment: str) -> None:
    """``datetime.fromisoformat(...).astimezone(UTC)`` raised OverflowError for times that leave year 1..9999 in
    UTC; a registry's odd timestamp now reads as unknown instead of failing the package."""
    pypi = parse_pypi(
        {"info": {"name": "p", "version": "1.0"}, "releases": {"1.0": [{"upload_time_iso_8601": moment}]}}
    )
    assert pypi.info.releases[0].published is None
    npm = parse_npm({"name": "p", "versions": {"1.0.0": {}}, "time": {"1.0.0": moment}})
    assert npm.info.releases[0].published is None


def test_registry_body_over_the_cap_is_refused_while_streaming(scripted: tuple[ScriptedServer, str]) -> None:
    server, url = scripted
    server.default = Answer(200, b" " * 200_000 + b"{}")
    fetcher = Fetcher(timeout=5, max_connections=1, max_body=100_000)
    try:
        outcome = fetcher.get(Ecosystem.NPM, "pkg", url + "/pkg", Validators())
    finally:
        fetcher.close()
        server.default = Answer()
    assert isinstance(outcome, LookupFailure) and "more than 100000 bytes" in outcome.reason


@pytest.mark.fuzz  # full size: a 30,000-version packument (4 MB)
def test_deep_and_huge_registry_documents_are_bounded(scripted: tuple[ScriptedServer, str]) -> None:
    server, url = scripted
    try:
        server.default = Answer(200, nested_text(100_000).encode())
        with RegistryClient(None, pypi_base=url, npm_base=url) as client:
            [result] = client.lookup_many([(Ecosystem.NPM, "deep")]).values()
        assert isinstance(result, LookupFailure) and result.kind == "malformed"
        versions = {f"1.{i}.0": {"peerDependencies": {"react": "^18 || ^19"}} for i in range(30_000)}
        times = {version: "2024-01-01T00:00:00Z" for version in versions}
        server.default = Answer(200, json.dumps({"name": "huge", "versions": versions, "time": times}).encode())
        with RegistryClient(None, pypi_base=url, npm_base=url) as client:
            [result] = bounded(lambda: client.lookup_many([(Ecosystem.NPM, "huge")])).values()
        assert isinstance(result, PackageInfo) and len(result.releases) == 30_000
    finally:
        server.default = Answer()


def test_osv_paging_is_bounded(scripted: tuple[ScriptedServer, str]) -> None:
    server, url = scripted
    server.answers = {"/v1/querybatch": Answer(200, b'{"results": [{"vulns": [], "next_page_token": "again"}]}')}
    try:
        answer = Auditor(None, url, timeout=5).vulnerabilities("npm", [("pkg", "1.0.0")])
    finally:
        server.answers = {}
    assert isinstance(answer, AuditFailure) and f"after {osv_module.MAX_PAGES} pages" in answer.reason


@pytest.mark.parametrize("endpoint", ["/v1/querybatch", "/v1/vulns/"])
def test_regression_deeply_nested_osv_answer_is_an_audit_failure(
    scripted: tuple[ScriptedServer, str], endpoint: str
) -> None:
    """``response.json()`` raised RecursionError (not ValueError) for an answer nested about 1000 deep, out of
    ``Auditor.vulnerabilities``, which promises an ``AuditFailure`` instead of any exception."""
    server, url = scripted
    batch = json.dumps({"results": [{"vulns": [{"id": "GHSA-x"}]}]}).encode()
    server.answers = {"/v1/querybatch": Answer(200, batch), endpoint: Answer(200, nested_text(5_000).encode())}
    try:
        answer = Auditor(None, url, timeout=5).vulnerabilities("npm", [("pkg", "1.0.0")])
    finally:
        server.answers = {}
    assert isinstance(answer, AuditFailure) and "not JSON" in answer.reason
    with pytest.raises(AuditError, match="not JSON"):
        parse_report(nested_text(5_000), ["pkg"])


def test_osv_answer_over_the_cap_is_refused_while_streaming(
    scripted: tuple[ScriptedServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OSV answers had no size limit (``response.json()`` read everything): now ``MAX_ANSWER_BYTES``."""
    server, url = scripted
    monkeypatch.setattr(osv_module, "MAX_ANSWER_BYTES", 100_000)
    server.answers = {"/v1/querybatch": Answer(200, b'{"results": [{}]}' + b" " * 200_000)}
    try:
        answer = Auditor(None, url, timeout=5).vulnerabilities("npm", [("pkg", "1.0.0")])
    finally:
        server.answers = {}
    assert isinstance(answer, AuditFailure) and "more than 100000 bytes" in answer.reason
