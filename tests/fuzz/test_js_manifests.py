"""Fuzzing the JavaScript lockfiles and workspace files, and package.json's overrides.

Targets: ``yarn.lock`` v1 and Berry (``read_yarn_lock``, and its two syntaxes ``parse_v1`` / ``parse_berry``),
``pnpm-lock.yaml`` (``read_pnpm_lock``), ``pnpm-workspace.yaml`` (``parse_pnpm_workspace`` with its editor
``apply_workspace_edits``, and ``yamledit`` beneath it), ``bun.lock`` (``read_bun_lock``, ``parse_jsonc``) and
package.json ``overrides`` / ``resolutions`` / ``pnpm.overrides`` entries (``parse_package_json``,
``override_target``, ``bot.deps.npm.edit.apply_edits``).

Inputs: random text, and random edits of the files in tests/fixtures/manifests/{yarn,pnpm,bun}; each lockfile is
read with the package.json files of its own project, as discovery passes them (sometimes damaged, sometimes in a
subfolder, sometimes with a package.json of another project beside them). Seeds and tokens are in
``test_manifests``. Properties, as there: no reader raises (a ``Problem`` with file, line >= 1, column >= 1 and a
message instead; a ``JsLock`` holds plain strings); every dependency lies inside the text, an editable one's span
holding exactly its constraint; an editor returns a text that re-parses to exactly the intended change, or raises
a ``DepupError``; every example is bounded in time (``bounded``).
"""

from __future__ import annotations

import functools
import json
import operator
import re
from dataclasses import replace
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from bot.deps.model import Manifest, Problem
from bot.deps.npm import edit as npm_edit
from bot.deps.npm import yamledit
from bot.deps.npm.bun import parse_jsonc, read_bun_lock
from bot.deps.npm.jsonspan import Document, JsonError, encode_string_inner, load_document
from bot.deps.npm.locks import JsLock
from bot.deps.npm.manifest import OVERRIDE_SECTIONS, override_target, parse_package_json
from bot.deps.npm.pnpm import (
    PnpmLock,
    apply_workspace_edits,
    parse_pnpm_workspace,
    read_pnpm_lock,
    workspace_document,
    workspace_packages,
)
from bot.deps.npm.yarn import V1Error, parse_berry, parse_v1, read_yarn_lock
from bot.deps.scan import MAX_MANIFEST_BYTES
from bot.errors import DepupError
from tests.fuzz.budget import Budget, bounded, budgets
from tests.fuzz.mutate import json_values, mutated_json, mutated_text, pick
from tests.fuzz.test_manifests import (
    BUN_LOCKS,
    BUN_TOKENS,
    JS_PACKAGE_JSONS,
    JS_PROJECTS,
    JSON_TOKENS,
    OVERRIDE_KEYS,
    OVERRIDE_VALUES,
    PNPM_LOCKS,
    PNPM_TOKENS,
    PNPM_WORKSPACES,
    UNREADABLE_SCALARS,
    YARN_LOCKS,
    YARN_TOKENS,
    _text_strategy,
    check_edits_reparse,
    check_lock,
    check_manifest,
    names,
    new_constraints,
    override_documents,
    project_documents,
)

# What a YAML value may be edited to: constraints, and what YAML reads as something else than a string.
YAML_VALUES = new_constraints | st.sampled_from(
    [*UNREADABLE_SCALARS, "- a", "a: b", "a #b", "#a", "'", '"', "''", "&a", "*a", "!!str a", "~", "null", "true",
     "no", "[a]", "{a: 1}", "", " a", "a ", "\\", "é", "\t", "%a", "@a", "`a", "? a", "a\\nb", "^1.0.0 || 2"]
)  # fmt: skip
OVERRIDE_TOKENS = [*JSON_TOKENS, '"overrides": {', '"resolutions": {', '"pnpm": {"overrides": {', '".": "1"', *[
    json.dumps(k) for k in OVERRIDE_KEYS
]]  # fmt: skip


@st.composite
def lock_inputs(
    draw: st.DrawFn, lock_name: str, bases: list[str], tokens: list[str]
) -> tuple[str, str, dict[str, Any]]:
    """(lockfile path, its text, the package.json documents of its project): one of the fixture projects that
    have such a lock, its lock damaged (or another text), its documents sometimes damaged, sometimes all in a
    subfolder, sometimes with a package.json of another folder beside them."""
    project = pick(draw, [p for p in JS_PROJECTS if lock_name in p])
    documents = project_documents(project)
    if draw(st.booleans()):
        path = draw(st.sampled_from(sorted(documents)))
        documents[path] = draw(mutated_json([documents[path]]) if documents[path] is not None else json_values())
    text = draw(mutated_text([project[lock_name]], tokens) | _text_strategy(bases, tokens))
    prefix = draw(st.sampled_from(["", "web/"]))
    documents = {prefix + path: document for path, document in documents.items()}
    if draw(st.booleans()):
        documents["other/package.json"] = {"dependencies": {"left-pad": "^1.0.0"}, "resolutions": {"a": "1.0.0"}}
    return prefix + lock_name, text, documents


def check_locked_manifests(lock: JsLock, documents: dict[str, Any]) -> None:
    """Each package.json parses with the versions the lock gives it (as discovery parses it)."""
    for path, document in documents.items():
        if path.endswith("package.json") and document is not None:
            text = json.dumps(document, indent=2)
            manifest = bounded(
                functools.partial(parse_package_json, path, text, lock.locked_for(path), lockfile=lock.path)
            )
            assert isinstance(manifest, Manifest)
            check_manifest(manifest, path, text)


# -- yarn.lock ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", budgets(quick=15))
def test_yarn_lock(budget: Budget) -> None:
    @budget.settings()
    @given(given_lock=lock_inputs("yarn.lock", YARN_LOCKS, YARN_TOKENS))
    def check(given_lock: tuple[str, str, dict[str, Any]]) -> None:
        budget.count()
        path, text, documents = given_lock
        lock = bounded(lambda: read_yarn_lock(path, text, documents))
        check_lock(lock, path, "yarn", documents)
        assert set(lock.importers) <= set(documents)
        check_locked_manifests(lock, documents)

    budget.run("manifests: yarn.lock (v1 and Berry)", check)


def _line_count(text: str) -> int:
    return text.count("\n") + text.count("\r") + 1


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_yarn_lock_syntax(budget: Budget) -> None:
    @budget.settings()
    @given(text=_text_strategy(YARN_LOCKS, YARN_TOKENS))
    @example(text="a:\n  version " + "1" * 5000 + "\n")  # a number too long for int(): ValueError, fixed
    def check(text: str) -> None:
        budget.count()
        try:
            data, lines = bounded(lambda: parse_v1(text))
        except V1Error as exc:
            assert 1 <= exc.line <= _line_count(text) and exc.column >= 1 and exc.message
        else:
            assert isinstance(data, dict) and all(isinstance(key, str) for key in data)
            assert set(lines) <= set(data) and all(1 <= line <= _line_count(text) for line in lines.values())
        loaded = bounded(lambda: parse_berry(text))
        if isinstance(loaded, Problem):
            assert loaded.line >= 1 and loaded.column >= 1 and loaded.message
        else:
            data, lines = loaded
            assert all(isinstance(key, str) for key in data) and set(lines) <= set(data)
            assert all(line >= 1 for line in lines.values())

    budget.run("manifests: yarn.lock syntax (parse_v1, parse_berry)", check)


# -- pnpm-lock.yaml and pnpm-workspace.yaml ----------------------------------------------------------------


@pytest.mark.parametrize("budget", budgets(quick=15))
def test_pnpm_lock(budget: Budget) -> None:
    @budget.settings()
    @given(given_lock=lock_inputs("pnpm-lock.yaml", PNPM_LOCKS, PNPM_TOKENS), workspace=st.data())
    @example(
        given_lock=("pnpm-lock.yaml", "lockfileVersion: '9.0'\ntime:\n  a@1.0.0: 2001-13-01\n", {}), workspace=None
    )  # a date that does not exist: ValueError, fixed
    @example(given_lock=("pnpm-lock.yaml", "lockfileVersion: 0x" + "f" * 3600 + "\n", {}), workspace=None)
    def check(given_lock: tuple[str, str, dict[str, Any]], workspace: st.DataObject | None) -> None:
        budget.count()
        path, text, documents = given_lock
        folder = path.removesuffix("pnpm-lock.yaml")
        if workspace is not None:  # the workspace file, parsed, is among the documents discovery passes
            texts = [*PNPM_WORKSPACES, *UNREADABLE_SCALARS]
            written = workspace.draw(st.none() | mutated_text(texts, PNPM_TOKENS), label="pnpm-workspace.yaml")
            if written is not None:
                documents = {**documents, folder + "pnpm-workspace.yaml": bounded(lambda: workspace_document(written))}
        lock = bounded(lambda: read_pnpm_lock(path, text, documents))
        check_lock(lock, path, "pnpm", documents)
        assert isinstance(lock, PnpmLock)
        for catalog, entries in lock.catalogs.items():
            assert isinstance(catalog, str) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in entries.items()
            )
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in lock.overrides.items())
        for (catalog, name), sections in lock.catalog_uses.items():
            assert isinstance(catalog, str) and isinstance(name, str) and all(isinstance(s, str) for s in sections)
        check_locked_manifests(lock, documents)

    budget.run("manifests: pnpm-lock.yaml", check)


PNPM_PROJECTS = [p for p in JS_PROJECTS if "pnpm-lock.yaml" in p]


@functools.cache
def pnpm_read(index: int) -> tuple[str, JsLock, dict[str, object]]:
    """A pnpm fixture project's workspace file, its lock read, its package.json files: what a workspace file is
    parsed with."""
    project = PNPM_PROJECTS[index]
    documents = project_documents(project)
    lock = read_pnpm_lock("pnpm-lock.yaml", project["pnpm-lock.yaml"], documents)
    return project.get("pnpm-workspace.yaml", ""), lock, documents


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_pnpm_workspace(budget: Budget) -> None:
    @budget.settings()
    @given(
        project=st.integers(0, len(PNPM_PROJECTS) - 1),
        text=st.data(),
        with_lock=st.booleans(),
        with_documents=st.booleans(),
        path=st.sampled_from(["pnpm-workspace.yaml", "web/pnpm-workspace.yaml"]),
        data=st.data(),
    )
    def check(
        project: int, text: st.DataObject, with_lock: bool, with_documents: bool, path: str, data: st.DataObject
    ) -> None:
        budget.count()
        own, lock, documents = pnpm_read(project)
        written = text.draw(
            mutated_text([own or "packages: []\n"], [*PNPM_TOKENS, *YAML_TOKENS])
            | _text_strategy(PNPM_WORKSPACES, PNPM_TOKENS),
            label="text",
        )
        kept_lock = lock if with_lock else None
        kept_documents = documents if with_documents else None

        def parse(source: str) -> Manifest:
            return parse_pnpm_workspace(path, source, kept_lock, kept_documents)

        manifest = bounded(lambda: parse(written))
        assert isinstance(manifest, Manifest) and manifest.kind == "pnpm-workspace"
        check_manifest(manifest, path, written)
        assert isinstance(bounded(lambda: workspace_document(written)), object)
        check_edits_reparse(written, manifest, data, parse, apply_workspace_edits, None, YAML_VALUES)

    budget.run("manifests: pnpm-workspace.yaml (catalogs, overrides) and its editor", check)


YAML_TOKENS = ["catalog:\n  a: ^1.0.0\n", "catalogs:\n  r17:\n    a: ^17\n", "overrides:\n  a@1>b: 2.0.0\n",
               "  a: &v ^1.0.0\n  b: *v\n", "catalog: &c\n  a: ^1\ncatalogs:\n  x: *c\n", "  a: '^1'\n",
               '  a: "^1\\u0041"\n', "  a: |\n    ^1\n", "  a:\n", "  ? a\n  : ^1\n", "  a: ^1 # c\n"]  # fmt: skip


def _string_scalars(text: str, root: yaml.Node) -> list[yamledit.Scalar]:
    """Every string scalar under mappings, by the public API (as pnpm-workspace.yaml's reader walks it)."""
    shared = yamledit.shared_nodes(root)
    found: list[yamledit.Scalar] = []
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())]
    seen: set[int] = set()
    while stack and len(found) < 200:
        node, where = stack.pop()
        if id(node) in seen or len(where) > 20:
            continue
        seen.add(id(node))
        kept, duplicates = yamledit.effective(node)
        assert len({entry.key for entry in kept}) == len(kept)
        assert all(later in kept and earlier.key == later.key for earlier, later in duplicates)
        for entry in kept:
            assert entry.line >= 1 and entry.column >= 1
            scalar = yamledit.scalar(text, entry, (*where, entry.key), shared)
            if scalar is None:
                stack.append((entry.node, (*where, entry.key)))
            else:
                found.append(scalar)
    return found


def _value_at(document: object, path: tuple[str, ...]) -> tuple[bool, object]:
    """(found, value) at ``path`` of loaded YAML, keys matched as written (``1`` is the key 1)."""
    for key in path:
        if not isinstance(document, dict):
            return False, None
        candidates = [k for k in document if k == key or str(k) == key or str(k).lower() == key.lower()]
        exact = [k for k in candidates if k == key]
        if len(exact) != 1 and len(candidates) != 1:
            return False, None
        document = document[(exact or candidates)[0]]
    return True, document


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_yamledit(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=mutated_text([*PNPM_WORKSPACES, *PNPM_LOCKS[:3]], [*PNPM_TOKENS, *YAML_TOKENS])
        | _text_strategy(PNPM_WORKSPACES, [*PNPM_TOKENS, *YAML_TOKENS]),
        data=st.data(),
    )
    def check(text: str, data: st.DataObject) -> None:
        budget.count()
        root = bounded(lambda: yamledit.compose(text))
        if isinstance(root, yamledit.YamlProblem):
            assert root.line >= 1 and root.column >= 1 and root.message
            return
        if root is None:
            return
        scalars = bounded(lambda: _string_scalars(text, root))
        for scalar in scalars:
            assert 0 <= scalar.start <= scalar.inner_start <= scalar.inner_end <= scalar.end <= len(text), scalar
            assert scalar.line >= 1 and scalar.column >= 1
            if scalar.exact:
                assert text[scalar.inner_start : scalar.inner_end] == scalar.value, scalar
        picked = data.draw(st.lists(st.sampled_from(scalars), max_size=2)) if scalars else []
        choices = []
        for scalar in picked:  # the same scalar twice, sometimes: refused (each edit rewrites its scalar)
            start = data.draw(st.integers(scalar.inner_start, scalar.inner_end))
            end = data.draw(st.integers(start, scalar.inner_end))
            choices.append((scalar, start, end, data.draw(YAML_VALUES)))
        edits = [
            yamledit.Edit(s.path[:-1], functools.partial(operator.eq, s.path[-1]), start, end, text[start:end], new)
            for s, start, end, new in choices
        ]
        try:
            result = bounded(lambda: yamledit.apply_edits(text, edits))
        except DepupError:
            return
        assert isinstance(result, str)
        if not edits:
            assert result == text
            return
        assert len({s.start for s, *_ in choices}) == len(choices), "two edits of one scalar were applied"
        first, last = min(s.start for s, *_ in choices), max(s.end for s, *_ in choices)
        assert result.startswith(text[:first]) and result.endswith(text[last:]), "text outside the scalars changed"
        loaded = yamledit.load(result)
        for scalar, start, end, new in choices:
            value = scalar.value[: start - scalar.inner_start] + new + scalar.value[end - scalar.inner_start :]
            found, read = _value_at(loaded, scalar.path)
            assert not found or read == value, (scalar.path, read, value)

    budget.run("manifests: yamledit (YAML scalars edited in place)", check)


# -- bun.lock ----------------------------------------------------------------------------------------------

_NEWLINE = re.compile("\n")


@pytest.mark.parametrize("budget", budgets(quick=20))
def test_bun_lock(budget: Budget) -> None:
    @budget.settings()
    @given(given_lock=lock_inputs("bun.lock", BUN_LOCKS, BUN_TOKENS))
    def check(given_lock: tuple[str, str, dict[str, Any]]) -> None:
        budget.count()
        path, text, documents = given_lock
        lock = bounded(lambda: read_bun_lock(path, text, documents))
        check_lock(lock, path, "bun", documents)
        assert set(lock.importers) <= set(documents)
        check_locked_manifests(lock, documents)
        loaded = bounded(lambda: parse_jsonc(text))
        if isinstance(loaded, JsonError):
            assert loaded.line >= 1 and loaded.column >= 1 and loaded.message
        else:  # comments and trailing commas blanked: every offset is the one in the text
            assert isinstance(loaded, Document) and len(loaded.text) == len(text)
            assert [m.start() for m in _NEWLINE.finditer(loaded.text)] == [m.start() for m in _NEWLINE.finditer(text)]
            assert all(a == b or a == " " for a, b in zip(loaded.text, text, strict=True))
            if isinstance(loaded.data, dict):
                members = loaded.members()
                once = {m.key for m in members if sum(n.key == m.key for n in members) == 1}
                for member in (m for m in members if m.key in once):
                    assert text[member.key_start] == '"'
                    assert json.loads(loaded.text[member.value_start : member.value_end]) == loaded.data[member.key]
        plain = load_document(text)
        if isinstance(plain, Document):  # JSON is JSONC: the same document
            assert isinstance(loaded, Document) and loaded.data == plain.data

    budget.run("manifests: bun.lock (and its JSONC)", check)


# -- package.json overrides, resolutions, pnpm.overrides ---------------------------------------------------


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_package_json_overrides(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=st.builds(
            lambda document, indent: json.dumps(document, indent=indent, ensure_ascii=False),
            override_documents()
            | mutated_json(
                [d for d in map(json.loads, JS_PACKAGE_JSONS) if "resolutions" in d or "overrides" in d or "pnpm" in d]
                or [{}]
            ),
            st.sampled_from([None, 2, "\t"]),
        )
        | _text_strategy(JS_PACKAGE_JSONS, OVERRIDE_TOKENS),
        path=st.sampled_from(["package.json", "packages/a/package.json"]),
        keys=st.lists(st.sampled_from(OVERRIDE_KEYS) | names | st.text(max_size=12), max_size=4),
        data=st.data(),
    )
    def check(text: str, path: str, keys: list[str], data: st.DataObject) -> None:
        budget.count()
        for key in keys:
            target = override_target(key)
            assert target is None or (target and ">" not in target), key
        manifest = bounded(lambda: parse_package_json(path, text))
        assert isinstance(manifest, Manifest)
        check_manifest(manifest, path, text)
        for dependency in manifest.dependencies:
            section = dependency.location.section
            if section.split(".", 1)[0] in OVERRIDE_SECTIONS or section == "pnpm.overrides":
                assert dependency.name and ">" not in dependency.name, dependency
        check_edits_reparse(
            text,
            manifest,
            data,
            lambda source: parse_package_json(path, source),
            npm_edit.apply_edits,
            encode_string_inner,
            new_constraints | st.sampled_from(OVERRIDE_VALUES),
        )

    budget.run("manifests: package.json overrides and resolutions", check)


# -- regressions: what the fuzzing found (each with its minimal input) -------------------------------------


def _edit(text: str, parent: tuple[str, ...], key: str, start: int, end: int, new: str) -> yamledit.Edit:
    return yamledit.Edit(parent, functools.partial(operator.eq, key), start, end, text[start:end], new)


def test_regression_yamledit_two_edits_of_one_value_are_refused() -> None:
    """Each edit rewrites its whole scalar from the original text, the second at offsets the first had moved:
    of two edits inside one value, the first was lost, and the result (read back as the second's value alone)
    was returned: ``x`` inserted before ``^1.2.3`` and ``3`` deleted after it gave ``^1.2.3`` unchanged."""
    text = "catalog:\n  a: ^1.2.3   # comment\nb: x\n"
    start = text.index("^1.2.3")
    edits = [
        _edit(text, ("catalog",), "a", start, start + 1, "x"),
        _edit(text, ("catalog",), "a", start + 6, start + 6, ""),
    ]
    with pytest.raises(yamledit.YamlEditError, match="edited twice"):
        yamledit.apply_edits(text, edits)
    one = yamledit.apply_edits(text, edits[:1])
    assert one == "catalog:\n  a: x1.2.3   # comment\nb: x\n"


def test_an_override_edited_to_an_alias_reads_back_as_the_alias() -> None:
    """npm reads ``npm:`` whatever its case: an entry edited to ``NPM:b@^2`` is an alias of b, range ``^2``."""
    text = '{"overrides": {"cookie": "^1.1.1"}}'
    [dependency] = parse_package_json("package.json", text).dependencies
    edited = npm_edit.apply_edits(text, [(dependency, "NPM:b@^2")])
    [again] = parse_package_json("package.json", edited).dependencies
    assert edited == '{"overrides": {"cookie": "NPM:b@^2"}}' and (again.key, again.constraint) == ("b", "^2")


def test_regression_yarn_v1_number_too_long_for_python_is_read_as_yarn_reads_it() -> None:
    """``int()`` refuses more than 4,300 digits (ValueError out of read_yarn_lock); yarn's JavaScript reads every
    number as a double, so depup does too."""
    lock = read_yarn_lock("yarn.lock", 'a@^1:\n  version "1.0.0"\n  size ' + "1" * 5000 + "\n", {})
    assert lock.readable and lock.problems == ()
    assert parse_v1("a:\n  size " + "1" * 5000 + "\n")[0] == {"a": {"size": float("inf")}}


@pytest.mark.parametrize(
    ("value", "line"),
    [("2001-13-01", 3), ("2001-02-30", 3), ("0x_", 3), ("0x" + "f" * 3600, 3), ("1:" * 2500 + "1", 3)],
    ids=["no-month-13", "no-february-30", "no-digits", "hex-too-long-to-print", "sexagesimal-too-long-to-print"],
)
def test_regression_yaml_values_python_cannot_build_are_problems(value: str, line: int) -> None:
    """PyYAML's safe constructor raises ValueError (not a YAMLError) for a date that does not exist and for
    ``0x_``; a hexadecimal integer past 4,300 decimal digits loads, then raises at its first ``str()``. Each made
    read_pnpm_lock, workspace_document, workspace_packages and the workspace editor raise."""
    text = f"lockfileVersion: '9.0'\nimporters: {{}}\nx: {value}\n"
    lock = read_pnpm_lock("pnpm-lock.yaml", text, {})
    [problem] = lock.problems
    assert not lock.readable and (problem.line, problem.column) == (line, 4) and value[:20] in problem.message
    assert workspace_document(f"packages: []\ncatalog:\n  x: {value}\n") is None
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", f"catalog:\n  a: ^1.0.0\nx: {value}\n")
    [dependency] = manifest.dependencies
    with pytest.raises(DepupError, match="cannot be read"):
        apply_workspace_edits(f"catalog:\n  a: ^1.0.0\nx: {value}\n", [(dependency, "^2.0.0")])
    clean = parse_pnpm_workspace("pnpm-workspace.yaml", "catalog:\n  a: ^1.0.0\n").dependencies[0]
    edited = apply_workspace_edits("catalog:\n  a: ^1.0.0\n", [(clean, value)])  # quoted: YAML reads it as text
    assert yamledit.load(edited) == {"catalog": {"a": value}}


def test_regression_yaml_value_python_cannot_build_in_workspace_packages(tmp_path: Any) -> None:
    (tmp_path / "pnpm-workspace.yaml").write_text("packages:\n  - a\nx: 2001-13-01\n")
    assert workspace_packages(tmp_path / "pnpm-workspace.yaml") == []


@pytest.mark.parametrize(
    "text",
    ["catalog: &c\n  a: ^1.0.0\ncatalogs:\n  x: *c\n", "catalog:\n  a: &v ^1.0.0\ncatalogs:\n  x:\n    a: *v\n"],
    ids=["aliased-catalog", "aliased-value"],
)
def test_regression_entries_of_an_aliased_catalog_are_not_editable(text: str) -> None:
    """``shared_nodes`` stopped at an aliased mapping: the scalars inside it, reached through the alias too, were
    not shared, so ``catalogs.x.a`` was an editable dependency whose edit changed ``catalog.a`` as well."""
    used = {"package.json": {"dependencies": {"a": "catalog:"}}, "p/package.json": {"dependencies": {"a": "catalog:x"}}}
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", text, None, used)
    assert [(d.location.section, d.skip_reason) for d in manifest.dependencies] == [
        ("catalog", "YAML alias"),
        ("catalogs.x", "YAML alias"),
    ]
    with pytest.raises(DepupError):
        apply_workspace_edits(text, [(replace(manifest.dependencies[1], skip_reason=None), "^2.0.0")])


def _alias_bomb(depth: int) -> str:
    return "x0: &a0 [v, v]\n" + "".join(f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, depth))


def _aliased_catalogs(count: int) -> str:
    return (
        "catalog: &c\n" + "".join(f"  p{i}: ^1.0.0\n" for i in range(count))
        + "catalogs:\n" + "".join(f"  c{i}: *c\n" for i in range(count))
    )  # fmt: skip


def _aliased_importers(count: int) -> str:
    return (
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: &d\n"
        + "".join(f"      p{i}:\n        specifier: ^1.0.0\n        version: 1.0.{i}\n" for i in range(count))
        + "".join(f"  f{i}:\n    dependencies: *d\n" for i in range(count))
    )  # fmt: skip


def test_regression_yaml_alias_bombs_are_refused_in_linear_time() -> None:
    """Aliases are references: what walks the loaded document, or compares two of them, takes its expanded
    size. Before: a catalog aliased 1,000 times (26 kB) gave a million dependencies in 55 s; importers aliased
    3,000 times (280 kB), 44 s; the workspace editor compared the edited document with ``!=``, so a 619-byte
    file of 28 doubling aliases took 17 s to edit, 40 would take 19 hours. Now each is refused in under 2 s."""
    bomb = _alias_bomb(40)
    for text in (bomb, _aliased_catalogs(1000)):
        manifest = bounded(functools.partial(parse_pnpm_workspace, "pnpm-workspace.yaml", text))
        assert [p.message for p in manifest.problems] == [yamledit.ALIAS_BOMB] and manifest.dependencies == ()
    for text in (bomb, _aliased_catalogs(1000), _aliased_importers(3000)):
        lock = bounded(functools.partial(read_pnpm_lock, "pnpm-lock.yaml", text, {}))
        assert [p.message for p in lock.problems] == [yamledit.ALIAS_BOMB] and not lock.readable
    catalog = parse_pnpm_workspace("pnpm-workspace.yaml", "catalog:\n  a: ^1.0.0\n").dependencies[0]
    with pytest.raises(DepupError, match="cannot be read"):
        bounded(lambda: apply_workspace_edits("catalog:\n  a: ^1.0.0\n" + bomb, [(catalog, "^2.0.0")]))


def test_yaml_aliases_below_the_limit_are_read() -> None:
    manifest = parse_pnpm_workspace("pnpm-workspace.yaml", _aliased_catalogs(20))
    assert manifest.problems == () and len(manifest.dependencies) == 20 * 21
    assert read_pnpm_lock("pnpm-lock.yaml", _aliased_importers(50), {}).readable
    assert yamledit.alias_growth([yaml.compose("a: &x [1, 2]\nb: *x\n", Loader=yaml.SafeLoader)]) == 3
    assert yamledit.alias_growth([{"k": True} for _ in range(20_000)]) == 0  # one object for every `true`
    recursive: list[object] = []
    recursive.append(recursive)
    assert yamledit.alias_growth([recursive]) > yamledit.MAX_ALIAS_GROWTH


def test_regression_pnpm_lock_problems_are_capped_in_linear_time() -> None:
    """Each problem's line was searched for in the whole text: 20,000 importers that are not mappings (223 kB)
    took 44 s. Now 20 are listed with their lines and one says how many more (0.6 s)."""
    text = "lockfileVersion: '9.0'\nimporters:\n" + "".join(f"  f{i}: 1\n" for i in range(20_000))
    lock = bounded(lambda: read_pnpm_lock("pnpm-lock.yaml", text, {}))
    assert len(lock.problems) == 21 and lock.problems[0].line == 3 and lock.problems[19].line == 22
    assert lock.problems[-1].message == "and 19980 more such problems"


# -- size limits -------------------------------------------------------------------------------------------

FIVE_MB = MAX_MANIFEST_BYTES - 1024


def _repeat(head: str, entry: str, tail: str = "") -> str:
    """``head``, then ``entry`` (formatted with its index) as often as fits in five megabytes, then ``tail``."""
    count = (FIVE_MB - len(head) - len(tail)) // (len(entry.format(i=999_999)) + 1) if entry else 0
    return head + "".join(entry.format(i=i) for i in range(count)) + tail


# id -> (file name, head, entry repeated up to 5 MB, tail): built when its test runs, not when tests are collected.
FIVE_MB_JS_SHAPES = {
    "yarn-v1": ("yarn.lock", "# yarn lockfile v1\n\n", '"p{i}@^1.0.0", "p{i}@^1.1.0":\n  version "1.2.{i}"\n\n', ""),
    "yarn-berry": (
        "yarn.lock", "__metadata:\n  version: 8\n\n",
        '"p{i}@npm:^1":\n  version: 1.{i}\n  resolution: "p{i}@npm:1.{i}"\n', "",
    ),
    "yarn-v1-entries-without-version": ("yarn.lock", "# yarn lockfile v1\n\n", '"p{i}@^1":\n  resolved "x"\n\n', ""),
    "pnpm-lock": (
        "pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n",
        "      p{i}:\n        specifier: ^1.0.0\n        version: 1.0.{i}\n", "",
    ),
    "pnpm-lock-importers-not-mappings": ("pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters:\n", "  f{i}: 1\n", ""),
    "pnpm-lock-nested": ("pnpm-lock.yaml", "lockfileVersion: '9.0'\nx: " + "[" * 100_000, "", ""),
    "bun-lock": (
        "bun.lock", '{"lockfileVersion": 1, "workspaces": {"": {}}, "packages": {',
        '"p{i}": ["p{i}@1.0.{i}", "", {{}}, "sha512-00"],', "}}",
    ),
    "pnpm-workspace-catalog": ("pnpm-workspace.yaml", "catalog:\n", "  p{i}: ^1.0.{i}\n", ""),
    "package-json-overrides": (
        "package.json", '{"overrides": {', '"p{i}": {{".": "1.0.0", "q{i}": "^2"}},', '"z": "1"}}'
    ),
}  # fmt: skip


@pytest.mark.fuzz
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("shape", sorted(FIVE_MB_JS_SHAPES))
def test_five_megabyte_js_files_parse_in_bounded_time(shape: str) -> None:
    """Files just under the 5 MB limit, of the worst shapes known: linear time, bounded."""
    name, head, entry, tail = FIVE_MB_JS_SHAPES[shape]
    text = _repeat(head, entry, tail)
    assert len(text.encode()) < MAX_MANIFEST_BYTES
    if name == "yarn.lock":
        bounded(lambda: read_yarn_lock(name, text, {"package.json": {"dependencies": {"p1": "^1.0.0"}}}), 120.0)
    elif name == "pnpm-lock.yaml":
        bounded(lambda: read_pnpm_lock(name, text, {"package.json": {}}), 120.0)
    elif name == "bun.lock":
        bounded(lambda: read_bun_lock(name, text, {"package.json": {}}), 120.0)
    else:
        parse = parse_pnpm_workspace if name == "pnpm-workspace.yaml" else parse_package_json
        manifest = bounded(lambda: parse(name, text), 120.0)
        check_manifest(manifest, name, text)
