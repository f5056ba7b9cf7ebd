"""Rollback benchmark: time from a failing ``deployment_status`` webhook to the revert PR opening (median of
20 runs against the fake GitHub, over real HTTP with a real worker) and the GitHub requests one rollback takes.

    python -m bench.rollback
"""

from __future__ import annotations

import sys

import pytest


def main() -> int:
    return int(
        pytest.main(
            ["-q", "-s", "-p", "no:logging", "-m", "slow", "tests/rollback/test_bench_rollback.py", "-o", "addopts="]
        )
    )


if __name__ == "__main__":
    sys.exit(main())
