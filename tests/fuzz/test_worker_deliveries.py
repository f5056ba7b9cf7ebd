"""Fuzzing the worker with hostile webhook payloads: every handler, on real parts.

The web process checks that a payload is a signed JSON object; what is inside is the handlers' business, and
it can be odd even from GitHub (its own examples lack fields, events change shape over the years). The bases
are the deliveries the fake GitHub sent during a real flow (installation, phase 1's pull request, CI results,
comment commands, a push, the merge, deployments), so mutations reach deep into the handlers for a repository
depup knows. Each example is one mutated delivery run by ``bot.jobs.process_delivery`` as the worker runs it.

Properties, for every delivery:

- the job ends, or fails with depup's own errors only: a GitHub refusal of a request made from nonsense is a
  ``GitHubError``; a payload depup cannot use is a ``MalformedPayload``, acknowledged without a retry (trying
  again cannot help); never a ``KeyError``, ``TypeError`` or other programming error;
- no request depup sends GitHub because of a payload is invalid against GitHub's OpenAPI description;
- the worker survives: after the run, the real flow goes on (a scan of the repository works).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import DepupError
from bot.jobs import HandlersFailed, process_delivery
from bot.lifecycle.requests import queued_key, request_scan
from handlers import router
from tests.fakegithub import FakeGitHub
from tests.fuzz.budget import Budget, budgets
from tests.fuzz.mutate import json_values, mutated_json, one_of_items
from tests.support.harness import Depup

REPO = "octo-org/fuzzed"
WRITER = "maint"
FILES = {
    "requirements.txt": "click==7.0\nidna==2.10\n",
    ".github/depup.yml": (
        "min_release_age: 0\nsecurity: {audit: false}\nrisk: {high_at: 99}\ngroups:\n  - {name: all, match: {}}\n"
        "health_check: {environments: [production], urls: [], soak: 1s}\nrollback: {auto: true}\n"
    ),
}


class Failures(logging.Handler):
    """The exceptions of every ``handler failed`` log line (process_delivery reports each failing handler)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[tuple[str, BaseException]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append((str(getattr(record, "handler", "?")), record.exc_info[1]))


@pytest.fixture
def failures() -> Iterator[Failures]:
    handler = Failures()
    logger = logging.getLogger("bot.jobs")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def real_flow(depup: Depup) -> list[tuple[str, str | None, int | None, dict[str, Any]]]:
    """A flow that makes GitHub send every event depup handles; the deliveries it sent, as bases."""
    fake = depup.fake
    fake.create_repo(REPO, files=FILES)
    fake.set_permission(REPO, WRITER, "write")
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    [pull] = fake.pulls(REPO)
    fake.set_status(REPO, pull.head_sha, context="ci/test", state="success")
    fake.create_check_run(REPO, pull.head_sha, name="tests", status="completed", conclusion="success")
    fake.comment(REPO, pull.number, WRITER, "/depup help")
    fake.comment(REPO, pull.number, "someone", "looks good to me")
    depup.run_worker()
    fake.push(REPO, "main", {"README.md": "hello\n"}, message="docs")
    sha = fake.merge_pull(REPO, pull.number, by=WRITER)
    fake.set_status(REPO, sha, context="ci/test", state="success")
    deployment = fake.create_deployment(REPO, sha, environment="production")
    fake.add_deployment_status(REPO, deployment.id, "success")
    depup.run_worker()
    fake.wait_for_deliveries()
    bases = [
        (d.event, d.action, d.installation_id, d.payload)
        for d in fake.deliveries
        if router.handlers_for(d.event, d.action)
    ]
    assert {event for event, *_ in bases} >= {
        "installation", "push", "pull_request", "status", "check_run", "issue_comment", "deployment_status",
    }  # fmt: skip
    return bases


def programming_errors(failures: Failures) -> list[str]:
    found = []
    for handler, error in failures.errors:
        cause = error.__cause__ if isinstance(error, HandlersFailed) else error
        if not isinstance(cause, DepupError):
            found.append(f"{handler}: {type(cause).__name__}: {cause}")
    return found


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_mutated_deliveries_fail_only_with_depup_errors(budget: Budget, depup: Depup, failures: Failures) -> None:
    bases = real_flow(depup)
    fake: FakeGitHub = depup.fake
    fake.reset_calls()
    reached = [0]  # examples whose handlers called GitHub or queued a scan: the mutations reach past the first checks
    actions = st.sampled_from(sorted({a for _, a, _, _ in bases if a} | {"created", "edited", "closed"}))

    @budget.settings()
    @given(
        index=one_of_items(range(len(bases))),
        payload=st.data(),
        action=st.one_of(st.none(), st.none(), st.none(), actions),  # mostly the delivery's own
        installation=st.one_of(st.none(), st.none(), st.none(), st.sampled_from([0, -1, 2**63 - 1, 987654])),
    )
    def check(index: int, payload: st.DataObject, action: str | None, installation: int | None) -> None:
        budget.count()
        event, base_action, installation_id, base = bases[index]
        # The web process takes JSON objects only: a mutation of the whole document into something else is dropped.
        mutated = mutated_json([base])
        document = payload.draw(
            st.one_of(mutated, mutated, mutated, json_values(10)).filter(lambda v: isinstance(v, dict))
        )
        failures.errors.clear()
        depup.rt.queue.empty()
        depup.redis.delete(queued_key(REPO))
        calls = fake.count()
        try:
            result = process_delivery(
                event,
                action or base_action,
                f"fuzz-{budget.calls}",
                installation if installation is not None else installation_id,
                document,
            )
        except HandlersFailed:
            pass
        else:
            assert isinstance(result, dict)
        assert programming_errors(failures) == []
        assert fake.violations == []
        reached[0] += fake.count() > calls or depup.rt.queue.count > 0

    budget.run("worker: mutated deliveries of every handled event", check)
    # Hypothesis starts from simple examples, so a short run reaches less: a twentieth of a full run must act.
    wanted = 1 if budget.name == "quick" else budget.examples // 20
    assert reached[0] >= wanted, f"only {reached[0]} of {budget.calls} examples made depup act"
    depup.redis.delete(queued_key(REPO))
    assert request_scan(depup.rt.queue, depup.settings, REPO, "after the fuzzing", force=True)
    depup.run_worker()
    assert fake.violations == []
