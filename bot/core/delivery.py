"""One webhook delivery as the queue carries it: plain JSON values, read through ``bot.core.payload.Fields``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.payload import Fields


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
        """Typed reads of the payload (``bot.core.payload``): what handlers take values out of it with."""
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
