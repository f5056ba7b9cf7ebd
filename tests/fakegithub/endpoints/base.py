"""What every REST handler gets (Ctx) and returns (Reply), the registry, and pagination."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from ..auth import Identity
from ..state import ApiError, App, Repo, User
from ..world import World

T = TypeVar("T")
Handler = Callable[["Ctx"], "Reply"]
HANDLERS: dict[str, Handler] = {}


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    world: World
    operation_id: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    found_repo: Repo | None
    identity: Identity
    base_url: str

    @property
    def repo(self) -> Repo:
        if self.found_repo is None:
            raise ApiError(404, "Not Found")
        return self.found_repo

    @property
    def app(self) -> App | None:
        return self.identity.app

    @property
    def actor(self) -> User:
        """The user GitHub attributes the call to: the app's bot user."""
        if self.identity.app is not None:
            return self.identity.app.bot
        return self.world.user("ghost")

    def arg(self, name: str, default: Any = None) -> Any:
        if isinstance(self.body, dict):
            return self.body.get(name, default)
        return default

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except (KeyError, ValueError):
            raise ApiError(404, "Not Found") from None

    def int_query(self, name: str, default: int) -> int:
        try:
            return int(self.query.get(name, default))
        except ValueError:
            return default


def op(operation_id: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[operation_id] = handler
        return handler

    return register


def paginate(ctx: Ctx, items: Sequence[T]) -> tuple[list[T], dict[str, str]]:
    """One page (per_page default 30, max 100) and GitHub's Link header for the others."""
    per_page = min(max(ctx.int_query("per_page", 30), 1), 100)
    page = max(ctx.int_query("page", 1), 1)
    last = max(1, math.ceil(len(items) / per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])

    def url(n: int) -> str:
        return f"{ctx.base_url}?{urlencode({**ctx.query, 'per_page': per_page, 'page': n})}"

    links = []
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"']
    return chunk, ({"Link": ", ".join(links)} if links else {})


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"Invalid date: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def created(body: Any, location: str | None = None) -> Reply:
    return Reply(201, body, {"Location": location} if location else {})
