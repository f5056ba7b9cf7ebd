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
import functools
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urljoin

import msgspec
import orjson
from redis import Redis

from bot.core import metrics
from bot.deps.model import Ecosystem, PackageInfo
from bot.deps.registry import codec, npm, pypi, simple
from bot.deps.registry import helper as helper_process
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
LinksWanted = Callable[[Request, Parsed], bool]  # whether a package's project links are wanted (``lookup_parsed``)
_Urls = tuple[tuple[str, str], ...]
OnResults = Callable[[list[tuple[CacheKey, Parsed | LookupFailure]]], None]


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
    helped: int = 0  # packages fetched and parsed by a helper process (``helper``), among the misses


@dataclass(frozen=True)
class Target:
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
        helper_min: int = helper_process.HELPER_MIN,
    ) -> None:
        self._cache = RegistryCache(redis) if redis is not None else None
        self._ttl = ttl
        self._timeout = timeout
        self._total_timeout = total_timeout
        self._helper_min = helper_min  # packages to fetch in one batch before a helper process shares the work
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
        self,
        requests: Iterable[Request],
        on_answer: Callable[[int], None] | None = None,
        links_for: LinksWanted | None = None,
    ) -> dict[Request, Parsed | LookupFailure]:
        """Like ``lookup_many``, with what the parsers keep beside the ``PackageInfo`` (npm peer dependencies).

        ``links_for(request, parsed)`` is called in the calling thread for every package answer as it arrives;
        where it says True, the PyPI package's project links are looked up at once, while the other lookups go
        on, and the answer comes back with them in ``info.urls``. The Simple API has none: one small request
        per package and release, cached for good (a release's metadata does not change), so ask for them where
        they matter (the survey: the packages with a proposed update). Packages that already have links (read
        from the JSON API), or have no release, are given back as they are; a failed request leaves a package
        without links (logged, not fatal).

        Where from, first found: the release's core metadata file when the index says it has one (PEP 658,
        a few kB), the release's JSON document, the project's JSON document (a registry without release
        documents: some mirrors). A metadata file the index does not announce is not asked for (PEP 658:
        it may not exist; a mirror tried here let such requests hang)."""
        return self._lookup(requests, on_answer, links_for)

    def peer_dependencies(self, name: str) -> dict[str, tuple[PeerDependency, ...]] | LookupFailure:
        """An npm package's ``peerDependencies`` by version (same lookup and cache entry as ``lookup_many``)."""
        result = self._lookup([(Ecosystem.NPM, name)])[(Ecosystem.NPM, name)]
        return result if isinstance(result, LookupFailure) else dict(result.peers)

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
            outcome = self._get(Target(Ecosystem.PYTHON, name, key, url), url, Validators(), None, info)
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
        self,
        requests: Iterable[Request],
        on_answer: Callable[[int], None] | None = None,
        links_for: LinksWanted | None = None,
    ) -> dict[Request, Parsed | LookupFailure]:
        started = time.monotonic()
        wanted = list(dict.fromkeys(requests))
        targets: dict[CacheKey, Target] = {}
        answers: dict[Request, Parsed | LookupFailure] = {}
        key_of: dict[Request, CacheKey] = {}
        asked_as: dict[CacheKey, list[Request]] = {}
        for ecosystem, name in wanted:
            target = self._target(ecosystem, name)
            if isinstance(target, LookupFailure):
                answers[(ecosystem, name)] = target
                continue
            key_of[(ecosystem, name)] = target.key
            asked_as.setdefault(target.key, []).append((ecosystem, name))
            targets.setdefault(target.key, target)
        if on_answer is not None and len(wanted) > len(key_of):
            on_answer(len(wanted) - len(key_of))
        links = _Links(self) if links_for is not None else None

        def on_results(found: list[tuple[CacheKey, Parsed | LookupFailure]]) -> None:
            assert links is not None and links_for is not None
            for key, result in found:
                # every request of the package is shown the answer (the caller may keep something of each)
                if isinstance(result, Parsed) and any([links_for(r, result) for r in asked_as[key]]):
                    links.want(key, result)
            links.flush()

        try:
            results = self._resolve(list(targets.values()), on_answer, on_results if links else None)
            if links is not None:
                left = max(0.0, self._total_timeout - (time.monotonic() - started))
                results |= links.finish(left)
        finally:
            if links is not None:
                links.close()
        for request, key in key_of.items():
            result = results[key]
            answers[request] = replace(result, name=request[1]) if isinstance(result, LookupFailure) else result
        return {request: answers[request] for request in wanted}

    def _target(self, ecosystem: Ecosystem, name: str) -> Target | LookupFailure:
        base = self._base(ecosystem)
        if isinstance(base, RegistryConfigError):
            return LookupFailure(ecosystem, name, str(base), "unreachable")
        if ecosystem is Ecosystem.PYTHON:
            return Target(
                ecosystem,
                name,
                CacheKey(ecosystem, base, pypi.canonical_name(name)),
                base + simple.simple_path(name),
                accept=simple.ACCEPT,
                fallback_url=base + pypi.json_path(name),
            )
        return Target(ecosystem, name, CacheKey(ecosystem, base, name), base + npm.packument_path(name))

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
        self, targets: list[Target], on_answer: Callable[[int], None] | None, on_results: OnResults | None
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
        pending: list[tuple[Target, Entry | None]] = []
        hits: list[Target] = []
        for target, entry in zip(targets, entries, strict=True):
            if entry is not None and entry.fresh(now):
                results[target.key] = entry.result
                hits.append(target)
            else:
                pending.append((target, entry))
        self._count(hits, hit=True)
        if on_answer is not None and results:
            on_answer(len(results))
        if on_results is not None and results:
            on_results(list(results.items()))
        if not pending:
            return results
        if cache is None:
            return results | self._run_concurrently(pending, on_answer, on_results, claimed=False)
        started = time.monotonic()
        taken = cache.claim_many([t.key for t, _ in pending], self._lock_ttl)
        mine = [pair for pair, got in zip(pending, taken, strict=True) if got]
        theirs = [pair for pair, got in zip(pending, taken, strict=True) if not got]
        results |= self._run_concurrently(mine, on_answer, on_results, claimed=True)
        if theirs:
            left = max(0.0, self._total_timeout - (time.monotonic() - started))
            cache.wait_unlocked_many([t.key for t, _ in theirs], min(self._lock_ttl, left))
            latest, size = cache.read_batch([t.key for t, _ in theirs])
            self._counters.add(cache_bytes=size)
            now = time.time()
            still: list[tuple[Target, Entry | None]] = []
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
            if on_results is not None and hits:
                on_results([(t.key, results[t.key]) for t in hits])
            results |= self._run_concurrently(still, on_answer, on_results, claimed=False)
        return results

    def _count(self, targets: list[Target], *, hit: bool) -> None:
        """Cache hits (or misses) in the stats and the metrics, one counter update per ecosystem."""
        if not targets:
            return
        self._counters.add(**({"cache_hits": len(targets)} if hit else {"misses": len(targets)}))
        for ecosystem, count in Counter(t.ecosystem.value for t in targets).items():
            metrics.registry_cache(ecosystem, hit=hit, count=count)

    def _run_concurrently(
        self,
        pending: list[tuple[Target, Entry | None]],
        on_answer: Callable[[int], None] | None,
        on_results: OnResults | None,
        *,
        claimed: bool,
    ) -> dict[CacheKey, Parsed | LookupFailure]:
        """Fetch concurrently (this process's threads and, for a big batch, a ``helper`` process, taking
        packages from one queue); the caller's thread writes the answers to Redis in batches as they arrive (and
        releases the locks of ``claimed`` packages with them), so the fetching threads never wait on Redis, and
        shows them to ``on_results``."""
        results: dict[CacheKey, Parsed | LookupFailure] = {}
        if not pending:
            return results
        self._count([target for target, _ in pending], hit=False)
        work = _Work(pending)
        helper = self._helper(len(pending))
        threads = min(self._max_concurrency, len(pending))
        executor = ThreadPoolExecutor(max_workers=threads + (helper is not None), thread_name_prefix="registry")
        writes: list[Write] = []
        answered: list[CacheKey] = []
        # Cache writes go through a thread of their own, in order: a Redis round trip from this thread, which also
        # holds the GIL for the answers' handling, cost it about 5 ms each while the fetching threads ran.
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-cache") if self._cache else None
        # Answers arrive on a queue: waiting with ``concurrent.futures.wait`` on every future still pending,
        # once per answer, costs O(n²) under the GIL (half a second of the fetching threads' time for 1,000).
        finished: queue.SimpleQueue[tuple[Target, Parsed | LookupFailure, Write | None]] = queue.SimpleQueue()

        def fetch_all() -> None:
            while (item := work.take()) is not None:
                finished.put((item[0], *self._fetch_guarded(*item)))

        try:
            for _ in range(threads):
                # Each thread runs in a copy of the caller's context, so its log lines keep the job's fields.
                executor.submit(contextvars.copy_context().run, fetch_all)
            if helper is not None:
                executor.submit(contextvars.copy_context().run, self._serve, helper, work, finished)
            remaining = len(pending)
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
                arrived: list[tuple[CacheKey, Parsed | LookupFailure]] = []
                for target, result, write in done:
                    results[target.key] = result
                    arrived.append((target.key, result))
                    answered.append(target.key)
                    if write is not None:
                        writes.append(write)
                if on_answer is not None:
                    on_answer(len(done))
                if on_results is not None:
                    on_results(arrived)
                if writer is not None and (len(writes) >= WRITE_BATCH or not remaining):
                    writer.submit(contextvars.copy_context().run, self._write, writes, answered if claimed else [])
                    writes, answered = [], []
        finally:
            work.close()  # threads waiting for work end; the rest end after their current package
            if helper is not None:
                helper.close()
            executor.shutdown(wait=False, cancel_futures=True)
            unanswered = [t.key for t, _ in pending if t.key not in results] if claimed else []
            if writer is not None:
                if writes or answered or unanswered:
                    writer.submit(
                        contextvars.copy_context().run, self._write, writes, (answered + unanswered) if claimed else []
                    )
                writer.shutdown(wait=True)  # the answers are in the cache (and the locks released) on return
        for target, _ in pending:
            if target.key not in results:
                reason = f"no answer within the {self._total_timeout:g} s allowed for this batch of lookups"
                results[target.key] = LookupFailure(target.ecosystem, target.name, reason, "timeout")
        return results

    def _helper(self, count: int) -> helper_process.Helper | None:
        if count < self._helper_min or not helper_process.enabled():
            return None
        return helper_process.Helper.start(self._timeout, self._max_concurrency // 2 or 1)

    def _serve(
        self,
        helper: helper_process.Helper,
        work: _Work,
        finished: queue.SimpleQueue[tuple[Target, Parsed | LookupFailure, Write | None]],
    ) -> None:
        """Feed the helper packages from ``work``; each answer is settled here as if fetched by this process."""
        by_id: dict[int, tuple[Target, Entry | None]] = {}
        seen = RegistryStats()

        def take() -> helper_process.Job | None:
            item = work.take(delegate=True)
            if item is None:
                return None
            target, entry = item
            by_id[id(target)] = item
            stale = entry.validators if entry is not None and isinstance(entry.result, Parsed) else Validators()
            return helper_process.Job(
                id(target),
                target.ecosystem.value,
                target.name,
                target.key.base,
                target.key.name,
                target.url,
                target.accept,
                target.fallback_url,
                stale.etag,
                stale.last_modified,
            )

        def deliver(job: helper_process.Job, answer: helper_process.Answer) -> None:
            nonlocal seen
            target, entry = by_id.pop(job.id)
            self._counters.add(
                requests=answer.requests - seen.requests,
                bytes=answer.received - seen.bytes,
                fallbacks=answer.fallbacks - seen.fallbacks,
            )
            seen = replace(seen, requests=answer.requests, bytes=answer.received, fallbacks=answer.fallbacks)
            try:
                found = _helper_answer(target, answer)
                stale = entry if entry is not None and isinstance(entry.result, Parsed) else None
                validators = Validators(answer.etag, answer.last_modified)
                settled = self._settle(target, stale, found, validators)
                self._counters.add(helped=1)
                finished.put((target, *settled))
            except Exception:  # an answer that cannot be read: fetched here instead
                log.exception("registry helper's answer for %s unreadable", target.name)
                work.give_back((target, entry))
            else:
                work.delegated_done()

        def give_back(job: helper_process.Job) -> None:
            work.give_back(by_id.pop(job.id))

        helper.serve(take, deliver, give_back)

    def _fetch_guarded(self, target: Target, entry: Entry | None) -> tuple[Parsed | LookupFailure, Write | None]:
        """``_fetch``; a bug met while handling one package fails that package only, logged."""
        try:
            return self._fetch(target, entry)
        except Exception as exc:  # one package's unexpected error must not fail the whole batch
            log.exception("registry lookup of %s %s failed unexpectedly", target.ecosystem.value, target.name)
            reason = f"internal error ({type(exc).__name__})"
            return LookupFailure(target.ecosystem, target.name, reason, "malformed"), None

    def _write(self, writes: list[Write], release: list[CacheKey]) -> None:
        if self._cache is not None:
            self._cache.write_many(writes, release)

    def _fetch(self, target: Target, entry: Entry | None) -> tuple[Parsed | LookupFailure, Write | None]:
        """One package from its registry, and what the cache should remember of it (written by the caller)."""
        stale = entry if entry is not None and isinstance(entry.result, Parsed) else None
        answer, validators = self._answer(target, stale.validators if stale else Validators())
        return self._settle(target, stale, answer, validators)

    def _answer(
        self, target: Target, validators: Validators
    ) -> tuple[Parsed | NotModified | LookupFailure, Validators]:
        """What the registry says of one package (conditionally, given ``validators``), parsed, with the
        validators of a full answer. The part of a lookup that ``helper`` can do in another process."""
        outcome = self._get(target, target.url, validators, target.accept)
        if isinstance(outcome, Fetched):
            return self._parse(target, outcome), outcome.validators
        return outcome, Validators()

    def _settle(
        self,
        target: Target,
        stale: Entry | None,
        answer: Parsed | NotModified | LookupFailure,
        validators: Validators,
    ) -> tuple[Parsed | LookupFailure, Write]:
        """The package an answer makes, given the ``stale`` entry asked about, and the cache write it calls for."""
        now = time.time()
        if isinstance(answer, Parsed):
            fresh = _fetched_at(answer, now)
            return fresh, Write(target.key, Entry(fresh, now + self._ttl, now, validators))
        if isinstance(answer, NotModified):
            if stale is not None and isinstance(stale.result, Parsed):
                self._counters.add(revalidated=1)
                return _fetched_at(stale.result, now), Write(target.key, touch=(now + self._ttl, now))
            result = LookupFailure(
                target.ecosystem, target.name, f"{redact(target.url)} answered 304 with nothing cached", "malformed"
            )
        else:
            result = answer
        self._counters.add(failures=1)
        if stale is not None and isinstance(stale.result, Parsed) and result.kind in TRANSIENT:
            self._counters.add(stale=1)
            return stale.result, Write(target.key, touch=(now + self._failure_ttl(result.kind), stale.checked_at))
        return result, Write(target.key, Entry(result, now + self._failure_ttl(result.kind), now))

    def _get(
        self,
        target: Target,
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

    def _parse(self, target: Target, outcome: Fetched) -> Parsed | LookupFailure:
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


class _Work:
    """The packages of one batch still to fetch, taken by this process's threads and by a helper's feeder.

    A package the helper holds (``take(delegate=True)``) may come back (``give_back``: the helper failed), so
    the threads wait for one while any is held, and end once none is left to fetch or hold (or ``close``)."""

    def __init__(self, items: list[tuple[Target, Entry | None]]) -> None:
        self._items = deque(items)
        self._held = 0
        self._closed = False
        self._changed = threading.Condition()

    def take(self, *, delegate: bool = False) -> tuple[Target, Entry | None] | None:
        with self._changed:
            while not self._items and self._held and not self._closed and not delegate:
                self._changed.wait()
            if self._closed or not self._items:
                return None
            if delegate:
                self._held += 1
            return self._items.popleft()

    def delegated_done(self) -> None:
        with self._changed:
            self._held -= 1
            self._changed.notify_all()

    def give_back(self, item: tuple[Target, Entry | None]) -> None:
        with self._changed:
            self._held -= 1
            self._items.appendleft(item)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class _Links:
    """The project links of the PyPI packages one lookup wants them for (``want``, from the calling thread),
    asked as soon as the packages are known, on threads of their own, while the other lookups go on; ``finish``
    waits for them and stores the new ones in one round trip.

    The cache is read in one round trip per ``flush`` of ``MGET_AT_LEAST`` packages or more (a warm lookup's
    hits arrive together); fewer (the answers of a cold lookup, a few at a time) are read by the thread that
    would fetch them: a Redis round trip from the calling thread, which also holds the GIL for the survey's
    choices, cost it about 5 ms each while the fetching threads ran (0.8 s in a cold 1,000-package plan)."""

    MGET_AT_LEAST = 16

    def __init__(self, client: RegistryClient) -> None:
        self._client = client
        self._wanted: list[tuple[CacheKey, Parsed, str]] = []
        self._asked: dict[CacheKey, tuple[Parsed, str, Future[tuple[_Urls | None, bool]]]] = {}
        self._found: dict[CacheKey, Parsed] = {}
        self._executor: ThreadPoolExecutor | None = None

    def want(self, key: CacheKey, parsed: Parsed) -> None:
        latest = dict(parsed.info.dist_tags).get("latest")
        if key.ecosystem is Ecosystem.PYTHON and not parsed.info.urls and latest is not None:
            self._wanted.append((key, parsed, latest))

    def flush(self) -> None:
        wanted, self._wanted = self._wanted, []
        if not wanted:
            return
        client = self._client
        cache = client._cache
        together = cache is not None and len(wanted) >= self.MGET_AT_LEAST
        cached = cache.read_links([(k, v) for k, _, v in wanted]) if cache and together else [None] * len(wanted)
        for (key, parsed, version), urls in zip(wanted, cached, strict=True):
            if urls is not None:
                client._counters.add(link_hits=1)
                self._found[key] = _with_urls(parsed, urls)
                continue
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=client._max_concurrency, thread_name_prefix="links")
            read_first = cache is not None and not together
            task = functools.partial(self._links, parsed, key, version, read_first=read_first)
            self._asked[key] = (parsed, version, self._executor.submit(contextvars.copy_context().run, task))

    def _links(self, parsed: Parsed, key: CacheKey, version: str, *, read_first: bool) -> tuple[_Urls | None, bool]:
        """A package's links, and whether they were fetched (not read from the cache)."""
        client = self._client
        if read_first and client._cache is not None:
            (urls,) = client._cache.read_links([(key, version)])
            if urls is not None:
                client._counters.add(link_hits=1)
                return urls, False
        return client._links_of(parsed, key, version), True

    def finish(self, timeout: float) -> dict[CacheKey, Parsed]:
        """Every package wanted, with its links (or none, when they could not be had within ``timeout``)."""
        self.flush()
        asked = self._asked
        wait([future for _, _, future in asked.values()], timeout)
        new: list[tuple[CacheKey, str, _Urls]] = []
        for key, (parsed, version, future) in asked.items():
            urls, fetched = None, False
            if future.done() and future.exception() is None:
                urls, fetched = future.result()
            elif future.done():
                log.error("project links of %s failed unexpectedly", parsed.info.name, exc_info=future.exception())
            else:
                log.warning("project links of %s: no answer within %.0f s", parsed.info.name, timeout)
            if urls is not None and fetched:
                new.append((key, version, urls))
            self._found[key] = _with_urls(parsed, urls or ())
        if new and self._client._cache is not None:
            self._client._cache.store_links(new)
        return self._found

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


def _with_urls(parsed: Parsed, urls: tuple[tuple[str, str], ...]) -> Parsed:
    return replace(parsed, info=replace(parsed.info, urls=urls))


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


_NPM = npm.parse_npm_body
_PYPI = _json_parser(pypi.parse_pypi)


def _helper_answer(target: Target, answer: helper_process.Answer) -> Parsed | NotModified | LookupFailure:
    if answer.kind == "parsed":
        return codec.decode_parsed(answer.data, None)
    if answer.kind == "not_modified":
        return NotModified()
    return codec.decode_failure(answer.data, target.ecosystem, target.name)


def _fetched_at(parsed: Parsed, moment: float) -> Parsed:
    return replace(parsed, info=replace(parsed.info, fetched_at=datetime.fromtimestamp(moment, UTC)))


def _public(result: Parsed | LookupFailure) -> Result:
    return result if isinstance(result, LookupFailure) else result.info
