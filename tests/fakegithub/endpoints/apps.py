"""apps/* (JWT) and installation-scoped listings, plus /rate_limit."""

from __future__ import annotations

from ..responses import app_json, installation_json, repo_json, token_json
from ..state import ApiError, validation_failed
from ..templates import example
from .base import Ctx, Reply, created, op, paginate


@op("apps/get-authenticated")
def get_authenticated(ctx: Ctx) -> Reply:
    assert ctx.app is not None
    return Reply(200, app_json(ctx.world, ctx.app))


@op("apps/list-installations")
def list_installations(ctx: Ctx) -> Reply:
    w = ctx.world
    installs = [i for i in w.installations.values() if i.app is ctx.app and not i.deleted]
    page, headers = paginate(ctx, installs)
    return Reply(200, [installation_json(w, i) for i in page], headers)


@op("apps/create-installation-access-token")
def create_installation_access_token(ctx: Ctx) -> Reply:
    w = ctx.world
    inst = w.installations.get(ctx.int_param("installation_id"))
    if inst is None or inst.deleted or inst.app is not ctx.app:
        raise ApiError(404, "Not Found")
    visible = w.installation_repos(inst)
    names = ctx.arg("repositories")
    ids = ctx.arg("repository_ids")
    repos = None
    if names is not None or ids is not None:
        repos = []
        for name in names or []:
            found = next((r for r in visible if r.name.lower() == str(name).lower()), None)
            if found is None:
                raise validation_failed(
                    "Installation",
                    "There is at least one repository that does not exist "
                    "or is not accessible to the parent installation.",
                )
            repos.append(found)
        for repo_id in ids or []:
            found = next((r for r in visible if r.id == repo_id), None)
            if found is None:
                raise validation_failed(
                    "Installation",
                    "There is at least one repository that does not exist "
                    "or is not accessible to the parent installation.",
                )
            repos.append(found)
    token = w.issue_token(inst, repos, ctx.arg("permissions"))
    listed = repos if repos is not None else (visible if inst.repository_selection == "selected" else None)
    return created(token_json(w, token.token, token.expires_at, inst, listed))


@op("apps/list-repos-accessible-to-installation")
def list_installation_repos(ctx: Ctx) -> Reply:
    w = ctx.world
    token = ctx.identity.token
    assert token is not None
    repos = [r for r in w.installation_repos(token.installation) if w.token_can_see(token, r)]
    page, headers = paginate(ctx, repos)
    items = [repo_json(w, r, full=False, for_user=ctx.actor) for r in page]
    body = {"total_count": len(repos), "repository_selection": token.repository_selection, "repositories": items}
    return Reply(200, body, headers)


@op("rate-limit/get")
def rate_limit(ctx: Ctx) -> Reply:
    w = ctx.world
    if ctx.identity.token is not None:
        bucket = w.bucket(f"installation:{ctx.identity.token.installation.id}", 5000)
    elif ctx.identity.app is not None:
        bucket = w.bucket(f"app:{ctx.identity.app.id}", 5000)
    else:
        bucket = w.bucket("anonymous", 60)
    core = {"limit": bucket.limit, "used": bucket.used, "remaining": bucket.remaining, "reset": bucket.reset}
    body = example("rate-limit/get")
    for resource in body["resources"].values():
        resource.update(used=0, remaining=resource["limit"], reset=bucket.reset)
    body["resources"]["core"] = dict(core)
    body["rate"] = dict(core)
    return Reply(200, body)
