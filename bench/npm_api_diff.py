"""Cold time of the npm API diff against the live registry (the one npm is configured with), per upgrade.

Each case runs in a fresh Python process, so nothing is cached: version documents, the @types packument and
tarballs are downloaded, unpacked, and read by a new node process loading the TypeScript compiler. The compiler
itself is assumed installed (``bot.breaking.typescript``; its one-time install is timed apart when it is not).
Printed per case: seconds, requests, changes (removed/changed/deprecated). Also printed: node + compiler startup
alone (a reader run on an empty declaration file).

    python -m bench.npm_api_diff [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = (("react-dom", "18.3.1", "19.1.0"), ("express", "4.21.2", "5.1.0"))

_ONE = """
import json, sys, time
from bot.breaking import fetch, npm_api
requests = 0
original = fetch.download
def counting(url, **kwargs):
    global requests
    requests += 1
    return original(url, **kwargs)
fetch.download = counting
npm_api.download = counting
started = time.monotonic()
diff = npm_api.npm_api_diff(sys.argv[1], sys.argv[2], sys.argv[3], deadline=time.monotonic() + 120)
seconds = time.monotonic() - started
kinds = {k: sum(1 for c in diff.changes if c.kind == k) for k in ("removed", "changed", "deprecated")}
print(json.dumps({"seconds": seconds, "requests": requests, "analysed": diff.analysed, "why_not": diff.why_not,
                  "source": diff.source, **kinds}))
"""


def startup() -> float:
    from bot.breaking import typescript

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "index.d.ts").write_text("export {};\n")
        started = time.monotonic()
        typescript.run({"command": "api", "jobs": [{"root": folder, "entries": {".": "index.d.ts"}}]}, timeout=60)
        return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bot.breaking import typescript

    started = time.monotonic()
    typescript.typescript_js()
    print(f"typescript {typescript.TYPESCRIPT_VERSION} ready in {time.monotonic() - started:.2f} s")
    print(f"node + compiler startup: {statistics.median(startup() for _ in range(args.runs)):.2f} s (median)")
    for package, current, target in CASES:
        results = []
        for _ in range(args.runs):
            done = subprocess.run(
                [sys.executable, "-c", _ONE, package, current, target], capture_output=True, text=True, check=True
            )
            results.append(json.loads(done.stdout))
        seconds = [r["seconds"] for r in results]
        last = results[-1]
        print(
            f"{package} {current} -> {target}: cold {statistics.median(seconds):.2f} s median "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f}), {last['requests']} requests, "
            f"removed {last['removed']}, changed {last['changed']}, deprecated {last['deprecated']}, "
            f"{'analysed: ' + last['source'] if last['analysed'] else 'not analysed: ' + str(last['why_not'])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
