"""Registry lookups for the dependency engine: PyPI's JSON API and the npm registry, cached in Redis.

``RegistryClient.lookup_many`` answers a ``PackageInfo`` or a ``LookupFailure`` for every (ecosystem, name);
base URLs come from pip's and npm's own configuration (``urls``), overridable by environment.
"""

from bot.deps.registry.client import RegistryClient, RegistryStats
from bot.deps.registry.failures import FailureKind, LookupFailure
from bot.deps.registry.links import url_kind
from bot.deps.registry.parsed import PeerDependency
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base, pypi_json_base, reset_cache

__all__ = [
    "FailureKind",
    "LookupFailure",
    "PeerDependency",
    "RegistryClient",
    "RegistryConfigError",
    "RegistryStats",
    "npm_registry_base",
    "pypi_json_base",
    "reset_cache",
    "url_kind",
]
