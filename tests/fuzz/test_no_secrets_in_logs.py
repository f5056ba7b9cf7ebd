"""No secret in any log line: the App's private key, the webhook secret, installation tokens, App JWTs.

A realistic flow runs end to end on real parts (fake GitHub -> signed webhooks over HTTP -> web -> Redis -> rq
worker -> GitHub as the installation) with depup's JSON logging at DEBUG capturing every line of the web
process, the worker and the libraries under them, plus whatever reached stdout/stderr. Error paths are driven on
purpose so exception logs are covered: unsigned and badly signed webhooks, GitHub answering 5xx until a job
fails, a refused token exchange, expired tokens, a registry that is down, and a comment command.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import logs
from bot.lifecycle.requests import request_scan
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup
from tests.support.http import send_webhook
from tests.support.registry_server import Fault as RegistryFault
from tests.support.registry_server import RegistryServer

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "peers" / "samples"
REPO = "octo-org/shop"
FILES = {
    "requirements.txt": "requests==2.22.0\nflask==1.1.2\n",
    "web/package.json": (SAMPLES / "js-app" / "package.json").read_text(),
    "web/package-lock.json": (SAMPLES / "js-app" / "package-lock.json").read_text(),
    ".github/depup.yml": "min_release_age: 0\nsecurity: {audit: false}\ngroups:\n  - {name: all, match: {}}\n",
}
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """depup's own handler, JSON, at DEBUG, on the root logger: what `depup web` and `depup worker` write."""
    stream = io.StringIO()
    logs.configure("DEBUG", "json", stream)
    try:
        yield stream
    finally:
        logs.remove_handlers()
        logging.getLogger().setLevel(logging.WARNING)


def secrets_of(fake: FakeGitHub) -> dict[str, str]:
    """Every secret the flow used, by what it is: key lines, the webhook secret, each token the fake issued."""
    found: dict[str, str] = {"webhook secret": fake.app.webhook_secret}
    key_lines = [line.strip() for line in fake.app.private_key_pem.strip().splitlines() if "-----" not in line]
    # Base64 lines of 64 characters; the short last line could occur by chance in any text, so it is checked
    # together with the end of the line before it.
    for index, line in enumerate(key_lines):
        found[f"private key line {index + 1}"] = line if len(line) >= 16 else key_lines[index - 1][-16:] + line
    with fake.world.lock:
        for token in fake.world.tokens:
            found[f"installation token {token[:8]}..."] = token
    return found


def test_no_secret_reaches_any_log_line(
    depup: Depup, captured: io.StringIO, registry_server: RegistryServer, capfd: pytest.CaptureFixture[str]
) -> None:
    fake = depup.fake
    fake.create_repo(REPO, files=FILES)
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    assert fake.pulls(REPO), "the flow opened pull requests (a realistic run, with tokens issued and used)"

    # Webhooks that are not from GitHub: unsigned, another secret, a signature of other bytes.
    payload = {"action": "created", "installation": {"id": 1}, "repository": {"full_name": REPO}}
    assert send_webhook(depup.web_url, "push", payload, None).status_code == 401
    assert send_webhook(depup.web_url, "push", payload, "not-the-secret").status_code == 401
    assert send_webhook(depup.web_url, "push", b"{}", fake.app.webhook_secret[::-1]).status_code == 401

    # GitHub down for a while: every attempt of a scan fails (exception logs with tracebacks).
    fake.inject("repos/get", kind="status", status=502, times=None)
    assert request_scan(depup.rt.queue, depup.settings, REPO, "fuzz: GitHub down", force=True)
    depup.run_worker()
    fake.clear_faults()

    # The cached token is gone (as after its hour); the exchange is refused once (401), then works again.
    fake.expire_tokens()
    depup.redis.delete(*depup.redis.keys("depup:ghauth:*"))
    fake.inject("apps/create-installation-access-token", kind="status", status=401, times=1)
    assert request_scan(depup.rt.queue, depup.settings, REPO, "fuzz: token refused", force=True)
    depup.run_worker()  # the first attempt fails at the exchange, rq's retry gets a new token

    # The registry failing, and a comment command with its reply.
    registry_server.inject("python", "requests", RegistryFault(status=500))
    [pull] = [p for p in fake.pulls(REPO) if p.head_ref.startswith("depup/python/")][:1]
    fake.comment(REPO, pull.number, "alice", "/depup help")
    assert request_scan(depup.rt.queue, depup.settings, REPO, "fuzz: registry down", force=True)
    depup.run_worker()

    lines = captured.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) > 100 and {r["level"] for r in records} >= {"DEBUG", "INFO", "WARNING", "ERROR"}
    assert any("Traceback" in r["message"] for r in records), "exception logs were produced and are checked"
    assert any(r.get("message") == "webhook refused: bad or missing signature" for r in records)
    out, err = capfd.readouterr()
    text = "\n".join([*lines, out, err])
    secrets = secrets_of(fake)
    assert sum(name.startswith("installation token") for name in secrets) >= 2
    leaked = sorted(name for name, value in secrets.items() if value in text)
    assert leaked == [], f"secrets in the logs: {leaked}"
    assert JWT.findall(text) == [], "an App JWT is in the logs"
    assert "ghs_" not in text, "something that looks like an installation token is in the logs"
