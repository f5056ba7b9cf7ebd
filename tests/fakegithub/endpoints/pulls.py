"""pulls/*: create, read, list, update, merge, files, commits, reviewers."""

from __future__ import annotations

from ..responses import commit_json, diff_entry_json, pull_json
from ..state import Pull, validation_failed
from .base import Ctx, Reply, created, op, paginate


def _pull(ctx: Ctx) -> Pull:
    return ctx.world.pull(ctx.repo, ctx.int_param("pull_number"))


@op("pulls/list")
def list_pulls(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    state = ctx.query.get("state", "open")
    pulls = [p for p in repo.pulls.values() if state == "all" or p.state == state]
    head = ctx.query.get("head")
    if head:
        owner, sep, branch = head.partition(":")
        if not sep:
            owner, branch = repo.owner.login, head
        pulls = [p for p in pulls if p.head_ref == branch and owner.lower() == repo.owner.login.lower()]
    if ctx.query.get("base"):
        pulls = [p for p in pulls if p.base_ref == ctx.query["base"]]
    sort = ctx.query.get("sort", "created")
    direction = ctx.query.get("direction", "desc" if sort == "created" else "asc")
    if sort == "updated":
        pulls.sort(key=lambda p: (p.issue.updated_at, p.number))
    elif sort == "long-running":
        pulls.sort(key=lambda p: (p.issue.created_at, p.number), reverse=True)
    else:
        pulls.sort(key=lambda p: (p.issue.created_at, p.number))
    if direction == "desc":
        pulls.reverse()
    page, headers = paginate(ctx, pulls)
    return Reply(200, [pull_json(w, repo, p, simple=True) for p in page], headers)


@op("pulls/create")
def create_pull(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    title = ctx.arg("title")
    if not title:
        raise validation_failed("PullRequest", field="title", code="missing_field")
    pull = w.open_pull(
        repo,
        str(ctx.arg("head")),
        str(ctx.arg("base")),
        str(title),
        ctx.arg("body"),
        ctx.actor,
        draft=bool(ctx.arg("draft", False)),
        maintainer_can_modify=bool(ctx.arg("maintainer_can_modify", False)),
        app=ctx.app,
    )
    body = pull_json(w, repo, pull)
    return created(body, body["url"])


@op("pulls/get")
def get_pull(ctx: Ctx) -> Reply:
    return Reply(200, pull_json(ctx.world, ctx.repo, _pull(ctx), consume=True))


@op("pulls/update")
def update_pull(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    pull = _pull(ctx)
    w.update_pull(
        repo,
        pull,
        ctx.actor,
        title=ctx.arg("title"),
        body=ctx.arg("body"),
        state=ctx.arg("state"),
        base=ctx.arg("base"),
    )
    if ctx.arg("maintainer_can_modify") is not None:
        pull.maintainer_can_modify = bool(ctx.arg("maintainer_can_modify"))
    return Reply(200, pull_json(w, repo, pull))


@op("pulls/merge")
def merge_pull(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    pull = _pull(ctx)
    outcome = w.merge_pull(
        repo,
        pull,
        ctx.actor,
        method=ctx.arg("merge_method", "merge"),
        sha=ctx.arg("sha"),
        commit_title=ctx.arg("commit_title"),
        commit_message=ctx.arg("commit_message"),
    )
    return Reply(200, {"sha": outcome.sha, "merged": True, "message": outcome.message})


@op("pulls/list-files")
def list_files(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    pull = _pull(ctx)
    page, headers = paginate(ctx, w.pull_files(repo, pull))
    return Reply(200, [diff_entry_json(w, repo, pull.head_sha, d) for d in page], headers)


@op("pulls/list-commits")
def list_commits(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    page, headers = paginate(ctx, w.pull_commits(repo, _pull(ctx)))
    return Reply(200, [commit_json(w, repo, sha) for sha in page], headers)


@op("pulls/request-reviewers")
def request_reviewers(ctx: Ctx) -> Reply:
    w, repo = ctx.world, ctx.repo
    pull = _pull(ctx)
    w.request_reviewers(repo, pull, [str(r) for r in ctx.arg("reviewers", [])], ctx.actor)
    body = pull_json(w, repo, pull, simple=True)
    return created(body, body["url"])
