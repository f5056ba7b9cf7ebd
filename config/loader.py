"""Loading ``.github/depup.yml``: read the YAML keeping positions, validate it against ``config/schema.json``
and the semantic checks, merge it over ``config/defaults.yml`` and build a ``Config``.

Every mistake is reported, each as a ``ConfigProblem`` with file, line and column (1-based):
``load_config`` raises ``ConfigInvalid`` carrying them all; ``validate`` returns them.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import yaml

from bot.errors import ConfigInvalid
from config.build import build_config, merge
from config.checks import semantic_problems
from config.files import defaults_text, schema
from config.messages import schema_problems, show
from config.model import Config, ConfigProblem
from config.source import Document, read

__all__ = ["CONFIG_FILE", "default_config", "default_options", "load_config", "validate"]

CONFIG_FILE = ".github/depup.yml"


def load_config(text: str | bytes, file: str = CONFIG_FILE) -> Config:
    """The configuration written in ``text`` (the contents of ``file``) over the defaults. Raises
    ``ConfigInvalid`` listing every problem; an empty file (or comments only) gives the defaults."""
    document, problems = _check(text, file)
    if problems or document is None:
        raise ConfigInvalid(problems)
    return build_config(merge(default_options(), document.value))


def validate(text: str | bytes, file: str = CONFIG_FILE) -> tuple[ConfigProblem, ...]:
    """Every problem of ``text``, in file order; empty when it loads."""
    return _check(text, file)[1]


@lru_cache(maxsize=1)
def default_config() -> Config:
    """The configuration of a repository without a ``.github/depup.yml``."""
    return build_config(default_options())


def default_options() -> dict[str, Any]:
    """``config/defaults.yml`` as plain values (a fresh copy each call)."""
    return copy.deepcopy(_parsed_defaults())


@lru_cache(maxsize=1)
def _parsed_defaults() -> dict[str, Any]:
    # libyaml's loader where PyYAML was built with it (a tenth of the pure-Python loader's time; the defaults
    # need no positions): every process without a config file of its own reads them.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: dict[str, Any] = yaml.load(defaults_text(), Loader=loader)  # noqa: S506  # a safe loader
    return loaded


def _check(text: str | bytes, file: str) -> tuple[Document | None, tuple[ConfigProblem, ...]]:
    document, problems = read(text, file)
    if document is not None:
        if isinstance(document.value, dict):
            problems += schema_problems(document, schema(), file)
            problems += semantic_problems(document, _parsed_defaults(), file)
        else:
            where = document.value_at(())
            message = f"the file must be a mapping of options, like 'enabled: true', not {show(document.value)}"
            problems.append(ConfigProblem(file, where.line, where.column, "", message))
    unique = sorted(set(problems), key=lambda p: (p.line, p.column, p.path, p.message))
    return document, tuple(unique)
