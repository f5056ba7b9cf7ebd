"""The package-index settings this machine's pip uses, so other tools ask the same registries.

pip reads its configuration files (global, then user, then site, then ``PIP_CONFIG_FILE``; later wins) and
``PIP_*`` environment variables (which win over files). uv does not read pip's configuration, so
:func:`uv_index_env` translates it to uv's variables unless uv is configured already. No registry address is
written in this code: with nothing configured every tool keeps its own default.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexSettings:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False


def _config_files(env: Mapping[str, str]) -> list[Path]:
    xdg_dirs = env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    home = Path(env.get("HOME", str(Path.home())))
    user_config = Path(env.get("XDG_CONFIG_HOME", str(home / ".config")))
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d]
    files += [Path("/etc/pip.conf"), home / ".pip" / "pip.conf", user_config / "pip" / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if env.get("PIP_CONFIG_FILE") and env["PIP_CONFIG_FILE"] != os.devnull:
        files.append(Path(env["PIP_CONFIG_FILE"]))
    return files


def pip_index_settings(env: Mapping[str, str] | None = None) -> IndexSettings:
    env = os.environ if env is None else env
    values: dict[str, str] = {}
    if env.get("PIP_CONFIG_FILE") != os.devnull:
        for path in _config_files(env):
            parser = configparser.RawConfigParser()
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, OSError, UnicodeDecodeError):
                continue
            for section in ("global", "install"):
                if parser.has_section(section):
                    values.update({k.replace("_", "-"): v for k, v in parser.items(section)})
    for key in ("index-url", "extra-index-url", "find-links", "no-index"):
        env_value = env.get("PIP_" + key.upper().replace("-", "_"))
        if env_value is not None:
            values[key] = env_value
    return IndexSettings(
        index_url=values.get("index-url") or None,
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(values.get("find-links", "").split()),
        no_index=values.get("no-index", "").strip().lower() in ("1", "true", "yes", "on"),
    )


def uv_index_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """uv variables carrying pip's index settings; empty when uv already has its own index settings."""
    env = os.environ if env is None else env
    if any(k in env for k in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL")):
        return {}
    settings = pip_index_settings(env)
    out: dict[str, str] = {}
    if settings.index_url:
        out["UV_INDEX_URL"] = settings.index_url
    usable = [u for u in settings.extra_index_urls if not _missing_local(u)]
    if usable:
        out["UV_EXTRA_INDEX_URL"] = " ".join(usable)
    links = [link for link in settings.find_links if not _missing_local(link)]
    if links and "UV_FIND_LINKS" not in env:
        out["UV_FIND_LINKS"] = ",".join(links)
    if settings.no_index and "UV_NO_INDEX" not in env:
        out["UV_NO_INDEX"] = "1"
    return out


def _missing_local(location: str) -> bool:
    """A ``file:`` URL or path that does not exist (pip skips those with a warning; uv fails on them)."""
    if location.startswith("file://"):
        return not Path(location[len("file://") :]).exists()
    if "://" in location:
        return False
    return not Path(location).exists()
