"""The ``depup`` command: the Procfile's processes and operator tools.

    depup web        the webhook receiver (gunicorn serving bot.web:create_app)
    depup worker     an rq worker with the scheduler, running handlers (JSON serializer)
    depup cron       the one periodic-job scheduler
    depup reconcile  rebuild the installed-repository registry from GitHub now
    depup plan PATH  a checkout's dependencies, the updates depup proposes and the phased plan (--config FILE)
    depup check-config [FILE]  validate a .github/depup.yml: every mistake with its line and column
    depup audit OWNER/REPO  the audit log of a repository, newest first (--limit N, --json)

Settings are checked before anything starts: a missing or bad one is a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.errors import SettingsError
from bot.settings import Role, Settings

EXIT_SETTINGS = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="depup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    web = commands.add_parser("web", help="serve GitHub webhooks (gunicorn)")
    web.add_argument("--bind", default=None, help="address:port (default 0.0.0.0:$PORT, PORT defaults to 3000)")
    web.add_argument("--workers", type=int, default=None, help="gunicorn worker processes ($WEB_CONCURRENCY or 2)")
    web.add_argument("--threads", type=int, default=4, help="threads per worker process (default 4)")
    web.set_defaults(run=_web)

    worker = commands.add_parser("worker", help="run jobs from the queue (rq worker with scheduler)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.set_defaults(run=_worker)

    cron = commands.add_parser("cron", help="enqueue periodic jobs (run exactly one)")
    cron.set_defaults(run=_cron)

    reconcile = commands.add_parser("reconcile", help="rebuild the repository registry from GitHub now")
    reconcile.set_defaults(run=_reconcile)

    plan = commands.add_parser("plan", help="list the dependencies of a directory and the updates depup proposes")
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

    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except SettingsError as e:
        print(f"depup: {e}", file=sys.stderr)
        return EXIT_SETTINGS


def _plan(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime, timedelta

    from redis import Redis

    from bot.deps.registry.client import RegistryClient
    from bot.deps.report import to_json, to_text
    from bot.deps.survey import survey
    from bot.deps.versions import Policy
    from bot.errors import ConfigInvalid
    from bot.plan import Sources, make_plan
    from bot.plan.export import plan_json, plan_text
    from bot.plan.render import plan_markdown
    from bot.progress import Progress
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
    age = timedelta(days=args.min_release_age) if args.min_release_age is not None else config.min_release_age
    policy = Policy(range_strategy=args.range_strategy or config.range_strategy, min_release_age=age, now=now)
    redis_url = os.environ.get("REDIS_URL")  # optional here: the registry cache
    redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10) if redis_url else None
    with RegistryClient(redis) as registry, Progress("looking up packages") as progress:
        result = survey(args.path, registry, policy, on_scanned=progress.start, on_answer=progress.advance)
    plan = make_plan(result, config, now, Sources(imports=index_imports(args.path)))
    if args.json:
        print(json.dumps({**to_json(result, now), "plan": plan_json(plan)}, indent=2))
    elif args.markdown:
        sys.stdout.write(plan_markdown(plan))
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


def _settings(role: Role) -> Settings:
    from bot import logs

    settings = Settings.from_env(role=role)
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _web(args: argparse.Namespace) -> int:
    settings = _settings(Role.WEB)
    workers = args.workers or int(os.environ.get("WEB_CONCURRENCY", "2"))
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Must be set before prometheus_client is imported by the workers (bot.web is loaded after fork).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="depup-metrics-")
    bind = args.bind or f"0.0.0.0:{os.environ.get('PORT', '3000')}"
    from bot.gunicorn_app import serve

    return serve(settings, bind=bind, workers=workers, threads=args.threads)


def _worker(args: argparse.Namespace) -> int:
    from rq import Worker

    from bot import runtime
    from bot.serializer import JSONSerializer

    settings = _settings(Role.WORKER)
    rt = runtime.build(settings)
    runtime.install(rt)
    worker = Worker([rt.queue], connection=rt.redis, serializer=JSONSerializer)
    worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.log_level)
    return 0


def _cron(args: argparse.Namespace) -> int:
    from bot.cron import build_scheduler
    from bot.runtime import redis_for_worker

    settings = _settings(Role.CRON)
    build_scheduler(settings, redis_for_worker(settings)).start()  # type: ignore[no-untyped-call]
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    import json

    from bot import runtime
    from bot.installations import reconcile
    from bot.repos import RepoRegistry

    settings = _settings(Role.WORKER)
    rt = runtime.build(settings)
    result: dict[str, Any] = reconcile(rt.clients, RepoRegistry(rt.redis))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
