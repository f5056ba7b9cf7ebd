"""Registry base URLs: environment overrides, pip's configuration, npm's configuration; never a written host."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pip._internal.models.index import PyPI

from bot.deps.registry import urls
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base, pypi_json_base, redact

VARIABLES = ("DEPUP_PYPI_URL", "DEPUP_NPM_REGISTRY", "PIP_INDEX_URL", "NPM_CONFIG_REGISTRY", "npm_config_registry")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no pip config file of this machine
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no npm unless a test puts one there
    urls.reset_cache()
    yield
    urls.reset_cache()


def fake_npm(tmp_path: Path, script: str) -> Path:
    """An ``npm`` executable on PATH that runs ``script`` (sh) and logs each call."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    npm = folder / "npm"
    npm.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls"}\n{script}\n')
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    return tmp_path / "calls"


def pip_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(text)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))


def test_environment_overrides_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPUP_PYPI_URL", "http://127.0.0.1:8080/")
    monkeypatch.setenv("DEPUP_NPM_REGISTRY", "http://127.0.0.1:8081/npm/")
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple/")
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "https://mirror.example/npm/")
    assert pypi_json_base() == "http://127.0.0.1:8080"
    assert npm_registry_base() == "http://127.0.0.1:8081/npm"


def test_pip_index_url_from_the_environment_drops_simple(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/repository/pypi/simple/")
    assert pypi_json_base() == "https://mirror.example/repository/pypi"


def test_pip_config_file_index_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pip_config(tmp_path, monkeypatch, "[global]\nindex-url = https://mirror.example/pypi/simple\n")
    assert pypi_json_base() == "https://mirror.example/pypi"


def test_pip_config_install_section_before_global(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pip_config(
        tmp_path,
        monkeypatch,
        "[global]\nindex-url = https://global.example/simple\n[install]\nindex-url = https://install.example/simple/\n",
    )
    assert pypi_json_base() == "https://install.example"


def test_pip_config_is_read_once_per_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pip_config(tmp_path, monkeypatch, "[global]\nindex-url = https://first.example/simple\n")
    assert pypi_json_base() == "https://first.example"
    pip_config(tmp_path, monkeypatch, "[global]\nindex-url = https://second.example/simple\n")
    assert pypi_json_base() == "https://first.example"
    urls.reset_cache()
    assert pypi_json_base() == "https://second.example"


def test_pip_default_index_when_nothing_is_configured() -> None:
    assert pypi_json_base() == PyPI.simple_url.removesuffix("/simple")


def test_a_non_http_index_asks_for_the_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "file:///opt/pypi/simple")
    with pytest.raises(RegistryConfigError, match="DEPUP_PYPI_URL"):
        pypi_json_base()


def test_credentials_stay_in_the_base_and_out_of_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://user:s3cret@mirror.example/simple")
    assert pypi_json_base() == "https://user:s3cret@mirror.example"
    assert redact(pypi_json_base() + "/pypi/x/json") == "https://mirror.example/pypi/x/json"
    monkeypatch.setenv("PIP_INDEX_URL", "ftp://user:s3cret@mirror.example/simple")
    with pytest.raises(RegistryConfigError) as raised:
        pypi_json_base()
    assert "s3cret" not in str(raised.value)


def test_npm_registry_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "https://npm.mirror.example/")
    assert npm_registry_base() == "https://npm.mirror.example"
    monkeypatch.delenv("NPM_CONFIG_REGISTRY")
    monkeypatch.setenv("npm_config_registry", "https://lower.mirror.example/")
    assert npm_registry_base() == "https://lower.mirror.example"


def test_npm_config_get_registry_is_asked_once(tmp_path: Path) -> None:
    calls = fake_npm(tmp_path, 'echo "npm warn something" >&2\necho "https://npm.mirror.example/"')
    assert npm_registry_base() == "https://npm.mirror.example"
    assert npm_registry_base() == "https://npm.mirror.example"
    assert calls.read_text().splitlines() == ["config get registry"]


def test_npm_failing_or_missing_names_the_override(tmp_path: Path) -> None:
    with pytest.raises(RegistryConfigError, match=r"npm is not installed.*DEPUP_NPM_REGISTRY"):
        npm_registry_base()
    fake_npm(tmp_path, "exit 1")
    urls.reset_cache()
    with pytest.raises(RegistryConfigError, match="gave no registry; set DEPUP_NPM_REGISTRY"):
        npm_registry_base()
    fake_npm(tmp_path, "echo undefined")
    urls.reset_cache()
    with pytest.raises(RegistryConfigError, match="not an http\\(s\\) URL; set DEPUP_NPM_REGISTRY"):
        npm_registry_base()
