"""JSON Schema errors as messages a maintainer can act on: the value written, what was expected, and the
closest valid name for a misspelt option or value."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from config.model import ConfigProblem
from config.source import Document, Path, first_at, format_path

if TYPE_CHECKING:  # jsonschema is imported when a config file is validated (`depup plan` without one skips it)
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

# What each pattern of config/schema.json asks for, as "expected ..." says it (a test checks all are here).
PATTERN_HINTS = {
    "^[a-z0-9][a-z0-9-]*$": "a name of lowercase letters, digits and dashes, starting with a letter or digit",
    "^[0-9]{1,6}(\\.[0-9]{1,3})? ?(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours"
    "|d|day|days|w|week|weeks)$": "a duration like '90m', '72h', '3 days' or '2 weeks', or a whole number of days",
    "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$": "a GitHub login like 'octocat' (without '@')",
    "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$": (
        "a GitHub login like 'octocat' or a team like 'my-org/reviewers' (without '@')"
    ),
    "^https?://[^\\s/?#@]+(:[0-9]{1,5})?([/?#][^\\s]*)?$": "an http:// or https:// URL",
    "^[A-Z][A-Z0-9_]{0,39}$": "a secret's name of capital letters, digits and underscores, like 'PROM_TOKEN'",
    "^[a-z0-9_]+$": "a risk factor id of lowercase letters, digits and underscores",
    "^[0-9]+\\.[0-9]+(\\.[0-9]+)?$": "a Python version like '3.11' or '3.11.4'",
    "^v?[0-9]+(\\.[0-9]+){0,2}$": "a Node version like '20', '14.21' or '18.17.1'",
}

_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of options",
    "null": "null",
}
_MANY_OPTIONS = 10  # past this many, an unknown option's message points at the docs instead of listing them


def _pattern(validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """``pattern`` with ``$`` meaning the end of the text (Python's ``$`` also matches before a last newline)."""
    from jsonschema import ValidationError

    if isinstance(instance, str) and re.search(re.sub(r"\$$", r"\\Z", pattern), instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def config_validator() -> type[Validator]:
    """Draft 2020-12 with ``_pattern``, and "integer" for ints only: JSON Schema's "integer" admits 3.0, the code
    reading the options wants an int (a YAML 3.0 is a float): `min_release_age: 1.0` crashed load_config with a
    TypeError (found by fuzzing)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    types = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    validator: type[Validator] = extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"pattern": _pattern}, type_checker=types
    )
    return validator


def schema_problems(document: Document, schema: Mapping[str, Any], file: str) -> list[ConfigProblem]:
    """One problem per mistake the schema finds in ``document``."""
    problems: list[ConfigProblem] = []
    for error in config_validator()(schema).iter_errors(document.value):
        if not document.is_unread(tuple(error.absolute_path)):
            problems.extend(_problems(error, document, file))
    return problems


def show(value: Any) -> str:
    """A value as a message quotes it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The valid name closest to a misspelt ``word``, if one is close enough."""
    folded = word.strip().lower().replace("-", "_")
    for choice in choices:
        if choice.lower().replace("-", "_") == folded:
            return choice
    close = difflib.get_close_matches(folded, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _problems(error: ValidationError, document: Document, file: str) -> list[ConfigProblem]:
    path: Path = tuple(error.absolute_path)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    kind = error.validator
    instance: Any = error.instance
    if kind == "additionalProperties" and schema.get("additionalProperties") is False:
        return [_unknown_option(key, path, schema, document, file) for key in _extra_keys(instance, schema)]
    if kind == "required":
        missing = [name for name in schema.get("required", ()) if name not in instance]
        where = document.value_at(path)
        return [
            ConfigProblem(file, where.line, where.column, format_path(path), f"missing required option {name!r}")
            for name in missing
        ]
    if kind == "uniqueItems":
        return _repeated_items(instance, path, document, file)
    if kind == "pattern" and "propertyNames" in error.absolute_schema_path:
        where = document.key_at((*path, instance))
        message = f"expected {_pattern_hint(schema)} as a key, got {show(instance)}"
        return [ConfigProblem(file, where.line, where.column, format_path(path), message)]
    where = document.value_at(path)
    return [ConfigProblem(file, where.line, where.column, format_path(path), _message(error, schema))]


def _message(error: ValidationError, schema: Mapping[str, Any]) -> str:
    value: Any = error.instance
    kind = error.validator
    if kind == "type":
        return f"expected {_expected(schema)}, got {show(value)}"
    if kind == "enum":
        choices = [str(choice) for choice in schema["enum"]]
        message = f"unknown value {show(value)}: expected one of {', '.join(choices)}"
        close = suggest(value, choices) if isinstance(value, str) else None
        return message + (f" (did you mean {close!r}?)" if close else "")
    if kind == "pattern":
        return f"expected {_pattern_hint(schema)}, got {show(value)}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"expected {_number_range(schema)}, got {show(value)}"
    if kind == "minItems":
        count = schema["minItems"]
        return f"needs at least {count} {'entry' if count == 1 else 'entries'}, got an empty list"
    if kind == "minLength":
        return "must not be empty"
    if kind == "maxLength":
        return f"is {len(value)} characters long; the most allowed is {schema['maxLength']}"
    return str(error.message)  # pragma: no cover - every keyword config/schema.json uses is handled above


def _expected(schema: Mapping[str, Any]) -> str:
    if "pattern" in schema and "integer" in _types(schema):
        return _pattern_hint(schema)  # a duration: text or a number of days
    if "enum" in schema:
        return "one of " + ", ".join(str(choice) for choice in schema["enum"])
    return " or ".join(_TYPE_NAMES[name] for name in _types(schema))


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _number_range(schema: Mapping[str, Any]) -> str:
    noun = "a number of days" if "pattern" in schema else "a number" if "number" in _types(schema) else "a whole number"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{noun} from {low} to {high}"
    if low is not None:
        return f"{noun} of at least {low}"
    return f"{noun} of at most {high}"


def _pattern_hint(schema: Mapping[str, Any]) -> str:
    pattern = str(schema.get("pattern", ""))
    return PATTERN_HINTS.get(pattern, f"text matching {pattern!r}")


def _extra_keys(instance: Any, schema: Mapping[str, Any]) -> list[str]:
    known = schema.get("properties", {})
    return [key for key in instance if key not in known] if isinstance(instance, dict) else []


def _unknown_option(key: str, path: Path, schema: Mapping[str, Any], document: Document, file: str) -> ConfigProblem:
    options = list(schema.get("properties", {}))
    close = suggest(key, options)
    if close:
        hint = f" (did you mean {close!r}?)"
    elif len(options) <= _MANY_OPTIONS:
        hint = f" (the options here are {', '.join(options)})"
    else:
        hint = " (docs/config.md lists the options)"
    where = document.key_at((*path, key))
    return ConfigProblem(file, where.line, where.column, format_path(path), f"unknown option {key!r}{hint}")


def _repeated_items(items: Any, path: Path, document: Document, file: str) -> list[ConfigProblem]:
    problems = []
    seen: list[Any] = []
    for index, item in enumerate(items):
        if item in seen:
            first = document.value_at((*path, seen.index(item)))
            where = document.value_at((*path, index))
            message = f"{show(item)} is listed twice (first at {first_at(first, where)})"
            problems.append(ConfigProblem(file, where.line, where.column, format_path((*path, index)), message))
        seen.append(item)
    return problems
