"""issues/* and reactions/*: issues (PRs included, as on GitHub), comments, labels, reactions."""

from __future__ import annotations

from typing import Any

from ..responses import comment_json, issue_json, label_json, reaction_json
from ..state import ApiError, Issue, validation_failed
from .base import Ctx, Reply, created, op, paginate, parse_time


def _issue(ctx: Ctx) -> Issue:
    return ctx.world.issue(ctx.repo, ctx.int_param("issue_number"))


def _label_names(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = value.get("labels", [])
    if isinstance(value, str):
        return [value]
    names = []
    for item in value or []:
        names.append(str(item["name"]) if isinstance(item, dict) else str(item))
    return names


@op("issues/create")
def create_issue(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    assignees = list(ctx.arg("assignees") or [])
    if ctx.arg("assignee"):
        assignees.append(ctx.arg("assignee"))
    issue = w.create_issue(
        repo,
        str(ctx.arg("title")),
        ctx.arg("body"),
        ctx.actor,
        labels=_label_names(ctx.arg("labels")),
        assignees=assignees,
        app=ctx.app,
    )
    body = issue_json(w, repo, issue)
    return created(body, body["url"])


@op("issues/get")
def get_issue(ctx: Ctx) -> Reply:
    return Reply(200, issue_json(ctx.world, ctx.repo, _issue(ctx)))


@op("issues/list-for-repo")
def list_issues(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    state = ctx.query.get("state", "open")
    issues = [i for i in repo.issues.values() if state == "all" or i.state == state]
    if ctx.query.get("labels"):
        wanted = {n.strip().lower() for n in ctx.query["labels"].split(",") if n.strip()}
        issues = [i for i in issues if wanted <= {label.name.lower() for label in i.labels}]
    if ctx.query.get("creator"):
        issues = [i for i in issues if i.user.login.lower() == ctx.query["creator"].lower()]
    assignee = ctx.query.get("assignee")
    if assignee == "none":
        issues = [i for i in issues if not i.assignees]
    elif assignee and assignee != "*":
        issues = [i for i in issues if any(u.login.lower() == assignee.lower() for u in i.assignees)]
    since = parse_time(ctx.query.get("since"))
    if since is not None:
        issues = [i for i in issues if i.updated_at >= since]
    sort = ctx.query.get("sort", "created")
    key = {"updated": lambda i: (i.updated_at, i.number), "comments": lambda i: (len(i.comment_ids), i.number)}.get(
        sort, lambda i: (i.created_at, i.number)
    )
    issues.sort(key=key, reverse=ctx.query.get("direction", "desc") == "desc")
    page, headers = paginate(ctx, issues)
    return Reply(200, [issue_json(w, repo, i) for i in page], headers)


@op("issues/update")
def update_issue(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    issue = _issue(ctx)
    labels = _label_names(ctx.arg("labels")) if ctx.arg("labels") is not None else None
    assignees = ctx.arg("assignees")
    w.update_issue(
        repo,
        issue,
        ctx.actor,
        title=ctx.arg("title"),
        body=ctx.arg("body"),
        state=ctx.arg("state"),
        state_reason=ctx.arg("state_reason"),
        labels=labels,
        assignees=list(assignees) if assignees is not None else None,
    )
    return Reply(200, issue_json(w, repo, issue))


@op("issues/create-comment")
def create_comment(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    issue = _issue(ctx)
    body_text = ctx.arg("body")
    if not body_text:
        raise validation_failed("IssueComment", field="body", code="missing_field")
    comment = w.add_comment(repo, issue.number, ctx.actor, str(body_text), app=ctx.app)
    body = comment_json(w, repo, comment)
    return created(body, body["url"])


@op("issues/list-comments")
def list_comments(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    issue = _issue(ctx)
    comments = [repo.comments[c] for c in issue.comment_ids]
    since = parse_time(ctx.query.get("since"))
    if since is not None:
        comments = [c for c in comments if c.updated_at >= since]
    page, headers = paginate(ctx, comments)
    return Reply(200, [comment_json(w, repo, c) for c in page], headers)


@op("issues/update-comment")
def update_comment(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    comment = w.comment(repo, ctx.int_param("comment_id"))
    w.edit_comment(repo, comment, str(ctx.arg("body")), ctx.actor)
    return Reply(200, comment_json(w, repo, comment))


@op("issues/add-labels")
def add_labels(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    issue = _issue(ctx)
    w.add_labels(repo, issue, _label_names(ctx.body), ctx.actor)
    return Reply(200, [label_json(w, repo, label) for label in issue.labels])


@op("issues/remove-label")
def remove_label(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    issue = _issue(ctx)
    w.remove_label(repo, issue, ctx.params["name"], ctx.actor)
    return Reply(200, [label_json(w, repo, label) for label in issue.labels])


@op("issues/create-label")
def create_label(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    label = w.create_label(repo, str(ctx.arg("name")), ctx.arg("color"), ctx.arg("description"))
    body = label_json(w, repo, label)
    return created(body, body["url"])


@op("reactions/create-for-issue-comment")
def react_to_comment(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    comment = w.comment(repo, ctx.int_param("comment_id"))
    reaction, new = w.add_reaction(comment, ctx.actor, str(ctx.arg("content")))
    return Reply(201 if new else 200, reaction_json(w, reaction))


@op("reactions/create-for-issue")
def react_to_issue(ctx: Ctx) -> Reply:
    w = ctx.world
    issue = _issue(ctx)
    if issue.locked:
        raise ApiError(403, "Issue is locked")
    reaction, new = w.add_reaction(issue, ctx.actor, str(ctx.arg("content")))
    return Reply(201 if new else 200, reaction_json(w, reaction))
