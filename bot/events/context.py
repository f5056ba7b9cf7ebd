"""What a handler gets besides the delivery: settings, Redis, and GitHub clients for its installation."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from redis import Redis

from bot.core.queue import make_queue
from bot.core.settings import Settings
from bot.errors import DepupError
from bot.github.client import GitHubClients, InstallationClient
from bot.lifecycle.requests import request_scan
from bot.repos.recovery import find_repo
from bot.repos.registry import RepoRecord, RepoRegistry


@dataclass
class Context:
    settings: Settings
    redis: Redis
    clients: GitHubClients
    installation_id: int | None
    log: logging.Logger
    _installation_client: InstallationClient | None = field(default=None, repr=False)

    @property
    def github(self) -> InstallationClient:
        """A client authenticated as the delivery's installation (created once per job)."""
        if self.installation_id is None:
            raise DepupError("this delivery carries no installation: no installation client")
        if self._installation_client is None:
            self._installation_client = self.clients.installation(self.installation_id)
        return self._installation_client

    @property
    def repos(self) -> RepoRegistry:
        return RepoRegistry(self.redis)

    def repo(self, full_name: str) -> RepoRecord | None:
        """The registry's record of ``full_name``, the registry rebuilt from GitHub first when it has none and is
        not known to be complete (Redis lost its data): ``bot.repos.recovery.find_repo``."""
        return find_repo(self.redis, self.settings, self.clients, full_name)

    def request_scan(self, full_name: str, reason: str, delivery: str = "") -> bool:
        """Queue a scan of ``full_name`` (at most one waits per repository)."""
        return request_scan(make_queue(self.redis, self.settings), self.settings, full_name, reason, delivery=delivery)
