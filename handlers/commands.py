"""``/depup`` commands in issue and pull request comments (SPEC §6): the handler turns the delivery into a
``CommentEvent``; ``bot.commands.run`` does the rest."""

from __future__ import annotations

from bot.commands.run import CommentEvent, handle_comment
from bot.context import Context
from bot.router import Delivery, Router

router = Router()


@router.on("issue_comment", "created", "edited")
def run_comment_commands(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.payload
    full_name = delivery.repo_full_name
    record = ctx.repos.get(full_name) if full_name else None
    comment = payload.get("comment") or {}
    issue = payload.get("issue") or {}
    if record is None or record.archived or not comment.get("id") or not issue.get("number"):
        return
    old = ((payload.get("changes") or {}).get("body") or {}).get("from") if delivery.action == "edited" else None
    user = comment.get("user") or {}
    event = CommentEvent(
        number=int(issue["number"]),
        is_pull=bool(issue.get("pull_request")),
        comment_id=int(comment["id"]),
        body=str(comment.get("body") or ""),
        old_body=str(old) if isinstance(old, str) else None,
        login=str(user.get("login", "")),
        user=dict(user),
        url=str(comment.get("html_url") or ""),
        delivery=delivery.delivery_id,
    )
    handle_comment(ctx.settings, ctx.redis, ctx.github, record, event)
