"""Process settings, read from the environment by the app factory and the CLI (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from bot.errors import SettingsError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_OSV_URL = "https://api.osv.dev"  # OSV's API root: known vulnerabilities of package versions
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB.

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class Role(Enum):
    """Which process is starting: each needs a different part of the environment."""

    WEB = "web"
    WORKER = "worker"
    CRON = "cron"
    TOOL = "tool"  # admin commands that only need Redis


_NEEDS_APP = {Role.WORKER, Role.CRON}
_NEEDS_SECRET = {Role.WEB}


@dataclass(frozen=True)
class Settings:
    """Everything a depup process knows about its environment."""

    redis_url: str
    app_id: str = ""
    private_key: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)
    github_api_url: str = DEFAULT_API_URL
    dry_run: bool = False
    log_level: str = "INFO"
    log_format: str = "json"
    queue_name: str = "depup"
    dedup_ttl_seconds: int = 7 * 24 * 3600
    github_timeout_seconds: float = 30.0
    job_timeout_seconds: int = 600
    retry_intervals: tuple[int, ...] = (15, 60, 300)  # seconds between attempts of a failed handler
    max_reschedules: int = 12  # rate-limit postponements of one delivery before it counts as failed
    handlers_module: str = "handlers"
    write_spacing_seconds: float = 1.0  # minimum time between two writes of one installation
    scans_per_installation: int = 1  # scans of one installation at once while its writes are spaced
    osv_url: str = DEFAULT_OSV_URL  # the OSV API root (``{osv_url}/v1/query``) vulnerability audits ask
    probe_allow: str = ""  # DEPUP_PROBE_ALLOW: what health probes may reach beyond https to public addresses
    # DEPUP_PROMETHEUS_AUTH_<NAME>="<origin> <Authorization value>": (NAME, origin, header) per secret
    prometheus_auth: tuple[tuple[str, str, str], ...] = field(default=(), repr=False)
    web_header_timeout_seconds: int = 5  # a request's line and headers must arrive within this (depup web)
    web_read_timeout_seconds: int = 10  # and its body within this (GitHub gives up after 10 s anyway)

    @property
    def limits_installation_scans(self) -> bool:
        """Whether scans take an installation's scan slot: only while its writes are spaced."""
        return self.write_spacing_seconds > 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, role: Role = Role.TOOL) -> Settings:
        """Read and check the settings ``role`` needs; raise ``SettingsError`` naming what is wrong."""
        env = os.environ if env is None else env
        missing: list[str] = []

        def get(name: str) -> str:
            return env.get(name, "").strip()

        redis_url = get("REDIS_URL")
        if not redis_url:
            missing.append("REDIS_URL")
        app_id = get("GITHUB_APP_ID")
        private_key = _read_private_key(env) if role in _NEEDS_APP else ""
        if role in _NEEDS_APP:
            if not app_id:
                missing.append("GITHUB_APP_ID")
            if not private_key:
                missing.append("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH")
        secret = env.get("GITHUB_WEBHOOK_SECRET", "")
        if role in _NEEDS_SECRET and not secret:
            missing.append("GITHUB_WEBHOOK_SECRET")
        if missing:
            raise SettingsError(f"missing required setting(s): {', '.join(missing)} (see README, 'Settings')")

        if app_id and not app_id.isdigit():
            raise SettingsError(f"GITHUB_APP_ID must be the App's numeric id, got {app_id!r}")
        if private_key:
            _check_private_key(private_key)
        api_url = get("GITHUB_API_URL") or DEFAULT_API_URL
        if urlsplit(api_url).scheme not in {"http", "https"} or not urlsplit(api_url).netloc:
            raise SettingsError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        osv_url = get("DEPUP_OSV_URL") or DEFAULT_OSV_URL
        if urlsplit(osv_url).scheme not in {"http", "https"} or not urlsplit(osv_url).netloc:
            raise SettingsError(f"DEPUP_OSV_URL must be an http(s) URL, got {osv_url!r}")
        _check_redis_url(redis_url, role)
        log_format = get("DEPUP_LOG_FORMAT").lower() or "json"
        if log_format not in {"json", "text"}:
            raise SettingsError(f"DEPUP_LOG_FORMAT must be 'json' or 'text', got {log_format!r}")
        log_level = get("DEPUP_LOG_LEVEL").upper() or "INFO"
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(f"DEPUP_LOG_LEVEL must be a logging level name, got {log_level!r}")
        return cls(
            redis_url=redis_url,
            app_id=app_id,
            private_key=private_key,
            webhook_secret=secret,
            github_api_url=api_url.rstrip("/"),
            dry_run=_flag(env, "DEPUP_DRY_RUN"),
            log_level=log_level,
            log_format=log_format,
            queue_name=get("DEPUP_QUEUE") or "depup",
            dedup_ttl_seconds=_int(env, "DEPUP_DEDUP_TTL", 7 * 24 * 3600),
            github_timeout_seconds=float(_int(env, "DEPUP_GITHUB_TIMEOUT", 30)),
            job_timeout_seconds=_int(env, "DEPUP_JOB_TIMEOUT", 600),
            retry_intervals=_intervals(env, "DEPUP_RETRY_INTERVALS", (15, 60, 300)),
            write_spacing_seconds=_seconds(env, "DEPUP_WRITE_SPACING", 1.0),
            scans_per_installation=_int(env, "DEPUP_SCANS_PER_INSTALLATION", 1),
            osv_url=osv_url.rstrip("/"),
            probe_allow=_probe_allow(get("DEPUP_PROBE_ALLOW")),
            prometheus_auth=_prometheus_auth(env),
            web_header_timeout_seconds=_int(env, "DEPUP_WEB_HEADER_TIMEOUT", 5),
            web_read_timeout_seconds=_int(env, "DEPUP_WEB_READ_TIMEOUT", 10),
        )


SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}  # scheme -> TLS
DEFAULT_SENTINEL_PORT = 26379
# The processes that connect through bot.process.runtime.connect, which knows Sentinel URLs. The web process and
# the operator tools still call Redis.from_url (bot/process/web.py, bot/process/cli.py): they join once they use
# bot.process.runtime.connect.
SENTINEL_ROLES = frozenset({Role.WORKER, Role.CRON})


@dataclass(frozen=True)
class SentinelUrl:
    """A ``redis+sentinel://`` REDIS_URL: where the Sentinels are, and which master (and database) to use."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # of the master (and its replicas)
    sentinel_password: str | None = field(default=None, repr=False)  # of the Sentinels, when they ask for one
    ssl: bool = False


def parse_sentinel_url(url: str) -> SentinelUrl | None:
    """``redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/SERVICE[/DB][?sentinel_password=...]``
    (``rediss+sentinel://`` for TLS; PORT defaults to 26379, DB to 0); None for any other kind of URL.

    Raises ``SettingsError`` naming what is wrong (never repeating the passwords).
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in SENTINEL_SCHEMES:
        return None
    shown = redact_url(url)
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    sentinels = tuple(_sentinel_address(part, shown) for part in hosts.split(","))
    segments = [unquote(s) for s in path.rstrip("/").split("/")] if path.strip("/") else []
    if not segments or not segments[0] or len(segments) > 2:
        raise SettingsError(f"REDIS_URL {shown}: give the master's service name after the hosts: .../SERVICE[/DB]")
    db = segments[1] if len(segments) == 2 else "0"
    if not db.isdigit():
        raise SettingsError(f"REDIS_URL {shown}: the database must be a number, got {db!r}")
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"sentinel_password"})
    if unknown:
        raise SettingsError(f"REDIS_URL {shown}: unknown option(s) {', '.join(unknown)} (known: sentinel_password)")
    sentinel_password = options["sentinel_password"][-1] if "sentinel_password" in options else None
    return SentinelUrl(
        sentinels=sentinels,
        service=segments[0],
        db=int(db),
        username=username,
        password=password,
        sentinel_password=sentinel_password or None,
        ssl=SENTINEL_SCHEMES[scheme.lower()],
    )


def _sentinel_address(text: str, shown: str) -> tuple[str, int]:
    host, port = text, ""
    if text.startswith("["):  # [IPv6]:port
        host, bracket, after = text[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise SettingsError(f"REDIS_URL {shown}: bad Sentinel address {text!r}")
        port = after[1:]
    elif ":" in text:
        host, _, port = text.rpartition(":")
    if not host or any(c.isspace() or c in "/@?#[]" for c in host):
        raise SettingsError(f"REDIS_URL {shown}: bad Sentinel address {text!r} (HOST[:PORT], comma-separated)")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise SettingsError(f"REDIS_URL {shown}: bad port in Sentinel address {text!r}")
    return host, int(port) if port else DEFAULT_SENTINEL_PORT


def redact_url(url: str) -> str:
    """The URL with its user information (where passwords go) and query (sentinel_password) hidden."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "<not a URL>"
    rest, question, _ = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return f"{scheme}://{netloc}{slash}{path}{'?***' if question else ''}"


def _check_redis_url(url: str, role: Role) -> None:
    scheme = url.partition("://")[0].lower()
    if scheme in SENTINEL_SCHEMES:
        parse_sentinel_url(url)
        if role not in SENTINEL_ROLES:
            raise SettingsError(
                f"REDIS_URL: {scheme}:// URLs are read by the worker and cron processes only so far; give this "
                "process the master's redis:// URL (see docs/deploy.md)"
            )
    elif scheme not in {"redis", "rediss", "unix"}:
        raise SettingsError(
            f"REDIS_URL must be a redis://, rediss://, unix:// or redis+sentinel:// URL, got {redact_url(url)}"
        )


def _probe_allow(value: str) -> str:
    """Checked at start-up, so that a typo stops the process instead of the first health probe."""
    from bot.core.netguard import NetPolicy

    NetPolicy.parse(value)
    return value


PROMETHEUS_AUTH_PREFIX = "DEPUP_PROMETHEUS_AUTH_"


def _prometheus_auth(env: Mapping[str, str]) -> tuple[tuple[str, str, str], ...]:
    """The operator's Prometheus secrets: ``DEPUP_PROMETHEUS_AUTH_<NAME>`` is ``<origin> <header value>``, e.g.
    ``https://prom.internal:9090 Bearer abc``; the header goes to that origin only (a repository names the
    secret, never its value nor where it is sent)."""
    found = []
    for key in sorted(env):
        if not key.startswith(PROMETHEUS_AUTH_PREFIX) or len(key) == len(PROMETHEUS_AUTH_PREFIX):
            continue
        origin, _, header = env[key].strip().partition(" ")
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"} or not header:
            raise SettingsError(f"{key} must be '<origin> <Authorization value>', like 'https://prom:9090 Bearer ...'")
        if any(c in header for c in "\r\n"):
            raise SettingsError(f"{key}: the header value must be one line")
        found.append((key[len(PROMETHEUS_AUTH_PREFIX) :], origin.rstrip("/").lower(), header.strip()))
    return tuple(found)


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) <= 0:
        raise SettingsError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= 60:
        raise SettingsError(f"{name} must be a number of seconds from 0 to 60, got {value!r}")
    return seconds


def _intervals(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    value = env.get(name, "").strip()
    if not value:
        return default
    parts = [p.strip() for p in value.split(",")]
    if not all(p.isdigit() for p in parts) or len(parts) > 10:
        raise SettingsError(f"{name} must be up to 10 comma-separated whole seconds, got {value!r}")
    return tuple(int(p) for p in parts)


def _read_private_key(env: Mapping[str, str]) -> str:
    inline = env.get("GITHUB_PRIVATE_KEY", "").strip()
    if inline:
        # PaaS dashboards often store multi-line values with literal "\n".
        return inline.replace("\\n", "\n")
    path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
    if not path:
        return ""
    try:
        return Path(path).expanduser().read_text()
    except OSError as e:
        raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH: cannot read {path!r}: {e.strerror}") from e


def _check_private_key(pem: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as e:
        raise SettingsError(
            "GITHUB_PRIVATE_KEY(_PATH) is not a PEM private key (download it from the App's settings page)"
        ) from e
    if not isinstance(key, RSAPrivateKey):
        raise SettingsError("GITHUB_PRIVATE_KEY(_PATH) must be an RSA key, as GitHub issues them")
