from __future__ import annotations

from bot.core.delivery import Delivery
from bot.events.context import Context
from bot.events.router import Router, handler_name

calls: list[str] = []


def make_router() -> Router:
    router = Router()

    @router.on("installation", "created")
    @router.on("installation_repositories", "added", "removed")
    def repos(delivery: Delivery, ctx: Context) -> None:
        calls.append("repos")

    @router.on("push")
    def any_push(delivery: Delivery, ctx: Context) -> None:
        calls.append("push")

    @router.on("installation")
    def every_installation_action(delivery: Delivery, ctx: Context) -> None:
        calls.append("all")

    return router


def names(router: Router, event: str, action: str | None) -> list[str]:
    return [f.__name__ for f in router.handlers_for(event, action)]


def test_stacked_registrations_and_action_filters() -> None:
    router = make_router()
    assert names(router, "installation", "created") == ["repos", "every_installation_action"]
    assert names(router, "installation", "deleted") == ["every_installation_action"]
    assert names(router, "installation_repositories", "removed") == ["repos"]
    assert names(router, "installation_repositories", None) == []
    assert names(router, "push", None) == ["any_push"]
    assert names(router, "unknown_event", "x") == []


def test_a_function_matching_twice_runs_once_and_include_combines() -> None:
    inner = Router()

    @inner.on("issue_comment", "created")
    @inner.on("issue_comment")
    def comment(delivery: Delivery, ctx: Context) -> None: ...

    root = Router()
    root.include(make_router(), inner)
    assert names(root, "issue_comment", "created") == ["comment"]
    assert root.events == {"installation", "installation_repositories", "push", "issue_comment"}
    assert handler_name(comment).endswith(
        "test_a_function_matching_twice_runs_once_and_include_combines.<locals>.comment"
    )


def test_delivery_helpers_tolerate_odd_payloads() -> None:
    odd = Delivery("push", None, "d", None, {"repository": "not-an-object", "sender": None})
    assert odd.repo_full_name is None
    assert odd.sender_login is None
    ok = Delivery("push", None, "d", 1, {"repository": {"full_name": "o/r"}, "sender": {"login": "alice"}})
    assert ok.repo_full_name == "o/r"
    assert ok.sender_login == "alice"
    assert ok.model() is None  # far from a complete push payload: no model, no exception


def test_every_published_payload_gives_a_model_or_none_never_an_error() -> None:
    import json
    from pathlib import Path

    webhooks = Path(__file__).parent / "fixtures" / "github" / "webhooks"
    parsed = 0
    for entry in json.loads((webhooks / "index.json").read_text())["files"]:
        payload = json.loads((webhooks / entry["file"]).read_text())
        parsed += Delivery(entry["event"], payload.get("action"), "d", None, payload).model() is not None
    assert parsed == 58  # of 98: the rest miss fields githubkit's strict models require; handlers use the raw dict
    assert Delivery("not_an_event", None, "d", None, {}).model() is None
