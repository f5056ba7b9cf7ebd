"""The breakage source of a scan: for an update, the API diff of the two releases (cached in Redis) and the uses
of what it removes or changes in the repository's own code.

Which updates are analysed (``should_analyse``): majors, 0.x minors (a new release line before 1.0) and minors
of core packages. Those are the updates where semver allows breaking changes, or where a break would hurt most
and a maintainer would read the evidence; a patch or a minor of anything else promises compatibility, and
downloading two releases of every dependency of every scan would cost more than the risk it can show. Others
give None (not asked), not an unknown.

Time: the service has a ``budget`` of seconds for one scan (every plan built from it, replans included); each
analysis gets a deadline within what is left, at most ``PER_UPDATE`` seconds. Once it is used, the updates not
yet analysed say "not analysed: time budget of N s used" (cached answers are still served: reading them is
cheap). Results are memoised per service, so replanning never analyses twice.

Analysers are found in ``ANALYSERS`` by module path and imported when first needed, so an ecosystem whose module
is absent says "not analysed: no analyser" instead of failing the scan. Nothing here runs code from the
repository or from the packages: the analysers read files.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis

from bot.breaking.cache import DiffCache, DiffKey
from bot.breaking.model import ApiDiff, Breakage, Use
from bot.deps.model import Ecosystem
from bot.deps.versions import parse_version, release_line
from bot.errors import DepupError
from bot.risk.facts import is_core
from config.model import CorePackages

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 120.0  # seconds of analysis per scan
PER_UPDATE = 60.0  # seconds one analysis may take at most

DiffFunction = Callable[..., ApiDiff]  # (package, current, target, *, deadline: float monotonic) -> ApiDiff
UsesFunction = Callable[[Path, str, ApiDiff], tuple[tuple[Use, ...], int]]  # (root, package, diff) -> (uses, scanned)


@dataclass(frozen=True)
class Analyser:
    """The two functions of one ecosystem, as ``module:function`` paths or as functions."""

    diff: str | DiffFunction
    uses: str | UsesFunction


ANALYSERS: Mapping[str, Analyser] = {
    "python": Analyser("bot.breaking.python_api:python_api_diff", "bot.breaking.python_uses:python_uses"),
    "npm": Analyser("bot.breaking.npm_api:npm_api_diff", "bot.breaking.js_uses:js_uses"),
}

Request = tuple[str, str, str, str]  # (ecosystem, package, current, target)


def should_analyse(ecosystem: str, package: str, current: str, target: str, core: CorePackages) -> bool:
    """Majors, 0.x minors and minors of core packages (see the module docstring for why)."""
    eco = Ecosystem(ecosystem)
    low, high = release_line(eco, current), release_line(eco, target)
    if low is None or high is None:
        return False
    if low != high:
        return True  # a major, or a 0.x minor (a 0.x release line is 0.N)
    a, b = parse_version(eco, current), parse_version(eco, target)
    if a is None or b is None:
        return False
    minor = (int(a.major), int(a.minor)) != (int(b.major), int(b.minor))
    return minor and is_core(eco, package, core)


class BreakageService:
    """``BreakageSource`` of the risk facts: ``service(ecosystem, package, current, target) -> Breakage | None``."""

    def __init__(
        self,
        root: Path | None,
        redis: Redis | None,
        core: CorePackages,
        *,
        budget: float = DEFAULT_BUDGET,
        per_update: float = PER_UPDATE,
        analysers: Mapping[str, Analyser] = ANALYSERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = root  # None: the code is not available (uses are then not claimed)
        self._cache = DiffCache(redis) if redis is not None else None
        self._core = core
        self._budget = budget
        self._per_update = per_update
        self._analysers = analysers
        self._clock = clock
        self._spent = 0.0
        self._diffs: dict[Request, ApiDiff] = {}
        self._results: dict[Request, Breakage] = {}
        self._not_cached: set[Request] = set()  # prefetched and not in the cache: not read again one by one
        self._loaded: dict[tuple[str, int], Callable[..., Any] | str] = {}  # (ecosystem, 0 diff / 1 uses)

    @property
    def spent(self) -> float:
        """Seconds spent analysing so far."""
        return self._spent

    def prefetch(self, updates: Sequence[Request]) -> None:
        """Read the cached diffs of every update that will be asked for, in one round trip."""
        if self._cache is None:
            return
        wanted = [u for u in dict.fromkeys(updates) if u not in self._diffs and should_analyse(*u, core=self._core)]
        if not wanted:
            return
        for request, diff in zip(wanted, self._cache.read_many([DiffKey(*u) for u in wanted]), strict=True):
            if diff is not None:
                self._diffs[request] = diff
            else:
                self._not_cached.add(request)

    def __call__(self, ecosystem: str, package: str, current: str, target: str) -> Breakage | None:
        request = (ecosystem, package, current, target)
        if request in self._results:
            return self._results[request]
        if not should_analyse(ecosystem, package, current, target, self._core):
            return None
        diff = self._diffs.get(request)
        if diff is None and self._cache is not None and request not in self._not_cached:
            diff = self._cache.read(DiffKey(*request))
        if diff is None:
            diff = self._analyse(request)
            if self._cache is not None and not _budget_answer(diff):
                self._cache.store(diff)
        self._diffs[request] = diff
        result = self._uses(request, diff)
        self._results[request] = result
        return result

    def _analyse(self, request: Request) -> ApiDiff:
        ecosystem, package, current, target = request
        left = self._budget - self._spent
        if left <= 0:  # before loading the analyser: with no time to use it, it need not be imported
            return _not_analysed(request, f"time budget of {self._budget:g} s used")
        diff = self._function(ecosystem, 0)
        if isinstance(diff, str):
            return _not_analysed(request, diff)
        start = self._clock()
        try:
            result: ApiDiff = diff(package, current, target, deadline=start + min(left, self._per_update))
            return result
        except DepupError as exc:
            return _not_analysed(request, str(exc))
        except Exception as exc:  # an analyser's bug must not fail the scan: the update says why it is unknown
            log.exception("API diff of %s %s -> %s failed", package, current, target)
            return _not_analysed(request, f"the analyser failed ({type(exc).__name__})")
        finally:
            self._spent += self._clock() - start

    def _uses(self, request: Request, diff: ApiDiff) -> Breakage:
        if not diff.analysed or not diff.changes or self._root is None:
            return Breakage(diff=diff)
        find = self._function(request[0], 1)
        if isinstance(find, str):
            return Breakage(diff=diff)
        try:
            uses, scanned = find(self._root, request[1], diff)
        except DepupError as exc:
            log.warning("uses of %s in %s not found: %s", request[1], self._root, exc)
            return Breakage(diff=diff)
        return Breakage(diff=diff, uses=tuple(uses), scanned=scanned)

    def _function(self, ecosystem: str, which: int) -> Callable[..., Any] | str:
        """The ecosystem's diff (0) or uses (1) function, or why there is none. Each is imported when first
        needed: reading uses of a cached diff does not load the diff's analyser (griffe, the HTTP client)."""
        key = (ecosystem, which)
        if key not in self._loaded:
            analyser = self._analysers.get(ecosystem)
            if analyser is None:
                self._loaded[key] = "no analyser"
            else:
                try:
                    self._loaded[key] = _resolve((analyser.diff, analyser.uses)[which])
                except (ImportError, AttributeError) as exc:
                    log.info("API analyser unavailable: %s", exc)
                    self._loaded[key] = "no analyser"
        return self._loaded[key]


def analyser_status(analysers: Mapping[str, Analyser] = ANALYSERS) -> dict[str, str]:
    """Per ecosystem, "available" or why not ("no analyser"): what a recording of facts could use."""
    return {eco: "available" if not isinstance(_load(a), str) else "no analyser" for eco, a in analysers.items()}


def _load(analyser: Analyser | None) -> tuple[DiffFunction, UsesFunction] | str:
    if analyser is None:
        return "no analyser"
    try:
        return _resolve(analyser.diff), _resolve(analyser.uses)
    except (ImportError, AttributeError) as exc:
        log.info("API analyser unavailable: %s", exc)
        return "no analyser"


def _resolve(target: str | Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        raise AttributeError(f"{target} is not a function")
    return function  # type: ignore[no-any-return]


def _not_analysed(request: Request, why: str) -> ApiDiff:
    ecosystem, package, current, target = request
    return ApiDiff(ecosystem, package, current, target, analysed=False, why_not=why)


def _budget_answer(diff: ApiDiff) -> bool:
    """Answers about this scan (no analyser here, its time budget used), not about the releases: never cached."""
    why = diff.why_not or ""
    return not diff.analysed and (why == "no analyser" or why.startswith("time budget of "))
