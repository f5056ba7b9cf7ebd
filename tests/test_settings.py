from __future__ import annotations

import pytest

from bot.core.settings import Role, Settings
from bot.errors import SettingsError
from bot.process.cli import main
from tests.support.keys import rsa_private_key_pem

BASE = {"REDIS_URL": "redis://127.0.0.1:6379/3"}


def worker_env(**extra: str) -> dict[str, str]:
    return {**BASE, "GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": rsa_private_key_pem(), **extra}


def test_web_needs_only_redis_and_the_webhook_secret() -> None:
    settings = Settings.from_env({**BASE, "GITHUB_WEBHOOK_SECRET": "s3cret"}, Role.WEB)
    assert settings.webhook_secret == "s3cret"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.dry_run is False


def test_missing_settings_are_named_in_one_line() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({}, Role.WORKER)
    message = str(err.value)
    assert "\n" not in message
    for name in ("REDIS_URL", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY"):
        assert name in message


def test_escaped_newlines_in_an_inline_key_are_accepted() -> None:
    escaped = rsa_private_key_pem().replace("\n", "\\n")
    settings = Settings.from_env(worker_env(GITHUB_PRIVATE_KEY=escaped), Role.WORKER)
    assert settings.private_key == rsa_private_key_pem()


def test_key_is_read_from_a_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "app.pem"
    path.write_text(rsa_private_key_pem())
    env = {**BASE, "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY_PATH": str(path)}
    assert Settings.from_env(env, Role.WORKER).private_key == rsa_private_key_pem()
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.from_env({**env, "GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem")}, Role.WORKER)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("GITHUB_APP_ID", "abc", "numeric"),
        ("GITHUB_PRIVATE_KEY", "not a key", "PEM"),
        ("GITHUB_API_URL", "ftp://x", "http(s)"),
        ("REDIS_URL", "http://x", "redis://"),
        ("DEPUP_DRY_RUN", "maybe", "true or false"),
        ("DEPUP_LOG_FORMAT", "xml", "json"),
        ("DEPUP_RETRY_INTERVALS", "1,x", "comma-separated"),
        ("DEPUP_JOB_TIMEOUT", "-1", "positive"),
        ("DEPUP_SCANS_PER_INSTALLATION", "0", "positive whole number"),
        ("DEPUP_OSV_URL", "api.osv.dev", "http(s)"),
    ],
)
def test_bad_values_are_explained(name: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=name.split("_", 1)[0]) as err:
        Settings.from_env(worker_env(**{name: value}), Role.WORKER)
    assert fragment in str(err.value)


def test_the_osv_url_defaults_to_osv_and_can_point_elsewhere() -> None:
    assert Settings.from_env(worker_env(), Role.WORKER).osv_url == "https://api.osv.dev"
    settings = Settings.from_env(worker_env(DEPUP_OSV_URL="http://127.0.0.1:8080/osv/"), Role.WORKER)
    assert settings.osv_url == "http://127.0.0.1:8080/osv"


def test_one_scan_per_installation_at_once_unless_told() -> None:
    assert Settings.from_env(worker_env(), Role.WORKER).scans_per_installation == 1
    assert Settings.from_env(worker_env(DEPUP_SCANS_PER_INSTALLATION="3"), Role.WORKER).scans_per_installation == 3


def test_secrets_do_not_appear_in_repr() -> None:
    settings = Settings.from_env(worker_env(GITHUB_WEBHOOK_SECRET="hush"), Role.WORKER)
    assert "hush" not in repr(settings)
    assert "PRIVATE KEY" not in repr(settings)


def test_cli_exits_2_with_one_line_naming_the_variable(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for name in ("REDIS_URL", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "GITHUB_APP_ID" in err
