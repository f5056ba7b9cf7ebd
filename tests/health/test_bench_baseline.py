"""bench/baseline.py's simulation gives the figures it reports: few false rollbacks of healthy deploys, all
doubled latencies and error rates caught, and when."""

from __future__ import annotations

from datetime import timedelta

from bench import baseline as bench


def test_the_simulated_rates_and_time_to_detection() -> None:
    results = bench.run(100, seed=1)
    healthy = results["healthy"]
    assert sum(o.rolled_back for o in healthy) <= 2  # significance 0.01 for all metrics, plus the tolerance
    for name in ("2x latency", "2x p95 only", "2x error rate"):
        assert sum(o.rolled_back for o in results[name]) >= 95, name
    doubled = [o for o in results["2x latency"] if o.rolled_back]
    # the probes are judged once the deploy has 30 samples: round 3, 4 minutes after it went live
    assert sorted(o.at for o in doubled)[len(doubled) // 2] == timedelta(minutes=4)
    assert all(o.at is not None and o.at <= timedelta(minutes=10) for o in doubled)
    lines = bench.report(results)
    assert lines[1].startswith("healthy") and "100/100" in lines[2]
