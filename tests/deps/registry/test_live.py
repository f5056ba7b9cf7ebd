"""Against the live registries this machine is configured for (pytest -m live): the same lookups, for real."""

from __future__ import annotations

import pytest
from redis import Redis

from bot.deps.registry import RegistryClient, urls
from tests.deps.registry.helpers import NPM, PY, failure, package


@pytest.mark.live
def test_live_registries(redis_client: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEPUP_PYPI_URL", raising=False)
    monkeypatch.delenv("DEPUP_NPM_REGISTRY", raising=False)
    urls.reset_cache()
    wanted = [(PY, "flask"), (PY, "requests"), (NPM, "express"), (NPM, "@types/node"), (PY, "depup-no-such-package")]
    with RegistryClient(redis_client, ttl=0) as client:
        results = client.lookup_many(wanted)
        assert client.stats.requests == 5
        again = client.lookup_many(wanted[:4])  # ttl 0: revalidated (304) when the registry sends validators
        assert client.stats.requests == 9
    flask = package(results[(PY, "flask")])
    assert any(r.version == "1.1.2" for r in flask.releases)
    assert next(r for r in package(results[(PY, "requests")]).releases if r.version == "2.32.0").yanked
    assert any(r.version == "4.17.1" for r in package(results[(NPM, "express")]).releases)
    assert package(results[(NPM, "@types/node")]).name == "@types/node"
    assert failure(results[(PY, "depup-no-such-package")]).kind == "not_found"
    assert all(package(result).releases for result in again.values())
