"""`depup plan` on a repository with 200+ dependencies: cold and warm registry cache, and registry requests.

The repository is generated from the packages recorded in tests/fixtures/registry (real registry data): a
Python service (requirements.txt + requirements-dev.txt), a pyproject library, and an npm monorepo (root +
two workspace members) sharing some packages, each pinned to an older real release. The registry is the local
replay server (in a process of its own), the cache a real Redis database; registry requests are counted by the
client (the tests check the server's count against it).

    python -m bench.plan [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event
from pathlib import Path

from redis import Redis

from bot.deps.registry.client import RegistryClient
from bot.deps.survey import survey
from tests.support import redisdb
from tests.support.registry_server import RegistryServer, load_recorded, recorded_names

ROOT = Path(__file__).resolve().parent.parent


def older_python(name: str) -> str | None:
    releases = [v for v, files in load_recorded("python", name)["body"].get("releases", {}).items() if files]
    stable = [v for v in releases if v.replace(".", "").isdigit()]
    return stable[len(stable) // 2] if stable else None


def older_npm(name: str) -> str | None:
    versions = [v for v in load_recorded("npm", name)["body"].get("versions", {}) if "-" not in v]
    return versions[len(versions) // 2] if versions else None


def build_repo(root: Path) -> int:
    python = [(n, v) for n in recorded_names("python") if (v := older_python(n))]
    npm = [(n, v) for n in recorded_names("npm") if (v := older_npm(n))]
    half = len(python) // 2
    (root / "service").mkdir()
    (root / "service" / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in python[:half]))
    (root / "service" / "requirements-dev.txt").write_text(
        "-r requirements.txt\n" + "".join(f"{n}>={v}\n" for n, v in python[half:])
    )
    deps = ",\n".join(f'    "{n}>={v}"' for n, v in python[::3])
    (root / "lib").mkdir()
    (root / "lib" / "pyproject.toml").write_text(
        f'[project]\nname = "lib"\nversion = "1.0"\nrequires-python = ">=3.9"\ndependencies = [\n{deps}\n]\n'
    )
    third = len(npm) // 3
    (root / "web" / "packages" / "ui").mkdir(parents=True)
    (root / "web" / "packages" / "api").mkdir(parents=True)
    (root / "web" / "package.json").write_text(
        json.dumps(
            {
                "name": "web",
                "private": True,
                "workspaces": ["packages/*"],
                "devDependencies": {n: f"^{v}" for n, v in npm[:third]},
            },
            indent=2,
        )
        + "\n"
    )
    (root / "web" / "packages" / "ui" / "package.json").write_text(
        json.dumps({"name": "ui", "dependencies": {n: f"~{v}" for n, v in npm[third : 2 * third]}}, indent=2) + "\n"
    )
    (root / "web" / "packages" / "api" / "package.json").write_text(
        json.dumps({"name": "api", "dependencies": {n: v for n, v in npm[2 * third :] + npm[:10]}}, indent=2) + "\n"
    )
    return len(python) + len(npm)


def _serve(urls: multiprocessing.Queue[str], stop: Event) -> None:
    with RegistryServer() as server:
        urls.put(server.url)
        stop.wait()


@contextmanager
def registry_process() -> Iterator[str]:
    """The replay registry in a process of its own, so that serving does not share the client's interpreter."""
    urls: multiprocessing.Queue[str] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(urls, stop), daemon=True)
    process.start()
    try:
        yield urls.get(timeout=30)
    finally:
        stop.set()
        process.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        registry_process() as registry_url,
        redisdb.claimed_database() as url,
    ):
        repo = Path(scratch)
        distinct = build_repo(repo)
        redis = Redis.from_url(url)
        cold, warm, requests = [], [], []
        for _ in range(args.runs):
            redisdb.reset(redis)
            with RegistryClient(redis, pypi_base=registry_url, npm_base=registry_url) as registry:
                started = time.perf_counter()
                result = survey(repo, registry)
                cold.append(time.perf_counter() - started)
                requests.append(registry.stats.requests)
            with RegistryClient(redis, pypi_base=registry_url, npm_base=registry_url) as registry:
                started = time.perf_counter()
                survey(repo, registry)
                warm.append(time.perf_counter() - started)
                warm_requests = registry.stats.requests
        deps = len(result.proposals)
        updates = sum(len(p.updates) for p in result.proposals)
        env = {"DEPUP_PYPI_URL": registry_url, "DEPUP_NPM_REGISTRY": registry_url, "REDIS_URL": url, "PATH": ""}
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.process.cli", "plan", str(repo), "--json"],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        cli_warm = time.perf_counter() - started
        print(
            f"repository: {deps} dependencies in {len(result.manifests)} manifests, {distinct} distinct packages, "
            f"{updates} updates proposed"
        )
        print(
            f"cold cache: median {statistics.median(cold):.3f} s (min {min(cold):.3f}, max {max(cold):.3f}), "
            f"registry requests {requests[-1]} (target: = distinct packages {distinct}; cold target < 3 s)"
        )
        print(
            f"warm cache: median {statistics.median(warm):.3f} s (min {min(warm):.3f}, max {max(warm):.3f}), "
            f"registry requests {warm_requests} (warm target < 0.5 s)"
        )
        print(f"`depup plan --json` as a new process, warm cache: {cli_warm:.3f} s (includes interpreter start)")


if __name__ == "__main__":
    main()
