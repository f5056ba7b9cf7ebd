"""The Python floor in the plan: the survey's requires-python raises (``bot.deps.floor``) as plan notes
(``runtime.python_floor: keep``) or as plan items (``raise``).

An item raises requires-python the way an update moves a dependency: package ``python``, named
``requires-python``, from the current floor to the new one ("3.8" -> "3.10"), its dependencies the places that
write requires-python (``project.requires-python``, Poetry's ``tool.poetry.dependencies.python``) and the new
specifier of each in ``PlanItem.constraints``. It is a ``major`` ``runtime`` change: installs on the Pythons it
drops stop working, which the risk factors say. The planner gives it a pull request of its own; applying it
regenerates the lockfiles like any edit of the manifest, and the ``ruff-pyupgrade`` rewriter migrates the code
for the new floor (``bot.lifecycle.pulls``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from bot.deps.floor import FloorProposal
from bot.deps.proposals import Update
from bot.plan.model import FLOOR_NAME, FLOOR_PACKAGE, PlanItem
from bot.risk.assess import assess
from bot.risk.model import Assessment, UpdateFacts
from config.model import Config


def floor_notes(floors: Iterable[FloorProposal]) -> tuple[str, ...]:
    """With ``keep``: one line per project, saying which floor would allow what."""
    notes = []
    for floor in floors:
        where = "" if floor.manifest == "pyproject.toml" else f"{floor.manifest}: "
        notes.append(
            f"{where}raising requires-python to {floor.constraints[0]} would allow {floor.unlocks_text()} "
            "(runtime.python_floor: raise)"
        )
    return tuple(notes)


def floor_items(floors: Iterable[FloorProposal], config: Config, now: datetime) -> list[PlanItem]:
    """With ``raise``: one item per (current, new floor), spanning every project that moves so."""
    by_change: dict[tuple[str, str], list[FloorProposal]] = {}
    for floor in floors:
        by_change.setdefault((floor.current, floor.target), []).append(floor)
    return [_item(current, target, found, config, now) for (current, target), found in by_change.items()]


def _item(current: str, target: str, floors: list[FloorProposal], config: Config, now: datetime) -> PlanItem:
    first = floors[0]
    dropped = first.dropped
    facts = UpdateFacts(
        ecosystem="python",
        package=FLOOR_PACKAGE,
        role="runtime",
        current=current,
        target=target,
        update_type="major",
        majors_crossed=1,
        releases_skipped=0,
        zero_x=False,
        core=False,
        now=now,
        runtime_dropped=dropped,
        vulnerabilities_fixed=(),
    )
    notes = []
    for floor in floors:
        where = f" ({floor.manifest})" if len(floors) > 1 else ""
        notes.append(
            f"unlocks {floor.unlocks_text()}{where}: held back by requires-python {floor.entries[0].constraint}"
        )
        if floor.capped:
            held = ", ".join(f"{name} {version}" for name, version in floor.still_held)
            notes.append(
                f"not raised above {floor.target}: {floor.capped}" + (f"; still held back: {held}" if held else "")
            )
    return PlanItem(
        ecosystem="python",
        package=FLOOR_PACKAGE,
        name=FLOOR_NAME,
        current=current,
        target=target,
        update_type="major",
        role="runtime",
        core=False,
        risk=_floor_risk(assess(facts, config.risk), current, target, dropped, first.constraints[0]),
        dependencies=tuple(e for f in floors for e in f.entries),
        constraints=tuple(c for f in floors for c in f.constraints),
        update=Update(
            version=target, constraint=first.constraints[0], update_type="major", is_major=True, strategy="bump"
        ),
        files=tuple(sorted({f.manifest for f in floors})),
        notes=tuple(notes),
    )


def _floor_risk(risk: Assessment, current: str, target: str, dropped: tuple[str, ...], constraint: str) -> Assessment:
    """The assessment in the floor's terms: facts about a release (its date, notes, API diff, imports) do not
    apply to a Python floor, so they are left out rather than shown as unknown."""
    pythons = ", ".join(dropped) or current
    reasons = {
        "major": f"raises the project's Python floor {current} \u2192 {target}: a breaking change for whoever "
        "installs it on an older Python",
        "runtime_dropped": f"drops Python {pythons} (requires-python {constraint})",
    }
    factors = tuple(replace(f, reason=reasons.get(f.id, f.reason)) for f in risk.factors if f.known)
    return replace(risk, factors=factors)
