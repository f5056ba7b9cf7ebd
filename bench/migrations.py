"""Time of each code rewriter on the small apps of tests/fixtures/migrate: its tool's installation into an empty
tools folder (cold), a run with the tool installed (warm), and a run answered by the Redis cache.

python -m bench.migrations [--redis redis://127.0.0.1:6379/15]   # installs from the configured registries
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from redis import Redis

from bot.deps.npm.tools import TOOLS_ENV
from bot.migrate.rewriters import Upgrade, by_name
from bot.migrate.run import migrate
from bot.migrate.tools import installed_tool
from config.model import Migrations

APPS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "migrate"
CASES = (
    ("django-upgrade", "django32", Upgrade("python", "django", "3.2.25", "5.0.14")),
    ("bump-pydantic", "pydantic1", Upgrade("python", "pydantic", "1.10.13", "2.11.7")),
    ("ruff-numpy2", "numpy1", Upgrade("python", "numpy", "1.26.4", "2.2.6")),
    ("react-18-codemod", "react17", Upgrade("npm", "react", "17.0.2", "18.3.1")),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default=None, help="a Redis database the cache may write (default: none)")
    args = parser.parse_args()
    redis = Redis.from_url(args.redis) if args.redis else None
    with tempfile.TemporaryDirectory(prefix="depup-bench-tools-") as tools:
        os.environ[TOOLS_ENV] = tools
        print("| rewriter | tool | cold install | warm run | cached run | files |")
        print("|---|---|---|---|---|---|")
        for name, app, upgrade in CASES:
            rewriter = by_name(name)
            started = time.monotonic()
            tool = installed_tool(rewriter.tool)
            cold = time.monotonic() - started
            label = tool if isinstance(tool, str) else tool.label
            with tempfile.TemporaryDirectory() as scratch:
                work = Path(scratch) / app
                shutil.copytree(APPS / app, work)
                base = os.urandom(20).hex()
                started = time.monotonic()
                outcome = migrate(work, [upgrade], Migrations(allow=(name,)), base=base, redis=redis)
                warm = time.monotonic() - started
                started = time.monotonic()
                migrate(work, [upgrade], Migrations(allow=(name,)), base=base, redis=redis)
                cached = time.monotonic() - started
            files = sum(len(m.files) for m in outcome.migrations)
            shown = f"{cached:.2f} s" if redis is not None else "-"
            print(f"| {name} | {label} | {cold:.1f} s | {warm:.2f} s | {shown} | {files} |")


if __name__ == "__main__":
    main()
