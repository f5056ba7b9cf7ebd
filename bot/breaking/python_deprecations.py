"""Deprecations a Python module declares, read from its syntax tree (never imported or run).

A module deprecates a name when:

- a function's body calls ``warnings.warn(..., DeprecationWarning)`` (or ``PendingDeprecationWarning``,
  ``FutureWarning``, a ``RemovedIn...Warning``/``...DeprecationWarning`` class, or ``warn(DeprecationWarning(...))``,
  or such a category's own ``emit``: ``SetuptoolsDeprecationWarning.emit(...)``); when the call sits under an
  ``if`` that tests one of the function's parameters, it is that parameter which is deprecated; a class is
  deprecated when its ``__init__``/``__new__`` warns;
- a function or class is decorated with ``@deprecated(...)`` (``typing_extensions``/``warnings``/``deprecation``,
  or a package's own ``@util.deprecated("1.4", "...")``), or its parameters with ``@deprecated_params(x=(...))``;
- the module body itself warns at import (the module is deprecated);
- a module-level ``__getattr__`` answers an old name with a warning (``if name == "Markup": warnings.warn(...)``,
  ``if name in _DEPRECATED: ...``, ``match name: case "X": ...``, or a guard ``if name != "utc": raise
  AttributeError(...)`` and then the warning, as Django 4.2's ``django.utils.timezone`` does): such names are still
  provided, deprecated. Names it answers without warning are provided too (lazy imports); names it answers only
  with an ``AttributeError`` are not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

_CATEGORY = re.compile(r"(?:^|\.)(?:\w*DeprecationWarning|FutureWarning|RemovedIn\w*Warning|\w*DeprecatedWarning)$")
_WARN_FUNCTIONS = frozenset({"warnings.warn", "warn", "warnings.warn_explicit", "warn_explicit"})
_MAX_MESSAGE = 120
_VERSION = re.compile(r"^v?\d+(?:\.\d+)*$")


@dataclass(frozen=True)
class Deprecation:
    """``qualname`` (``func``, ``Class.method``, ``Class``, or "" for the module) is deprecated; ``parameter``
    when only passing that parameter is."""

    qualname: str
    message: str
    parameter: str | None = None

    @property
    def detail(self) -> str:
        text = f": {self.message}" if self.message else ""
        if self.parameter:
            return f"parameter '{self.parameter}' deprecated{text}"
        return f"deprecated{text}"


@dataclass(frozen=True)
class Provided:
    """A name a module-level ``__getattr__`` answers; ``message`` is set when it warns (deprecated)."""

    name: str
    deprecated: bool
    message: str = ""


@dataclass(frozen=True)
class ModuleDeprecations:
    deprecations: tuple[Deprecation, ...]
    provided: tuple[Provided, ...]  # by the module's __getattr__


def module_deprecations(source: str, tree: ast.Module | None = None) -> ModuleDeprecations:
    """What the module whose source is ``source`` (parsed: ``tree``) deprecates; a module that does not parse
    declares nothing."""
    if not may_deprecate(source):
        return ModuleDeprecations((), ())
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return ModuleDeprecations((), ())
    found: list[Deprecation] = []
    module_warning = _first_warning(_top_level_calls(tree.body))
    if module_warning is not None:
        found.append(Deprecation("", module_warning))
    provided: tuple[Provided, ...] = ()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == "__getattr__":
                provided = _getattr_names(node, _constants(tree.body))
            else:
                found.extend(_function(node, node.name))
        elif isinstance(node, ast.ClassDef):
            found.extend(_class(node, node.name))
    return ModuleDeprecations(tuple(sorted(set(found), key=_order)), provided)


def may_deprecate(source: str) -> bool:
    """Whether a source can declare a deprecation at all (most modules cannot: not worth parsing)."""
    return "warn" in source or "deprecated" in source or "__getattr__" in source


def _order(d: Deprecation) -> tuple[str, str, str]:
    return (d.qualname, d.parameter or "", d.message)


def _class(node: ast.ClassDef, qualname: str) -> Iterator[Deprecation]:
    message = _decorator_message(node.decorator_list)
    if message is not None:
        yield Deprecation(qualname, message)
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            for found in _function(item, f"{qualname}.{item.name}"):
                if item.name in ("__init__", "__new__"):  # constructing the class is what is deprecated
                    yield Deprecation(qualname, found.message, found.parameter)
                else:
                    yield found
        elif isinstance(item, ast.ClassDef):
            yield from _class(item, f"{qualname}.{item.name}")


def _function(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> Iterator[Deprecation]:
    message = _decorator_message(node.decorator_list)
    if message is not None:
        yield Deprecation(qualname, message)
        return
    for parameter, text in _deprecated_parameters(node.decorator_list):
        yield Deprecation(qualname, text, parameter)
    parameters = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
    parameters.discard("self")
    parameters.discard("cls")
    unconditional: str | None = None
    per_parameter: dict[str, str] = {}
    for call, tests in _warn_calls(node.body, ()):
        category_message = _deprecation_message(call)
        if category_message is None:
            continue
        tested = sorted({n.id for test in tests for n in ast.walk(test) if isinstance(n, ast.Name)} & parameters)
        if tested:
            per_parameter.setdefault(tested[0], category_message)
        elif unconditional is None:
            unconditional = category_message
    if unconditional is not None:
        yield Deprecation(qualname, unconditional)
        return
    for parameter, text in sorted(per_parameter.items()):
        yield Deprecation(qualname, text, parameter)


def _warn_calls(body: list[ast.stmt], tests: tuple[ast.expr, ...]) -> Iterator[tuple[ast.Call, tuple[ast.expr, ...]]]:
    """Warning calls in a function body with the ``if`` tests they sit under; nested functions and classes are
    their own scope and are skipped."""
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(statement, ast.If):
            yield from _calls_in(statement.test, tests)
            yield from _warn_calls(statement.body, (*tests, statement.test))
            yield from _warn_calls(statement.orelse, (*tests, statement.test))
            continue
        nested = [
            getattr(statement, field)
            for field in ("body", "orelse", "finalbody", "handlers", "cases")
            if isinstance(getattr(statement, field, None), list)
        ]
        for expression in _own_expressions(statement):
            yield from _calls_in(expression, tests)
        for block in nested:
            for item in block:
                if isinstance(item, ast.ExceptHandler | ast.match_case):
                    yield from _warn_calls(item.body, tests)
                elif isinstance(item, ast.stmt):
                    yield from _warn_calls([item], tests)


def _own_expressions(statement: ast.stmt) -> Iterator[ast.expr]:
    for field, value in ast.iter_fields(statement):
        if field in ("body", "orelse", "finalbody", "handlers", "cases"):
            continue
        if isinstance(value, ast.expr):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, ast.expr))
        elif isinstance(value, ast.withitem):
            yield value.context_expr


def _calls_in(expression: ast.expr, tests: tuple[ast.expr, ...]) -> Iterator[tuple[ast.Call, tuple[ast.expr, ...]]]:
    for node in ast.walk(expression):
        if isinstance(node, ast.Call) and (_dotted(node.func) in _WARN_FUNCTIONS or _emits(node)):
            yield node, tests


def _emits(call: ast.Call) -> bool:
    """``SetuptoolsDeprecationWarning.emit("...")``: a deprecation category's own method that warns."""
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == "emit" and bool(_CATEGORY.search(_dotted(func.value)))


def _top_level_calls(body: list[ast.stmt]) -> Iterator[ast.Call]:
    """Warning calls the module body makes when imported (outside functions and classes, ``if`` included)."""
    for call, _tests in _warn_calls(body, ()):
        yield call


def _first_warning(calls: Iterator[ast.Call]) -> str | None:
    for call in calls:
        message = _deprecation_message(call)
        if message is not None:
            return message
    return None


def _deprecation_message(call: ast.Call) -> str | None:
    """The message of a ``warn`` call when it warns of a deprecation, else None."""
    if _emits(call):
        return _text(call.args[0]) if call.args else ""
    category: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "category":
            category = keyword.value
    first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "message"), None)
    if isinstance(first, ast.Call) and _CATEGORY.search(_dotted(first.func)):  # warn(DeprecationWarning("..."))
        return _text(first.args[0]) if first.args else ""
    if category is None or not _CATEGORY.search(_dotted(category)):
        return None
    return _text(first) if first is not None else ""


def _decorator_message(decorators: list[ast.expr]) -> str | None:
    for decorator in decorators:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = _dotted(target)
        if name == "deprecated" or name.endswith(".deprecated"):
            if isinstance(decorator, ast.Call):
                # ``@deprecated("use x")``; ``@util.deprecated("1.4", "use x")`` names the version first
                texts = [t for t in (_text(a) for a in decorator.args) if t and not _VERSION.match(t)]
                arg_text = texts[0] if texts else ""
                for keyword in decorator.keywords:
                    if keyword.arg in ("reason", "details", "message"):
                        arg_text = _text(keyword.value)
                return arg_text
            return ""
    return None


def _deprecated_parameters(decorators: list[ast.expr]) -> Iterator[tuple[str, str]]:
    """``@deprecated_params(bind=("2.0", "The bind argument is deprecated"))``: each parameter, its message."""
    for decorator in decorators:
        if not isinstance(decorator, ast.Call):
            continue
        name = _dotted(decorator.func)
        if name == "deprecated_params" or name.endswith(".deprecated_params"):
            for keyword in decorator.keywords:
                if keyword.arg is None:
                    continue
                value = keyword.value
                parts = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
                texts = [t for t in (_text(p) for p in parts) if t and not _VERSION.match(t)]
                yield keyword.arg, texts[0] if texts else ""


def _getattr_names(
    node: ast.FunctionDef | ast.AsyncFunctionDef, constants: dict[str, tuple[str, ...]]
) -> tuple[Provided, ...]:
    """The names a module ``__getattr__(name)`` answers, in the shapes real packages write:

    - a branch that tests the name: ``if name == "X":``, ``if name in ("X", "Y"):`` (or a module-level or local
      collection: ``if name in _DEPRECATED:``), ``or``/``and`` of those, ``match name: case "X" | "Y":``;
    - a guard that turns every other name away: ``if name != "utc": raise AttributeError(...)`` (or
      ``not in _DEPRECATED``, ``return``) followed by the answer, or ``if name != "X": ... else: <answer>``;
    - a lookup: ``_DEPRECATED[name]``, ``_MOVED.get(name)``.

    A name is deprecated when the code that answers it warns of a deprecation. A branch that only raises
    (``if name in _REMOVED: raise AttributeError("... was removed")``) provides nothing."""
    args = node.args.posonlyargs + node.args.args
    if not args:
        return ()
    parameter = args[0].arg
    constants = {**constants, **_constants(node.body)}
    names: dict[str, Provided] = {}
    branch_names: set[str] = set()

    def provide(matched: tuple[str, ...], body: list[ast.stmt]) -> None:
        branch_names.update(matched)
        if not body or _refuses(body):
            return
        message = _first_warning(c for c, _t in _warn_calls(body, ()))
        for name in matched:
            if name not in names or (message is not None and not names[name].deprecated):
                names[name] = Provided(name, message is not None, message or "")

    for block in _blocks(node):
        for index, statement in enumerate(block):
            if isinstance(statement, ast.If):
                provide(_names_tested(statement.test, parameter, constants), statement.body)
                excluded = _names_excluded(statement.test, parameter, constants)
                if excluded:
                    provide(excluded, statement.orelse)
                    if _exits(statement.body):
                        provide(excluded, block[index + 1 :])
            elif isinstance(statement, ast.Match) and _is_name(statement.subject, parameter):
                for case in statement.cases:
                    provide(_pattern_names(case.pattern), case.body)
    # ``obj = _DEPRECATED[name]`` / ``_MOVED.get(name)`` with a warning in the function's own body
    looked_up = {
        key for sub in ast.walk(node) for key in _names_looked_up(sub, parameter, constants) if key not in branch_names
    }
    if looked_up:  # the warning is one outside the branches on the name (``if found is not None: warn(...)``)
        message = _first_warning(c for c, tests in _warn_calls(node.body, ()) if not _tests_name(tests, parameter))
        for name in looked_up:
            names.setdefault(name, Provided(name, message is not None, message or ""))
    return tuple(sorted(names.values(), key=lambda p: p.name))


def _tests_name(tests: tuple[ast.expr, ...], parameter: str) -> bool:
    return any(_is_name(n, parameter) for test in tests for n in ast.walk(test) if isinstance(n, ast.expr))


def _blocks(node: ast.AST) -> Iterator[list[ast.stmt]]:
    """Every statement list in ``node``: bodies of functions, branches, loops, ``with``, ``try`` and ``match``."""
    for sub in ast.walk(node):
        for field in ("body", "orelse", "finalbody"):
            value = getattr(sub, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield value


def _exits(body: list[ast.stmt]) -> bool:
    """Whether a block always leaves the function (``raise``/``return`` among its own statements)."""
    return any(isinstance(statement, ast.Raise | ast.Return) for statement in body)


def _refuses(body: list[ast.stmt]) -> bool:
    """Whether a block answers by raising before it returns anything (a removed name's ``AttributeError``)."""
    for statement in body:
        if isinstance(statement, ast.Return):
            return False
        if isinstance(statement, ast.Raise):
            return True
    return False


def _names_tested(test: ast.expr, parameter: str, constants: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The names for which ``test`` holds only when the parameter is one of them (``name == "X"``)."""
    return _names_when(test, parameter, constants, holds=True)


def _names_excluded(test: ast.expr, parameter: str, constants: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The names for which ``test`` is false only when the parameter is one of them (``name != "utc"``,
    ``name not in _DEPRECATED``): what comes after a guard on it that leaves the function."""
    return _names_when(test, parameter, constants, holds=False)


def _names_when(
    test: ast.expr, parameter: str, constants: dict[str, tuple[str, ...]], *, holds: bool
) -> tuple[str, ...]:
    """The names that make ``test`` true (``holds``) or false only when the parameter is one of them."""
    if isinstance(test, ast.BoolOp):
        parts = [_names_when(value, parameter, constants, holds=holds) for value in test.values]
        if isinstance(test.op, ast.Or if holds else ast.And):  # every part pins it: any of their names
            return tuple(n for part in parts for n in part) if all(parts) else ()
        narrowing = [part for part in parts if part]  # the other: any part that pins the name pins it
        return tuple(n for n in narrowing[0] if all(n in part for part in narrowing)) if narrowing else ()
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _names_when(test.operand, parameter, constants, holds=not holds)
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return ()
    op = test.ops[0]
    if isinstance(op, ast.Eq if holds else ast.NotEq):
        return _compared(test, parameter)
    if isinstance(op, ast.In if holds else ast.NotIn) and _is_name(test.left, parameter):
        return _strings(test.comparators[0], constants)
    return ()
    op = test.ops[0]
    if isinstance(op, ast.NotEq):
        return _compared(test, parameter)
    if isinstance(op, ast.NotIn) and _is_name(test.left, parameter):
        return _strings(test.comparators[0], constants)
    return ()


def _compared(test: ast.Compare, parameter: str) -> tuple[str, ...]:
    """``name <op> "X"`` or ``"X" <op> name``: ``("X",)``."""
    left, right = test.left, test.comparators[0]
    for one, other in ((left, right), (right, left)):
        if _is_name(one, parameter) and isinstance(other, ast.Constant) and isinstance(other.value, str):
            return (other.value,)
    return ()


def _pattern_names(pattern: ast.pattern) -> tuple[str, ...]:
    """``case "X":``, ``case "X" | "Y":`` (``as`` kept); a capture or wildcard matches any name: none listed."""
    if isinstance(pattern, ast.MatchValue):
        value = pattern.value
        return (value.value,) if isinstance(value, ast.Constant) and isinstance(value.value, str) else ()
    if isinstance(pattern, ast.MatchOr):
        parts = [_pattern_names(p) for p in pattern.patterns]
        return tuple(n for part in parts for n in part) if all(parts) else ()
    if isinstance(pattern, ast.MatchAs) and pattern.pattern is not None:
        return _pattern_names(pattern.pattern)
    return ()


def _names_looked_up(node: ast.AST, parameter: str, constants: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if isinstance(node, ast.Subscript) and _is_name(node.slice, parameter) and isinstance(node.value, ast.Name):
        return constants.get(node.value.id, ())
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.args
        and _is_name(node.args[0], parameter)
    ):
        return constants.get(node.func.value.id, ())
    return ()


def _strings(node: ast.expr, constants: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return constants.get(node.id, ())
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return tuple(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    if isinstance(node, ast.Dict):
        return tuple(k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return ()


def _constants(body: list[ast.stmt]) -> dict[str, tuple[str, ...]]:
    """Names a module's (or a function's) own statements bind to a literal collection of strings: a tuple, list,
    set, ``frozenset(...)``, a dict's keys, ``dict(X=...)``."""
    found: dict[str, tuple[str, ...]] = {}
    for node in body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and value is not None:
            strings: tuple[str, ...] = ()
            if isinstance(value, ast.Call) and _dotted(value.func) == "dict" and not value.args:
                strings = tuple(k.arg for k in value.keywords if k.arg is not None)
            else:
                if isinstance(value, ast.Call) and _dotted(value.func) in ("frozenset", "set", "tuple") and value.args:
                    value = value.args[0]
                strings = _strings(value, {})
            if strings:
                found[target.id] = strings
    return found


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _dotted(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _text(node: ast.expr | None) -> str:
    """A one-line rendering of a message expression: its string parts, ``{...}`` for what is computed."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{...}" for v in node.values
        )
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        text = _text(node.left) if isinstance(node.op, ast.Mod) else _text(node.left) + _text(node.right)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        text = _text(node.func.value)
    else:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1].rstrip() + "…"
