"""Time of the static Python API diff, cold (nothing cached), against the registry this machine is configured for.

    python -m bench.api_diff [NAME==FROM..TO ...]

Prints, per pair, the seconds python_api_diff took (download, unpack, two griffe loads, the comparison), whether
it was analysed (or why not), the compared files and the number of changes by kind. Needs the network.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from bot.breaking.python_api import python_api_diff

PAIRS = ("flask==2.3.3..3.0.0", "click==8.0.4..8.1.0", "django==4.2..5.0", "sqlalchemy==1.4.52..2.0.0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("pairs", nargs="*", default=list(PAIRS))
    parser.add_argument("--seconds", type=float, default=300.0, help="the deadline of each diff")
    args = parser.parse_args()
    for pair in args.pairs:
        name, versions = pair.split("==")
        current, target = versions.split("..")
        started = time.monotonic()
        diff = python_api_diff(name, current, target, deadline=started + args.seconds)
        elapsed = time.monotonic() - started
        kinds = Counter(c.kind for c in diff.changes)
        outcome = (
            f"{len(diff.changes)} changes (removed {kinds['removed']}, changed {kinds['changed']}, "
            f"deprecated {kinds['deprecated']}) from {diff.source}"
            if diff.analysed
            else f"not analysed: {diff.why_not}"
        )
        print(f"{name} {current} -> {target}: {elapsed:.2f} s, {outcome}", flush=True)


if __name__ == "__main__":
    main()
