"""depup's proposals for the three peer samples next to Renovate's, with every disagreement listed.

python -m bench.compare_renovate            # against the recorded registry answers (tests/fixtures/registry)
python -m bench.compare_renovate --live     # against the live registries (pip's and npm's configuration)

``renovate_command``/``renovate_seconds`` run an installed Renovate on a directory (its local platform, lookups
only) for bench.plan's timing next to depup's: ``DEPUP_RENOVATE`` names the executable, else ``renovate`` on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.deps.proposals import Update
from bot.deps.registry.client import RegistryClient
from bot.deps.survey import survey

PEERS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "peers"

Key = tuple[str, str, str]  # sample, file inside the sample, package name (lower case)


@dataclass(frozen=True)
class Row:
    sample: str
    dep: str
    bucket: str  # "non-major" | "major" (Renovate's bucket, or depup's for updates only depup offers)
    renovate: str  # "version value", or "-"
    depup: str
    verdict: str  # "same", "value differs", "version differs", "only renovate", "only depup"


def renovate_command() -> list[str] | None:
    """How to run the installed Renovate, or None when it is not installed."""
    given = os.environ.get("DEPUP_RENOVATE", "").strip()
    found = given if given and Path(given).is_file() else shutil.which("renovate")
    return [found] if found else None


def renovate_seconds(command: list[str], repo: Path, cache: Path, *, fresh: bool) -> float:
    """Wall time of one Renovate run on ``repo`` (local platform, ``--dry-run=lookup``: every dependency looked
    up, nothing written); its package cache in ``cache``, emptied first when ``fresh``."""
    if fresh:
        shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "LOG_LEVEL": "warn",
        "RENOVATE_CACHE_DIR": str(cache),
        "RENOVATE_BASE_DIR": str(cache / "base"),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--platform=local", "--dry-run=lookup", "--onboarding=false", "--require-config=ignored"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"renovate exited {done.returncode}: {done.stderr[-400:] or done.stdout[-400:]}")
    return seconds


def _describe(update: Update) -> str:
    return f"{update.version} {update.constraint if update.constraint is not None else '(lockfile only)'}"


def depup_updates(registry: RegistryClient) -> dict[Key, list[Update]]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "samples"
        shutil.copytree(PEERS / "samples", root)
        result = survey(root, registry)
    found: dict[Key, list[Update]] = {}
    for p in result.proposals:
        sample, file = p.dependency.location.file.split("/", 1)
        found.setdefault((sample, file, p.dependency.name.lower()), []).extend(p.updates)
    return found


def compare(ours: dict[Key, list[Update]]) -> list[Row]:
    expected = [json.loads(line) for line in (PEERS / "renovate-expected.jsonl").read_text().splitlines()]
    rows: list[Row] = []
    matched: set[tuple[Key, str]] = set()
    for e in expected:
        key = (e["sample"], e["file"], e["dep"].lower())
        updates = ours.get(key, [])
        theirs = f"{e['new_version']} {e['new_value']}"
        mine = next((u for u in updates if u.version == e["new_version"]), None) or next(
            (u for u in updates if u.is_major == (e["bucket"] == "major") and (key, u.version) not in matched), None
        )
        if mine is None:
            rows.append(Row(e["sample"], e["dep"], e["bucket"], theirs, "-", "only renovate"))
            continue
        matched.add((key, mine.version))
        if mine.version != e["new_version"]:
            verdict = "version differs"
        elif mine.constraint != e["new_value"]:
            verdict = "value differs"
        else:
            verdict = "same"
        rows.append(Row(e["sample"], e["dep"], e["bucket"], theirs, _describe(mine), verdict))
    for key, updates in sorted(ours.items()):
        for u in updates:
            if (key, u.version) not in matched:
                bucket = "major" if u.is_major else "non-major"
                rows.append(Row(key[0], key[2], bucket, "-", _describe(u), "only depup"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", action="store_true", help="ask the live registries instead of the recordings")
    args = parser.parse_args()
    if args.live:
        with RegistryClient(None) as registry:
            rows = compare(depup_updates(registry))
    else:
        from tests.support.registry_server import RegistryServer

        with RegistryServer() as server, RegistryClient(None, pypi_base=server.url, npm_base=server.url) as registry:
            rows = compare(depup_updates(registry))
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("sample", "dep", "bucket", "renovate", "depup")]
    for r in rows:
        cells = (r.sample, r.dep, r.bucket, r.renovate, r.depup)
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)), r.verdict)
    verdicts = [r.verdict for r in rows]
    print({v: verdicts.count(v) for v in sorted(set(verdicts))})


if __name__ == "__main__":
    main()
