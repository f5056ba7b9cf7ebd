"""``depup plan`` on checkouts of real repositories: how many of their dependency files it reads, how many
dependencies have a known current version, and how long it takes.

    python -m bench.real_repos CHECKOUT [CHECKOUT ...]

"Present" counts the dependency files by their well-known names (below), outside vendored trees, independently of
depup's own discovery; "read" is those depup reports as a manifest or a manifest's lockfile; "unread" those it lists
as seen but not read; "not managed" the manifests it read but does not plan by default (tests, examples). The
registries are the live ones (pip's and npm's configuration), so times include the network; with ``REDIS_URL``
set, a second run is warm.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

_NAMES = re.compile(
    r"^(package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|pnpm-workspace\.yaml|"
    r"bun\.lockb?|pyproject\.toml|setup\.py|setup\.cfg|Pipfile|Pipfile\.lock|poetry\.lock|uv\.lock|"
    r"pylock(\.[^.]+)?\.toml|[\w.-]*requirements[\w.-]*\.(txt|in))$"
)
_VENDORED = {"node_modules", ".git", ".venv", "venv", "vendor", ".tox", "site-packages", ".yarn", "bower_components"}


def present(root: Path) -> set[str]:
    found = set()
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _VENDORED]
        for name in filenames:
            if _NAMES.match(name):
                found.add((Path(folder) / name).relative_to(root).as_posix())
    return found


def measure(root: Path) -> dict[str, object]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "plan", str(root), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return {"repo": root.name, "error": done.stderr.strip()[-500:]}
    plan = json.loads(done.stdout)
    read = {m["path"] for m in plan["manifests"]} | {m["lockfile"] for m in plan["manifests"] if m["lockfile"]}
    unread = {u["path"] for u in plan["unread"]}
    files = present(root)
    deps = [d for d in plan["dependencies"] if not d["reason"] or not d["reason"].startswith("not managed")]
    registry = [d for d in deps if not (d["reason"] or "").startswith("skipped")]
    known = [d for d in registry if d["current"]]
    unknown = [d for d in registry if d["current_unknown"]]
    return {
        "repo": root.name,
        "files present": len(files),
        "read": len(files & read),
        "unread": len(files & unread),
        "not read, not listed": sorted(files - read - unread)[:10],
        "not managed": len(plan["plan"]["not_managed"]),
        "dependencies": len(deps),
        "registry dependencies": len(registry),
        "current known": len(known),
        "current unknown": len(unknown),
        "registry requests": plan["registry"]["requests"],
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for root in args.checkouts:
        print(json.dumps(measure(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
