"""The package data of ``config``: the JSON Schema and the defaults file."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """``config/schema.json``, parsed."""
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


def schema_text() -> str:
    return resources.files("config").joinpath("schema.json").read_text(encoding="utf-8")


def defaults_text() -> str:
    """``config/defaults.yml`` as written, comments included."""
    return resources.files("config").joinpath("defaults.yml").read_text(encoding="utf-8")
