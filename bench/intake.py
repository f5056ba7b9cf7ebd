"""Webhook intake benchmark: acknowledgement latency and deliveries per second over loopback.

Runs `depup web` (gunicorn, real Redis, real signature checks, dedup and enqueue of every delivery) and a bare
Flask "hello" endpoint under the same gunicorn settings, loads both the same way from other processes, and
prints median/p99 latency, throughput, and the ratio (the machine is noisy; the ratio is the figure).

    python -m bench.intake [--requests 6000] [--concurrency 2 16] [--workers 2]
                           [--payload pull_request/opened-1.json] [--slow 0 200]

``--slow N ...``: one round per value with N hostile connections open during the whole round (a third idle, a third
trickling their headers, a third trickling an unsigned body, one byte every half second each); the deadlines are
raised to 120 s for these rounds so that all N stay open while the valid deliveries are measured (by default
`depup web` closes them after 5 s and 10 s). Both servers run gunicorn's gevent worker class, as `depup web` does.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from threading import Thread

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from tests.support import redisdb
from tests.support.slow_clients import SlowClients

ROOT = Path(__file__).resolve().parent.parent
WEBHOOKS = ROOT / "tests" / "fixtures" / "github" / "webhooks"
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(port: int, path: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def _client(args: tuple[int, str, bytes, dict[str, str], int, bool]) -> list[float]:
    port, path, body, headers, count, unique = args
    latencies: list[float] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        request_headers = dict(headers)
        if unique:
            request_headers["X-GitHub-Delivery"] = str(uuid.uuid4())
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=request_headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status not in (200, 202):
            raise SystemExit(f"unexpected status {response.status}")
    conn.close()
    return latencies


def _threads(args: tuple[int, str, bytes, dict[str, str], int, bool, int]) -> list[float]:
    port, path, body, headers, count, unique, threads = args
    results: list[list[float]] = [[] for _ in range(threads)]

    def run(i: int) -> None:
        results[i] = _client((port, path, body, headers, count // threads, unique))

    workers = [Thread(target=run, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return [x for r in results for x in r]


WARMUP_PER_PROCESS = 100


def load(
    port: int, path: str, body: bytes, headers: dict[str, str], total: int, concurrency: int, unique: bool
) -> tuple[float, list[float], int]:
    """Send ``total`` requests from up to 4 processes with ``concurrency`` connections in all.

    Returns the wall time, the latencies, and how many requests were sent including the warm-up.
    """
    processes = min(4, concurrency)
    threads = max(1, concurrency // processes)
    jobs = [(port, path, body, headers, total // processes, unique, threads)] * processes
    with multiprocessing.Pool(processes) as pool:
        pool.map(_threads, [(port, path, body, headers, WARMUP_PER_PROCESS, unique, 1)] * processes)
        started = time.perf_counter()
        latencies = [x for chunk in pool.map(_threads, jobs) for x in chunk]
        elapsed = time.perf_counter() - started
    return elapsed, latencies, len(latencies) + WARMUP_PER_PROCESS * processes


def wrk_load(
    port: int, path: str, body_path: Path, headers: dict[str, str], seconds: int, concurrency: int, unique: bool
) -> dict[str, float]:
    """Load with wrk (a C load generator: the client takes little of the machine's CPU)."""
    env = {
        **os.environ,
        "BENCH_BODY": str(body_path),
        "BENCH_SIGNATURE": headers["X-Hub-Signature-256"],
        "BENCH_EVENT": headers["X-GitHub-Event"],
        "BENCH_UNIQUE": "1" if unique else "0",
    }
    script = str(Path(__file__).with_name("webhook.lua"))
    url = f"http://127.0.0.1:{port}{path}"
    warm_up = subprocess.run(
        ["wrk", "-t1", "-c2", "-d1s", "-s", script, url],
        env={**env, "BENCH_RUN": uuid.uuid4().hex},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    out = subprocess.run(
        ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", script, url],
        env={**env, "BENCH_RUN": uuid.uuid4().hex},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)$", out, re.MULTILINE))
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "requests": requests,
        "warm_up": int(re.search(r"(\d+) requests in", warm_up).group(1)),  # type: ignore[union-attr]
        "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "median_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def summary(elapsed: float, latencies: list[float]) -> dict[str, float]:
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[2, 16],
        help="connections in all; one run per value (default: 2 16)",
    )
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--python-client", action="store_true", help="use the Python load generator even with wrk")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--slow", type=int, nargs="+", default=[0], help="hostile slow connections open per round (default: 0)"
    )
    parser.add_argument("--payload", default="pull_request/opened-1.json")
    args = parser.parse_args()

    body_path = WEBHOOKS / args.payload
    body = body_path.read_bytes()
    event = args.payload.split("/")[0]
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "User-Agent": "GitHub-Hookshot/bench",
    }
    env = {**os.environ, "GITHUB_WEBHOOK_SECRET": SECRET, "DEPUP_LOG_LEVEL": "WARNING"}
    if max(args.slow) > 0:
        env.update({"DEPUP_WEB_HEADER_TIMEOUT": "120", "DEPUP_WEB_READ_TIMEOUT": "120"})
    gunicorn_opts = ["--workers", str(args.workers), "--worker-class", "gevent"]
    with redisdb.claimed_database() as redis_url:
        env["REDIS_URL"] = redis_url
        depup_port, hello_port = free_port(), free_port()
        servers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.process.cli",
                    "web",
                    "--bind",
                    f"127.0.0.1:{depup_port}",
                    "--workers",
                    str(args.workers),
                ],
                env=env,
                cwd=ROOT,
            ),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    *gunicorn_opts,
                    "--bind",
                    f"127.0.0.1:{hello_port}",
                    "--log-level",
                    "warning",
                    "bench.hello:app",
                ],
                env=env,
                cwd=ROOT,
            ),
        ]
        try:
            wait_until_up(depup_port, "/healthz")
            wait_until_up(hello_port, "/")
            print(
                f"payload {args.payload} ({len(body)} bytes), {args.seconds} s or {args.requests} requests per run, "
                f"gunicorn {args.workers} gevent workers, {os.cpu_count()} CPUs"
            )
            redis = Redis.from_url(redis_url)
            queue = Queue("depup", connection=redis, serializer=JSONSerializer)
            print(f"{'':36} {'req/s':>9} {'median ms':>10} {'p99 ms':>8}")
            use_wrk = shutil.which("wrk") is not None and not args.python_client
            print("load generator:", "wrk" if use_wrk else "Python (multiprocessing + threads)")
            rounds = [(c, n) for n in args.slow for c in args.concurrency]
            for concurrency, slow_count in rounds:
                slow = SlowClients(depup_port, idle=slow_count // 3, headers=slow_count // 3,
                                   bodies=slow_count - 2 * (slow_count // 3)).__enter__()  # fmt: skip
                before = queue.count
                if use_wrk:
                    depup = wrk_load(
                        depup_port, "/api/github/webhooks", body_path, headers, args.seconds, concurrency, unique=True
                    )
                    hello = wrk_load(hello_port, "/hello", body_path, headers, args.seconds, concurrency, unique=False)
                    enqueued = queue.count - before
                    # wrk counts completed requests; a few in flight when it stops may be enqueued too.
                    answered = depup["requests"] + depup["warm_up"]
                    if not 0 <= enqueued - answered <= concurrency + 2:
                        raise SystemExit(f"{answered} deliveries answered but {enqueued} jobs enqueued")
                else:
                    elapsed, latencies, sent = load(
                        depup_port, "/api/github/webhooks", body, headers, args.requests, concurrency, unique=True
                    )
                    depup = summary(elapsed, latencies)
                    if queue.count - before != sent:
                        raise SystemExit(f"{sent} deliveries sent but {queue.count - before} jobs enqueued")
                    hello = summary(
                        *load(hello_port, "/hello", body, headers, args.requests, concurrency, unique=False)[:2]
                    )
                still_open = slow.open_count()
                slow.__exit__(None, None, None)
                label = f"{concurrency} conn." + (f" + {slow_count} slow" if slow_count else "")
                if slow_count and still_open != slow_count:
                    print(f"  ({slow_count - still_open} of the {slow_count} slow connections closed during the round)")
                for name, row in (
                    (f"depup intake, {label}", depup),
                    (f"bare Flask, {concurrency} conn.", hello),
                ):
                    print(f"{name:36} {row['per_second']:9.0f} {row['median_ms']:10.2f} {row['p99_ms']:8.2f}")
                print(
                    f"{'':36} ratio {depup['per_second'] / hello['per_second']:.2f} (target >= 0.5); "
                    f"depup p99 {depup['p99_ms']:.1f} ms (target < 20 ms)"
                )
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
