"""Which role a dependency gets from the name of its file, extra or group.

Rule (one place, so every format agrees): split the repository-relative path (or the extra/group name) into
words on every character that is not a letter or digit; if any word is one of ``DEV_WORDS`` the dependency is
dev/test tooling (``Role.DEV``), otherwise the default for that place applies (RUNTIME for requirement files,
OPTIONAL for extras). Whole words, not substrings, so ``science`` is not ``ci`` and ``testimony`` is not ``test``.
"""

from __future__ import annotations

import re

from bot.deps.model import Role

DEV_WORDS = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "test",
        "tests",
        "testing",
        "lint",
        "linting",
        "linters",
        "doc",
        "docs",
        "documentation",
        "ci",
        "typing",
        "mypy",
        "style",
        "qa",
        "coverage",
        "bench",
        "benchmark",
        "benchmarks",
        "tox",
    }
)

_WORD = re.compile(r"[a-z0-9]+")


def words(name: str) -> list[str]:
    return _WORD.findall(name.lower())


def is_dev_name(name: str) -> bool:
    """True when a path, extra or group name says it is for development, tests, linting, docs, CI or typing."""
    return any(word in DEV_WORDS for word in words(name))


def role_for_path(path: str) -> Role:
    """Role of the entries of a requirements file: DEV when its path names dev tooling, else RUNTIME."""
    return Role.DEV if is_dev_name(path) else Role.RUNTIME


def role_for_extra(extra: str) -> Role:
    """Role of an optional extra: DEV for ``dev``/``test``/``docs``/``lint``/``typing``/... extras, else OPTIONAL."""
    return Role.DEV if is_dev_name(extra) else Role.OPTIONAL
