"""The Python floor in the plan: a note with ``runtime.python_floor: keep``, a pull request of its own with
``raise`` (default phases: the core-runtime phase, one approval), risk explained, rendered and exported."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.deps.floor import FloorProposal
from bot.deps.python import parse_pyproject
from bot.deps.registry.client import RegistryStats
from bot.deps.survey import Survey
from bot.plan import make_plan
from bot.plan.export import plan_json, plan_text
from bot.plan.render import group_markdown, plan_markdown
from config.loader import default_config, load_config

NOW = datetime(2026, 11, 24, tzinfo=UTC)
PYPROJECT = '[project]\nname = "lab"\nrequires-python = ">=3.8,<4"\ndependencies = ["numpy==1.24.4"]\n'


def survey(path: str = "pyproject.toml", target: str = "3.10", capped: str | None = None) -> Survey:
    manifest = parse_pyproject(path, PYPROJECT)
    floor = FloorProposal(
        manifest=path,
        entries=manifest.python_floor,
        constraints=(f">={target},<4",),
        current="3.8",
        target=target,
        dropped=tuple(f"3.{m}" for m in range(8, int(target.split(".")[1]))),
        unlocks=(("numpy", "2.2.6"), ("pandas", "2.3.3")),
        capped=capped,
        still_held=(("numpy", "2.3.5"),) if capped else (),
    )
    return Survey("", (manifest,), (), (), {}, RegistryStats(), floors=(floor,))


def test_keep_adds_one_note_and_no_update() -> None:
    plan = make_plan(survey(), default_config(), NOW)
    assert plan.groups == () and plan.current_phase is None
    assert plan.notes == (
        "raising requires-python to >=3.10,<4 would allow numpy 2.2.6, pandas 2.3.3 (runtime.python_floor: raise)",
    )
    assert plan_json(plan)["notes"] == list(plan.notes)
    assert "Notes:\n  raising requires-python to >=3.10,<4" in plan_text(plan)
    assert "### Notes" in plan_markdown(plan)
    other = make_plan(survey("services/api/pyproject.toml"), default_config(), NOW)
    assert other.notes[0].startswith("services/api/pyproject.toml: raising requires-python to >=3.10,<4")


def test_raise_plans_its_own_pull_request_in_the_core_runtime_phase() -> None:
    config = load_config("runtime: {python_floor: raise}\ngroups: [{name: all, match: {}}]\n")
    plan = make_plan(survey(capped=".python-version: 3.10"), config, NOW)
    assert plan.notes == ()
    [group] = plan.groups
    assert (group.phase, group.kind, group.key, group.branch) == (
        "core-runtime",
        "floor",
        "python/requires-python",
        "depup/python/requires-python",
    )  # the catch-all config group does not take it
    assert group.title == "Raise requires-python from >=3.8,<4 to >=3.10,<4"
    assert (group.risk, group.approvals) == ("high", 1)
    [item] = group.items
    assert item.is_floor and (item.current, item.target, item.update_type, item.role) == (
        "3.8",
        "3.10",
        "major",
        "runtime",
    )
    assert item.files == ("pyproject.toml",) and item.constraint_for(0) == ">=3.10,<4"
    assert [f.id for f in item.risk.factors] == ["major", "role_runtime", "runtime_dropped"]  # no unknown release facts
    assert item.risk.factors[-1].reason == "drops Python 3.8, 3.9 (requires-python >=3.10,<4)"
    assert item.notes == (
        "unlocks numpy 2.2.6, pandas 2.3.3: held back by requires-python >=3.8,<4",
        "not raised above 3.10: .python-version: 3.10; still held back: numpy 2.3.5",
    )
    body = group_markdown(group, plan)
    assert "changes `pyproject.toml:3`" in body
    section = body[body.index("### Python floor") : body.index("### What happens next")]
    assert "- unlocks numpy 2.2.6, pandas 2.3.3: held back by requires-python &gt;=3.8,&lt;4" in section
    assert "still held back: numpy 2.3.5" in section


def test_raise_is_left_alone_without_the_python_ecosystem_and_ignore_rules_apply() -> None:
    config = load_config("runtime: {python_floor: raise}\n")
    assert make_plan(survey(), replace(config, ecosystems=("npm",)), NOW).groups == ()
    ignored = make_plan(survey(), load_config("runtime: {python_floor: raise}\nignore: [{packages: [python]}]\n"), NOW)
    assert ignored.groups == () and [s.item.name for s in ignored.ignored] == ["requires-python"]


def test_a_different_floor_changes_the_plan_id() -> None:
    config = load_config("runtime: {python_floor: raise}\n")
    assert make_plan(survey(), config, NOW).id != make_plan(survey(target="3.11"), config, NOW).id
