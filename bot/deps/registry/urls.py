"""Where the registries are: taken from the machine's own pip and npm configuration, so mirrors are respected.

No registry host is written in depup. Order, first found wins:

- PyPI JSON API base (requests go to ``{base}/pypi/{name}/json``): ``DEPUP_PYPI_URL``; else pip's index URL
  (``PIP_INDEX_URL``, else ``index-url`` from pip's config files, ``[install]`` before ``[global]``, else pip's
  built-in default) with a trailing ``/simple`` dropped.
- npm registry base (requests go to ``{base}/{name}``): ``DEPUP_NPM_REGISTRY``; else ``NPM_CONFIG_REGISTRY``
  (npm reads it case-insensitively); else ``npm config get registry``.

The environment is read on every call; the discovery from pip's config files and npm's CLI (slow: a config
load, a subprocess) is done once per process. ``reset_cache()`` forgets it (tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from bot.errors import DepupError

PYPI_ENV = "DEPUP_PYPI_URL"
NPM_ENV = "DEPUP_NPM_REGISTRY"
NPM_COMMAND_TIMEOUT = 15.0

_lock = threading.Lock()
_discovered: dict[str, str] = {}


class RegistryConfigError(DepupError):
    """No usable registry base URL could be found; the message names the variable that sets one."""


def pypi_json_base() -> str:
    """Base URL of the PyPI JSON API, without a trailing slash."""
    override = os.environ.get(PYPI_ENV, "").strip()
    if override:
        return _checked(override, PYPI_ENV)
    index_url = os.environ.get("PIP_INDEX_URL", "").strip() or _cached("pypi", _pip_configured_index)
    return _checked(_json_base_from_index(index_url), PYPI_ENV)


def npm_registry_base() -> str:
    """Base URL of the npm registry, without a trailing slash."""
    override = os.environ.get(NPM_ENV, "").strip()
    if override:
        return _checked(override, NPM_ENV)
    for name in ("NPM_CONFIG_REGISTRY", "npm_config_registry"):
        configured = os.environ.get(name, "").strip()
        if configured:
            return _checked(configured, NPM_ENV)
    return _checked(_cached("npm", _npm_configured_registry), NPM_ENV)


def discover_npm_registry_soon() -> None:
    """Start finding npm's registry in a background thread (``npm config get registry`` takes a tenth of a
    second, most of a warm 200-package plan's lookups), so that ``npm_registry_base`` finds it ready. Errors
    are left for ``npm_registry_base`` to raise."""

    def discover() -> None:
        try:
            npm_registry_base()
        except RegistryConfigError:
            return

    threading.Thread(target=discover, name="npm-registry", daemon=True).start()


def reset_cache() -> None:
    """Forget what was discovered from pip's and npm's configuration."""
    with _lock:
        _discovered.clear()


def redact(url: str) -> str:
    """The URL without user or password, for messages and logs (index URLs may carry credentials)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _cached(key: str, discover: Callable[[], str]) -> str:
    with _lock:
        if key not in _discovered:
            _discovered[key] = discover()
        return _discovered[key]


def _json_base_from_index(index_url: str) -> str:
    base = index_url.strip().rstrip("/")
    return base.removesuffix("/simple")


def _pip_configured_index() -> str:
    try:
        from pip._internal.configuration import Configuration
        from pip._internal.exceptions import ConfigurationError
        from pip._internal.models.index import PyPI
    except ImportError as exc:
        raise RegistryConfigError(f"pip is not importable to find the package index; set {PYPI_ENV}") from exc
    config = Configuration(isolated=False)
    try:
        config.load()
    except ConfigurationError as exc:
        raise RegistryConfigError(f"pip's configuration cannot be read ({exc}); set {PYPI_ENV}") from exc
    for key in ("install.index-url", "global.index-url"):
        try:
            value = config.get_value(key)
        except ConfigurationError:
            continue
        if isinstance(value, str) and value.strip():
            return value.strip()
    return str(PyPI.simple_url)


def _npm_configured_registry() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise RegistryConfigError(f"npm is not installed to tell its registry; set {NPM_ENV}")
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, npm found on PATH
            [npm, "config", "get", "registry"],
            capture_output=True,
            text=True,
            timeout=NPM_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RegistryConfigError(f"`npm config get registry` failed ({exc}); set {NPM_ENV}") from exc
    lines = [line.strip() for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode != 0 or not lines:
        raise RegistryConfigError(f"`npm config get registry` gave no registry; set {NPM_ENV}")
    return lines[-1]


def _checked(url: str, variable: str) -> str:
    base = url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistryConfigError(f"registry base {redact(base)!r} is not an http(s) URL; set {variable}")
    return base
