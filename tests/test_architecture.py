"""The import graph of bot/, handlers/ and config/: no cycles, and every import goes down the layers.

Layers, top to bottom (docs/architecture.md):

    process  bot.process, bot.jobs          entry points: CLI, web, worker, cron, the rq job functions
    handlers handlers                       one module per concern, registered for (event, action)
    events   bot.events                     the router and the context handlers get
    services bot.lifecycle, bot.plan, ...   the domain: scans, plans, risk, rollback, health, commands, ...
    clients  bot.github, bot.deps.registry  GitHub and the package registries
    core     bot.core, bot.errors, config   plumbing every layer uses: settings, logs, metrics, the queue, and the
                                            domain values (bot.deps.model) and npm semver

A module may import its own layer or a lower one. Services may use each other, but without cycles. Every import
counts, also those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "config")
LAYERS = ("core", "clients", "services", "events", "handlers", "process")
# Domain values and pure libraries every layer may use (the registry clients return them, config checks npm ranges).
VALUES = frozenset(
    {"bot.deps.model", "bot.deps.npm.semver", "bot.deps.npm._semver_re", "bot.deps.npm._semver_range",
     "bot.deps.npm._semver_version"}
)  # fmt: skip


def layer(module: str) -> str:
    if module == "bot.jobs" or module.startswith("bot.process"):
        return "process"
    if module.startswith("handlers"):
        return "handlers"
    if module.startswith("bot.events"):
        return "events"
    if module.startswith(("bot.github", "bot.deps.registry")):
        return "clients"
    if module.startswith(("bot.core", "bot.errors", "config")) or module in VALUES or module == "bot":
        return "core"
    return "services"


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The project modules ``path`` imports (the module itself for ``from pkg import module``), with the line."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield _known(alias.name, known), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield (target if target in known else _known(base, known)), node.lineno


def _known(module: str, known: dict[str, Path]) -> str:
    while module not in known and "." in module:
        module = module.rpartition(".")[0]
    return module


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {t for t, _ in imports(path, name, known) if t != name} for name, path in known.items()}


def test_every_import_goes_down_the_layers() -> None:
    known = modules()
    wrong = []
    for name, path in sorted(known.items()):
        for target, line in imports(path, name, known):
            if LAYERS.index(layer(target)) > LAYERS.index(layer(name)):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {layer(name)} {name} imports {layer(target)} {target}")
    assert wrong == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_layers_are_real() -> None:
    """The checks are only as good as their parts: every layer holds modules, the layers are in order, and the
    cycle finder finds a cycle through three modules."""
    names = modules()
    assert {layer(n) for n in names} == set(LAYERS)
    assert LAYERS.index(layer("bot.core.queue")) < LAYERS.index(layer("bot.lifecycle.scan"))
    assert LAYERS.index(layer("bot.lifecycle.scan")) < LAYERS.index(layer("handlers.upgrades"))
    assert LAYERS.index(layer("handlers.upgrades")) < LAYERS.index(layer("bot.jobs"))
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
