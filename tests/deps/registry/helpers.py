"""Small helpers shared by the registry tests."""

from __future__ import annotations

import socket

from redis import Redis

from bot.deps.model import Ecosystem, PackageInfo
from bot.deps.registry import LookupFailure, RegistryClient
from tests.support.registry_server import RegistryServer

PY = Ecosystem.PYTHON
NPM = Ecosystem.NPM


def client_for(
    server: RegistryServer, redis: Redis | None, *, ttl: float = 3600, timeout: float = 5, total_timeout: float = 60
) -> RegistryClient:
    return RegistryClient(
        redis, ttl=ttl, timeout=timeout, total_timeout=total_timeout, pypi_base=server.url, npm_base=server.url
    )


def package(result: PackageInfo | LookupFailure) -> PackageInfo:
    assert isinstance(result, PackageInfo), result
    return result


def failure(result: PackageInfo | LookupFailure) -> LookupFailure:
    assert isinstance(result, LookupFailure), result
    return result


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
