"""The allow-list of static code rewriters: which tool fixes which package's version transition, and how.

A rewriter applies to an update of one of its ``packages`` that crosses one of its ``crosses`` versions
(``current < v <= target``) and whose target is within ``to_range`` (the releases the pinned tool knows). Its
tool is installed from the registry at a version in ``tool.versions`` (``bot.migrate.tools``) and run on a
confined copy of the upgraded repository (``bot.migrate.run``); ``steps`` builds its command lines.

| rewriter | update | tool | command |
|---|---|---|---|
| ``django-upgrade`` | django into 2.0 .. 6.1 | django-upgrade (PyPI) | ``django-upgrade --target-version 5.0 FILES`` |
| ``bump-pydantic`` | pydantic 1 -> 2 | bump-pydantic (PyPI) | ``bump-pydantic --log-file LOG .`` |
| ``ruff-numpy2`` | numpy 1 -> 2 | ruff (PyPI) | ``ruff check --select NPY201 --fix ...`` |
| ``ruff-pyupgrade`` | the Python floor raised | ruff (PyPI) | ``ruff check --select UP --target-version py3X ...`` |
| ``react-18-codemod`` | react 17 -> 18 | jscodeshift (npm) | ``jscodeshift -t replace-reactdom-render.ts ...`` |
| ``react-19-codemod`` | react 18 -> 19 | jscodeshift (npm) | the same with replace-string-ref, replace-act-import |

The React transforms are react-codemod's (``transforms/`` beside this file, see its NOTICE): the package
published on the npm registry lacks them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bot.deps.floor import lowest_python
from bot.deps.npm import semver

ToolSource = Literal["pypi", "npm"]
TRANSFORMS = Path(__file__).resolve().parent / "transforms"
PYTHON_RUNTIME = "python"  # the package of an Upgrade that raises the project's Python floor
_RUFF_FIX = ("--fix", "--no-cache", "--isolated", "--exit-zero", "--output-format", "concise")
_DJANGO_TARGETS = ("2.0", "2.1", "2.2", "3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "5.0", "5.1", "5.2", "6.0", "6.1")
_PYTHONS = tuple(f"3.{minor}" for minor in range(7, 15))
_JS_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx")


@dataclass(frozen=True)
class Upgrade:
    """One version change a rewriter may migrate code for: a dependency's, or the Python floor's
    (``package == "python"``: ``current`` and ``target`` are the lowest Python versions allowed, "3.8")."""

    ecosystem: str  # "python" | "npm"
    package: str  # canonical key
    current: str
    target: str


@dataclass(frozen=True)
class Invocation:
    """What a rewriter's command line is built from, besides the upgrade."""

    files: tuple[str, ...]  # the copy's source files the rewriter may read, relative, sorted
    scratch: Path  # a folder outside the copy for logs the tool insists on writing


@dataclass(frozen=True)
class Tool:
    """A rewriting tool as published: the registry package, the versions depup runs, and its entry point
    (a Python module run with ``python -I -m``, or an executable of the npm package's ``.bin``)."""

    source: ToolSource
    package: str
    versions: str  # PEP 440 specifier (pypi) or npm range
    entry: str  # "django_upgrade" (python -m) or "jscodeshift" (node_modules/.bin)


@dataclass(frozen=True)
class Rewriter:
    name: str
    ecosystem: str  # of the upgraded package
    packages: tuple[str, ...]
    crosses: tuple[str, ...]  # versions whose crossing (current < v <= target) it migrates
    to_range: str  # the targets it knows (PEP 440 specifier or npm range)
    tool: Tool
    steps: Callable[[Upgrade, Invocation], tuple[tuple[str, ...], ...]]  # argument lists after the tool
    fixes: str  # one line: what it rewrites
    suffixes: tuple[str, ...] = (".py",)  # the files it reads

    def applies(self, upgrade: Upgrade) -> bool:
        if upgrade.ecosystem != self.ecosystem or upgrade.package not in self.packages:
            return False
        if not _in_range(self.ecosystem, upgrade.target, self.to_range):
            return False
        return any(_crossed(self.ecosystem, upgrade.current, v, upgrade.target) for v in self.crosses)

    def transition(self, upgrade: Upgrade) -> str:
        """The transition as "django 3.2.25 -> 5.0.1 (crosses 4.0, 4.1, 4.2, 5.0)"."""
        crossed = [v for v in self.crosses if _crossed(self.ecosystem, upgrade.current, v, upgrade.target)]
        return f"{upgrade.package} {upgrade.current} -> {upgrade.target} (crosses {', '.join(crossed)})"


def _django(upgrade: Upgrade, run: Invocation) -> tuple[tuple[str, ...], ...]:
    target = _highest_at_most(_DJANGO_TARGETS, upgrade.target)
    return (("--target-version", target, "--exit-zero-even-if-changed", *run.files),)


def _pydantic(upgrade: Upgrade, run: Invocation) -> tuple[tuple[str, ...], ...]:
    return (("--log-file", str(run.scratch / "bump-pydantic.log"), "."),)


def _numpy2(upgrade: Upgrade, run: Invocation) -> tuple[tuple[str, ...], ...]:
    return (("check", "--select", "NPY201", *_RUFF_FIX, "."),)


def _pyupgrade(upgrade: Upgrade, run: Invocation) -> tuple[tuple[str, ...], ...]:
    floor = _highest_at_most(_PYTHONS, upgrade.target).replace(".", "")
    return (("check", "--select", "UP", "--target-version", f"py{floor}", *_RUFF_FIX, "."),)


def _codemods(*transforms: str) -> Callable[[Upgrade, Invocation], tuple[tuple[str, ...], ...]]:
    def steps(upgrade: Upgrade, run: Invocation) -> tuple[tuple[str, ...], ...]:
        common = ("--run-in-band", "--fail-on-error", "--no-gitignore", "--parser=tsx")
        return tuple(
            ("-t", str(TRANSFORMS / f"{name}.ts"), *common, f"--extensions={','.join(s[1:] for s in _JS_SUFFIXES)}",
             *run.files)
            for name in transforms
        )  # fmt: skip

    return steps


_RUFF = Tool("pypi", "ruff", ">=0.8,<1", "ruff")
_JSCODESHIFT = Tool("npm", "jscodeshift", ">=17.1 <18", "jscodeshift")

# fmt: off
REWRITERS: tuple[Rewriter, ...] = (
    Rewriter(
        "django-upgrade", "python", ("django",), _DJANGO_TARGETS, ">=2.0", Tool(
            "pypi", "django-upgrade", ">=1.25,<2", "django_upgrade"), _django,
        "Django's removed and deprecated APIs (url() routes, ugettext, force_text, ...) for the target version",
    ),
    Rewriter(
        "bump-pydantic", "python", ("pydantic",), ("2",), ">=2,<3", Tool(
            "pypi", "bump-pydantic", ">=0.8,<0.9", "bump_pydantic"), _pydantic,
        "pydantic 1 models to 2: Config classes, validators, optional fields' defaults, renamed imports",
    ),
    Rewriter(
        "ruff-numpy2", "python", ("numpy",), ("2",), ">=2,<3", _RUFF, _numpy2,
        "names NumPy 2 removed (np.float_, np.NaN, np.Inf, np.product, ...), ruff's NPY201 safe fixes",
    ),
    Rewriter(
        "ruff-pyupgrade", "python", (PYTHON_RUNTIME,), _PYTHONS[1:], ">=3.7", _RUFF, _pyupgrade,
        "syntax for the raised Python floor (ruff's UP safe fixes: typing generics, f-strings, ...)",
    ),
    Rewriter(
        "react-18-codemod", "npm", ("react", "react-dom"), ("18.0.0",), ">=18.0.0", _JSCODESHIFT,
        _codemods("replace-reactdom-render"), "ReactDOM.render to createRoot (react-codemod, run by jscodeshift)",
        _JS_SUFFIXES,
    ),
    Rewriter(
        "react-19-codemod", "npm", ("react", "react-dom"), ("19.0.0",), ">=19.0.0", _JSCODESHIFT,
        _codemods("replace-reactdom-render", "replace-string-ref", "replace-act-import"),
        "APIs React 19 removed: ReactDOM.render, string refs, act from react-dom/test-utils (react-codemod)",
        _JS_SUFFIXES,
    ),
)
# fmt: on
NAMES = tuple(r.name for r in REWRITERS)


def applicable(upgrades: Sequence[Upgrade], allowed: Callable[[str], bool]) -> list[tuple[Rewriter, Upgrade]]:
    """Each allowed rewriter with the first of ``upgrades`` it applies to, in the allow-list's order."""
    found: list[tuple[Rewriter, Upgrade]] = []
    for rewriter in REWRITERS:
        if not allowed(rewriter.name):
            continue
        upgrade = next((u for u in upgrades if rewriter.applies(u)), None)
        if upgrade is not None:
            found.append((rewriter, upgrade))
    return found


def by_name(name: str) -> Rewriter:
    return next(r for r in REWRITERS if r.name == name)


def _highest_at_most(choices: tuple[str, ...], version: str) -> str:
    """The last of the ascending ``choices`` (major.minor) not after ``version``'s major.minor."""
    best = choices[0]
    for choice in choices:
        if _python_version(choice) <= _python_version(_minor(version)):
            best = choice
    return best


def _minor(version: str) -> str:
    parts = version.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else f"{parts[0]}.0"


def _python_version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


def _crossed(ecosystem: str, current: str, threshold: str, target: str) -> bool:
    if ecosystem == "npm":
        c, t = semver.valid(current, loose=True), semver.valid(target, loose=True)
        v = semver.valid(threshold, loose=True)
        return c is not None and t is not None and v is not None and semver.compare(c, v) < 0 <= semver.compare(t, v)
    try:
        return Version(current) < Version(threshold) <= Version(target)
    except InvalidVersion:
        return False


def _in_range(ecosystem: str, version: str, spec: str) -> bool:
    if ecosystem == "npm":
        return semver.satisfies(version, spec, loose=True)
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidVersion, InvalidSpecifier):
        return False


def floor_raised(before: str | None, after: str) -> tuple[str, str] | None:
    """``(old, new)`` Python floors when the pyproject.toml text ``after`` raises ``before``'s requires-python."""
    old, new = lowest_python(_requires_python(before)), lowest_python(_requires_python(after))
    if old is None or new is None or Version(new) <= Version(old):
        return None
    return old, new


def _requires_python(pyproject: str | None) -> str | None:
    if pyproject is None:
        return None
    try:
        value = tomllib.loads(pyproject).get("project", {}).get("requires-python")
    except (tomllib.TOMLDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None
