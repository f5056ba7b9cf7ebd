"""Routing of webhook deliveries to handler functions registered for ``(event, action)`` pairs.

Each ``handlers/`` module owns a ``Router`` and registers its functions with stacked decorators::

    router = Router()

    @router.on("installation", "created", "new_permissions_accepted")
    @router.on("installation_repositories", "added")
    def remember_repositories(delivery: Delivery, ctx: Context) -> None: ...

A root router includes the module routers; the worker asks it for every handler matching a delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.payload import Fields

if TYPE_CHECKING:
    from bot.context import Context


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery, as plain JSON values (what the queue carries)."""

    event: str
    action: str | None
    delivery_id: str
    installation_id: int | None
    payload: Mapping[str, Any]

    @property
    def repo_full_name(self) -> str | None:
        repo = self.payload.get("repository")
        name = repo.get("full_name") if isinstance(repo, Mapping) else None
        return name if isinstance(name, str) else None

    @property
    def fields(self) -> Fields:
        """Typed reads of the payload (``bot.payload``): what handlers take values out of it with."""
        return Fields(self.payload)

    @property
    def sender_login(self) -> str | None:
        sender = self.payload.get("sender")
        login = sender.get("login") if isinstance(sender, Mapping) else None
        return login if isinstance(login, str) else None

    def model(self) -> Any | None:
        """githubkit's typed model of the payload, or None when the payload does not fit it.

        GitHub's own example payloads often miss fields githubkit's strict models require; handlers
        must work from ``payload`` and treat the model as a convenience.
        """
        from githubkit.exception import WebhookTypeNotFound
        from githubkit.webhooks import parse_obj
        from pydantic import ValidationError

        try:
            return parse_obj(self.event, dict(self.payload))
        except (ValidationError, ValueError, KeyError, WebhookTypeNotFound):
            return None


Handler = Callable[[Delivery, "Context"], None]


def handler_name(func: Handler) -> str:
    return f"{func.__module__}.{func.__qualname__}"


@dataclass(frozen=True)
class Registration:
    event: str
    actions: frozenset[str] | None  # None: every action (and events without one)
    func: Handler

    def matches(self, event: str, action: str | None) -> bool:
        if event != self.event:
            return False
        return self.actions is None or (action is not None and action in self.actions)


class Router:
    def __init__(self) -> None:
        self._registrations: list[Registration] = []

    def on(self, event: str, *actions: str) -> Callable[[Handler], Handler]:
        """Register the decorated function for ``event`` with any of ``actions`` (all actions if none)."""

        def register(func: Handler) -> Handler:
            self._registrations.append(Registration(event, frozenset(actions) or None, func))
            return func

        return register

    def include(self, *routers: Router) -> None:
        for other in routers:
            self._registrations.extend(other._registrations)

    def handlers_for(self, event: str, action: str | None) -> list[Handler]:
        """Every distinct handler registered for this event and action, in registration order."""
        found: list[Handler] = []
        for registration in self._registrations:
            if registration.matches(event, action) and registration.func not in found:
                found.append(registration.func)
        return found

    @property
    def events(self) -> frozenset[str]:
        return frozenset(r.event for r in self._registrations)
