"""``setup.py``, read from its syntax tree: never executed, never imported.

The ``setup(...)`` call (``setup``, ``setuptools.setup``, ``distutils.core.setup``; the first one in the file,
also inside ``if __name__ == "__main__":``) is found with :mod:`ast`. Its keywords are read when their value is a
literal: ``install_requires`` (RUNTIME), ``setup_requires`` (BUILD), ``tests_require`` (DEV) as a list or tuple
of strings (or one string, one requirement a line); ``extras_require`` as a dict of such lists (``"name:marker"``
keys as setuptools reads them: the extra, and a marker for its entries; role ``roles.role_for_extra``);
``python_requires`` and ``name`` as strings. A keyword may also name a module-level variable assigned a literal
exactly once and never changed afterwards (``requires = [...]`` ... ``install_requires=requires``).

Anything else (a call such as ``reqs("default.txt")``, reading a file, a comprehension, ``base + [...]``, a name
assigned twice or extended, an f-string element, ``**kwargs``) is not evaluated: it is reported as a Problem
with its line and column and listed in ``SetupPy.unread``; the rest of the file still counts.

Editing: an entry is editable when its string literal is written plainly (one pair of quotes, no escapes, no
implicit concatenation): the edit replaces the constraint inside the quotes, byte for byte. Other literals are
read but skipped as ``unusual-string``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from bot.deps.model import Dependency, Ecosystem, Location, Manifest, Problem, Role
from bot.deps.python import skips
from bot.deps.python.pep508 import Pep508Error, split_requirement
from bot.deps.python.roles import role_for_extra
from bot.deps.python.textpos import LineIndex

KIND = "setup.py"
_LISTS = {"install_requires": Role.RUNTIME, "setup_requires": Role.BUILD, "tests_require": Role.DEV}
_MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault", "pop", "remove", "clear", "__setitem__"})
_PREFIXES = ("", "u", "U", "r", "R")
_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class SetupPy:
    manifest: Manifest
    unread: tuple[str, ...] = ()  # what could not be read statically, one phrase each ("install_requires: a call")


@dataclass
class _State:
    path: str
    text: str
    index: LineIndex
    line_starts: list[int]
    assigned: dict[str, list[ast.expr]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # name -> line where it is changed after assignment
    deps: list[Dependency] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    project_key: str | None = None

    def problem(self, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 1)
        column = self.column(line, getattr(node, "col_offset", 0)) + 1
        self.problems.append(Problem(self.path, line, column, message))

    def offset(self, line: int, byte_column: int) -> int:
        return self.line_starts[line - 1] + self.column(line, byte_column)

    def column(self, line: int, byte_column: int) -> int:
        """ast columns count UTF-8 bytes; the character column on ``line``."""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return len(self.text[start:end].encode("utf-8")[:byte_column].decode("utf-8", "ignore"))


def parse_setup_py(path: str, text: str) -> Manifest:
    return read_setup_py(path, text).manifest


def read_setup_py(path: str, text: str) -> SetupPy:
    """Read ``setup.py`` statically; a file that does not parse is one Problem at the error's place."""
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        problem = Problem(path, exc.lineno or 1, exc.offset or 1, f"not valid Python: {exc.msg}")
        manifest = Manifest(path=path, ecosystem=Ecosystem.PYTHON, kind=KIND, problems=(problem,))
        return SetupPy(manifest, (f"not valid Python (line {exc.lineno}): {exc.msg}",))
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        problem = Problem(path, 1, 1, f"not readable as Python: {exc}")
        manifest = Manifest(path=path, ecosystem=Ecosystem.PYTHON, kind=KIND, problems=(problem,))
        return SetupPy(manifest, ("not readable as Python",))
    state = _State(path, text, LineIndex(text), _line_starts(text))
    _module_names(state, tree)
    call = _setup_call(tree)
    if call is None:
        state.unread.append("no setup() call")
        manifest = Manifest(path=path, ecosystem=Ecosystem.PYTHON, kind=KIND)
        return SetupPy(manifest, tuple(state.unread))
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    for spread in (k for k in call.keywords if k.arg is None):
        state.problem(spread, "setup(**...): arguments passed with ** are not read")
        state.unread.append("arguments passed with **")
    project_name = _string(state, keywords.get("name"))
    state.project_key = canonicalize_name(project_name) if project_name else None
    for keyword, role in _LISTS.items():
        if keyword in keywords:
            _requirements(state, keyword, keywords[keyword], role, None, None)
    if "extras_require" in keywords:
        _extras(state, keywords["extras_require"])
    python = keywords.get("python_requires")
    requires_python = _string(state, python) if python is not None else None
    if python is not None and requires_python is None:
        state.problem(python, "python_requires is not a literal string: not read")
        state.unread.append("python_requires")
    manifest = Manifest(
        path=path,
        ecosystem=Ecosystem.PYTHON,
        kind=KIND,
        dependencies=tuple(state.deps),
        problems=tuple(state.problems),
        project_name=project_name,
        requires_python=requires_python,
    )
    return SetupPy(manifest, tuple(state.unread))


def _line_starts(text: str) -> list[int]:
    """Where each line starts, as Python's tokenizer ends lines (``\\r\\n``, ``\\r``, ``\\n``): ast's line numbers."""
    return [0, *(match.end() for match in _LINE_END.finditer(text))]


def _setup_call(tree: ast.Module) -> ast.Call | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == "setup") or (
                isinstance(func, ast.Attribute) and func.attr == "setup"
            ):
                return node
    return None


def _module_names(state: _State, tree: ast.Module) -> None:
    """Module-level ``NAME = value`` assignments, and where a name is changed anywhere after that."""
    for statement in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                state.assigned.setdefault(target.id, []).append(value)
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            state.changed.setdefault(node.target.id, node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and node.func.attr in _MUTATORS:
                state.changed.setdefault(owner.id, node.lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    state.changed.setdefault(target.value.id, node.lineno)
        elif isinstance(node, ast.Global):
            for name in node.names:
                state.changed.setdefault(name, node.lineno)
    for statement in tree.body:  # assignments under module-level if/for/try/with: the value depends on the run
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(statement):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        state.changed.setdefault(target.id, node.lineno)


def _resolve(state: _State, node: ast.expr, what: str) -> ast.expr | None:
    """The literal a keyword's value stands for (following one module-level name), or None with the problem."""
    if isinstance(node, ast.Name):
        values = state.assigned.get(node.id, [])
        if len(values) != 1:
            how = "not assigned in setup.py" if not values else f"assigned {len(values)} times"
            _not_literal(state, node, what, f"{node.id} is {how}")
            return None
        value = values[0]
        if not _is_literal(value):
            _not_literal(state, node, what, f"{node.id} is {_describe(value)}")
            return None
        if node.id in state.changed:
            _not_literal(state, node, what, f"{node.id} is changed on line {state.changed[node.id]}")
            return None
        return value
    if _is_literal(node):
        return node
    _not_literal(state, node, what, _describe(node))
    return None


def _is_literal(node: ast.expr) -> bool:
    return isinstance(node, (ast.List, ast.Tuple, ast.Dict)) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _describe(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else (func.attr if isinstance(func, ast.Attribute) else "")
        return f"a call to {name}()" if name else "a call"
    if isinstance(node, (ast.ListComp, ast.DictComp, ast.GeneratorExp, ast.SetComp)):
        return "a comprehension"
    if isinstance(node, ast.BinOp):
        return "an expression"
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.Subscript):
        return "a subscript"
    if isinstance(node, ast.Attribute):
        return "an attribute"
    return f"a {type(node).__name__} expression"


def _not_literal(state: _State, node: ast.AST, what: str, why: str) -> None:
    state.problem(node, f"{what} is not a literal ({why}): not read, setup.py is never run")
    state.unread.append(f"{what}: {why}")


def _string(state: _State, node: ast.expr | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Name):
        values = state.assigned.get(node.id, [])
        node = values[0] if len(values) == 1 and node.id not in state.changed else node
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _requirements(state: _State, what: str, node: ast.expr, role: Role, group: str | None, marker: str | None) -> None:
    literal = _resolve(state, node, what)
    if literal is None:
        return
    if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
        for line in literal.value.splitlines():
            if line.split("#", 1)[0].strip():
                _add(state, what, literal, line.split("#", 1)[0].strip(), role, group, marker, plain=False)
        return
    if not isinstance(literal, (ast.List, ast.Tuple)):
        _not_literal(state, literal, what, "not a list of requirement strings")
        return
    for element in literal.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            _add(state, what, element, element.value, role, group, marker, plain=True)
        else:
            _not_literal(state, element, f"an entry of {what}", _describe(element))


def _extras(state: _State, node: ast.expr) -> None:
    literal = _resolve(state, node, "extras_require")
    if literal is None:
        return
    if not isinstance(literal, ast.Dict):
        _not_literal(state, literal, "extras_require", "not a dict")
        return
    for key, value in zip(literal.keys, literal.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            _not_literal(state, key if key is not None else value, "an extras_require key", "not a string")
            continue
        extra, _, marker = key.value.partition(":")
        extra = extra.strip()
        _requirements(state, f"extras_require[{key.value!r}]", value, role_for_extra(extra), extra,
                      marker.strip() or None)  # fmt: skip


def _add(
    state: _State,
    what: str,
    node: ast.Constant,
    value: str,
    role: Role,
    group: str | None,
    extra_marker: str | None,
    *,
    plain: bool,
) -> None:
    node_start = state.offset(node.lineno, node.col_offset)
    content = _plain_content(state, node) if plain else None
    try:
        parts = split_requirement(value)
    except Pep508Error as exc:
        at = content + exc.offset if content is not None else node_start
        line, column = state.index.position(at)
        state.problems.append(
            Problem(state.path, line, column, f"{what}: invalid requirement {value!r}: {exc.message}")
        )
        return
    marker = parts.marker
    if extra_marker:
        marker = extra_marker if marker is None else f"({extra_marker}) and ({marker})"
    skip: str | None = None
    if parts.url is not None:
        skip = skips.GIT if parts.url.lower().startswith("git") else skips.URL
    elif content is None:
        skip = skips.UNUSUAL_STRING
    elif state.project_key is not None and canonicalize_name(parts.name) == state.project_key:
        skip = skips.SELF
    if content is not None:
        start, end, entry = content + parts.constraint_start, content + parts.constraint_end, content + parts.name_start
    else:
        start = end = entry = node_start
    line, column = state.index.position(entry)
    state.deps.append(
        Dependency(
            ecosystem=Ecosystem.PYTHON,
            name=parts.name,
            key=canonicalize_name(parts.name),
            constraint=parts.constraint,
            role=role,
            location=Location(state.path, line, column, start, end, what.split("[", 1)[0]),
            group=group,
            extras=parts.extras,
            marker=marker,
            skip_reason=skip,
        )
    )


def _plain_content(state: _State, node: ast.Constant) -> int | None:
    """Offset of the first character inside the quotes when the literal is written exactly as its value."""
    if node.end_lineno != node.lineno or node.end_col_offset is None:
        return None
    start = state.offset(node.lineno, node.col_offset)
    end = state.offset(node.lineno, node.end_col_offset)
    source = state.text[start:end]
    for prefix in _PREFIXES:
        for quote in ("'", '"'):
            body = source[len(prefix) + 1 : -1]
            if (
                source.startswith(prefix + quote)
                and source.endswith(quote)
                and len(source) >= len(prefix) + 2
                and not source.startswith(prefix + quote * 3)
                and body == node.value
                and quote not in body
                and "\\" not in body
            ):
                return start + len(prefix) + 1
    return None
