"""Probe rounds of a deployment's soak window, kept in Redis, and the soak verdict they add up to.

Key: ``{prefix}{repo}:{deployment_id}`` (prefix ``depup:health:``), a hash from the round's time (UTC ISO 8601,
microseconds, so the field names sort by time) to the round's results as JSON. Recording a round at the
same ``at`` again replaces it, so a retried job does not count its round twice. Every write renews the key's
TTL (14 days). Redis errors are not caught: a round that was not stored must not be reported as stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

import orjson
from redis import Redis

from bot.health.baseline import read_verdicts, summary
from bot.health.probe import ProbeError, ProbeResult
from bot.lifecycle.state import Merge
from config.model import HealthCheck

log = logging.getLogger(__name__)

KEY_PREFIX = "depup:health:"
TTL_SECONDS = 14 * 24 * 3600
MAX_ROUNDS = 1000  # the oldest rounds beyond this are dropped

Verdict = Literal["healthy", "failing", "pending"]


@dataclass(frozen=True)
class Round:
    """One probe round: the result of every configured URL at ``at`` (timezone-aware, UTC)."""

    at: datetime
    results: tuple[ProbeResult, ...]

    @property
    def passed(self) -> bool:
        """True when every URL's probe succeeded (a round fails as soon as one URL fails)."""
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> tuple[ProbeResult, ...]:
        return tuple(r for r in self.results if not r.ok)


def round_key(repo: str, deployment_id: int, prefix: str = KEY_PREFIX) -> str:
    return f"{prefix}{repo}:{deployment_id}"


def record_round(
    redis: Redis,
    repo: str,
    deployment_id: int,
    results: Sequence[ProbeResult],
    at: datetime,
    *,
    prefix: str = KEY_PREFIX,
) -> None:
    """Store the round of ``results`` probed at ``at`` (a naive ``at`` is taken as UTC) for the deployment."""
    key = round_key(repo, deployment_id, prefix)
    field = _utc(at).isoformat(timespec="microseconds")
    value = orjson.dumps([asdict(r) for r in results])
    with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, field, value)
        pipe.expire(key, TTL_SECONDS)
        pipe.hlen(key)
        count = pipe.execute()[-1]
    if count > MAX_ROUNDS:
        fields = sorted(_text(f) for f in redis.hkeys(key))
        redis.hdel(key, *fields[: len(fields) - MAX_ROUNDS])


def rounds(redis: Redis, repo: str, deployment_id: int, *, prefix: str = KEY_PREFIX) -> list[Round]:
    """The deployment's rounds, oldest first; an unreadable entry is logged and left out."""
    raw: Any = redis.hgetall(round_key(repo, deployment_id, prefix))
    found: list[Round] = []
    for field, value in raw.items():
        decoded = _decode(_text(field), value)
        if decoded is None:
            log.warning("health round %s of %s#%s unreadable, ignored", _text(field), repo, deployment_id)
        else:
            found.append(decoded)
    return sorted(found, key=lambda r: r.at)


def soak_verdict(rounds: Sequence[Round], check: HealthCheck) -> Verdict:
    """What the rounds so far say about the deployment: "failing", "healthy" or (not yet) "pending".

    - A round fails when any of its URLs fails: every configured URL is a separate promise of the
      deployment, and one endpoint broken is a broken deploy even when the others answer.
    - The soak fails at the second failed round in a row (at the first when ``check.probes`` is 1). A failure
      triggers a revert pull request, so one round must not decide it: a single blip (a pod restarting, a
      load balancer draining, one dropped packet) would otherwise revert a good upgrade. Two failures in a
      row, ``check.interval`` apart, are a persistent problem. With a single probe round configured there is
      no second round to wait for, so that round decides. Once failing, the verdict stays failing.
    - The soak is healthy once ``check.probes`` rounds passed (not necessarily in a row) without it failing.
    - Otherwise it is pending. Rounds without results (nothing was probed) do not count; with no URLs
      configured there is nothing to probe and the verdict is "healthy".

    Rounds are taken in time order and the first decision reached stands: rounds recorded after it change
    nothing.
    """
    if not check.urls:
        return "healthy"
    needed_failures = 1 if check.probes <= 1 else 2
    failed_in_row = passed = 0
    for round_ in sorted(rounds, key=lambda r: r.at):
        if not round_.results:
            continue
        if round_.passed:
            failed_in_row = 0
            passed += 1
        else:
            failed_in_row += 1
            if failed_in_row >= needed_failures:
                return "failing"
        if passed >= check.probes:
            return "healthy"
    return "pending"


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode(field: str, value: bytes | str) -> Round | None:
    try:
        at = _utc(datetime.fromisoformat(field))
        rows: Any = orjson.loads(value)
        results = tuple(
            ProbeResult(
                url=str(row["url"]),
                ok=bool(row["ok"]),
                status=_int(row["status"]),
                latency_ms=_int(row["latency_ms"]),
                address=None if row["address"] is None else str(row["address"]),
                error=_error(row["error"]),
                detail=str(row["detail"]),
            )
            for row in rows
        )
    except (ValueError, TypeError, KeyError):
        return None
    return Round(at, results)


def _error(value: object) -> ProbeError | None:
    if value is not None and value not in get_args(ProbeError):
        raise ValueError(f"not a probe error kind: {value!r}")
    return cast("ProbeError | None", value)


def _int(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"not an integer: {value!r}")
    return value


def health_lines(redis: Redis, full_name: str, merges: Sequence[Merge]) -> list[str]:
    """The dashboard's account of each recent merge's deploy: its health and its latest probe round."""
    lines = []
    for m in merges[-10:]:
        if m.deployment is None:
            continue
        done = rounds(redis, full_name, m.deployment)
        passed = sum(1 for r in done if r.passed)
        text = f"#{m.pr}: deployment {m.deployment}, {m.health or 'not judged'}"
        if done:
            last = done[-1]
            text += f"; {passed} of {len(done)} probe round(s) passed; last at {last.at:%H:%M:%S}Z: " + "; ".join(
                probe_line(p) for p in last.results
            )
        against = read_verdicts(redis, full_name, m.deployment)
        if against:
            text += "; against the baseline: " + "; ".join(summary(c) for c in against)
        lines.append(text)
    return lines


def probe_line(result: ProbeResult) -> str:
    return f"{result.url} {'ok' if result.ok else 'FAILED'} ({result.detail})"
