"""Scale-out benchmark: scan throughput of N ``depup worker`` processes sharing one Redis.

Starts, in this process, the fake GitHub (tests/fakegithub, a real HTTP server), the registry replay server,
the local OSV server and the web app (werkzeug on loopback); then N real worker processes
(``python -m bot.process.cli worker``: rq's forking worker, JSON serializer, the app's queue, with the scheduler).
It creates REPOS small repositories (a requirements.txt and/or a package.json drawn from the peer samples in
tests/fixtures/peers/samples, in VARIANTS combinations) spread over INSTALLATIONS accounts, installs the App on
every account (installation webhooks -> web -> queue -> workers record the repositories and queue one scan
each), and measures:

- first scans: from the first installation webhook to the end of the last job (each scan opens the
  repository's dashboard issue and its phase-1 pull requests);
- re-scans: one ``request_scan`` per repository with nothing changed on GitHub (reads, mostly 304s);

as repositories per minute and GitHub requests per repository (the fake counts every call, token exchanges
and the handlers of the webhooks depup's own writes cause included). At the end it checks every repository:
exactly one dashboard, exactly the pull requests a sequential in-process reference scan of the same files
opens (head branch and title), no other depup branch, no duplicate comment or check run, no failed job, no
request GitHub would reject; and that the re-scans wrote nothing.

    python -m bench.scale [--repos 200] [--workers 1 2 4] [--installations 20] [--variants 12]
                          [--write-spacing 0] [--scans-per-installation 1] [--validate-responses]

Writes of one installation are serialised across all workers by a Redis lock (bot.github.client.WriteGate)
whatever the spacing; the default spacing of a deployment is 1 s between writes (DEPUP_WRITE_SPACING), the
benchmark uses 0 unless told, so its figures are an upper bound of what GitHub's pacing allows.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from bot.core.queue import make_queue
from bot.core.serializer import JSONSerializer
from bot.core.settings import Settings
from bot.lifecycle.requests import request_scan
from bot.lifecycle.state import DASHBOARD_LABEL
from bot.process import runtime
from bot.process.web import WEBHOOK_PATH, create_app
from tests.fakegithub import Call, FakeGitHub
from tests.support import redisdb
from tests.support.harness import settings_for
from tests.support.http import LiveServer
from tests.support.osv_server import OsvServer
from tests.support.registry_server import RegistryServer
from tests.support.worker import build_runtime

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "peers" / "samples"
APP_ID = 4242

Files = dict[str, str]


# -- the repositories ---------------------------------------------------------------------------------------
def _python_lines() -> list[str]:
    text = (SAMPLES / "py-req" / "requirements.txt").read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _npm_sample() -> dict[str, dict[str, str]]:
    manifest: dict[str, dict[str, str]] = json.loads((SAMPLES / "js-app" / "package.json").read_text())
    return {"dependencies": manifest["dependencies"], "devDependencies": manifest["devDependencies"]}


def variants(count: int, seed: int = 2024) -> list[Files]:
    """``count`` small repositories: a third Python only, a third npm only, a third both (subsets of the samples)."""
    rng = random.Random(seed)  # a reproducible choice of samples
    lines, npm = _python_lines(), _npm_sample()
    out: list[Files] = []
    for i in range(count):
        files: Files = {}
        if i % 3 in (0, 2):
            chosen = rng.sample(lines, rng.randint(3, 6))
            files["requirements.txt"] = "# service dependencies\n" + "\n".join(chosen) + "\n"
        if i % 3 in (1, 2):
            deps = dict(rng.sample(sorted(npm["dependencies"].items()), rng.randint(1, 3)))
            dev = dict(rng.sample(sorted(npm["devDependencies"].items()), rng.randint(1, 3)))
            manifest = {"name": f"service-{i}", "version": "1.0.0", "private": True, "dependencies": deps}
            manifest["devDependencies"] = dev
            files["package.json"] = json.dumps(manifest, indent=2) + "\n"
        out.append(files)
    return out


@dataclass(frozen=True)
class Layout:
    """Which repository gets which variant, and which account (one installation each) holds it."""

    repos: int
    installations: int
    variants: int

    def name(self, index: int) -> str:
        return f"{self.account(index)}/svc-{index:03d}"

    def account(self, index: int) -> str:
        return f"bench-org-{index * self.installations // self.repos:02d}"

    def variant(self, index: int) -> int:
        return index % self.variants

    def accounts(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for i in range(self.repos):
            out.setdefault(self.account(i), []).append(self.name(i))
        return out


# -- the stack ----------------------------------------------------------------------------------------------
@dataclass
class Stack:
    fake: FakeGitHub
    registry: RegistryServer
    osv: OsvServer
    settings: Settings
    redis: Redis
    queue: Queue
    worker_env: dict[str, str]
    log_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)


def worker_env(
    stack_settings: Settings, registry: RegistryServer, osv: OsvServer, spacing: float, slots: int
) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": stack_settings.redis_url,
        "GITHUB_APP_ID": stack_settings.app_id,
        "GITHUB_PRIVATE_KEY": stack_settings.private_key,
        "GITHUB_API_URL": stack_settings.github_api_url,
        "DEPUP_PYPI_URL": registry.url,
        "DEPUP_NPM_REGISTRY": registry.url,
        "DEPUP_OSV_URL": osv.url,
        "DEPUP_WRITE_SPACING": repr(spacing),
        "DEPUP_SCANS_PER_INSTALLATION": str(slots),
        "DEPUP_RETRY_INTERVALS": "0,1",
        "DEPUP_GITHUB_TIMEOUT": "30",
        "DEPUP_LOG_FORMAT": "json",
        "DEPUP_LOG_LEVEL": "INFO",
        # The tools a worker runs (pip-audit, uv, pip-compile) live next to this interpreter.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@contextmanager
def stack(
    redis_url: str,
    *,
    spacing: float = 0.0,
    slots: int = 1,
    validate_responses: bool = False,
    registry: RegistryServer | None = None,
    osv: OsvServer | None = None,
    fake: FakeGitHub | None = None,
) -> Iterator[Stack]:
    """Everything but the workers, on loopback (the servers not given are started here and stopped after); the
    Redis database is emptied first. A ``fake`` given must be started, with the App registered."""
    with ExitStack() as stack_:
        registry = registry or stack_.enter_context(RegistryServer())
        osv = osv or stack_.enter_context(OsvServer())
        if fake is None:
            fake = FakeGitHub(validate_responses=validate_responses).start()
            stack_.callback(fake.stop)
            fake.register_app(app_id=APP_ID, slug="depup", name="depup")
        redis = Redis.from_url(redis_url)
        stack_.callback(redis.close)
        redisdb.reset(redis)
        settings = settings_for(
            fake, redis_url, osv_url=osv.url, write_spacing_seconds=spacing, scans_per_installation=slots
        )
        web = stack_.enter_context(LiveServer(create_app(settings), quiet=True))
        fake.set_webhook_target(web.url + WEBHOOK_PATH, fake.app.webhook_secret)
        stack_.callback(fake.set_webhook_target, None)
        log_dir = Path(stack_.enter_context(tempfile.TemporaryDirectory(prefix="depup-scale-")))
        env = worker_env(settings, registry, osv, spacing, slots)
        s = Stack(fake, registry, osv, settings, redis, make_queue(redis, settings), env, log_dir)
        stack_.callback(stop_workers, s)
        yield s


def start_workers(s: Stack, count: int, timeout: float = 60) -> None:
    for _ in range(count):
        log = (s.log_dir / f"worker-{len(s.workers)}.log").open("wb")
        s.workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot.process.cli", "worker"], env=s.worker_env, cwd=ROOT, stdout=log, stderr=log
            )
        )
    deadline = time.monotonic() + timeout
    while Worker.count(connection=s.redis, queue=s.queue) < len(s.workers):
        if time.monotonic() > deadline or any(w.poll() is not None for w in s.workers):
            raise RuntimeError("workers did not start:\n" + worker_logs(s))
        time.sleep(0.1)


def stop_workers(s: Stack) -> None:
    for w in s.workers:
        if w.poll() is None:
            w.terminate()  # rq: warm shutdown (the current job ends first)
    for w in s.workers:
        try:
            w.wait(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()
    s.workers.clear()


def worker_cpu_seconds(s: Stack) -> float:
    """CPU time of the worker processes and of the job processes they forked and reaped (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for w in s.workers:
        try:
            fields = Path(f"/proc/{w.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks  # utime stime cutime cstime
    return total


def worker_logs(s: Stack, tail: int = 3000) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}" for p in sorted(s.log_dir.glob("*.log")))


def create_repos(fake: FakeGitHub, layout: Layout, files: list[Files]) -> None:
    for i in range(layout.repos):
        fake.create_repo(layout.name(i), files=files[layout.variant(i)])


# -- waiting and measuring ----------------------------------------------------------------------------------
def finished_jobs(queue: Queue, prefix: str = "") -> list[Job]:
    ids = [i for i in FinishedJobRegistry(queue=queue).get_job_ids() if i.startswith(prefix)]
    return [j for j in Job.fetch_many(ids, connection=queue.connection, serializer=JSONSerializer) if j is not None]


def wait_quiet(s: Stack, scans: int, since: datetime, timeout: float) -> list[Job]:
    """Wait until ``scans`` scan jobs ended after ``since`` and nothing is pending anywhere; the jobs that ran."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while True:
        failed = FailedJobRegistry(queue=s.queue)
        if failed.count:
            raise RuntimeError(f"{failed.count} job(s) failed: {failed.get_job_ids()[:5]}\n{worker_logs(s)}")
        pending = (
            not s.fake.hooks.wait(0)
            or s.queue.count
            or StartedJobRegistry(queue=s.queue).count
            or ScheduledJobRegistry(queue=s.queue).count  # type: ignore[no-untyped-call]
        )
        if not pending:
            done = [j for j in finished_jobs(s.queue, "scan-") if j.ended_at and j.ended_at >= since]
            quiet = quiet + 1 if len(done) >= scans else 0
            if quiet >= 3:  # idle three times in a row: nothing is in flight between two registries
                return [j for j in finished_jobs(s.queue) if j.ended_at and j.ended_at >= since]
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done after {timeout:.0f} s\n{worker_logs(s)}")
        if any(w.poll() is not None for w in s.workers):
            raise RuntimeError("a worker exited:\n" + worker_logs(s))
        time.sleep(0.2)


@dataclass
class Round:
    repos: int
    seconds: float
    calls: list[Call]
    outcomes: Counter[str]  # of the scan jobs: done, busy (the repository was locked: retried), skipped, postponed
    bench_cpu: float  # CPU seconds of this process (fake GitHub, web app, registry and OSV servers)
    worker_cpu: float
    load: float  # the machine's 1-minute load average at the end (other work on the machine shows here)

    @property
    def per_minute(self) -> float:
        return self.repos / self.seconds * 60

    @property
    def per_repo(self) -> float:
        return len(self.calls) / self.repos

    def count(self, predicate: Callable[[Call], bool]) -> float:
        return len([c for c in self.calls if predicate(c)]) / self.repos


def outcomes(jobs: list[Job]) -> Counter[str]:
    """Scan outcomes: done, busy (another scan of the repository held its lock: retried), installation_busy (the
    installation's scan slots were taken: retried), skipped, postponed."""
    out: Counter[str] = Counter()
    for job in jobs:
        if job.id.startswith("scan-"):
            value: Any = job.return_value()
            if not isinstance(value, dict):
                out["unknown"] += 1
            else:
                kinds = ("busy", "installation_busy", "skipped", "postponed_by")
                out[next((k for k in kinds if k in value), "done")] += 1
    return out


def measure(s: Stack, scans: int, trigger: Callable[[], None], timeout: float) -> Round:
    s.fake.reset_calls()
    cpu, workers_cpu = time.process_time(), worker_cpu_seconds(s)
    since = datetime.now(UTC)
    started = time.time()
    trigger()
    jobs = wait_quiet(s, scans, since, timeout)
    ended = max(j.ended_at for j in jobs if j.ended_at).timestamp()
    return Round(
        scans,
        ended - started,
        s.fake.calls,
        outcomes(jobs),
        time.process_time() - cpu,
        worker_cpu_seconds(s) - workers_cpu,
        os.getloadavg()[0],
    )


def install_all(s: Stack, layout: Layout) -> None:
    for account, names in layout.accounts().items():
        s.fake.create_installation(account, names)


def rescan_all(s: Stack, layout: Layout) -> None:
    for i in range(layout.repos):
        if not request_scan(s.queue, s.settings, layout.name(i), "bench re-scan"):
            raise RuntimeError(f"a scan of {layout.name(i)} was already queued")


# -- what every repository must look like --------------------------------------------------------------------
Expected = dict[str, str]  # head branch -> PR title


def reference(files: list[Files], registry: RegistryServer, osv: OsvServer, redis_url: str) -> list[Expected]:
    """The PRs one scan opens for each variant, scanned one at a time by an in-process worker."""
    layout = Layout(repos=len(files), installations=1, variants=len(files))
    with stack(redis_url, registry=registry, osv=osv) as s:
        create_repos(s.fake, layout, files)
        rt = build_runtime(s.settings, s.redis)
        runtime.install(rt)
        try:
            install_all(s, layout)
            s.fake.wait_for_deliveries()
            while s.queue.count:
                SimpleWorker([rt.queue], connection=rt.redis, serializer=JSONSerializer).work(
                    burst=True, logging_level="WARNING"
                )
                s.fake.wait_for_deliveries()
        finally:
            runtime.install(None)
        out = [{p.head_ref: p.issue.title for p in s.fake.pulls(layout.name(i))} for i in range(layout.repos)]
        problems = check_repos(s.fake, layout, out)
        if problems:
            raise RuntimeError("the reference scans are wrong:\n" + "\n".join(problems))
        return out


def check_repos(fake: FakeGitHub, layout: Layout, expected: list[Expected] | None = None) -> list[str]:
    """What is wrong with the repositories (empty: each has exactly what it should, nothing twice).

    Without ``expected``, each repository must have the PRs of the first repository of its variant (and some
    repository must have one).
    """
    problems: list[str] = []
    if expected is None:
        expected = [
            {p.head_ref: p.issue.title for p in fake.pulls(layout.name(v))}
            for v in range(min(layout.variants, layout.repos))
        ]
        if not any(expected):
            problems.append("no repository has a pull request")
    for i in range(layout.repos):
        name = layout.name(i)
        dashboards = [x for x in fake.issues(name) if DASHBOARD_LABEL in [label.name for label in x.labels]]
        if len(dashboards) != 1 or dashboards[0].state != "open":
            problems.append(f"{name}: {len(dashboards)} dashboard issues")
        issues = Counter(x.title for x in fake.issues(name))
        problems += [f"{name}: issue {t!r} {n} times" for t, n in issues.items() if n > 1]
        pulls = fake.pulls(name, "all")
        heads = Counter(p.head_ref for p in pulls)
        problems += [f"{name}: {n} PRs from {h}" for h, n in heads.items() if n > 1]
        got = {p.head_ref: p.issue.title for p in pulls if p.issue.state == "open"}
        want = expected[layout.variant(i)]
        if got != want:
            problems.append(f"{name}: PRs {sorted(got.items())}, expected {sorted(want.items())}")
        if len(pulls) != len(got):
            problems.append(f"{name}: {len(pulls) - len(got)} closed PRs")
        branches = {b for b in fake.repo(name).branches if b.startswith("depup/")}
        if branches != set(heads):
            problems.append(f"{name}: depup branches {sorted(branches)} but PR heads {sorted(heads)}")
        for number in [*(p.issue.number for p in pulls), *(d.number for d in dashboards)]:
            comments = Counter(c.body for c in fake.comments(name, number))
            problems += [f"{name}#{number}: a comment {n} times" for n in comments.values() if n > 1]
        runs = Counter((r.head_sha, r.name) for r in fake.repo(name).check_runs.values())
        problems += [f"{name}: check run {k[1]} on {k[0][:8]} {n} times" for k, n in runs.items() if n > 1]
    problems += [f"GitHub would reject: {v}" for v in fake.violations]
    return problems


# -- the benchmark ------------------------------------------------------------------------------------------
@dataclass
class Result:
    workers: int
    first: Round
    again: Round
    problems: list[str]


def run(
    workers: int,
    layout: Layout,
    files: list[Files],
    expected: list[Expected],
    redis_url: str,
    *,
    spacing: float,
    slots: int,
    validate_responses: bool,
    registry: RegistryServer,
    osv: OsvServer,
    timeout: float,
) -> Result:
    with stack(
        redis_url, spacing=spacing, slots=slots, validate_responses=validate_responses, registry=registry, osv=osv
    ) as s:
        create_repos(s.fake, layout, files)
        start_workers(s, workers)
        first = measure(s, layout.repos, lambda: install_all(s, layout), timeout)
        again = measure(s, layout.repos, lambda: rescan_all(s, layout), timeout)
        problems = check_repos(s.fake, layout, expected)
        writes = [c for c in again.calls if c.is_write and c.auth == "installation"]
        problems += [f"a re-scan with nothing new wrote {c.method} {c.path}" for c in writes[:10]]
        problems += overlapping_writes(first.calls + again.calls, spacing)
        return Result(workers, first, again, problems)


def overlapping_writes(calls: list[Call], spacing: float = 0.0) -> list[str]:
    """Writes of one installation that overlap in time at the fake GitHub (or come closer than ``spacing``)."""
    problems: list[str] = []
    by_installation: dict[int, list[Call]] = {}
    for c in calls:
        if c.is_write and c.auth == "installation" and c.installation_id is not None:
            by_installation.setdefault(c.installation_id, []).append(c)
    for installation, writes in by_installation.items():
        writes.sort(key=lambda c: c.started_at)
        for before, after in itertools.pairwise(writes):
            gap = after.started_at - (before.started_at + before.duration)
            if gap < 0 or gap < spacing * 0.95:
                problems.append(
                    f"installation {installation}: {after.method} {after.path} started {gap * 1000:.1f} ms after "
                    f"the end of {before.method} {before.path}"
                )
    return problems


def table(results: list[Result], layout: Layout, spacing: float, slots: int) -> str:
    cpus = os.cpu_count() or 1
    lines = [
        f"{layout.repos} repositories ({layout.variants} variants) in {layout.installations} installations; "
        f"write spacing {spacing:g} s"
        + (f", {slots} scan(s) per installation at once" if spacing > 0 else "")
        + f"; {cpus} CPUs",
        "",
        f"{'':8} {'first scans (install: dashboard + phase-1 PRs)':>52}   {'re-scans (nothing new)':>40}",
        f"{'workers':8} {'repos/min':>9} {'req/repo':>8} {'writes':>6} {'busy':>4} {'wait':>4} {'CPU s/repo':>11} "
        f"{'load':>5}"
        f"   {'repos/min':>9} {'req/repo':>8} {'304s':>5} {'CPU s/repo':>11} {'load':>5}",
    ]
    for r in results:
        f, a = r.first, r.again
        note = f"  <- {r.workers} workers on {cpus} CPUs" if r.workers > cpus else ""
        lines.append(
            f"{r.workers:<8} {f.per_minute:9.0f} {f.per_repo:8.1f} {f.count(lambda c: c.is_write):6.1f} "
            f"{f.outcomes['busy']:4d} {f.outcomes['installation_busy']:4d} {_cpu(f):>11} {f.load:5.1f}   "
            f"{a.per_minute:9.0f} {a.per_repo:8.1f} "
            f"{a.count(lambda c: c.status == 304):5.1f} {_cpu(a):>11} {a.load:5.1f}{note}"
        )
    lines += [
        "",
        "req/repo: requests the fake GitHub answered per repository (token exchanges and the handlers of the",
        "webhooks depup's own writes cause included); writes: POST/PATCH/PUT/DELETE per repository; 304s: answers",
        "304 Not Modified per repository (the fake sends them only where GitHub's description declares one);",
        "busy: scans that found their repository locked; wait: scans that found their installation's scan slots",
        "taken (both retried later); CPU s/repo: CPU seconds per repository of the workers (job processes and the",
        "tools they run included) + of this process (fake GitHub, web app, registry and OSV servers); load: the",
        "machine's 1-minute load average at the end of the round (other work included).",
    ]
    for r in results:
        outcome = "all repositories correct" if not r.problems else f"{len(r.problems)} PROBLEMS"
        lines.append(f"{r.workers} worker(s): {outcome}; first-scan outcomes {dict(r.first.outcomes)}")
        lines += [f"  - {p}" for p in r.problems[:20]]
    return "\n".join(lines)


def _cpu(r: Round) -> str:
    return f"{r.worker_cpu / r.repos:.2f}+{r.bench_cpu / r.repos:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="one run per count")
    parser.add_argument("--installations", type=int, default=20, help="accounts the repositories are spread over")
    parser.add_argument("--variants", type=int, default=12, help="distinct repository contents")
    parser.add_argument("--write-spacing", type=float, default=0.0, help="DEPUP_WRITE_SPACING of the workers")
    parser.add_argument(
        "--scans-per-installation", type=int, default=1, help="DEPUP_SCANS_PER_INSTALLATION (with write spacing)"
    )
    parser.add_argument(
        "--validate-responses", action="store_true", help="let the fake check its own answers too (slower)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one round may take")
    args = parser.parse_args()
    layout = Layout(args.repos, min(args.installations, args.repos), args.variants)
    files = variants(args.variants)
    results: list[Result] = []
    with redisdb.claimed_database() as redis_url, RegistryServer() as registry, OsvServer() as osv:
        os.environ["DEPUP_PYPI_URL"] = os.environ["DEPUP_NPM_REGISTRY"] = registry.url  # the in-process reference
        expected = reference(files, registry, osv, redis_url)
        print(f"reference: {sum(len(e) for e in expected)} PRs for {len(files)} variants", flush=True)
        for count in args.workers:
            result = run(
                count,
                layout,
                files,
                expected,
                redis_url,
                spacing=args.write_spacing,
                slots=args.scans_per_installation,
                validate_responses=args.validate_responses,
                registry=registry,
                osv=osv,
                timeout=args.timeout,
            )
            results.append(result)
            print(
                f"{count} worker(s): {result.first.per_minute:.0f} repos/min first scans, "
                f"{result.again.per_minute:.0f} re-scans, {len(result.problems)} problems",
                flush=True,
            )
    print()
    print(table(results, layout, args.write_spacing, args.scans_per_installation))
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
