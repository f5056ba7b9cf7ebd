"""Calibration of the risk weights on real upgrades with known outcomes.

    python -m bench.breaking_calibration --record     # compute every case's facts live and store them
    python -m bench.breaking_calibration              # the figures from the stored facts

The cases are ``tests/fixtures/breaking/labelled.json``: a package, two versions, the role it plays, a few lines
of typical code that uses it (``apps/<id>/``), the label *breaking* or *clean* for that code, and the changelog or
migration-guide line that says so. ``--record`` computes each case's facts as a scan would: registry metadata
(the live registries, as configured), the API diff of the two releases and the uses of what it changes in the
case's app (``bot.breaking.service``, the analysers registered there), import counts of the app. It writes them
to ``tests/fixtures/breaking/facts.json`` with which analysers were available and the seconds each analysis took
(with ``REDIS_URL`` set, a second pass measures the cached time). Release notes need GitHub and are left unknown.

Without ``--record`` it assesses the stored facts with the weights in ``bot.risk.assess`` and prints, per
ecosystem and overall, the precision of "high" (how many upgrades rated high are breaking) and the recall of
breaking upgrades (how many breaking ones are rated high). ``tests/risk/test_calibration.py`` holds the defaults
to precision >= 0.8 and recall 1.0 on the same facts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.breaking.model import ApiChange, ApiDiff, Breakage, Use
from bot.risk.assess import assess
from bot.risk.model import Assessment, BreakingNotes, Imports, UpdateFacts, Vulnerability

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "breaking"
LABELLED = FIXTURES / "labelled.json"
FACTS = FIXTURES / "facts.json"
APPS = FIXTURES / "apps"
BUDGET = 300.0  # seconds of analysis per case (a scan gives one update at most 60 s; a bench on a busy machine more)


def load_cases(path: Path = LABELLED) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(path.read_text())["cases"]
    return cases


# -- recording ------------------------------------------------------------------------------------------------


def record(cases: Sequence[dict[str, Any]], out: Path = FACTS) -> dict[str, Any]:
    from redis import Redis

    from bot.breaking.service import ANALYSERS, BreakageService, analyser_status
    from bot.deps.model import Dependency, Ecosystem, Location, PackageInfo, Role
    from bot.deps.proposals import Update
    from bot.deps.registry.client import RegistryClient
    from bot.deps.versions import update_type_of
    from bot.risk.facts import gather
    from bot.risk.imports import index_imports
    from config.loader import default_config

    config = default_config()
    now = datetime.now(UTC)
    redis_url = os.environ.get("REDIS_URL")
    redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=30) if redis_url else None
    requests = {(Ecosystem(c["ecosystem"]), _key(c["ecosystem"], c["package"])) for c in cases}
    with RegistryClient(None) as registry:
        infos = registry.lookup_many(sorted(requests, key=lambda r: (r[0].value, r[1])))
    rows = []
    for case in cases:
        ecosystem = Ecosystem(case["ecosystem"])
        key = _key(case["ecosystem"], case["package"])
        info = infos.get((ecosystem, key))
        if not isinstance(info, PackageInfo):
            raise SystemExit(f"{case['id']}: the registry has no {case['package']}: {info}")
        release = next((r for r in info.releases if r.version == case["to"]), None)
        if release is None or not any(r.version == case["from"] for r in info.releases):
            raise SystemExit(f"{case['id']}: {case['package']} has no release {case['from']} or {case['to']}")
        kind = update_type_of(ecosystem, case["from"], case["to"])
        assert kind is not None, case["id"]
        app = APPS / case["id"]
        manifest = "requirements.txt" if ecosystem is Ecosystem.PYTHON else "package.json"
        dependency = Dependency(
            ecosystem=ecosystem,
            name=case["package"],
            key=key,
            constraint=f"=={case['from']}" if ecosystem is Ecosystem.PYTHON else case["from"],
            role=Role(case["role"]),
            location=Location(manifest, 1, 1, 0, 0, "dependencies"),
        )
        update = Update(case["to"], None, kind, kind == "major", "pin", release.published)
        timings = []
        for _ in range(2 if redis is not None else 1):  # with Redis: cold, then cached
            service = BreakageService(app, redis, config.core_packages, budget=BUDGET, per_update=BUDGET)
            start = time.monotonic()
            service(case["ecosystem"], key, case["from"], case["to"])
            timings.append(round(time.monotonic() - start, 3))
        facts = gather(
            ecosystem=ecosystem,
            key=key,
            current=case["from"],
            update=update,
            dependencies=[dependency],
            info=info,
            core=config.core_packages,
            now=now,
            imports=index_imports(app),
            breakage=service,
        )
        rows.append({"id": case["id"], "seconds": timings, "facts": facts_json(facts)})
        print(f"{case['id']}: {_evidence(facts)} ({', '.join(f'{t:.1f} s' for t in timings)})", file=sys.stderr)
    data = {
        "recorded_at": now.isoformat(),
        "analysers": analyser_status(ANALYSERS),
        "notes": "release notes not read (they need GitHub): breaking_notes is unknown in every case",
        "cases": rows,
    }
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return data


def _key(ecosystem: str, name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower()) if ecosystem == "python" else name


def _evidence(facts: UpdateFacts) -> str:
    b = facts.breakage
    if b is None:
        return "not analysed by policy"
    if not b.diff.analysed:
        return f"not analysed: {b.diff.why_not}"
    return f"{len(b.diff.breaking)} removed/changed, {len(b.breaking_uses)} uses in {b.scanned} files"


# -- facts as JSON --------------------------------------------------------------------------------------------


def facts_json(facts: UpdateFacts) -> dict[str, Any]:
    raw = asdict(facts)
    for name in ("now", "target_published"):
        raw[name] = raw[name].isoformat() if raw[name] is not None else None
    if raw["breakage"] is not None:
        for change in raw["breakage"]["diff"]["changes"]:
            if not change["aliases"]:  # most changes have one spelling: the file stays short
                del change["aliases"]
    return raw


def facts_from_json(raw: dict[str, Any]) -> UpdateFacts:
    data = dict(raw)
    for name in ("now", "target_published"):
        data[name] = datetime.fromisoformat(data[name]) if data[name] is not None else None
    for name in ("runtime_dropped", "peer_conflicts"):
        data[name] = tuple(data[name]) if data[name] is not None else None
    for name in ("vulnerabilities_fixed", "vulnerabilities_in_target"):
        data[name] = tuple(_vulnerability(v) for v in data[name]) if data[name] is not None else None
    if data["breaking_notes"] is not None:
        notes = data["breaking_notes"]
        data["breaking_notes"] = BreakingNotes(notes["source"], notes["versions"], tuple(notes["markers"]))
    if data["imports"] is not None:
        imports = data["imports"]
        data["imports"] = Imports(imports["files"], imports["scanned"], tuple(imports["modules"]))
    if data["breakage"] is not None:
        data["breakage"] = _breakage(data["breakage"])
    return UpdateFacts(**data)


def _vulnerability(raw: dict[str, Any]) -> Vulnerability:
    return Vulnerability(raw["id"], tuple(raw["aliases"]), raw["summary"], tuple(raw["fixed_in"]), raw.get("url"))


def _breakage(raw: dict[str, Any]) -> Breakage:
    diff = raw["diff"]
    return Breakage(
        diff=ApiDiff(
            ecosystem=diff["ecosystem"],
            package=diff["package"],
            current=diff["current"],
            target=diff["target"],
            analysed=diff["analysed"],
            changes=tuple(
                ApiChange(c["kind"], c["symbol"], c["detail"], tuple(c.get("aliases", ()))) for c in diff["changes"]
            ),
            why_not=diff["why_not"],
            source=diff["source"],
            returns=tuple((function, type_) for function, type_ in diff.get("returns", ())),
        ),
        uses=tuple(Use(u["file"], u["line"], u["symbol"], u["detail"]) for u in raw["uses"]),
        scanned=raw["scanned"],
    )


# -- figures --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    cases: int
    breaking: int
    high: int
    true_high: int  # rated high and breaking

    @property
    def precision(self) -> float:
        """Of the upgrades rated high, the share that is breaking (1.0 when none is rated high)."""
        return self.true_high / self.high if self.high else 1.0

    @property
    def recall(self) -> float:
        """Of the breaking upgrades, the share rated high (1.0 when none is breaking)."""
        return self.true_high / self.breaking if self.breaking else 1.0


def assessed(cases: Sequence[dict[str, Any]], stored: dict[str, Any]) -> list[tuple[dict[str, Any], Assessment]]:
    by_id = {row["id"]: row for row in stored["cases"]}
    missing = [c["id"] for c in cases if c["id"] not in by_id]
    if missing:
        raise SystemExit(f"no recorded facts for {', '.join(missing)}: run with --record")
    return [(c, assess(facts_from_json(by_id[c["id"]]["facts"]))) for c in cases]


def figures(rows: Iterable[tuple[dict[str, Any], Assessment]]) -> dict[str, Figures]:
    out: dict[str, list[int]] = {}
    for case, risk in rows:
        for scope in (case["ecosystem"], "overall"):
            counts = out.setdefault(scope, [0, 0, 0, 0])
            breaking, high = case["label"] == "breaking", risk.level == "high"
            counts[0] += 1
            counts[1] += breaking
            counts[2] += high
            counts[3] += breaking and high
    return {scope: Figures(*counts) for scope, counts in out.items()}


def report(rows: list[tuple[dict[str, Any], Assessment]], stored: dict[str, Any]) -> str:
    lines = [f"facts recorded {stored['recorded_at']}; analysers: {stored['analysers']}", ""]
    width = max(len(c["id"]) for c, _ in rows)
    for case, risk in rows:
        flag = ""
        if case["label"] == "breaking" and risk.level != "high":
            flag = "  <- breaking, not high"
        elif case["label"] == "clean" and risk.level == "high":
            flag = "  <- clean, rated high"
        lines.append(f"{case['id'].ljust(width)}  {case['label']:<8}  {risk.level:<6} {risk.score:>3}{flag}")
    lines.append("")
    for scope, f in sorted(figures(rows).items(), key=lambda kv: kv[0] == "overall"):
        lines.append(
            f"{scope:<8} {f.cases:>3} cases, {f.breaking:>2} breaking, {f.high:>2} rated high: "
            f"precision of high {f.precision:.2f}, recall of breaking {f.recall:.2f}"
        )
    seconds = [s for row in stored["cases"] for s in row.get("seconds", [])[:1]]
    cached = [row["seconds"][1] for row in stored["cases"] if len(row.get("seconds", [])) > 1]
    if seconds:
        lines.append(f"API diff per upgrade, cold: median {_median(seconds):.2f} s, max {max(seconds):.2f} s")
    if cached:
        lines.append(f"API diff per upgrade, cached: median {_median(cached):.3f} s, max {max(cached):.3f} s")
    return "\n".join(lines)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help="compute the facts live and store them first")
    parser.add_argument("--only", action="append", default=[], metavar="ID", help="record only these cases")
    args = parser.parse_args(argv)
    cases = load_cases()
    if args.record:
        chosen = [c for c in cases if not args.only or c["id"] in args.only]
        if args.only and FACTS.exists():
            stored = json.loads(FACTS.read_text())
            fresh = record(chosen, FACTS.with_suffix(".part.json"))
            FACTS.with_suffix(".part.json").unlink()
            keep = [row for row in stored["cases"] if row["id"] not in set(args.only)]
            stored["cases"] = sorted(keep + fresh["cases"], key=lambda row: [c["id"] for c in cases].index(row["id"]))
            stored["recorded_at"], stored["analysers"] = fresh["recorded_at"], fresh["analysers"]
            FACTS.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
        else:
            record(chosen)
    stored = json.loads(FACTS.read_text())
    print(report(assessed(cases, stored), stored))
    return 0


if __name__ == "__main__":
    sys.exit(main())
