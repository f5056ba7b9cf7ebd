"""The npm API diff of two unpacked declaration folders (tests/fixtures/breaking/declarations/<name>/, each with
its package.json), compared as ``bot.breaking.npm_api`` compares two releases: each folder's entries read by the
real TypeScript checker, then diffed and capped. No registry is involved."""

from __future__ import annotations

import json
from pathlib import Path

from bot.breaking import npm_api, typescript
from bot.breaking.model import ApiChange, ApiDiff

DECLARATIONS = Path(__file__).resolve().parents[1] / "fixtures" / "breaking" / "declarations"


def _read(package: str, current: str, target: str) -> tuple[list[ApiChange], tuple[tuple[str, str], ...]]:
    jobs = []
    for name in (current, target):
        folder = DECLARATIONS / name
        document = json.loads((folder / "package.json").read_text())
        jobs.append({"root": str(folder), "package": package, "entries": npm_api._entries(folder, document)})
    answer = typescript.run({"command": "api", "jobs": jobs}, timeout=60)
    old, new = (job["entries"] for job in answer["jobs"])
    return list(npm_api._declaration_changes(package, old, new)), npm_api._returns(package, old)


def declaration_changes(package: str, current: str, target: str) -> list[ApiChange]:
    return _read(package, current, target)[0]


def declaration_diff(package: str, current: str, target: str) -> ApiDiff:
    changes, returns = _read(package, current, target)
    kept, capped = npm_api._kept(package, changes)
    source = f"fixtures{capped}"
    return ApiDiff("npm", package, current, target, analysed=True, changes=kept, source=source, returns=returns)
