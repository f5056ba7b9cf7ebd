"""git/*: refs, blobs, trees and commits (the Git database API)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ..git import Signature
from ..responses import blob_json, git_commit_json, ref_json, tree_json
from ..state import ApiError, Repo, User, validation_failed
from .base import Ctx, Reply, created, op, parse_time

SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def _full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/{ref}"


def _valid_ref_name(ref: str) -> bool:
    if not ref.startswith("refs/") or ref.count("/") < 2 or ref.endswith("/") or ref.endswith(".lock"):
        return False
    bad = ("..", "//", "@{", "\\", " ", "~", "^", ":", "?", "*", "[")
    return not any(b in ref for b in bad)


@op("git/get-ref")
def get_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo
    ref = _full_ref(ctx.params["ref"])
    sha = repo.refs.get(ref)
    if sha is None:
        raise ApiError(404, "Not Found")
    return Reply(200, ref_json(ctx.world, repo, ref, sha))


@op("git/create-ref")
def create_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo
    ref, sha = str(ctx.arg("ref")), str(ctx.arg("sha"))
    if not _valid_ref_name(ref):
        raise ApiError(422, f"{ref} is not a valid ref name.")
    if repo.store.kind(sha) is None:
        raise ApiError(422, "Object does not exist")
    if ref in repo.refs:
        raise ApiError(422, "Reference already exists")
    ctx.world.set_ref(repo, ref, sha, ctx.actor)
    body = ref_json(ctx.world, repo, ref, sha)
    return created(body, body["url"])


@op("git/update-ref")
def update_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo
    ref = _full_ref(ctx.params["ref"])
    sha = str(ctx.arg("sha"))
    current = repo.refs.get(ref)
    if current is None:
        raise ApiError(422, "Reference does not exist")
    if not repo.store.is_commit(sha):
        raise ApiError(422, "Object does not exist")
    if not ctx.arg("force", False) and not repo.store.is_ancestor(current, sha):
        raise ApiError(422, "Update is not a fast forward")
    ctx.world.set_ref(repo, ref, sha, ctx.actor)
    return Reply(200, ref_json(ctx.world, repo, ref, sha))


@op("git/delete-ref")
def delete_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo
    ref = _full_ref(ctx.params["ref"])
    if ref not in repo.refs:
        raise ApiError(422, "Reference does not exist")
    ctx.world.set_ref(repo, ref, None, ctx.actor)
    return Reply(204)


@op("git/create-blob")
def create_blob(ctx: Ctx) -> Reply:
    repo = ctx.repo
    content = ctx.arg("content")
    encoding = ctx.arg("encoding", "utf-8")
    if encoding == "base64":
        try:
            data = base64.b64decode(str(content), validate=False)
        except (binascii.Error, ValueError):
            raise validation_failed("Blob", "content is not valid Base64", field="content") from None
    elif encoding in ("utf-8", "utf8"):
        data = str(content).encode()
    else:
        raise validation_failed("Blob", f"encoding {encoding} is not supported", field="encoding")
    sha = repo.store.add_blob(data)
    body = blob_json(ctx.world, repo, sha, created=True)
    return created(body, body["url"])


@op("git/get-blob")
def get_blob(ctx: Ctx) -> Reply:
    repo = ctx.repo
    sha = ctx.params["file_sha"]
    if not repo.store.is_blob(sha):
        raise ApiError(404, "Not Found")
    return Reply(200, blob_json(ctx.world, repo, sha))


@op("git/create-tree")
def create_tree(ctx: Ctx) -> Reply:
    repo = ctx.repo
    base_tree = ctx.arg("base_tree")
    if base_tree is not None:
        if repo.store.is_commit(base_tree):
            base_tree = repo.store.commit(base_tree).tree
        elif not repo.store.is_tree(base_tree):
            raise validation_failed("Tree", "base_tree is not a valid tree", field="base_tree")
    sha = ctx.world.apply_tree(repo, base_tree, list(ctx.arg("tree", [])))
    body = tree_json(ctx.world, repo, sha)
    return created(body, body["url"])


@op("git/get-tree")
def get_tree(ctx: Ctx) -> Reply:
    repo = ctx.repo
    key = ctx.params["tree_sha"]
    if repo.store.is_tree(key):
        sha = key
    else:
        commit = repo.resolve(key)
        if commit is None:
            raise ApiError(404, "Not Found")
        sha = repo.store.commit(commit).tree
    recursive = "recursive" in ctx.query
    return Reply(200, tree_json(ctx.world, repo, sha, recursive=recursive))


def _signature(value: Any, fallback: User, ctx: Ctx) -> Signature:
    if not isinstance(value, dict):
        return ctx.world.signature(fallback)
    when = parse_time(value.get("date")) or ctx.world.now()
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "-" if minutes < 0 else "+"
    tz = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return Signature(str(value["name"]), str(value["email"]), int(when.timestamp()), tz)


@op("git/create-commit")
def create_commit(ctx: Ctx) -> Reply:
    repo = ctx.repo
    tree = str(ctx.arg("tree"))
    parents = [str(p) for p in ctx.arg("parents", [])]
    if not repo.store.is_tree(tree):
        raise ApiError(422, "Tree SHA does not exist")
    for parent in parents:
        if not repo.store.is_commit(parent):
            raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    author = _signature(ctx.arg("author"), ctx.actor, ctx)
    committer = _signature(ctx.arg("committer"), ctx.actor, ctx) if ctx.arg("committer") else author
    sha = repo.store.add_commit(tree, parents, str(ctx.arg("message")), author, committer)
    body = git_commit_json(ctx.world, repo, sha)
    return created(body, body["url"])


@op("git/get-commit")
def get_commit(ctx: Ctx) -> Reply:
    repo = ctx.repo
    sha = ctx.params["commit_sha"]
    if not repo.store.is_commit(sha):
        raise ApiError(404, "Not Found")
    return Reply(200, git_commit_json(ctx.world, repo, sha))


def resolve_or_422(repo: Repo, ref: str) -> str:
    sha = repo.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha
