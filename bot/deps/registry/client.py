"""Look up many packages at once: each distinct package once, concurrently, through the shared Redis cache.

Per package (``_Refresh``):

1. a cache entry fresher than its TTL answers with no request (the batch is read in one Redis round trip);
2. otherwise take the package's Redis lock (``SET NX`` with a TTL) so that concurrent workers do not fetch the
   same package at once; a worker that finds it taken waits (bounded) for the holder, reads the cache again,
   and fetches itself only when the holder left nothing fresh;
3. fetch, conditionally when the stale entry has an ETag/Last-Modified: a 304 refreshes the entry's timestamps
   (no body parsed), a 200 is parsed and the reduced package stored, a failure is stored for a short while.

Failure caching (``FAILURE_TTL``): ``unreachable`` and ``timeout`` 60 s, ``malformed`` 300 s, ``not_found`` the
normal ``ttl`` (a name that does not exist rarely starts existing within the hour). When a fetch fails for
``unreachable``/``timeout`` and a previous good copy is cached, that copy is served instead (its ``fetched_at``
says how old it is) and kept for the same 60 s before the registry is asked again: a registry outage does not
turn every dependency into a failure.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType

import orjson
from redis import Redis

from bot.core import metrics
from bot.deps.model import Ecosystem, PackageInfo
from bot.deps.registry import npm, pypi
from bot.deps.registry.cache import CacheKey, Entry, RegistryCache
from bot.deps.registry.failures import FailureKind, LookupFailure, RegistryAnswerError
from bot.deps.registry.fetch import Fetched, Fetcher, NotModified, Validators
from bot.deps.registry.parsed import Parsed, PeerDependency
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base, pypi_json_base, redact

FAILURE_TTL: dict[FailureKind, float | None] = {
    "unreachable": 60.0,
    "timeout": 60.0,
    "malformed": 300.0,
    "not_found": None,  # None: the client's ttl
}
log = logging.getLogger(__name__)

TRANSIENT: frozenset[FailureKind] = frozenset({"unreachable", "timeout"})

Request = tuple[Ecosystem, str]
Result = PackageInfo | LookupFailure


@dataclass(frozen=True)
class RegistryStats:
    """Counters since the client was made. ``requests`` counts HTTP requests sent (304s included)."""

    requests: int = 0
    cache_hits: int = 0  # answered from a fresh cache entry, failures included, no request
    revalidated: int = 0  # 304 answers to conditional requests
    failures: int = 0  # fetches that ended in a failure (whether or not a stale copy was then served)
    stale: int = 0  # stale copies served because the registry failed


@dataclass(frozen=True)
class _Target:
    ecosystem: Ecosystem
    name: str  # as first requested
    key: CacheKey
    url: str


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = RegistryStats()

    def add(self, **increments: int) -> None:
        with self._lock:
            current = self._stats
            self._stats = replace(
                current, **{field: getattr(current, field) + value for field, value in increments.items()}
            )

    @property
    def snapshot(self) -> RegistryStats:
        return self._stats


class RegistryClient:
    """Registry lookups for PyPI (JSON API) and npm, shared through Redis when one is given.

    ``timeout`` bounds each phase of one request (connect, each read, ...); ``total_timeout`` bounds a whole
    ``lookup_many``: packages still unanswered then get a ``timeout`` failure. Close the client (or use it as a
    context manager) to release its HTTP connections.
    """

    def __init__(
        self,
        redis: Redis | None,
        *,
        ttl: float = 3600,
        timeout: float = 10,
        max_concurrency: int = 16,
        pypi_base: str | None = None,
        npm_base: str | None = None,
        total_timeout: float = 120,
    ) -> None:
        self._cache = RegistryCache(redis) if redis is not None else None
        self._ttl = ttl
        self._timeout = timeout
        self._total_timeout = total_timeout
        self._max_concurrency = max(1, max_concurrency)
        self._lock_ttl = timeout * 2 + 5
        self._fetcher = Fetcher(timeout=timeout, max_connections=self._max_concurrency)
        self._given_bases = {Ecosystem.PYTHON: pypi_base, Ecosystem.NPM: npm_base}
        self._bases: dict[Ecosystem, str | RegistryConfigError] = {}
        self._bases_lock = threading.Lock()
        self._counters = _Counters()

    @property
    def stats(self) -> RegistryStats:
        return self._counters.snapshot

    def close(self) -> None:
        self._fetcher.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def lookup_many(
        self, requests: Iterable[Request], on_answer: Callable[[int], None] | None = None
    ) -> dict[Request, Result]:
        """What the registries say for each (ecosystem, name); every request gets an answer, failures included.

        ``on_answer(n)`` is called (from worker threads) as answers for ``n`` more distinct packages arrive.
        """
        return {request: _public(result) for request, result in self._lookup(requests, on_answer).items()}

    def lookup_parsed(
        self, requests: Iterable[Request], on_answer: Callable[[int], None] | None = None
    ) -> dict[Request, Parsed | LookupFailure]:
        """Like ``lookup_many``, with what the parsers keep beside the ``PackageInfo`` (npm peer dependencies)."""
        return self._lookup(requests, on_answer)

    def peer_dependencies(self, name: str) -> dict[str, tuple[PeerDependency, ...]] | LookupFailure:
        """An npm package's ``peerDependencies`` by version (same lookup and cache entry as ``lookup_many``)."""
        result = self._lookup([(Ecosystem.NPM, name)])[(Ecosystem.NPM, name)]
        return result if isinstance(result, LookupFailure) else dict(result.peers)

    def _lookup(
        self, requests: Iterable[Request], on_answer: Callable[[int], None] | None = None
    ) -> dict[Request, Parsed | LookupFailure]:
        wanted = list(dict.fromkeys(requests))
        targets: dict[CacheKey, _Target] = {}
        answers: dict[Request, Parsed | LookupFailure] = {}
        key_of: dict[Request, CacheKey] = {}
        for ecosystem, name in wanted:
            target = self._target(ecosystem, name)
            if isinstance(target, LookupFailure):
                answers[(ecosystem, name)] = target
                continue
            key_of[(ecosystem, name)] = target.key
            targets.setdefault(target.key, target)
        if on_answer is not None and len(wanted) > len(key_of):
            on_answer(len(wanted) - len(key_of))
        results = self._resolve(list(targets.values()), on_answer)
        for request, key in key_of.items():
            result = results[key]
            answers[request] = replace(result, name=request[1]) if isinstance(result, LookupFailure) else result
        return {request: answers[request] for request in wanted}

    def _target(self, ecosystem: Ecosystem, name: str) -> _Target | LookupFailure:
        base = self._base(ecosystem)
        if isinstance(base, RegistryConfigError):
            return LookupFailure(ecosystem, name, str(base), "unreachable")
        if ecosystem is Ecosystem.PYTHON:
            return _Target(
                ecosystem, name, CacheKey(ecosystem, base, pypi.canonical_name(name)), base + pypi.json_path(name)
            )
        return _Target(ecosystem, name, CacheKey(ecosystem, base, name), base + npm.packument_path(name))

    def _base(self, ecosystem: Ecosystem) -> str | RegistryConfigError:
        with self._bases_lock:
            if ecosystem not in self._bases:
                given = self._given_bases[ecosystem]
                try:
                    if given is not None:
                        self._bases[ecosystem] = given.rstrip("/")
                    elif ecosystem is Ecosystem.PYTHON:
                        self._bases[ecosystem] = pypi_json_base()
                    else:
                        self._bases[ecosystem] = npm_registry_base()
                except RegistryConfigError as exc:
                    self._bases[ecosystem] = exc
            return self._bases[ecosystem]

    def _resolve(
        self, targets: list[_Target], on_answer: Callable[[int], None] | None = None
    ) -> dict[CacheKey, Parsed | LookupFailure]:
        results: dict[CacheKey, Parsed | LookupFailure] = {}
        entries = self._cache.read_many([t.key for t in targets]) if self._cache else [None] * len(targets)
        now = time.time()
        pending: list[tuple[_Target, Entry | None]] = []
        for target, entry in zip(targets, entries, strict=True):
            if entry is not None and entry.fresh(now):
                results[target.key] = entry.result
                self._counters.add(cache_hits=1)
                metrics.registry_cache(target.ecosystem.value, hit=True)
            else:
                pending.append((target, entry))
        if on_answer is not None and results:
            on_answer(len(results))
        if pending:
            results |= self._run_concurrently(pending, on_answer)
        return results

    def _run_concurrently(
        self, pending: list[tuple[_Target, Entry | None]], on_answer: Callable[[int], None] | None = None
    ) -> dict[CacheKey, Parsed | LookupFailure]:
        executor = ThreadPoolExecutor(
            max_workers=min(self._max_concurrency, len(pending)), thread_name_prefix="registry"
        )
        try:
            futures: dict[Future[Parsed | LookupFailure], _Target] = {
                # Each task runs in a copy of the caller's context, so its log lines keep the job's fields.
                executor.submit(contextvars.copy_context().run, self._refresh, target, entry): target
                for target, entry in pending
            }
            if on_answer is not None:
                for future in futures:
                    future.add_done_callback(lambda _: on_answer(1))
            done, _ = wait(futures, timeout=self._total_timeout)
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
        results: dict[CacheKey, Parsed | LookupFailure] = {}
        for future, target in futures.items():
            if future in done:
                results[target.key] = _outcome(future, target)
            else:
                reason = f"no answer within the {self._total_timeout:g} s allowed for this batch of lookups"
                results[target.key] = LookupFailure(target.ecosystem, target.name, reason, "timeout")
        return results

    def _refresh(self, target: _Target, entry: Entry | None) -> Parsed | LookupFailure:
        cache = self._cache
        if cache is None:
            return self._fetch(target, None)
        lock = cache.lock(target.key, self._lock_ttl)
        if lock is None:
            cache.wait_unlocked(target.key, self._lock_ttl)
        try:
            latest = cache.read(target.key) or entry
            if latest is not None and latest.fresh(time.time()):
                self._counters.add(cache_hits=1)
                metrics.registry_cache(target.ecosystem.value, hit=True)
                return latest.result
            metrics.registry_cache(target.ecosystem.value, hit=False)
            return self._fetch(target, latest)
        finally:
            if lock is not None:
                cache.unlock(lock)

    def _fetch(self, target: _Target, entry: Entry | None) -> Parsed | LookupFailure:
        stale = entry if entry is not None and isinstance(entry.result, Parsed) else None
        self._counters.add(requests=1)
        outcome = self._fetcher.get(
            target.ecosystem, target.name, target.url, stale.validators if stale else Validators()
        )
        now = time.time()
        if isinstance(outcome, Fetched):
            result = _parse(target, outcome.body)
            if isinstance(result, Parsed):
                fresh = _fetched_at(result, now)
                self._store(target.key, Entry(fresh, now + self._ttl, now, outcome.validators))
                return fresh
        elif isinstance(outcome, NotModified):
            if stale is not None and isinstance(stale.result, Parsed):
                self._counters.add(revalidated=1)
                self._touch(target.key, now + self._ttl, now)
                return _fetched_at(stale.result, now)
            result = LookupFailure(
                target.ecosystem, target.name, f"{redact(target.url)} answered 304 with nothing cached", "malformed"
            )
        else:
            result = outcome
        self._counters.add(failures=1)
        if stale is not None and isinstance(stale.result, Parsed) and result.kind in TRANSIENT:
            self._counters.add(stale=1)
            self._touch(target.key, now + self._failure_ttl(result.kind), stale.checked_at)
            return stale.result
        self._store(target.key, Entry(result, now + self._failure_ttl(result.kind), now))
        return result

    def _failure_ttl(self, kind: FailureKind) -> float:
        configured = FAILURE_TTL[kind]
        return self._ttl if configured is None else min(configured, self._ttl)

    def _store(self, key: CacheKey, entry: Entry) -> None:
        if self._cache is not None:
            self._cache.store(key, entry)

    def _touch(self, key: CacheKey, fresh_until: float, checked_at: float) -> None:
        if self._cache is not None:
            self._cache.touch(key, fresh_until, checked_at)


def _parse(target: _Target, body: bytes) -> Parsed | LookupFailure:
    """The answer's package, or why it is unusable: the one place parser errors become a LookupFailure."""
    try:
        document = orjson.loads(body)
        return pypi.parse_pypi(document) if target.ecosystem is Ecosystem.PYTHON else npm.parse_npm(document)
    except orjson.JSONDecodeError as exc:
        return LookupFailure(
            target.ecosystem, target.name, f"{redact(target.url)} did not answer JSON ({exc})", "malformed"
        )
    except RegistryAnswerError as exc:
        return LookupFailure(target.ecosystem, target.name, f"{redact(target.url)}: {exc}", exc.kind)


def _outcome(future: Future[Parsed | LookupFailure], target: _Target) -> Parsed | LookupFailure:
    """A finished lookup's result. A bug met while handling one package fails that package only, logged."""
    try:
        return future.result()
    except Exception as exc:  # one package's unexpected error must not fail the whole batch
        log.exception("registry lookup of %s %s failed unexpectedly", target.ecosystem.value, target.name)
        return LookupFailure(target.ecosystem, target.name, f"internal error ({type(exc).__name__})", "malformed")


def _fetched_at(parsed: Parsed, moment: float) -> Parsed:
    return Parsed(replace(parsed.info, fetched_at=datetime.fromtimestamp(moment, UTC)), parsed.peers)


def _public(result: Parsed | LookupFailure) -> Result:
    return result if isinstance(result, LookupFailure) else result.info
