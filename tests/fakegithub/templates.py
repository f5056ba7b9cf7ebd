"""GitHub's published examples (tests/fixtures/github) used as templates for what the fake sends.

- example(operation_id): an official response example of a REST operation (api-responses/).
- webhook_template(event, action): the newest real payload of that event/action that is valid against
  Octokit's schema (webhooks/).
- shape(template, value): the template deep-copied with value's data laid over it; with
  strict=True only the template's keys are kept (webhook schemas forbid extra keys).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"

# Strings from the examples that must never reach a test: they would be another account's data.
FOREIGN_MARKERS = ("octocat", "Octocat", "Codertocat", "Hello-World", "api.github.com", "//github.com/")


@cache
def _load(path: str) -> str:
    return (FIXTURES / path).read_text()


def example(operation_id: str, name: str | None = None) -> Any:
    """A fresh copy of an official response example (first success example unless name is given)."""
    folder = FIXTURES / "api-responses" / operation_id.replace("/", "__")
    files = sorted(p.name for p in folder.glob("*.json"))
    if name is not None:
        files = [f for f in files if f == name or f.split("-", 1)[1] == f"{name}.json"]
    files = [f for f in files if f.startswith("2")] or files
    if not files:
        raise KeyError(f"no example for {operation_id} {name or ''}")
    return json.loads(_load(f"api-responses/{folder.name}/{files[0]}"))


@cache
def _webhook_index() -> list[dict[str, Any]]:
    index: list[dict[str, Any]] = json.loads(_load("webhooks/index.json"))["files"]
    return index


def webhook_template(event: str, action: str | None) -> dict[str, Any]:
    candidates = [
        entry
        for entry in _webhook_index()
        if entry["event"] == event and entry["action"] == action and entry["octokit_schema_valid"]
    ]
    if not candidates:
        raise KeyError(f"no valid example payload for {event}.{action}")
    best = max(candidates, key=lambda entry: entry["source_index"])
    template: dict[str, Any] = json.loads(_load(f"webhooks/{best['file']}"))
    return template


@cache
def webhook_schema(event: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_load(f"webhook-schemas/{event}.schema.json"))
    return schema


Fallback = Callable[[dict[str, Any]], "dict[str, Any] | None"]


def shape(template: Any, value: Any, *, strict: bool, fallback: Fallback | None = None) -> Any:
    """Lay value over template.

    strict=True (webhooks): dicts keep exactly the template's keys, recursively, value's data winning
    (the template's where value has none); lists take value's items, each shaped like the template's first
    item; scalars take value. Where the template has no object to follow (null, or an empty list),
    fallback(value) may name one (e.g. the shape of a user). strict=False (REST): value's keys plus the
    template's top-level keys value lacks (no recursion: value's nested objects are complete).
    """
    if not strict:
        if isinstance(template, dict) and isinstance(value, dict):
            return {**{k: copy.deepcopy(v) for k, v in template.items() if k not in value}, **value}
        return value
    if isinstance(value, dict) and not isinstance(template, dict) and fallback is not None:
        template = fallback(value)
    if isinstance(template, dict) and isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in template:
            if key in value:
                out[key] = shape(template[key], value[key], strict=True, fallback=fallback)
            else:
                out[key] = copy.deepcopy(template[key])
        return out
    if isinstance(template, list) and isinstance(value, list):
        item_template = template[0] if template else None
        return [shape(item_template, item, strict=True, fallback=fallback) for item in value]
    return value


def foreign_strings(value: Any, path: str = "") -> list[str]:
    """Paths of strings in value that still hold the examples' accounts or hosts."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += foreign_strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += foreign_strings(item, f"{path}/{i}")
    elif isinstance(value, str) and any(marker in value for marker in FOREIGN_MARKERS):
        found.append(f"{path or '/'}: {value[:80]}")
    return found


def schema_errors(event: str, action: str | None, payload: Any) -> list[str]:
    """What Octokit's draft-07 schema (webhook-schemas/<event>.schema.json) finds wrong with payload."""
    from jsonschema import Draft7Validator  # type: ignore[import-untyped]

    schema = webhook_schema(event)
    definitions = schema.get("definitions", {})
    target = schema
    if action is not None and f"{event}${action}" in definitions:
        target = {"$ref": f"#/definitions/{event}${action}", "definitions": definitions}
    validator = Draft7Validator(target)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(payload)'}: {error.message[:300]}"
        for error in sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path)))
    ]
