"""Routing of webhook deliveries to handler functions registered for ``(event, action)`` pairs.

Each ``handlers/`` module owns a ``Router`` and registers its functions with stacked decorators::

    router = Router()

    @router.on("installation", "created", "new_permissions_accepted")
    @router.on("installation_repositories", "added")
    def remember_repositories(delivery: Delivery, ctx: Context) -> None: ...

A root router includes the module routers; the worker asks it for every handler matching a delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.delivery import Delivery

if TYPE_CHECKING:
    from bot.events.context import Context


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
