from __future__ import annotations

from dataclasses import replace

import pytest

from bot.plan.items import in_scope
from config.loader import default_config

DEFAULT = default_config()


@pytest.mark.parametrize(
    ("directories", "ignore_paths", "path", "expected"),
    [
        (("**",), (), "requirements.txt", True),
        (("**",), (), "a/b/package.json", True),
        (("services/**",), (), "services/api/pyproject.toml", True),
        (("services/**",), (), "requirements.txt", False),
        (("**",), ("legacy",), "legacy/package.json", False),
        (("**",), ("legacy",), "legacy/app/package.json", False),
        (("**",), ("legacy",), "legacyx/package.json", True),
        (("**",), ("**/fixtures/**",), "tests/fixtures/x/package.json", False),
    ],
)
def test_directories_and_ignore_paths(
    directories: tuple[str, ...], ignore_paths: tuple[str, ...], path: str, expected: bool
) -> None:
    config = replace(DEFAULT, directories=directories, ignore_paths=ignore_paths)
    assert in_scope(path, "npm", config) is expected


def test_ecosystems_filter() -> None:
    assert not in_scope("requirements.txt", "python", replace(DEFAULT, ecosystems=("npm",)))
