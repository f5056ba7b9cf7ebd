"""The repository's configuration as depup acts on it: ``.github/depup.yml`` on the default branch, else the
last valid version of it (its blob is kept in the dashboard state), else the defaults. A broken file never
stops depup and never silently becomes the defaults: the scan reports it (``depup/config`` check, dashboard)."""

from __future__ import annotations

import base64
from typing import Any

from redis import Redis

from bot.errors import ConfigInvalid, DepupError, NotFound
from bot.github.client import InstallationClient, json_body
from bot.lifecycle.snapshot import CONFIG_PATHS, blob
from bot.repos.registry import RepoRecord
from config.loader import default_config, load_config
from config.model import Config


def last_valid(gh: InstallationClient, record: RepoRecord, redis: Redis, config_blob: str | None) -> Config | None:
    """The configuration in blob ``config_blob`` (the last valid file), or None when there is none to read."""
    if not config_blob:
        return None
    try:
        return load_config(blob(gh, record.owner, record.name, config_blob, redis), CONFIG_PATHS[0])
    except (DepupError, ConfigInvalid):
        return None


def current_config(gh: InstallationClient, record: RepoRecord, redis: Redis, config_blob: str | None) -> Config:
    """The configuration in force, read through the contents API (for work that takes no snapshot)."""
    for path in CONFIG_PATHS:
        try:
            data: dict[str, Any] = json_body(
                gh.rest.repos.get_content(record.owner, record.name, path, ref=record.default_branch)
            )
        except NotFound:
            continue
        try:
            text = base64.b64decode(str(data.get("content") or "")).decode("utf-8")
            return load_config(text, path)
        except (ValueError, ConfigInvalid):
            return last_valid(gh, record, redis, config_blob) or default_config()
    return default_config()
