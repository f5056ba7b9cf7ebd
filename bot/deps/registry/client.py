"""Look up many packages at once: each distinct package once, concurrently, through the shared Redis cache.

Where each ecosystem's facts come from:

- PyPI: the JSON Simple API (``simple``: every file with upload time, yanked reason and requires-python, and
  the project's versions), half the bytes of the JSON API. When the server does not speak it (not JSON, or
  API version 1.0 without upload times), the JSON API document (``pypi``) instead, one more request. Project
  links are not in the Simple API: ``links`` asks ``/pypi/{name}/{latest}/json`` for the packages that end up
  with an update (the survey's call), and caches them per release.
- npm: the full packument. The abbreviated one (``application/vnd.npm.install-v1+json``) has no publish time
  per version (only ``modified``), which ``min_release_age``, "published together" and the plan's ages need,
  and no repository/homepage links.

Per batch of packages (``_resolve``):

1. cache entries fresher than their TTL answer with no request (the whole batch read in one Redis round trip);
2. the fetch locks of the others are claimed in one round trip (``SET NX`` with a TTL), so that concurrent
   workers do not fetch the same package at once; packages another worker holds are waited for (bounded)
   after this client's own fetches, read again in one round trip, and fetched only when the holder left
   nothing fresh;
3. fetch, conditionally when the stale entry has an ETag/Last-Modified: a 304 refreshes the entry's timestamps
   (no body parsed), a 200 is parsed and the reduced package stored, a failure is stored for a short while.
   The answers are written, and their locks released, by the calling thread in pipelines of ``WRITE_BATCH``
   as they arrive: the fetching threads never wait on Redis, and a Redis that fails only costs the cache.

Failure caching (``FAILURE_TTL``): ``unreachable`` and ``timeout`` 60 s, ``malformed`` 300 s, ``not_found`` the
normal ``ttl`` (a name that does not exist rarely starts existing within the hour). When a fetch fails for
``unreachable``/``timeout`` and a previous good copy is cached, that copy is served instead (its ``fetched_at``
says how old it is) and kept for the same 60 s before the registry is asked again: a registry outage does not
turn every dependency into a failure.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urljoin

import msgspec
import orjson
from redis import Redis

from bot.core import metrics
from bot.deps.model import Ecosystem, PackageInfo
from bot.deps.registry import npm, pypi, simple
from bot.deps.registry.cache import CacheKey, Entry, RegistryCache, Write
from bot.deps.registry.failures import FailureKind, LookupFailure, RegistryAnswerError
from bot.deps.registry.fetch import Fetched, Fetcher, NotModified, Outcome, Validators
from bot.deps.registry.parsed import Parsed, PeerDependency
from bot.deps.registry.prefix import MemberEnd
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base, pypi_json_base, redact

FAILURE_TTL: dict[FailureKind, float | None] = {
    "unreachable": 60.0,
    "timeout": 60.0,
    "malformed": 300.0,
    "not_found": None,  # None: the client's ttl
}
log = logging.getLogger(__name__)
WRITE_BATCH = 64  # answers per Redis pipeline
# One registry document is turned into Python objects at a time: parsing holds the GIL anyway, so this costs no
# throughput, and peak memory is one parsed document (a big PyPI project's is 5-10 times its 20 MB of JSON)
# instead of one per fetching thread.
_PARSING = threading.Lock()

TRANSIENT: frozenset[FailureKind] = frozenset({"unreachable", "timeout"})

Request = tuple[Ecosystem, str]
Result = PackageInfo | LookupFailure


@dataclass(frozen=True)
class RegistryStats:
    """Counters since the client was made. ``requests`` counts HTTP requests sent (304s and links included)."""

    requests: int = 0
    cache_hits: int = 0  # answered from a fresh cache entry, failures included, no request
    misses: int = 0  # packages not fresh in the cache (or no cache): fetched, conditionally when cached
    revalidated: int = 0  # 304 answers to conditional requests
    failures: int = 0  # fetches that ended in a failure (whether or not a stale copy was then served)
    stale: int = 0  # stale copies served because the registry failed
    bytes: int = 0  # body bytes received from the registries (decompressed)
    cache_bytes: int = 0  # package data bytes read from the Redis cache
    fallbacks: int = 0  # PyPI packages the Simple API could not answer, asked of the JSON API
    link_requests: int = 0  # PyPI release documents asked for project links (``links``)
    link_hits: int = 0  # project links answered from the cache


@dataclass(frozen=True)
class _Target:
    ecosystem: Ecosystem
    name: str  # as first requested
    key: CacheKey
    url: str
    accept: str | None = None  # the Accept header when not the client's default (application/json)
    fallback_url: str | None = None  # PyPI: the JSON API document, when the Simple answer is not enough


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
        self._no_release_documents = threading.Event()  # the PyPI base answered 404 for a release document

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

    def with_links(self, packages: Iterable[Parsed]) -> dict[str, PackageInfo]:
        """PyPI packages (by canonical name) with the project links of their latest release filled in: the
        Simple API has none. One small request per package and release, cached for good (a release's metadata
        does not change), so call it for the packages whose links matter (those with a proposed update).
        Packages that already have links (read from the JSON API), or have no release, are given back as
        they are; a failed request leaves a package without links (logged, not fatal).

        Where from, first found: the release's core metadata file when the index says it has one (PEP 658,
        a few kB), the release's JSON document, the project's JSON document (a registry without release
        documents: some mirrors). A metadata file the index does not announce is not asked for (PEP 658:
        it may not exist; a mirror tried here let such requests hang)."""
        wanted: dict[str, tuple[Parsed, CacheKey, str]] = {}
        done: dict[str, PackageInfo] = {}
        base = self._base(Ecosystem.PYTHON)
        for parsed in packages:
            info = parsed.info
            name = pypi.canonical_name(info.name)
            latest = dict(info.dist_tags).get("latest")
            if not isinstance(base, str) or info.ecosystem is not Ecosystem.PYTHON or info.urls or latest is None:
                done[name] = info
                continue
            wanted[name] = (parsed, CacheKey(Ecosystem.PYTHON, base, name), latest)
        if not wanted:
            return done
        names = list(wanted)
        pairs = [(key, version) for _, key, version in (wanted[n] for n in names)]
        cached = self._cache.read_links(pairs) if self._cache else [None] * len(names)
        missing: list[str] = []
        for name, urls in zip(names, cached, strict=True):
            if urls is None:
                missing.append(name)
            else:
                self._counters.add(link_hits=1)
                done[name] = replace(wanted[name][0].info, urls=urls)
        if missing:
            with ThreadPoolExecutor(max_workers=min(self._max_concurrency, len(missing))) as executor:
                found = dict(zip(missing, executor.map(lambda n: self._links_of(*wanted[n]), missing), strict=True))
            if self._cache is not None:
                self._cache.store_links(
                    [(wanted[n][1], wanted[n][2], urls) for n, urls in found.items() if urls is not None]
                )
            for name, urls in found.items():
                done[name] = replace(wanted[name][0].info, urls=urls or ())
        return done

    def _links_of(self, parsed: Parsed, key: CacheKey, version: str) -> tuple[tuple[str, str], ...] | None:
        name = parsed.info.name
        sources: list[tuple[str, bool]] = []  # (url, a JSON API document)
        metadata = parsed.metadata
        if metadata is not None and metadata.advertised:
            sources.append((metadata.url, False))
        if not self._no_release_documents.is_set():
            sources.append((key.base + pypi.version_json_path(name, version), True))
        sources.append((key.base + pypi.json_path(name), True))
        outcome: Outcome | None = None
        for url, document in sources:
            self._counters.add(link_requests=1)
            # A JSON API document starts with ``info``, where the links are: only that much is kept and
            # decoded, not every file of every release (a big project's 10 MB as Python objects).
            info = MemberEnd("info") if document else None
            outcome = self._get(_Target(Ecosystem.PYTHON, name, key, url), url, Validators(), None, info)
            if isinstance(outcome, LookupFailure) and outcome.kind == "not_found":
                if document and url != sources[-1][0]:
                    self._no_release_documents.set()  # such a registry has none: skip them for the next ones
                continue
            if not isinstance(outcome, Fetched):
                break
            try:
                if info is None:
                    return pypi.parse_metadata_links(outcome.body)
                if info(outcome.body) is not None:
                    return pypi.parse_links({"info": info.value(outcome.body)})
                return pypi.parse_links(orjson.loads(outcome.body))  # not in that order: the whole document
            except (orjson.JSONDecodeError, RegistryAnswerError, ValueError) as exc:
                log.warning("project links of %s %s unreadable: %s", name, version, exc)
                return None
        log.warning("project links of %s %s: %s", name, version, getattr(outcome, "reason", "not modified"))
        return None

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
                ecosystem,
                name,
                CacheKey(ecosystem, base, pypi.canonical_name(name)),
                base + simple.simple_path(name),
                accept=simple.ACCEPT,
                fallback_url=base + pypi.json_path(name),
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
        """Fresh entries answer at once; the rest is fetched, each package by one worker across all clients:
        the ones whose lock this client got now, the others after their holder is done, unless it left
        nothing fresh. Redis round trips: one read, one claim, one write per ``WRITE_BATCH`` answers, and for
        packages another client held, one wait-and-read."""
        results: dict[CacheKey, Parsed | LookupFailure] = {}
        cache = self._cache
        if cache is not None:
            entries, size = cache.read_batch([t.key for t in targets])
            self._counters.add(cache_bytes=size)
        else:
            entries = [None] * len(targets)
        now = time.time()
        pending: list[tuple[_Target, Entry | None]] = []
        hits: list[_Target] = []
        for target, entry in zip(targets, entries, strict=True):
            if entry is not None and entry.fresh(now):
                results[target.key] = entry.result
                hits.append(target)
            else:
                pending.append((target, entry))
        self._count(hits, hit=True)
        if on_answer is not None and results:
            on_answer(len(results))
        if not pending:
            return results
        if cache is None:
            return results | self._run_concurrently(pending, on_answer, claimed=False)
        started = time.monotonic()
        taken = cache.claim_many([t.key for t, _ in pending], self._lock_ttl)
        mine = [pair for pair, got in zip(pending, taken, strict=True) if got]
        theirs = [pair for pair, got in zip(pending, taken, strict=True) if not got]
        results |= self._run_concurrently(mine, on_answer, claimed=True)
        if theirs:
            left = max(0.0, self._total_timeout - (time.monotonic() - started))
            cache.wait_unlocked_many([t.key for t, _ in theirs], min(self._lock_ttl, left))
            latest, size = cache.read_batch([t.key for t, _ in theirs])
            self._counters.add(cache_bytes=size)
            now = time.time()
            still: list[tuple[_Target, Entry | None]] = []
            hits = []
            for (target, entry), again in zip(theirs, latest, strict=True):
                if again is not None and again.fresh(now):
                    results[target.key] = again.result
                    hits.append(target)
                else:
                    still.append((target, again or entry))
            self._count(hits, hit=True)
            if on_answer is not None and hits:
                on_answer(len(hits))
            results |= self._run_concurrently(still, on_answer, claimed=False)
        return results

    def _count(self, targets: list[_Target], *, hit: bool) -> None:
        """Cache hits (or misses) in the stats and the metrics, one counter update per ecosystem."""
        if not targets:
            return
        self._counters.add(**({"cache_hits": len(targets)} if hit else {"misses": len(targets)}))
        for ecosystem, count in Counter(t.ecosystem.value for t in targets).items():
            metrics.registry_cache(ecosystem, hit=hit, count=count)

    def _run_concurrently(
        self,
        pending: list[tuple[_Target, Entry | None]],
        on_answer: Callable[[int], None] | None,
        *,
        claimed: bool,
    ) -> dict[CacheKey, Parsed | LookupFailure]:
        """Fetch concurrently; the caller's thread writes the answers to Redis in batches as they arrive (and
        releases the locks of ``claimed`` packages with them), so the workers never wait on Redis."""
        results: dict[CacheKey, Parsed | LookupFailure] = {}
        if not pending:
            return results
        self._count([target for target, _ in pending], hit=False)
        executor = ThreadPoolExecutor(
            max_workers=min(self._max_concurrency, len(pending)), thread_name_prefix="registry"
        )
        writes: list[Write] = []
        answered: list[CacheKey] = []
        # Finished lookups arrive on a queue (each future's callback puts it there): waiting with
        # ``concurrent.futures.wait`` on every future still pending, once per answer, costs O(n²) under the GIL
        # (half a second of the fetching threads' time for 1,000 packages).
        finished: queue.SimpleQueue[Future[tuple[Parsed | LookupFailure, Write | None]]] = queue.SimpleQueue()
        try:
            futures: dict[Future[tuple[Parsed | LookupFailure, Write | None]], _Target] = {}
            for target, entry in pending:
                # Each task runs in a copy of the caller's context, so its log lines keep the job's fields.
                future = executor.submit(contextvars.copy_context().run, self._fetch, target, entry)
                futures[future] = target
                future.add_done_callback(finished.put)
            remaining = len(futures)
            deadline = time.monotonic() + self._total_timeout
            while remaining:
                try:
                    done = [finished.get(timeout=max(0.0, deadline - time.monotonic()))]
                except queue.Empty:
                    break
                while True:
                    try:
                        done.append(finished.get_nowait())
                    except queue.Empty:
                        break
                remaining -= len(done)
                for future in done:
                    target = futures[future]
                    result, write = _outcome(future, target)
                    results[target.key] = result
                    answered.append(target.key)
                    if write is not None:
                        writes.append(write)
                if on_answer is not None:
                    on_answer(len(done))
                if len(writes) >= WRITE_BATCH or not remaining:
                    self._write(writes, answered if claimed else [])
                    writes, answered = [], []
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            unanswered = [t.key for t, _ in pending if t.key not in results] if claimed else []
            if writes or answered or unanswered:
                self._write(writes, (answered + unanswered) if claimed else [])
        for target in futures.values():
            if target.key not in results:
                reason = f"no answer within the {self._total_timeout:g} s allowed for this batch of lookups"
                results[target.key] = LookupFailure(target.ecosystem, target.name, reason, "timeout")
        return results

    def _write(self, writes: list[Write], release: list[CacheKey]) -> None:
        if self._cache is not None:
            self._cache.write_many(writes, release)

    def _fetch(self, target: _Target, entry: Entry | None) -> tuple[Parsed | LookupFailure, Write | None]:
        """One package from its registry, and what the cache should remember of it (written by the caller)."""
        stale = entry if entry is not None and isinstance(entry.result, Parsed) else None
        outcome = self._get(target, target.url, stale.validators if stale else Validators(), target.accept)
        now = time.time()
        if isinstance(outcome, Fetched):
            result = self._parse(target, outcome)
            if isinstance(result, Parsed):
                fresh = _fetched_at(result, now)
                return fresh, Write(target.key, Entry(fresh, now + self._ttl, now, outcome.validators))
        elif isinstance(outcome, NotModified):
            if stale is not None and isinstance(stale.result, Parsed):
                self._counters.add(revalidated=1)
                return _fetched_at(stale.result, now), Write(target.key, touch=(now + self._ttl, now))
            result = LookupFailure(
                target.ecosystem, target.name, f"{redact(target.url)} answered 304 with nothing cached", "malformed"
            )
        else:
            result = outcome
        self._counters.add(failures=1)
        if stale is not None and isinstance(stale.result, Parsed) and result.kind in TRANSIENT:
            self._counters.add(stale=1)
            return stale.result, Write(target.key, touch=(now + self._failure_ttl(result.kind), stale.checked_at))
        return result, Write(target.key, Entry(result, now + self._failure_ttl(result.kind), now))

    def _get(
        self,
        target: _Target,
        url: str,
        validators: Validators,
        accept: str | None,
        enough: Callable[[bytearray], int | None] | None = None,
    ) -> Outcome:
        self._counters.add(requests=1)
        outcome = self._fetcher.get(target.ecosystem, target.name, url, validators, accept, enough)
        if isinstance(outcome, Fetched):
            self._counters.add(bytes=outcome.size)
        return outcome

    def _parse(self, target: _Target, outcome: Fetched) -> Parsed | LookupFailure:
        """The answer's package. A Simple API answer that is not JSON (a server without PEP 691) or lacks
        facts (API version 1.0) is replaced by the JSON API's answer, one more request."""
        if target.fallback_url is None:
            return _parse(target.ecosystem, target.name, target.url, outcome.body, _NPM)
        if outcome.content_type == simple.ACCEPT:
            try:
                parsed = _parse(target.ecosystem, target.name, target.url, outcome.body, simple.parse_simple_body)
            except simple.IncompleteSimpleAnswer:
                pass
            else:
                if isinstance(parsed, Parsed) and parsed.metadata is not None:  # file URLs may be relative
                    metadata = replace(parsed.metadata, url=urljoin(target.url, parsed.metadata.url))
                    parsed = replace(parsed, metadata=metadata)
                return parsed
        self._counters.add(fallbacks=1)
        fallback = self._get(target, target.fallback_url, Validators(), None)
        if isinstance(fallback, Fetched):
            return _parse(target.ecosystem, target.name, target.fallback_url, fallback.body, _PYPI)
        if isinstance(fallback, NotModified):  # not asked conditionally: a server bug
            return LookupFailure(
                target.ecosystem, target.name, f"{redact(target.fallback_url)} answered 304 unasked", "malformed"
            )
        return fallback

    def _failure_ttl(self, kind: FailureKind) -> float:
        configured = FAILURE_TTL[kind]
        return self._ttl if configured is None else min(configured, self._ttl)


def _parse(
    ecosystem: Ecosystem, name: str, url: str, body: bytes, parser: Callable[[bytes], Parsed]
) -> Parsed | LookupFailure:
    """The answer's package, or why it is unusable: the one place parser errors become a LookupFailure
    (``simple.IncompleteSimpleAnswer`` is not an error: the caller asks the JSON API instead)."""
    try:
        with _PARSING:
            return parser(body)
    except (orjson.JSONDecodeError, msgspec.DecodeError) as exc:
        return LookupFailure(ecosystem, name, f"{redact(url)} did not answer JSON ({exc})", "malformed")
    except RegistryAnswerError as exc:
        return LookupFailure(ecosystem, name, f"{redact(url)}: {exc}", exc.kind)


def _json_parser(parse: Callable[[object], Parsed]) -> Callable[[bytes], Parsed]:
    return lambda body: parse(orjson.loads(body))


_NPM = _json_parser(npm.parse_npm)
_PYPI = _json_parser(pypi.parse_pypi)


def _outcome(
    future: Future[tuple[Parsed | LookupFailure, Write | None]], target: _Target
) -> tuple[Parsed | LookupFailure, Write | None]:
    """A finished lookup's result. A bug met while handling one package fails that package only, logged."""
    try:
        return future.result()
    except Exception as exc:  # one package's unexpected error must not fail the whole batch
        log.exception("registry lookup of %s %s failed unexpectedly", target.ecosystem.value, target.name)
        failure = LookupFailure(target.ecosystem, target.name, f"internal error ({type(exc).__name__})", "malformed")
        return failure, None


def _fetched_at(parsed: Parsed, moment: float) -> Parsed:
    return replace(parsed, info=replace(parsed.info, fetched_at=datetime.fromtimestamp(moment, UTC)))


def _public(result: Parsed | LookupFailure) -> Result:
    return result if isinstance(result, LookupFailure) else result.info
