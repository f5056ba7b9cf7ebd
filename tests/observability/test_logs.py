"""Every log line of depup's own loggers emitted by the worker while it handles a real delivery (and the scans the
delivery asks for, and a /depup command) carries the delivery id, the installation, the repository and the job id
(docs/operations.md, "Logs"). The web process's intake lines carry the delivery id and the event."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from bot.core import logs
from bot.lifecycle.requests import request_scan
from tests.support.harness import Depup
from tests.test_e2e_upgrades import REPO, REQUIREMENTS, files

FIELDS = ("delivery", "installation", "repo", "job")
OWN = ("bot", "handlers", "config")
WRITER = "maint"
# Known exception: bot/risk/changelog.py logs the upstream project's repository under the same "repo" key, which then
# wins over the bound one on that line (the field is present, its value names another repository).
UPSTREAM_REPO = frozenset({"release notes unavailable"})


def captured(run: Callable[[], None]) -> list[dict[str, Any]]:
    """The JSON lines of depup's loggers (not rq's, httpx's...) logged while ``run`` runs, at DEBUG."""
    stream = io.StringIO()
    logs.configure("DEBUG", "json", stream)
    try:
        run()
    finally:
        logs.remove_handlers()
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if str(line.get("logger", "")).split(".")[0] in OWN]


def split(lines: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    web = [line for line in lines if line["logger"] == "bot.process.web"]
    return web, [line for line in lines if line["logger"] != "bot.process.web"]


def without(lines: list[dict[str, Any]], fields: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    found = [(line["logger"], line["message"], [f for f in fields if f not in line]) for line in lines]
    return [f for f in found if f[2]]


def installed(depup: Depup) -> int:
    fake = depup.fake
    fake.create_repo(REPO, files=files())
    fake.set_permission(REPO, WRITER, "write")
    installation = fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    return installation.id


def test_a_push_delivery_and_the_scan_it_asks_for(depup: Depup) -> None:
    installation = installed(depup)
    fake = depup.fake
    delivered = len(fake.deliveries)

    def push() -> None:
        fake.push(REPO, "main", {"requirements.txt": REQUIREMENTS + "attrs==20.3.0\n"}, message="Add attrs")
        depup.run_worker()

    web, worker = split(captured(push))
    deliveries = {d.delivery_id: d.event for d in fake.deliveries[delivered:]}
    assert {"handler done", "scan started"} <= {line["message"] for line in worker}
    assert without(worker, FIELDS) == []
    assert {line["delivery"] for line in worker} <= set(deliveries)
    assert "push" in {deliveries[line["delivery"]] for line in worker}
    assert {line["installation"] for line in worker} == {installation}
    assert {line["repo"] for line in worker if line["message"] not in UPSTREAM_REPO} == {REPO}
    jobs = {line["job"] for line in worker}
    assert any(j.startswith("delivery-") for j in jobs) and any(j.startswith("scan-") for j in jobs)
    assert web and without(web, ("delivery", "event")) == []


def test_a_command_comment(depup: Depup) -> None:
    installation = installed(depup)
    fake = depup.fake
    [pull, *_] = fake.pulls(REPO)

    def command() -> None:
        fake.comment(REPO, pull.number, WRITER, "/depup pause")
        depup.run_worker()

    _, worker = split(captured(command))
    [comment] = [d for d in fake.events("issue_comment", "created") if d.payload["comment"]["user"]["login"] == WRITER]
    assert any(line.get("handler", "").startswith("handlers.") for line in worker)
    assert without(worker, FIELDS) == []
    assert comment.delivery_id in {line["delivery"] for line in worker}
    assert {line["installation"] for line in worker} == {installation}
    assert {line["repo"] for line in worker} == {REPO}


def test_a_scan_without_a_delivery_names_installation_repo_and_job(depup: Depup) -> None:
    installation = installed(depup)

    def scheduled() -> None:
        assert request_scan(depup.rt.queue, depup.settings, REPO, "schedule")
        depup.run_worker()

    _, worker = split(captured(scheduled))
    assert "scan started" in {line["message"] for line in worker}
    assert without(worker, ("installation", "repo", "job")) == []
    assert {line["installation"] for line in worker} == {installation}
    assert all(line["job"].startswith("scan-") for line in worker)
