"""Time to recover after a Redis restart, under a running `depup worker` and `depup cron` (real processes, a private
redis-server, the fake GitHub): Redis is killed while the worker runs a job, stays down 2 s, and starts again empty
(or, with --aof, from its append-only file). Prints, per round, the seconds from Redis answering again to each part
being seen recovered.

    python -m bench.redis_restart [--rounds 3] [--aof]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.fakegithub import FakeGitHub
from tests.support.osv_server import OsvServer
from tests.support.redis_restart import (
    RedisServer,
    depup_process,
    process_env,
    restart_under_running_processes,
    status,
    wait_until,
)
from tests.support.registry_server import RegistryServer
from tests.test_processes import env_for

REPO = "octo-org/shop"
FILES = {
    "requirements.txt": "requests==2.22.0\n",
    ".github/depup.yml": "min_release_age: 0\nsecurity: {audit: false}\n",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--aof", action="store_true", help="restart from the append-only file instead of empty")
    args = parser.parse_args()
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, RegistryServer() as registry, OsvServer() as osv:
        fake = FakeGitHub(validate_responses=False).start()
        try:
            fake.register_app(app_id=4242, slug="depup", name="depup")
            fake.create_repo(REPO, files=FILES)
            fake.create_installation(account="octo-org", repos=[REPO])
            server = RedisServer(Path(tmp), appendonly=args.aof)
            server.start()
            env = process_env(
                env_for(fake, server.url), server.url,
                DEPUP_OSV_URL=osv.url, DEPUP_PYPI_URL=registry.url, DEPUP_NPM_REGISTRY=registry.url,
            )  # fmt: skip
            try:
                logs = Path(tempfile.mkdtemp(prefix="depup-bench-restart-"))
                print(f"logs in {logs}")
                with (
                    depup_process(["worker"], env, logs / "worker.log"),
                    depup_process(["cron"], env, logs / "cron.log"),
                ):
                    wait_until(lambda: bool(status(env)["registry_complete_at"]), "first recovery did not run")
                    for number in range(args.rounds):
                        time.sleep(2)
                        recovery = restart_under_running_processes(server, env, REPO, empty=not args.aof)
                        print(
                            f"round {number + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in recovery.seconds.items())
                        )
                        for key, value in recovery.seconds.items():
                            rows.setdefault(key, []).append(value)
            finally:
                server.kill()
        finally:
            fake.stop()
    print(f"\nRedis restarted {'from its append-only file' if args.aof else 'empty'}, {args.rounds} rounds:")
    print(f"{'':45} {'median':>7} {'max':>7}")
    for key, values in rows.items():
        print(f"{key:45} {statistics.median(values):6.1f}s {max(values):6.1f}s")


if __name__ == "__main__":
    main()
