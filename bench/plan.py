"""`depup plan` at scale: a 1,000-package requirements file and a 200-package npm lockfile, cold, warm and
revalidated, each as a new `depup plan --json` process (wall time and peak RSS of that process).

    python -m bench.plan [--live] [--runs 3] [--workload python-1000 npm-200]

Registries: ``--live`` asks the registries pip's and npm's configuration name (the figures the engine's
targets are about: near the network's limit); without it, the local replay server (in a process of its own)
answers from tests/fixtures/registry, where the 131 recorded PyPI and 141 recorded npm packages are served
under more names (``bench-<n>-<name>``) to make up 1,000 and 200 (recorded documents are trimmed: fewer
bytes than the real ones). Manifests: tests/fixtures/bench (live), made from the recordings (replay).

Cache states, each a new process on a real Redis database:

- ``no cache``: REDIS_URL unset (what a run costs with no cache at all: the cache must never be slower);
- ``cold``: the registry cache emptied; ``warm``: right after; ``revalidated``: every cached entry made stale
  first, so each package is asked again with a conditional request (a 304 keeps it, where the registry sends
  ETag/Last-Modified; a registry that sends neither answers in full).

``--api-budget`` (default 0) is passed to ``depup plan``: the API diffs of majors (``bot.breaking``, a feature of
its own, downloading two releases of each analysed package, up to 120 s by default) are not the engine these
targets are about; give a budget to measure a plan with them (its cold and no-cache states then include it).

Medians of ``--runs``. With Renovate installed (``bench.compare_renovate.renovate_command``) and ``--live``,
Renovate runs on the same repository in the same cache states (its cache folder emptied for cold, kept for
warm) and the ratio depup/Renovate is printed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from redis import Redis

from bench import compare_renovate
from tests.support import redisdb
from tests.support.registry_server import Key, RegistryServer, load_recorded, recorded_names

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "bench"
TARGETS = {  # seconds: (cold, warm), from issue 20
    "python-1000": (4.0, 0.5),
    "npm-200": (1.5, 0.3),
}
RSS_TARGET_MB = 150


@dataclass(frozen=True)
class Run:
    seconds: float
    rss_mb: float
    registry: dict[str, int]


def older_python(name: str) -> str | None:
    releases = [v for v, files in load_recorded("python", name)["body"].get("releases", {}).items() if files]
    stable = [v for v in releases if v.replace(".", "").isdigit()]
    return stable[len(stable) // 2] if stable else None


def older_npm(name: str) -> str | None:
    versions = [v for v in load_recorded("npm", name)["body"].get("versions", {}) if "-" not in v]
    return versions[len(versions) // 2] if versions else None


def replay_aliases(python: int = 1000, npm: int = 200) -> dict[Key, Key]:
    """Extra names for the replay server so that it knows ``python`` PyPI and ``npm`` npm packages."""
    aliases: dict[Key, Key] = {}
    for ecosystem, wanted in (("python", python), ("npm", npm)):
        names = recorded_names(ecosystem)
        for index in range(max(0, wanted - len(names))):
            source = names[index % len(names)]
            aliases[(ecosystem, f"bench-{index}-{source.replace('/', '-').lstrip('@')}")] = (ecosystem, source)
    return aliases


def build_python(root: Path, live: bool, aliases: dict[Key, Key]) -> int:
    root.mkdir(parents=True)
    if live:
        text = (FIXTURES / "requirements-1000.txt").read_text()
    else:
        pins = [(n, v) for n in recorded_names("python") if (v := older_python(n))]
        pins += [
            (alias[1], v) for alias, source in aliases.items() if alias[0] == "python" if (v := older_python(source[1]))
        ]
        text = "".join(f"{n}=={v}\n" for n, v in pins)
    (root / "requirements.txt").write_text(text)
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def build_npm(root: Path, live: bool, aliases: dict[Key, Key]) -> int:
    root.mkdir(parents=True)
    if live:
        for name in ("package.json", "package-lock.json"):
            (root / name).write_text((FIXTURES / "npm-200" / name).read_text())
        return len(json.loads((root / "package.json").read_text())["dependencies"])
    pins = [(n, n, v) for n in recorded_names("npm") if (v := older_npm(n))]
    pins += [
        (alias[1], source[1], v)
        for alias, source in aliases.items()
        if alias[0] == "npm"
        if (v := older_npm(source[1]))
    ]
    deps = {name: f"^{version}" for name, _, version in pins}
    packages: dict[str, Any] = {"": {"name": "bench", "version": "1.0.0", "dependencies": deps}}
    for name, _, version in pins:
        packages[f"node_modules/{name}"] = {"version": version}
    (root / "package.json").write_text(json.dumps({"name": "bench", "version": "1.0.0", "dependencies": deps}))
    lock = {"name": "bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}
    (root / "package-lock.json").write_text(json.dumps(lock))
    return len(deps)


def _serve(aliases: dict[Key, Key], urls: multiprocessing.Queue[str], stop: Event) -> None:
    with RegistryServer(aliases=aliases) as server:
        urls.put(server.url)
        stop.wait()


@contextmanager
def registry_process(aliases: dict[Key, Key]) -> Iterator[str]:
    """The replay registry in a process of its own, so that serving does not share the client's interpreter."""
    urls: multiprocessing.Queue[str] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(aliases, urls, stop), daemon=True)
    process.start()
    try:
        yield urls.get(timeout=30)
    finally:
        stop.set()
        process.join(timeout=10)


def plan_process(repo: Path, env: dict[str, str], api_budget: float = 0.0) -> Run:
    """One `depup plan --json` process: its wall time, peak RSS (``wait4``) and registry figures."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.process.cli", "plan", str(repo), "--json", f"--api-budget={api_budget:g}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"depup plan exited {process.returncode}")
    return Run(seconds, usage.ru_maxrss / 1024, json.loads(out)["registry"])


def make_stale(redis: Redis) -> int:
    """Every cached registry entry past its freshness (kept, with its validators): the next run revalidates."""
    keys = [k for k in redis.scan_iter("depup:registry:*", count=1000) if redis.type(k) == b"hash"]
    with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hset(key, "fresh_until", 0)
        pipe.execute()
    return len(keys)


def measure(repo: Path, env: dict[str, str], redis: Redis, runs: int, api_budget: float = 0.0) -> dict[str, list[Run]]:
    states: dict[str, list[Run]] = {"no cache": [], "cold": [], "warm": [], "revalidated": []}
    no_cache = {k: v for k, v in env.items() if k != "REDIS_URL"}
    for _ in range(runs):
        states["no cache"].append(plan_process(repo, no_cache, api_budget))
        redisdb.reset(redis)
        states["cold"].append(plan_process(repo, env, api_budget))
        states["warm"].append(plan_process(repo, env, api_budget))
        make_stale(redis)
        states["revalidated"].append(plan_process(repo, env, api_budget))
    return states


def renovate_ratio(repo: Path, depup: dict[str, list[Run]], runs: int) -> str:
    command = compare_renovate.renovate_command()
    if command is None:
        return "Renovate: not installed (bench.compare_renovate.renovate_command), no ratio"
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(runs):
            cold.append(compare_renovate.renovate_seconds(command, repo, Path(cache), fresh=True))
            warm.append(compare_renovate.renovate_seconds(command, repo, Path(cache), fresh=False))
    ours_cold = statistics.median(r.seconds for r in depup["cold"])
    ours_warm = statistics.median(r.seconds for r in depup["warm"])
    theirs_cold, theirs_warm = statistics.median(cold), statistics.median(warm)
    return (
        f"Renovate: cold {theirs_cold:.2f} s, warm {theirs_warm:.2f} s; "
        f"depup/Renovate: cold {ours_cold / theirs_cold:.2f}, warm {ours_warm / theirs_warm:.2f}"
    )


def report(name: str, distinct: int, states: dict[str, list[Run]]) -> None:
    cold_target, warm_target = TARGETS[name]
    print(f"{name}: {distinct} dependencies")
    for state, runs in states.items():
        seconds = statistics.median(r.seconds for r in runs)
        rss = max(r.rss_mb for r in runs)
        last = runs[-1].registry
        target = {"cold": f" (target < {cold_target} s)", "warm": f" (target < {warm_target} s)"}.get(state, "")
        print(
            f"  {state:12} median {seconds:6.2f} s{target}, min {min(r.seconds for r in runs):.2f}, "
            f"max {max(r.seconds for r in runs):.2f}; peak RSS {rss:.0f} MB (target < {RSS_TARGET_MB}); "
            f"requests {last['requests']} (links {last['link_requests']}), hits {last['cache_hits']}, "
            f"misses {last['cache_misses']}, revalidated {last['revalidated']}, "
            f"{last['bytes'] / 1e6:.1f} MB from the registries, {last['cache_bytes'] / 1e6:.1f} MB from the cache"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--live", action="store_true", help="the registries pip and npm are configured with")
    parser.add_argument("--workload", nargs="*", choices=sorted(TARGETS), default=sorted(TARGETS, reverse=True))
    parser.add_argument("--no-renovate", action="store_true", help="skip Renovate even when it is installed")
    parser.add_argument(
        "--api-budget", type=float, default=0.0, help="depup plan's --api-budget (default 0: no API diffs)"
    )
    args = parser.parse_args()
    aliases = {} if args.live else replay_aliases()
    builders: dict[str, Callable[[Path, bool, dict[Key, Key]], int]] = {
        "python-1000": build_python,
        "npm-200": build_npm,
    }
    with (
        tempfile.TemporaryDirectory() as scratch,
        redisdb.claimed_database() as redis_url,
        _registry(args.live, aliases) as env,
    ):
        redis = Redis.from_url(redis_url)
        env = {**env, "REDIS_URL": redis_url, "PATH": os.environ.get("PATH", "")}
        print(
            f"registry: {'live (pip and npm configuration)' if args.live else 'replay server'}; runs: {args.runs}; "
            f"API diff budget: {args.api_budget:g} s"
        )
        for name in args.workload:
            repo = Path(scratch) / name
            distinct = builders[name](repo, args.live, aliases)
            states = measure(repo, env, redis, args.runs, args.api_budget)
            report(name, distinct, states)
            if args.live and not args.no_renovate:
                print("  " + renovate_ratio(repo, states, args.runs))


@contextmanager
def _registry(live: bool, aliases: dict[Key, Key]) -> Iterator[dict[str, str]]:
    if live:
        keep = ("HOME", "PIP_INDEX_URL", "PIP_CONFIG_FILE", "NPM_CONFIG_REGISTRY", "SSL_CERT_FILE", "PIP_CERT")
        yield {k: os.environ[k] for k in keep if k in os.environ}
        return
    with registry_process(aliases) as url:
        yield {"DEPUP_PYPI_URL": url, "DEPUP_NPM_REGISTRY": url}


if __name__ == "__main__":
    main()
