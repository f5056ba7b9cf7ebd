"""Prometheus metrics of every depup process (docs/operations.md lists them with their labels).

* ``web``: ``/metrics`` of the app. With several gunicorn workers, ``PROMETHEUS_MULTIPROC_DIR`` must be set before
  the workers start (``depup web`` does it); ``/metrics`` then aggregates every worker's numbers.
* ``worker``: ``depup worker`` serves ``/metrics`` on ``DEPUP_METRICS_PORT`` when set. rq runs each job in a forked
  child, so the worker records in a private multiprocess directory (``use_worker_directory``) and folds the files
  of finished children into one archive per file kind after every job (``fold_dead``): the directory stays a few
  files however many jobs ran.
* ``cron``: serves the queue gauges (``bot.process.status.QueueCollector``, read from Redis at scrape time) on the
  same variable.

Label values are bounded: job and handler names are code, GitHub routes are templates (``github_route``),
installations are the App's installations, ecosystems are ``python`` and ``npm``.
"""

from __future__ import annotations

import glob
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.registry import Collector

# -- web ---------------------------------------------------------------------------------------------------------

DELIVERIES = Counter(
    "depup_webhook_deliveries",
    "Webhook deliveries received, by event and outcome.",
    ["event", "outcome"],
)
ACK_SECONDS = Histogram(
    "depup_webhook_ack_seconds",
    "Time from receiving a webhook request to answering it, by event and outcome.",
    ["event", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

# -- worker: jobs and handlers -----------------------------------------------------------------------------------

JOB_OUTCOMES = ("success", "failure", "postponed", "retried")
JOBS = Counter(
    "depup_jobs",
    "Jobs run by workers, by job function and outcome (success, failure, postponed, retried).",
    ["job", "outcome"],
)
JOB_SECONDS = Histogram(
    "depup_job_duration_seconds",
    "Time a job ran, by job function and outcome.",
    ["job", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)
HANDLERS = Counter(
    "depup_handler_runs",
    "Webhook handler runs inside process_delivery, by handler and outcome (success, failure, postponed, malformed).",
    ["handler", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "depup_handler_duration_seconds",
    "Time a webhook handler ran, by handler.",
    ["handler"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

# -- worker: GitHub ------------------------------------------------------------------------------------------------

GITHUB_REQUESTS = Counter(
    "depup_github_requests",
    "Requests sent to GitHub, by method, route template and status class (2xx..5xx, or error: no answer).",
    ["method", "route", "status_class"],
)
GITHUB_SECONDS = Histogram(
    "depup_github_request_duration_seconds",
    "Time until GitHub's answer headers arrived, by method.",
    ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RATELIMIT_REMAINING = Gauge(
    "depup_github_ratelimit_remaining",
    "Requests left in the current rate-limit window (x-ratelimit-remaining), by installation (app: the App's JWT).",
    ["installation"],
    multiprocess_mode="mostrecent",
)
RATELIMIT_LIMIT = Gauge(
    "depup_github_ratelimit_limit",
    "Size of the rate-limit window (x-ratelimit-limit), by installation.",
    ["installation"],
    multiprocess_mode="mostrecent",
)
RATELIMIT_RESET = Gauge(
    "depup_github_ratelimit_reset_timestamp_seconds",
    "When the current rate-limit window resets, Unix time (x-ratelimit-reset), by installation.",
    ["installation"],
    multiprocess_mode="mostrecent",
)

# -- worker: registries, pull requests, rollbacks --------------------------------------------------------------------

REGISTRY_CACHE = Counter(
    "depup_registry_cache_lookups",
    "Package registry lookups through the shared Redis cache, by ecosystem and result "
    "(hit: answered with no request; miss: a request was sent, conditional ones included).",
    ["ecosystem", "result"],
)
PRS_OPENED = Counter("depup_pull_requests_opened", "Upgrade pull requests opened.")
ROLLBACKS_OPENED = Counter("depup_rollbacks_opened", "Rollback (revert) pull requests opened.")
ROLLBACKS_MERGED = Counter("depup_rollbacks_merged", "Rollback pull requests merged by depup (rollback.auto_merge).")

_EVENT_NAME = re.compile(r"^[a-z_]{1,64}$")


def event_label(event: str | None, verified: bool) -> str:
    """Label value for an event header; unverified requests must not create label values at will."""
    if not verified:
        return "unverified"
    return event if event and _EVENT_NAME.match(event) else "invalid"


def observe(event: str, outcome: str, seconds: float) -> None:
    DELIVERIES.labels(event, outcome).inc()
    ACK_SECONDS.labels(event, outcome).observe(seconds)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)


# -- jobs --------------------------------------------------------------------------------------------------------


class JobRun:
    """The outcome of one running job; the job sets ``postponed`` when it reschedules itself."""

    __slots__ = ("outcome",)

    def __init__(self) -> None:
        self.outcome = "success"

    def postponed(self) -> None:
        self.outcome = "postponed"


@contextmanager
def job_run(job: str, will_retry: Callable[[], bool]) -> Iterator[JobRun]:
    """Count the job and time it. An exception counts as ``retried`` when rq will run the job again
    (``will_retry()``), else ``failure``, and is re-raised untouched."""
    run = JobRun()
    started = time.perf_counter()
    try:
        yield run
    except BaseException:
        run.outcome = "retried" if will_retry() else "failure"
        raise
    finally:
        JOBS.labels(job, run.outcome).inc()
        JOB_SECONDS.labels(job, run.outcome).observe(time.perf_counter() - started)


def handler_run(handler: str, outcome: str, seconds: float) -> None:
    HANDLERS.labels(handler, outcome).inc()
    HANDLER_SECONDS.labels(handler).observe(seconds)


# -- GitHub --------------------------------------------------------------------------------------------------------

# The REST routes depup calls (and a few neighbours), as GitHub's OpenAPI description names them. Parameters that may
# hold slashes (file paths, git refs, compare ranges, label names) match across segments; a file path may be empty
# (the repository's root directory).
GITHUB_ROUTES = (
    "/app",
    "/app/installations",
    "/app/installations/{installation_id}",
    "/app/installations/{installation_id}/access_tokens",
    "/installation/repositories",
    "/rate_limit",
    "/user",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/actions/runs",
    "/repos/{owner}/{repo}/branches/{branch}",
    "/repos/{owner}/{repo}/check-runs",
    "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    "/repos/{owner}/{repo}/check-suites/{check_suite_id}",
    "/repos/{owner}/{repo}/collaborators/{username}/permission",
    "/repos/{owner}/{repo}/commits",
    "/repos/{owner}/{repo}/commits/{ref}",
    "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    "/repos/{owner}/{repo}/commits/{ref}/check-suites",
    "/repos/{owner}/{repo}/commits/{ref}/status",
    "/repos/{owner}/{repo}/commits/{ref}/statuses",
    "/repos/{owner}/{repo}/compare/{basehead}",
    "/repos/{owner}/{repo}/contents/{path}",
    "/repos/{owner}/{repo}/deployments",
    "/repos/{owner}/{repo}/deployments/{deployment_id}",
    "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
    "/repos/{owner}/{repo}/git/blobs",
    "/repos/{owner}/{repo}/git/blobs/{file_sha}",
    "/repos/{owner}/{repo}/git/commits",
    "/repos/{owner}/{repo}/git/commits/{commit_sha}",
    "/repos/{owner}/{repo}/git/matching-refs/{ref}",
    "/repos/{owner}/{repo}/git/ref/{ref}",
    "/repos/{owner}/{repo}/git/refs",
    "/repos/{owner}/{repo}/git/refs/{ref}",
    "/repos/{owner}/{repo}/git/trees",
    "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    "/repos/{owner}/{repo}/installation",
    "/repos/{owner}/{repo}/issues",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "/repos/{owner}/{repo}/issues/{issue_number}",
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
    "/repos/{owner}/{repo}/labels",
    "/repos/{owner}/{repo}/labels/{name}",
    "/repos/{owner}/{repo}/merges",
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{pull_number}",
    "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
    "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
    "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    "/repos/{owner}/{repo}/statuses/{sha}",
)
OTHER_ROUTE = "other"
_GREEDY = frozenset({"path", "ref", "basehead", "name"})
_PARAMETER = re.compile(r"\{([^}]+)\}")


def _route_pattern(template: str) -> re.Pattern[str]:
    parts = []
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", template):
        parts.append(re.escape(literal))
        if name:
            parts.append("(?:.*)" if name == "path" else "(?:.+)" if name in _GREEDY else "(?:[^/]+)")
    return re.compile("^" + "".join(parts) + "/?$")


def _literal_segments(template: str) -> int:
    return len([part for part in template.split("/") if part and not _PARAMETER.fullmatch(part)])


# The most literal template wins (/commits/{ref}/status before /commits/{ref}).
_ROUTES = tuple(
    (template, _route_pattern(template))
    for template in sorted(GITHUB_ROUTES, key=lambda t: (-_literal_segments(t), -len(t), t))
)


def github_route(path: str) -> str:
    """The route template of a GitHub API path (without the API root's own path), or ``other``."""
    for template, pattern in _ROUTES:
        if pattern.match(path):
            return template
    return OTHER_ROUTE


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "error"


def github_request(method: str, route: str, status: str, seconds: float) -> None:
    GITHUB_REQUESTS.labels(method, route, status).inc()
    GITHUB_SECONDS.labels(method).observe(seconds)


def github_ratelimit(installation: str, remaining: int, limit: int, reset: int) -> None:
    RATELIMIT_REMAINING.labels(installation).set(remaining)
    RATELIMIT_LIMIT.labels(installation).set(limit)
    RATELIMIT_RESET.labels(installation).set(reset)


def registry_cache(ecosystem: str, hit: bool, count: int = 1) -> None:
    REGISTRY_CACHE.labels(ecosystem, "hit" if hit else "miss").inc(count)


# -- worker processes: a private multiprocess directory, folded after every job ------------------------------------

_FOLD_LOCK = threading.Lock()
_ARCHIVE = "archive"
_worker_directory: str | None = None


def use_worker_directory(path: str) -> None:
    """Record this (worker) process's multiprocess directory. ``PROMETHEUS_MULTIPROC_DIR`` must already point at it
    when prometheus_client is first imported, so that forked job processes write their own files there."""
    global _worker_directory
    _worker_directory = path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fold_dead(path: str | None = None, alive: Callable[[int], bool] = _alive) -> int:
    """Fold the metric files of processes that ended into this process's archive files; the number of files folded.

    Counters, histograms and summaries are summed; ``min``/``max``/``sum``/``mostrecent`` gauges combined as the
    collector would; ``all``/``live*`` gauges of dead processes dropped (their values died with them).
    """
    path = path or _worker_directory
    if not path:
        return 0
    with _FOLD_LOCK:
        dead: dict[str, list[str]] = {}
        for file in glob.glob(os.path.join(path, "*.db")):
            prefix, _, ident = os.path.basename(file)[:-3].rpartition("_")
            if ident.isdigit() and not alive(int(ident)):
                dead.setdefault(prefix, []).append(file)
        for prefix, files in dead.items():
            _fold(path, prefix, files)
        return sum(len(files) for files in dead.values())


def _fold(path: str, prefix: str, files: list[str]) -> None:
    mode = prefix.split("_", 1)[1] if prefix.startswith("gauge_") else "sum"
    if mode == "all" or mode.startswith("live"):
        for file in files:
            os.remove(file)
        return
    archive = os.path.join(path, f"{prefix}_{_ARCHIVE}{os.getpid()}.db")
    values: dict[str, tuple[float, float]] = {}
    for file in ([archive] if os.path.exists(archive) else []) + files:
        for key, value, stamp, _ in MmapedDict.read_all_values_from_file(file):  # type: ignore[no-untyped-call]
            values[key] = _combine(mode, values.get(key), (value, stamp))
    temporary = archive + ".tmp"
    store = MmapedDict(temporary)  # type: ignore[no-untyped-call]
    try:
        for key, (value, stamp) in values.items():
            store.write_value(key, value, stamp)  # type: ignore[no-untyped-call]
    finally:
        store.close()  # type: ignore[no-untyped-call]
    os.replace(temporary, archive)
    for file in files:
        os.remove(file)


def _combine(mode: str, old: tuple[float, float] | None, new: tuple[float, float]) -> tuple[float, float]:
    if old is None:
        return new
    if mode == "min":
        return min(old, new)
    if mode == "max":
        return max(old, new)
    if mode == "mostrecent":
        return new if new[1] >= old[1] else old
    return old[0] + new[0], max(old[1], new[1])


class _FoldingCollector(Collector):
    """The multiprocess collector of a worker: folds finished job processes first, under the same lock."""

    def __init__(self, path: str) -> None:
        self._path = path

    def collect(self) -> Iterable[Metric]:
        fold_dead(self._path)
        with _FOLD_LOCK:
            files = glob.glob(os.path.join(self._path, "*.db"))
            return list(multiprocess.MultiProcessCollector.merge(files, accumulate=True))  # type: ignore[no-untyped-call]


def worker_registry(path: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_FoldingCollector(path))
    return registry
