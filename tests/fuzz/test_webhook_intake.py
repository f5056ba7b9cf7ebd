"""Fuzzing ``POST /api/github/webhooks``: random and mutated bodies, random, missing, repeated and oversized headers,
lying Content-Lengths, correctly signed junk and correctly signed mutations of GitHub's own example payloads.

Requests go through the WSGI interface as gunicorn calls it (an environ with latin-1 header strings), so the
Content-Length header can disagree with the body. Properties, for every request:

- never a 5xx (the documented 503 needs Redis down, which these tests never arrange);
- without a valid signature: 401 whatever else is wrong (body size aside: 413 is checked first, on purpose),
  and nothing written to Redis (no job, no dedup key);
- with a valid signature: 200, 202 or 400 (413 when oversized); a job exists exactly when the answer is 202, and
  it carries the payload as sent; a well-formed delivery (valid headers, a JSON object not nested too deeply)
  is never refused.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson
import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from redis import Redis
from rq import Queue
from rq.job import Job
from werkzeug.http import parse_options_header
from werkzeug.test import EnvironBuilder, run_wsgi_app

from bot.core.serializer import JSONSerializer
from bot.core.settings import MAX_WEBHOOK_BYTES, Settings
from bot.process.web import MAX_PAYLOAD_DEPTH, WEBHOOK_PATH, create_app
from tests.fuzz.budget import Budget, bounded, budgets
from tests.fuzz.mutate import (
    deep_json_texts,
    json_values,
    mutated_bytes,
    mutated_json,
    nested,
    nested_text,
    one_of_items,
)
from tests.support import redisdb

SECRET = "fuzz-secret"
WEBHOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "webhooks"
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (path.parent.name, json.loads(path.read_text())) for path in sorted(WEBHOOKS.glob("*/*.json"))
]
EVENTS = sorted({event for event, _ in EXAMPLES})
PAYLOADS = [payload for _, payload in EXAMPLES]
RAW_PAYLOADS = [json.dumps(payload).encode() for payload in PAYLOADS]

# No Host: werkzeug's routing refuses some before the view (see test_hostile_host_headers_are_refused_cleanly).
HEADER_NAMES = [
    "X-Hub-Signature-256", "x-hub-signature-256", "X-Hub-Signature", "X-GitHub-Event", "x-github-event",
    "X-GitHub-Delivery", "X-GITHUB-DELIVERY", "Content-Type", "Content-Encoding", "Transfer-Encoding",
    "X-GitHub-Hook-ID", "User-Agent", "Expect", "X-Forwarded-For", "Cookie",
]  # fmt: skip
CONTENT_TYPES = [
    "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
    "application/json; charset=utf-16", "application/x-www-form-urlencoded; charset=latin-1", "", ";;;", "*/*",
]  # fmt: skip

# Header values as a WSGI server hands them over: latin-1 text without line breaks.
latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF) | st.sampled_from(["\t"]), max_size=80)
header_values = st.one_of(
    latin1,
    st.sampled_from(["", " ", "push", "ping", "PUSH", "sha256=", "sha1=00", "../../etc", "a" * 65, "é"]),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "0", "-", " ", "=", "\xff"]), st.integers(1, 20_000)),
)
header_names = st.sampled_from(HEADER_NAMES) | st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,30}", fullmatch=True).filter(
    lambda name: name.lower() != "host"
)
random_headers = st.lists(st.tuples(header_names, header_values), max_size=8)
bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"1e400", b'{"a": 1e400}', b'{"a": NaN}', b'{"a": -Infinity}', b"{}" * 2, b'{"a":1,"a":2}']),
    json_values().map(lambda v: json.dumps(v).encode()),
    one_of_items(RAW_PAYLOADS),
    mutated_bytes(RAW_PAYLOADS),
    mutated_json(PAYLOADS).map(lambda value: json.dumps(value).encode()),
    deep_json_texts().map(str.encode),
)
valid_events = st.sampled_from([*EVENTS, "ping", "push"]) | st.from_regex(r"[a-z_]{1,64}", fullmatch=True)
valid_deliveries = st.from_regex(r"[A-Za-z0-9-]{1,128}", fullmatch=True)
events = st.one_of(valid_events, header_values)
deliveries = st.one_of(valid_deliveries, header_values)


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def wrong_signatures(body: bytes) -> st.SearchStrategy[str | None]:
    right = signature(body)
    return st.one_of(
        st.none(),
        header_values,
        st.from_regex(r"sha256=[0-9a-f]{64}", fullmatch=True),
        st.just(signature(body, "another-secret")),
        st.just(signature(body + b" ")),
        st.just(right.upper()),
        st.just(right[:-1]),
        st.just(right + "0"),
        st.just(" " + right),
        st.just("sha1=" + right[7:]),
    )


class Intake:
    """The web app called as a WSGI server calls it, and what it left in Redis."""

    def __init__(self, app: Flask, redis: Redis) -> None:
        self.app = app
        self.redis = redis

    def post(
        self, body: bytes, headers: list[tuple[str, str]], *, content_length: str | None = None
    ) -> tuple[int, bytes]:
        builder = EnvironBuilder(path=WEBHOOK_PATH, method="POST", headers=headers)
        environ = builder.get_environ()
        builder.close()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body)) if content_length is None else content_length
        if not environ["CONTENT_LENGTH"]:
            del environ["CONTENT_LENGTH"]
        for name, value in headers:  # EnvironBuilder drops or rewrites these two; a server passes them through
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            if name.lower() == "transfer-encoding":
                environ["HTTP_TRANSFER_ENCODING"] = value
        app_iter, status, _ = bounded(lambda: run_wsgi_app(self.app.wsgi_app, environ, buffered=True))
        answer = b"".join(app_iter)
        return int(status.split(" ", 1)[0]), answer

    def jobs(self) -> list[str]:
        return Queue("depup", connection=self.redis, serializer=JSONSerializer).get_job_ids()

    def written(self) -> list[bytes]:
        keys: list[bytes] = self.redis.keys("*")  # type: ignore[assignment]
        return [k for k in keys if k != redisdb.CLAIM_KEY.encode()]

    def reset(self) -> None:
        redisdb.reset(self.redis)


@pytest.fixture
def intake(redis_url: str, redis_client: Redis) -> Iterator[Intake]:
    yield Intake(create_app(Settings(redis_url=redis_url, webhook_secret=SECRET)), redis_client)


def signed_headers(
    body: bytes, event: str, delivery: str, content_type: str = "application/json"
) -> list[tuple[str, str]]:
    return [
        ("Content-Type", content_type),
        ("X-GitHub-Event", event),
        ("X-GitHub-Delivery", delivery),
        ("X-Hub-Signature-256", signature(body)),
    ]


def assert_json_answer(status: int, answer: bytes) -> None:
    assert status < 500, (status, answer[:300])
    document = json.loads(answer)
    assert isinstance(document, dict)
    assert ("error" in document) == (status >= 400)


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_requests_without_a_valid_signature_are_401_and_write_nothing(budget: Budget, intake: Intake) -> None:
    @budget.settings()
    @given(body=bodies, headers=random_headers, data=st.data())
    def check(body: bytes, headers: list[tuple[str, str]], data: st.DataObject) -> None:
        budget.count()
        intake.reset()
        sent = [h for h in headers if h[0].lower() != "x-hub-signature-256"]
        wrong = data.draw(wrong_signatures(body))
        if wrong is not None:
            sent.insert(data.draw(st.integers(0, len(sent))), ("X-Hub-Signature-256", wrong))
        status, answer = intake.post(body, sent)
        assert_json_answer(status, answer)
        assert status == 401, (status, answer[:200])
        assert intake.written() == []

    budget.run("webhook: unsigned or badly signed requests", check)


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_signed_requests_never_fail_and_enqueue_exactly_what_is_accepted(budget: Budget, intake: Intake) -> None:
    @budget.settings()
    @given(
        body=bodies,
        event=events,
        delivery=deliveries,
        content_type=st.sampled_from(CONTENT_TYPES) | latin1,
        extra=random_headers,
    )
    def check(body: bytes, event: str, delivery: str, content_type: str, extra: list[tuple[str, str]]) -> None:
        budget.count()
        intake.reset()
        headers = signed_headers(body, event, delivery, content_type)
        # Not Transfer-Encoding: a server decodes a chunked body before the app sees it (unsigned tests send it).
        taken = {n.lower() for n, _ in headers} | {"transfer-encoding"}
        headers += [h for h in extra if h[0].lower() not in taken]
        status, answer = intake.post(body, headers)
        assert_json_answer(status, answer)
        assert status in (200, 202, 400), (status, answer[:200])
        jobs = intake.jobs()
        assert len(jobs) == (1 if status == 202 else 0)
        if status == 202:
            job = Job.fetch(jobs[0], connection=intake.redis, serializer=JSONSerializer)
            assert job.kwargs["delivery_id"] == delivery and job.kwargs["event"] == event
        well_formed = _object_payload(body, content_type)
        if (
            well_formed is not None
            and valid_header(event, r"[a-z_]{1,64}")
            and valid_header(delivery, r"[A-Za-z0-9-]{1,128}")
        ):
            assert status == (200 if event == "ping" else 202), (status, answer[:200])

    budget.run("webhook: signed requests with random headers and bodies", check)


@pytest.mark.parametrize("budget", budgets(quick=25))
def test_mutated_github_payloads_are_accepted_or_refused_cleanly(budget: Budget, intake: Intake) -> None:
    @budget.settings()
    @given(
        payload=mutated_json(PAYLOADS),
        event=st.sampled_from(EVENTS),
        delivery=valid_deliveries,
        form=st.booleans(),
    )
    def check(payload: Any, event: str, delivery: str, form: bool) -> None:
        budget.count()
        intake.reset()
        text = json.dumps(payload).encode()  # not orjson: the mutations include integers past 64 bits
        body = urlencode({"payload": text.decode()}).encode() if form else text
        content_type = "application/x-www-form-urlencoded" if form else "application/json"
        status, answer = intake.post(body, signed_headers(body, event, delivery, content_type))
        assert_json_answer(status, answer)
        ok = isinstance(payload, dict) and not _deeper_than(payload, MAX_PAYLOAD_DEPTH)
        assert status == ((200 if event == "ping" else 202) if ok else 400), (status, answer[:200])
        jobs = intake.jobs()
        assert len(jobs) == (1 if status == 202 else 0)
        if status == 202:
            job = Job.fetch(jobs[0], connection=intake.redis, serializer=JSONSerializer)
            assert job.kwargs["payload"] == orjson.loads(text)

    budget.run("webhook: signed mutations of GitHub's example payloads", check)


@pytest.mark.parametrize("budget", budgets(quick=25))
def test_content_length_that_lies_never_fails_and_enqueues_only_what_was_signed(budget: Budget, intake: Intake) -> None:
    @budget.settings()
    @given(
        body=bodies,
        declared=st.one_of(
            st.integers(min_value=-5, max_value=400).map(str),
            st.sampled_from(["", "abc", "1e3", " 12", "0x10", str(MAX_WEBHOOK_BYTES + 1), str(2**70)]),
        ),
        sign_prefix=st.booleans(),
    )
    def check(body: bytes, declared: str, sign_prefix: bool) -> None:
        budget.count()
        intake.reset()
        length = int(declared) if declared.isdigit() else None
        signed = body[:length] if sign_prefix and length is not None else body
        status, answer = intake.post(body, signed_headers(signed, "push", "d-1"), content_length=declared)
        assert_json_answer(status, answer)
        if length is not None and length > MAX_WEBHOOK_BYTES:
            assert status == 413
        if status == 202:
            job = Job.fetch(intake.jobs()[0], connection=intake.redis, serializer=JSONSerializer)
            assert orjson.dumps(job.kwargs["payload"]) == orjson.dumps(orjson.loads(signed))
        else:
            assert intake.jobs() == []

    budget.run("webhook: Content-Length disagreeing with the body", check)


# -- bounds and regressions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_PAYLOAD_DEPTH + 1, 255, 300, 1000, 1024])
def test_regression_deeply_nested_payload_is_400_not_500(intake: Intake, depth: int) -> None:
    """Found by fuzzing: orjson reads 1024 levels but the job serializer writes 254, so a signed payload nested
    255..1024 deep made enqueue raise (500). It is now refused as a bad request, before Redis is touched."""
    body = ('{"a":' + nested_text(depth - 1) + "}").encode()
    value = orjson.loads(body)
    assert isinstance(value, dict) and _deeper_than(value, depth - 1) and not _deeper_than(value, depth)
    status, answer = intake.post(body, signed_headers(body, "push", "deep"))
    assert status == 400 and b"nested" in answer
    assert intake.written() == []


def test_payload_at_the_depth_limit_is_accepted(intake: Intake) -> None:
    payload = object_nested(MAX_PAYLOAD_DEPTH)
    assert not _deeper_than(payload, MAX_PAYLOAD_DEPTH)
    body = orjson.dumps(payload)
    status, _ = intake.post(body, signed_headers(body, "push", "at-limit"))
    assert status == 202


def test_oversized_declared_length_is_413_before_the_signature(intake: Intake) -> None:
    status, _ = intake.post(b"{}", signed_headers(b"{}", "push", "big"), content_length=str(MAX_WEBHOOK_BYTES + 1))
    assert status == 413
    status, _ = intake.post(b"{}", [("X-GitHub-Event", "push")], content_length=str(10**12))
    assert status == 413
    assert intake.written() == []


@pytest.mark.fuzz  # full size: 20 MB
def test_a_large_signed_payload_is_accepted_in_bounded_time(intake: Intake) -> None:
    """A 20 MB payload of 100,000 commits (GitHub's cap is 25 MB): parsed, depth-checked and enqueued in seconds."""
    commits = [{"id": f"{i:040x}", "added": ["x" * 150]} for i in range(100_000)]
    payload = {"ref": "refs/heads/main", "commits": commits}
    body = orjson.dumps(payload)
    assert 15_000_000 < len(body) < MAX_WEBHOOK_BYTES
    status, _ = bounded(lambda: intake.post(body, signed_headers(body, "push", "large")))
    assert status == 202


@pytest.mark.parametrize("host", ["", " ", "a b", "\xff", "x:99999", "[::1", "a/b", "0" * 64, "x." * 200])
def test_hostile_host_headers_are_refused_cleanly(intake: Intake, host: str) -> None:
    """werkzeug's routing answers 400 itself for a Host it cannot read (e.g. a label over 63 characters); the
    view answers 401 for the rest. Either way: no 5xx, nothing written, signed or not."""
    body = b"{}"
    for headers in ([], signed_headers(body, "push", "host")):
        status, _ = intake.post(body, [*headers, ("Host", host)])
        assert status in (400, 401) if not headers else status in (202, 400)
    assert len(intake.jobs()) <= 1


def test_oversized_header_values_are_refused_cleanly(intake: Intake) -> None:
    body = b"{}"
    for name in ("X-GitHub-Event", "X-GitHub-Delivery"):
        headers = [h for h in signed_headers(body, "push", "d-1") if h[0] != name] + [(name, "a" * 65_536)]
        assert intake.post(body, headers)[0] == 400
    headers = [h for h in signed_headers(body, "push", "d-1") if h[0] != "X-Hub-Signature-256"]
    assert intake.post(body, [*headers, ("X-Hub-Signature-256", "sha256=" + "0" * 65_536)])[0] == 401
    assert intake.written() == []


# -- helpers ----------------------------------------------------------------------------------------------------


def object_nested(depth: int) -> dict[str, Any]:
    """A JSON object whose objects and arrays nest ``depth`` levels (the root counts as one)."""
    return {"a": nested(depth - 1)}


def valid_header(value: str, pattern: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def _object_payload(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The payload a correct intake must accept: a JSON object (form field ``payload`` for form bodies)."""
    mimetype = parse_options_header(content_type)[0].lower()
    text: bytes | str = body
    if mimetype == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("utf-8", "replace")).get("payload")
        if not values:
            return None
        text = values[0]
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) and not _deeper_than(value, MAX_PAYLOAD_DEPTH) else None


def _deeper_than(value: Any, limit: int) -> bool:
    """The test's own depth count (objects and arrays, the root included), independent of bot.process.web's."""
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict | list):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (current.values() if isinstance(current, dict) else current))
    return False
