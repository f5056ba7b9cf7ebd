"""The API evidence of an upgrade where a maintainer reads it: the PR body and risk check (risk details), the
dashboard plan, ``depup plan`` text and JSON (valid under docs/plan.schema.json). The breakage source is the real
service with plain analysers that return real ApiDiff values for the sample's upgrades."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema

from bot.breaking.model import ApiChange, ApiDiff, Use
from bot.breaking.service import Analyser, BreakageService
from bot.deps.registry.client import RegistryClient
from bot.deps.survey import survey
from bot.deps.versions import Policy
from bot.plan import Plan, PlanItem, Sources, make_plan
from bot.plan.export import plan_json, plan_text
from bot.plan.render import group_markdown, risk_details
from bot.risk.imports import index_imports
from config.loader import default_config
from tests.plan.test_samples_golden import NOW, SAMPLES
from tests.support.registry_server import RegistryServer

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "plan.schema.json").read_text())
CHANGES = {  # the sample's majors (deferred flask/django majors are not in the plan's groups)
    "pytest": (
        ApiChange("removed", "pytest.yield_fixture", "removed"),
        ApiChange("removed", "pytest.Instance", "removed"),
        ApiChange("deprecated", "pytest.warns", "deprecated: calling it with None"),
    ),
    "black": tuple(ApiChange("removed", f"black.gone{i}", "removed") for i in range(14)),
}


def diff(package: str, current: str, target: str, *, deadline: float) -> ApiDiff:
    if package not in CHANGES:
        return ApiDiff("python", package, current, target, analysed=False, why_not="no wheel or sdist")
    return ApiDiff("python", package, current, target, analysed=True, changes=CHANGES[package], source="wheels")


def uses(root: Path, package: str, diff: ApiDiff) -> tuple[tuple[Use, ...], int]:
    """``from PACKAGE import NAME`` lines naming a changed symbol."""
    names = {c.symbol.rpartition(".")[2]: c for c in diff.changes}
    found, files = [], sorted(root.rglob("*.py"))
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(rf"from {package} import (\w+)", line)
            if m and (change := names.get(m[1])) is not None:
                found.append(Use(path.relative_to(root).as_posix(), number, change.symbol, change.detail))
    return tuple(found), len(files)


def plan(tmp_path: Path) -> Plan:
    root = tmp_path / "py-req"
    shutil.copytree(SAMPLES / "py-req", root)
    (root / "app").mkdir()
    (root / "app" / "web.py").write_text("from flask import Flask\nfrom pytest import yield_fixture\nimport black\n")
    (root / "app" / "views.py").write_text("from pytest import Instance\n")
    config = default_config()
    with RegistryClient(None) as registry:
        surveyed = survey(root, registry, Policy(min_release_age=config.min_release_age, now=NOW))
    breakage = BreakageService(root, None, config.core_packages, analysers={"python": Analyser(diff, uses)})
    return make_plan(surveyed, config, NOW, Sources(imports=index_imports(root), breakage=breakage))


def item(made: Plan, package: str, update_type: str) -> PlanItem:
    return next(i for g in made.groups for i in g.items if i.package == package and i.update_type == update_type)


def test_the_pr_body_lists_each_use_as_file_and_line(tmp_path: Path, registry_server: RegistryServer) -> None:
    made = plan(tmp_path)
    pytest_ = item(made, "pytest", "major")
    details = risk_details(pytest_)
    assert (
        "- API changes (wheels): your code uses 2 of the 2 removed or changed names (1 deprecated) in 2 places"
        in details
    )
    assert "  - `app/views.py:1` `pytest.Instance`: removed" in details
    assert "  - `app/web.py:2` `pytest.yield_fixture`: removed" in details
    assert pytest_.risk.level == "high"
    group = next(g for g in made.groups if pytest_ in g.items)
    body = group_markdown(group, made)
    assert "`app/web.py:2` `pytest.yield_fixture`: removed" in body
    assert (
        "your code uses 2 removed/changed names: pytest.Instance at app/views.py:1, pytest.yield_fixture at "
        "app/web.py:2" in body
    )
    black = item(made, "black", "major")
    assert "- API changes (wheels): no use of the 14 removed or changed names (2 source files read)" in risk_details(
        black
    )
    assert any(f.id == "api_untouched" and f.weight == -4 for f in black.risk.factors)
    assert black.risk.level != "high"
    numpy = item(made, "numpy", "minor")  # a minor of a core package is analysed
    assert "- API changes: not analysed: no wheel or sdist" in risk_details(numpy)
    assert item(made, "requests", "minor").breakage is None  # a minor of anything else is not


def test_plan_text_and_json_carry_the_same(tmp_path: Path, registry_server: RegistryServer) -> None:
    made = plan(tmp_path)
    exported = plan_json(made)
    jsonschema.validate(exported, SCHEMA["properties"]["plan"] | {"$defs": SCHEMA["$defs"]})
    items = {(i["package"], i["update_type"]): i for p in exported["phases"] for g in p["groups"] for i in g["items"]}
    api = items[("pytest", "major")]["api"]
    assert api["summary"] == (
        "your code uses 2 of the 2 removed or changed names (1 deprecated) in 2 places (2 source files read)"
    )
    assert api["uses"] == [
        {"file": "app/views.py", "line": 1, "symbol": "pytest.Instance", "kind": "removed", "detail": "removed"},
        {"file": "app/web.py", "line": 2, "symbol": "pytest.yield_fixture", "kind": "removed", "detail": "removed"},
    ]
    assert (api["removed_or_changed"], api["deprecated"], api["scanned"], api["analysed"]) == (2, 1, 2, True)
    assert items[("numpy", "minor")]["api"]["why_not"] == "no wheel or sdist"
    assert items[("requests", "minor")]["api"] is None
    text = plan_text(made)
    assert "      API: no use of the 14 removed or changed names (2 source files read)" in text
    assert "        app/web.py:2: pytest.yield_fixture: removed" in text


def test_many_uses_of_one_name_read_as_one_entry(tmp_path: Path, registry_server: RegistryServer) -> None:
    """Thirty files calling one deprecated function are one entry with its places, after the breaking uses, and a
    long deprecation text is cut: react-redux's connect in a real app gave 30 lines of the same 300 characters."""
    from dataclasses import replace

    from bot.breaking.explain import MAX_DETAIL, MAX_PLACES
    from bot.breaking.model import Breakage
    from bot.plan.export import _api_text

    long = "calling it with None " + "is no longer what you want " * 12
    changes = (ApiChange("deprecated", "pytest.warns", f"deprecated: {long}"), *CHANGES["pytest"][:2])
    warns = tuple(Use(f"app/m{i:02}.py", 3, "pytest.warns", f"deprecated: {long}") for i in range(12))
    removed = Use("app/web.py", 2, "pytest.yield_fixture", "removed")
    breakage = Breakage(ApiDiff("python", "pytest", "7.4.4", "8.1.1", True, changes), (*warns, removed), scanned=14)
    pytest_ = replace(item(plan(tmp_path), "pytest", "major"), breakage=breakage)

    details = risk_details(pytest_).splitlines()
    first = details.index("  - `app/web.py:2` `pytest.yield_fixture`: removed")  # breaking uses come first
    assert details[first + 1].startswith("  - `app/m00.py:3` `pytest.warns`: deprecated: calling it with None")
    assert len(details[first + 1].split(": ", 1)[1]) <= MAX_DETAIL + 2 and details[first + 1].endswith("\u2026")
    also = details[first + 2]
    assert also.startswith("    also at `app/m01.py:3`, `app/m02.py:3`")
    assert also.endswith(f"and {11 - MAX_PLACES} more") and also.count("`app/m") == MAX_PLACES
    text = _api_text(pytest_)
    assert text[1] == "        app/web.py:2: pytest.yield_fixture: removed"
    assert text[2].startswith("        app/m00.py:3: pytest.warns: deprecated: calling it with None")
    assert text[2].endswith("\u2026")
    assert text[3].startswith("          also at app/m01.py:3, app/m02.py:3") and len(text) == 4
