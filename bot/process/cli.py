"""The ``depup`` command: the Procfile's processes and operator tools.

    depup web        the webhook receiver (gunicorn serving bot.process.web:create_app)
    depup worker     an rq worker with the scheduler, running handlers (JSON serializer)
    depup cron       the one periodic-job scheduler
    depup reconcile  rebuild the installed-repository registry from GitHub now
    depup plan PATH  a checkout's dependencies, the updates depup proposes and the phased plan (--config FILE)
    depup check-config [FILE]  validate a .github/depup.yml: every mistake with its line and column
    depup audit OWNER/REPO  the audit log of a repository, newest first (--limit N, --json)
    depup status     queues, failed jobs, GitHub rate limits, repositories and workers (--json)

Settings are checked before anything starts: a missing or bad one is a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.core.settings import Role, Settings
from bot.errors import GitHubUnavailable, RedisUnavailable, SettingsError

EXIT_SETTINGS = 2  # a missing or bad setting
EXIT_UNREACHABLE = 2  # a dependency (Redis, GitHub) an operator command needs did not answer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="depup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    web = commands.add_parser("web", help="serve GitHub webhooks (gunicorn)")
    web.add_argument("--bind", default=None, help="address:port (default 0.0.0.0:$PORT, PORT defaults to 3000)")
    web.add_argument("--workers", type=int, default=None, help="gunicorn worker processes ($WEB_CONCURRENCY or 2)")
    web.add_argument(
        "--connections", type=int, default=None, help="open connections per worker process (gevent; default 1000)"
    )
    web.set_defaults(run=_web)

    worker = commands.add_parser("worker", help="run jobs from the queue (rq worker with scheduler)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--metrics-port", type=int, default=None, help="serve /metrics here ($DEPUP_METRICS_PORT)")
    worker.set_defaults(run=_worker)

    cron = commands.add_parser("cron", help="enqueue periodic jobs (run exactly one)")
    cron.add_argument("--metrics-port", type=int, default=None, help="serve /metrics here ($DEPUP_METRICS_PORT)")
    cron.set_defaults(run=_cron)

    reconcile = commands.add_parser("reconcile", help="rebuild the repository registry from GitHub now")
    reconcile.set_defaults(run=_reconcile)

    plan = commands.add_parser(
        "plan",
        help="list the dependencies of a directory and the updates depup proposes",
        description="List the dependencies of a checkout, the updates depup proposes and the phased plan.",
        epilog=_plan_cache_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("path", type=Path, help="a checkout of the repository")
    plan.add_argument(
        "--config", type=Path, default=None, metavar="FILE", help="a depup.yml (default: PATH/.github/depup.yml)"
    )
    output = plan.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON (schema depup.plan/1, docs/plan.md)")
    output.add_argument("--markdown", action="store_true", help="print the plan as the dashboard shows it")
    plan.add_argument(
        "--range-strategy",
        default=None,
        choices=["auto", "pin", "bump", "widen", "lockfile-only"],
        help="override the config's range_strategy",
    )
    plan.add_argument(
        "--min-release-age", type=float, default=None, metavar="DAYS", help="override the config's min_release_age"
    )
    plan.add_argument(
        "--api-budget",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="time for the API diffs of majors and core minors (0: none analysed; default 120)",
    )
    plan.set_defaults(run=_plan)

    check = commands.add_parser("check-config", help="validate a .github/depup.yml, listing every mistake")
    check.add_argument(
        "file", type=Path, nargs="?", default=Path(".github/depup.yml"), help="the file (default: .github/depup.yml)"
    )
    check.set_defaults(run=_check_config)

    audit = commands.add_parser("audit", help="print a repository's audit log, newest first")
    audit.add_argument("repo", metavar="OWNER/REPO", help="the repository, e.g. octo-org/shop")
    audit.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(run=_audit)

    status = commands.add_parser("status", help="queues, failed jobs, GitHub rate limits, repositories, workers")
    status.add_argument("--failed", type=int, default=10, metavar="N", help="how many failed jobs (default 10)")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=_status)

    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except SettingsError as e:
        print(f"depup: {e}", file=sys.stderr)
        return EXIT_SETTINGS
    except (RedisUnavailable, GitHubUnavailable) as e:  # one line naming what did not answer, no traceback
        print(f"depup: {str(e).splitlines()[0]}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except Exception as e:
        # redis is imported lazily: `depup web`'s master must not import it (and ssl through it) before gevent's
        # workers monkey-patch.
        redis_exceptions = sys.modules.get("redis.exceptions")
        if redis_exceptions is None or not isinstance(e, redis_exceptions.RedisError):
            raise
        from bot.process.runtime import redis_unavailable

        print(f"depup: {redis_unavailable(e, os.environ.get('REDIS_URL', ''))}", file=sys.stderr)
        return EXIT_UNREACHABLE


M_ARENA_MAX = -8  # glibc's mallopt parameter


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """Ask glibc for at most ``arenas`` malloc arenas (``MALLOC_ARENA_MAX``) before the registry threads start:
    each thread's own arena otherwise keeps the memory of the big answers it read (about 30 MB of the peak of
    a 1,000-package plan). Elsewhere than glibc, nothing happens."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        return


def _plan_cache_help() -> str:
    redis_url = os.environ.get("REDIS_URL", "")
    state = "on (REDIS_URL is set)" if redis_url else "off (REDIS_URL is not set: every run asks the registries)"
    return "\n".join(
        [
            f"registry cache: {state}.",
            "  With REDIS_URL, registry answers are kept in Redis and shared with the workers: an answer younger",
            "  than an hour is used with no request (a hit), an older one is revalidated with a conditional request",
            "  (a 304 keeps it), anything else is fetched (a miss). The text output's 'registry cache:' line (on",
            "  stderr with --markdown) and the JSON's 'registry' object give the hits, misses, revalidated, requests",
            "  and the bytes read from the registries and from the cache. A cache that fails (Redis down or slow)",
            "  costs only the cache: the run asks the registries.",
        ]
    )


def _plan(args: argparse.Namespace) -> int:
    from bot.deps.registry.urls import discover_npm_registry_soon

    if (args.path / "package.json").is_file():  # npm packages to look up: ask npm meanwhile (imports, the scan)
        discover_npm_registry_soon()
    import gc
    from datetime import UTC, datetime, timedelta

    import orjson
    from redis import Redis

    from bot.breaking.service import BreakageService
    from bot.core.progress import Progress
    from bot.deps.registry.client import RegistryClient
    from bot.deps.report import cache_summary, to_json, to_text
    from bot.deps.survey import GC_THRESHOLD, survey
    from bot.errors import ConfigInvalid
    from bot.plan import Sources, make_plan, policy_for, scope_for
    from bot.plan.export import plan_json, plan_text
    from bot.plan.render import plan_markdown
    from bot.risk.imports import index_imports
    from config.loader import default_config, load_config

    if not args.path.is_dir():
        print(f"depup: {args.path} is not a directory", file=sys.stderr)
        return 1
    if args.config is not None and not args.config.is_file():
        print(f"depup: {args.config}: no such file", file=sys.stderr)
        return 1
    config_file = args.config or args.path / ".github" / "depup.yml"
    try:
        config = load_config(config_file.read_bytes(), str(config_file)) if config_file.is_file() else default_config()
    except ConfigInvalid as e:
        print(str(e), file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    age = timedelta(days=args.min_release_age) if args.min_release_age is not None else None
    policy = policy_for(config, now, range_strategy=args.range_strategy, min_release_age=age)
    redis_url = os.environ.get("REDIS_URL")  # optional here: the registry cache
    redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10) if redis_url else None
    # One short batch: collect garbage less often all along (bot.deps.survey.fewer_collections says why).
    gc.set_threshold(max(GC_THRESHOLD, gc.get_threshold()[0]), *gc.get_threshold()[1:])
    _fewer_malloc_arenas()
    with RegistryClient(redis) as registry, Progress("looking up packages") as progress:
        result = survey(
            args.path,
            registry,
            policy,
            on_scanned=progress.start,
            on_answer=progress.advance,
            scope=scope_for(config),
        )
    breakage = BreakageService(
        args.path, redis, config.core_packages, budget=max(args.api_budget, 0.0)
    )  # Redis (when set) caches the API diffs
    plan = make_plan(result, config, now, Sources(imports=index_imports(args.path), breakage=breakage))
    if args.json:  # orjson: json's pure-Python indenting encoder took a tenth of a 1,000-package warm run
        document = {**to_json(result, now), "plan": plan_json(plan)}
        encoded = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
        buffer = getattr(sys.stdout, "buffer", None)  # UTF-8 bytes, whatever the terminal's encoding
        if buffer is None:
            sys.stdout.write(encoded.decode())
        else:
            sys.stdout.flush()
            buffer.write(encoded)
            buffer.flush()
    elif args.markdown:
        sys.stdout.write(plan_markdown(plan))
        print(f"registry cache: {cache_summary(result.registry)}", file=sys.stderr)
    else:
        sys.stdout.write(to_text(result) + "\n" + plan_text(plan))
    return 0


def _check_config(args: argparse.Namespace) -> int:
    """Print each problem as FILE:LINE:COL: path: message (exit 1), or "valid" (exit 0). Needs no settings."""
    from config.loader import validate

    try:
        text = args.file.read_bytes()
    except OSError as e:
        print(f"depup: {args.file}: cannot read it: {e.strerror or e}", file=sys.stderr)
        return 1
    problems = validate(text, str(args.file))
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("valid")
    return 0


def _audit(args: argparse.Namespace) -> int:
    """Needs only REDIS_URL: the audit log lives in Redis (one stream per repository)."""
    import json
    from dataclasses import asdict

    from redis import Redis

    from bot import audit

    if args.repo.count("/") != 1 or not all(args.repo.split("/")):
        print(f"depup: {args.repo!r} is not OWNER/REPO", file=sys.stderr)
        return 1
    settings = Settings.from_env(role=Role.TOOL)
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=10)
    entries = audit.latest(redis, args.repo, max(args.limit, 1))
    for entry in entries:
        if args.json:
            print(json.dumps(asdict(entry), ensure_ascii=False))
        else:
            delivery = f" [delivery {entry.delivery}]" if entry.delivery else ""
            print(f"{entry.at}  {entry.actor:<16} {entry.action:<18} {entry.target:<8} {entry.why}{delivery}")
    if not entries:
        print(f"no audit entries for {args.repo}", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    """Needs only REDIS_URL: everything it shows is in Redis (rq's registries, depup's rate-limit states)."""
    import json
    import time
    from dataclasses import asdict

    from redis import Redis, RedisError

    from bot.github.client import ratelimit_states
    from bot.process import status
    from bot.repos.registry import RepoRegistry

    settings = Settings.from_env(role=Role.TOOL)
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=10)
    try:
        counts = status.queue_counts(redis, settings.queue_name)
        failed = status.failed_jobs(redis, settings.queue_name, max(args.failed, 0)) if args.failed > 0 else []
        limits = ratelimit_states(redis)
        repos = RepoRegistry(redis)
        known, installations = len(repos.all()), len(repos.installations())
        alive = status.workers(redis, settings.queue_name)
        parts = status.liveness(redis, settings.queue_name)
    except RedisError as e:
        from bot.process.runtime import redis_unavailable

        raise redis_unavailable(e, settings.redis_url) from e
    if args.json:
        report = {
            "queue": settings.queue_name,
            "jobs": counts,
            "failed_jobs": [asdict(f) for f in failed],
            "rate_limits": [asdict(r) for r in limits],
            "repositories": known,
            "installations": installations,
            "workers": [asdict(w) for w in alive],
            **asdict(parts),
        }
        print(json.dumps(report, indent=2))
        return 0
    now = time.time()
    print(f"queue {settings.queue_name}: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    registry = f"rebuilt from GitHub {parts.registry_complete_at}" if parts.registry_complete_at else (
        "never rebuilt in full in this Redis: the next lookup that misses rebuilds it"
    )  # fmt: skip
    print(f"repositories: {known} known, in {installations} installation(s); {registry}")
    print(f"redis data since: {parts.epoch or 'not marked yet (new or emptied Redis: cron marks it and recovers)'}")
    print(f"scheduler: {parts.scheduler or 'none holds the lock (no worker running, or one is taking it over)'}")
    print(f"cron: {', '.join(parts.cron) if parts.cron else 'none heartbeating'}")
    print(f"workers: {len(alive)} alive")
    for w in alive:
        doing = f" on {w.current_job}" if w.current_job else ""
        counts_of = f"{w.successful_jobs} ok, {w.failed_jobs} failed"
        print(f"  {w.name}  {w.state}{doing}  (heartbeat {w.last_heartbeat}; {counts_of})")
    print("GitHub rate limits:" if limits else "GitHub rate limits: none seen within their window")
    for r in limits:
        resets = max(0, int(r.reset - now))
        print(
            f"  installation {r.installation:<10} {r.remaining:>6}/{r.limit:<6} left, resets in {resets // 60}m"
            f"{resets % 60:02d}s (seen {max(0, int(now - r.updated))}s ago)"
        )
    print(f"failed jobs: {counts['failed']}" + (f", latest {len(failed)}:" if failed else ""))
    for f in failed:
        print(f"  {f.ended_at or '-':<25} {f.id}  {f.function}\n      {f.error}")
    return 0


def _metrics_port(args: argparse.Namespace) -> int | None:
    """--metrics-port, else DEPUP_METRICS_PORT, else None (no metrics server)."""
    raw = args.metrics_port if args.metrics_port is not None else os.environ.get("DEPUP_METRICS_PORT", "").strip()
    if raw in (None, ""):
        return None
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise SettingsError(f"DEPUP_METRICS_PORT must be a port number (1-65535), not {str(raw)!r}")
    return port


def _settings(role: Role) -> Settings:
    from bot.core import logs

    settings = Settings.from_env(role=role)
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _web(args: argparse.Namespace) -> int:
    settings = _settings(Role.WEB)
    workers = args.workers or _positive("WEB_CONCURRENCY", os.environ.get("WEB_CONCURRENCY", "").strip() or "2")
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Whatever the number of workers: a replaced worker's counters must survive it, and the arbiter clears a dead
        # worker's gauges there. Set before prometheus_client is imported by the workers (bot.process.web is loaded
        # after fork); removed when depup web stops.
        import atexit
        import shutil

        directory = tempfile.mkdtemp(prefix="depup-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        master = os.getpid()

        def remove() -> None:  # gunicorn's workers are forks that run atexit handlers too: only the master removes it
            if os.getpid() == master:
                shutil.rmtree(directory, ignore_errors=True)

        atexit.register(remove)
    bind = args.bind or f"0.0.0.0:{os.environ.get('PORT', '3000')}"
    from bot.process.gunicorn_app import DEFAULT_CONNECTIONS, serve

    return serve(settings, bind=bind, workers=workers, connections=args.connections or DEFAULT_CONNECTIONS)


def _positive(name: str, raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def _worker(args: argparse.Namespace) -> int:
    port = _metrics_port(args)
    directory = None
    if port is not None:
        # rq forks a process per job: they record into a directory private to this worker, which must be set before
        # prometheus_client is first imported. Under PROMETHEUS_MULTIPROC_DIR when that is set, else in /tmp.
        import atexit
        import shutil

        base = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        if base:
            os.makedirs(base, exist_ok=True)
        directory = tempfile.mkdtemp(prefix="depup-worker-", dir=base)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        atexit.register(shutil.rmtree, directory, True)

    import time

    from bot.core import metrics
    from bot.process import runtime

    settings = _settings(Role.WORKER)
    rt = runtime.build(settings)
    runtime.install(rt)
    if port is not None and directory is not None:
        from prometheus_client import start_http_server

        metrics.use_worker_directory(directory)
        start_http_server(port, registry=metrics.worker_registry(directory))
    from bot.process import worker

    # Redis unreachable (at the start or later): retried with backoff, one line per attempt, never an exit: a
    # long-running process should outlive a Redis restart (under honcho one exit stops all three processes).
    return worker.run(
        lambda: worker.build(rt.queue, rt.redis),
        settings.redis_url,
        burst=args.burst,
        logging_level=settings.log_level,
        sleep=time.sleep,
    )


def _cron(args: argparse.Namespace) -> int:
    from bot.process.cron import build_scheduler
    from bot.process.runtime import redis_for_worker

    port = _metrics_port(args)
    settings = _settings(Role.CRON)
    redis = redis_for_worker(settings)
    if port is not None:
        from prometheus_client import start_http_server

        from bot.process import status

        start_http_server(port, registry=status.cron_registry(redis, settings.queue_name))
    build_scheduler(settings, redis).start()  # retries Redis with backoff: see bot.process.cron
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    import json

    from redis.exceptions import RedisError

    from bot.process import runtime
    from bot.repos.installations import reconcile
    from bot.repos.registry import RepoRegistry

    settings = _settings(Role.WORKER)
    rt = runtime.build(settings)
    try:
        rt.redis.ping()  # Redis first: GitHub tokens are cached there, so its absence would look like GitHub's
        result: dict[str, Any] = reconcile(rt.clients, RepoRegistry(rt.redis))
    except GitHubUnavailable as e:
        raise GitHubUnavailable(f"GitHub unreachable at {settings.github_api_url}: {e}") from e
    except RedisError as e:
        from bot.process.runtime import redis_unavailable

        raise redis_unavailable(e, settings.redis_url) from e
    print(json.dumps(result))
    return 0


def entry() -> None:
    """The ``depup`` program. ``depup plan`` leaves without tearing the interpreter down once its output is
    flushed: freeing the 100,000 releases of a 1,000-package plan one by one took a tenth of a warm run, and
    nothing is left to do (the registry client is closed, Redis needs no goodbye, the logs are flushed)."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] == ["plan"]:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
