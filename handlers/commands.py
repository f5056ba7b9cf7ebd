"""``/depup`` commands in issue and pull request comments (SPEC §6): the handler turns the delivery into a
``CommentEvent``; ``bot.commands.run`` does the rest."""

from __future__ import annotations

from bot.commands.run import CommentEvent, handle_comment
from bot.core.delivery import Delivery
from bot.events.context import Context
from bot.events.router import Router

router = Router()


@router.on("issue_comment", "created", "edited")
def run_comment_commands(delivery: Delivery, ctx: Context) -> None:
    payload = delivery.fields
    full_name = delivery.repo_full_name
    record = ctx.repo(full_name) if full_name else None
    comment, issue = payload.obj("comment"), payload.obj("issue")
    comment_id, number = comment.number("id"), issue.number("number")
    if record is None or record.archived or not comment_id or not number:
        return
    old = payload.obj("changes").obj("body").text("from") if delivery.action == "edited" else None
    user = comment.obj("user")
    event = CommentEvent(
        number=number,
        is_pull=bool(issue.obj("pull_request").data),
        comment_id=comment_id,
        body=comment.text("body"),
        old_body=old if old else None,
        login=user.text("login"),
        user=user.raw(),
        url=comment.text("html_url"),
        delivery=delivery.delivery_id,
    )
    handle_comment(ctx.settings, ctx.redis, ctx.github, record, event)
