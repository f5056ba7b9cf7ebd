"""Fuzzing every manifest and lockfile format depup reads, and its format-preserving editors.

Inputs: random text, and random edits of the real files in ``tests/fixtures/manifests`` and
``tests/fixtures/peers/samples`` (requirements files, pip-compile output, pyproject.toml with PEP 621, PEP 735
groups, build-system and Poetry tables, setup.cfg, package.json, package-lock.json, uv.lock, poetry.lock).
Properties:

- parsing never raises: a malformed file becomes ``Problem``s (file, line >= 1, column >= 1, a message);
- every dependency's location lies inside the text, and for an editable one (no skip reason) the span holds
  exactly its constraint (what the editors check before writing);
- the editors (``bot.deps.python.apply_edits``, ``bot.deps.npm.edit.apply_edits``, as ``bot.deps.apply`` calls
  them) either return the edited text or raise a ``DepupError``;
- ``scan`` of a checkout of such files never raises;
- time: each example is bounded, and the shapes that used to be quadratic (found here) are linear now.

The formats added later have their targets in ``test_js_manifests`` (yarn.lock, pnpm-lock.yaml,
pnpm-workspace.yaml, bun.lock, package.json overrides) and ``test_python_manifests`` (Pipfile, Pipfile.lock,
setup.py, pylock.toml, uv.lock forks); their seeds, tokens and checks are here, beside the ones above, because the
``scan`` target below builds checkouts of every file name depup reads, and the fixture projects of those formats
(a lockfile with its own package.json files) with a few of their files damaged.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.deps.model import Dependency, Manifest, Problem, Role
from bot.deps.npm import edit as npm_edit
from bot.deps.npm.jsonspan import decode_string
from bot.deps.npm.lockinfo import read_lock
from bot.deps.npm.locks import JsLock, Patch
from bot.deps.npm.manifest import parse_package_json
from bot.deps.npm.semver import valid_range
from bot.deps.python import apply_edits as python_edit
from bot.deps.python import parse_pyproject, parse_requirements_file, parse_setup_cfg
from bot.deps.python import requirements as requirements_module
from bot.deps.python import setupcfg as setupcfg_module
from bot.deps.python.tomlscan import scan_strings
from bot.deps.scan import MAX_LOCKFILE_BYTES, MAX_MANIFEST_BYTES, scan
from bot.errors import DepupError
from tests.fuzz.budget import Budget, bounded, budgets
from tests.fuzz.mutate import (
    deep_json_texts,
    json_values,
    mutated_json,
    mutated_text,
    nested_text,
    one_of_items,
    pick,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T = TypeVar("T")


def _samples(*patterns: str) -> list[str]:
    """The texts of the fixture files matching ``patterns`` (globs under tests/fixtures)."""
    paths = sorted({path for pattern in patterns for path in FIXTURES.glob(pattern)})
    return [path.read_bytes().decode("utf-8") for path in paths]


REQUIREMENTS = _samples(
    "manifests/python/*.txt",
    "manifests/python/*.in",
    "peers/samples/*/requirements.txt",
    "manifests/pip-compile*/*/requirements/*",  # pip-compile and pip-compile-multi output, with their inputs
)
PYPROJECTS = _samples("manifests/python/*.toml", "peers/samples/*/pyproject.toml")
SETUP_CFGS = _samples("manifests/python/*.cfg")
PACKAGE_JSONS = _samples("manifests/npm/*package.json", "peers/samples/*/package.json")
# Small lockfiles for mutation (each example parses its file; the 300 KB samples lock is read by the scan test).
LOCKS = [text for text in _samples("manifests/npm/*package-lock.json") if len(text) < 50_000]
UV_LOCKS = [
    'version = 1\nrequires-python = ">=3.10"\n\n[[package]]\nname = "httpx"\nversion = "0.28.1"\n'
    'source = { registry = "https://registry.invalid/simple" }\ndependencies = [\n    { name = "anyio" },\n]\n'
    'sdist = { url = "https://files.invalid/httpx-0.28.1.tar.gz", hash = "sha256:00", size = 141406 }\n\n'
    '[[package]]\nname = "anyio"\nversion = "4.6.0"\n',
    '[[package]]\nname = "requests"\nversion = "2.32.3"\ndescription = "HTTP"\noptional = false\n'
    'python-versions = ">=3.8"\nfiles = [\n    {file = "requests-2.32.3.tar.gz", hash = "sha256:00"},\n]\n\n'
    '[package.dependencies]\nidna = ">=2.5,<4"\n\n[metadata]\nlock-version = "2.0"\ncontent-hash = "00"\n',
]
assert REQUIREMENTS and PYPROJECTS and SETUP_CFGS and PACKAGE_JSONS and LOCKS

REQUIREMENTS_TOKENS = [
    "==", ">=", "<", "~=", "!=", "===", ",", ";", " ; ", "python_version < '3.8'", "[extra]", "[", "]", "@", " @ ",
    "-r ", "-c ", "-e ", "--hash=sha256:", " --hash=sha256:00", "--index-url ", "-i ", "--pre", "\\\n", " \\\n",
    "#", " # ", "git+https://x.invalid/r.git#egg=p", "https://x.invalid/p-1.0.tar.gz", "./local", "../up",
    "file:///x", "p-1.0-py3-none-any.whl", "requests", "Django>=3.2", "\n", "\r\n", "-", "--", "'", '"', "*",
    "# This file is autogenerated by pip-compile\n# by the following command:\n#\n#    pip-compile a.in\n",
]  # fmt: skip
TOML_TOKENS = [
    "[project]", "[tool.poetry]", "[tool.poetry.dependencies]", "[tool.poetry.group.dev.dependencies]",
    "[dependency-groups]", "[build-system]", "[[tool.x]]", "[project.optional-dependencies]", "dependencies = [",
    '"', "'", '"""', "'''", "[", "]", "{", "}", "=", ",", ".", "\n", "#", '{include-group = "x"}',
    '{version = "^1.0", optional = true}', '{git = "https://x.invalid/r"}', 'python = "^3.8"', "\\u0041", "\\",
    "requires-python", '"requests>=2"', "1979-05-27T07:32:00Z", "inf", "nan", "0x1F", "true",
]  # fmt: skip
CFG_TOKENS = [
    "[options]", "[metadata]", "[options.extras_require]", "install_requires =", "install_requires:",
    "setup_requires =", "tests_require =", "python_requires = >=3.8", "name = x", "\n    ", "\n\t", ";", "#",
    " = ", ":", "file: requirements.txt", "requests>=2", "\n", "[", "]", "%(x)s",
]  # fmt: skip
JSON_TOKENS = [
    '"', "\\", "\\u0000", "\\ud800", "\\u005e", "{", "}", "[", "]", ":", ",", "null", "true", "1e400", "-0",
    '"dependencies": {', '"devDependencies"', '"workspaces": ["packages/*"]', '"npm:other@^1"', '"file:../x"',
    '"workspace:*"', '"github:user/repo"', '"latest"', '"^1.2.3 || >=2"', '"1.x"', '"= = = ="', "\ufeff",
]  # fmt: skip

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
new_constraints = st.one_of(
    st.sampled_from(["==2.0.0", ">=1.0,<3", "~=1.4", "^1.2.3", "~2.0.0", "1.2.3", "*", "", ">=1", "2.x", "latest"]),
    st.text(max_size=30),
)


# Values that parse as something else than the text they are, or not at all: a number too long to print
# (Python refuses int <-> str past 4,300 digits), hexadecimal and sexagesimal integers of that size, dates that
# do not exist (YAML 1.1 timestamps), underscores where a digit must be.
UNREADABLE_SCALARS = [
    "9" * 4301, "-" + "1" * 5000, "0x" + "f" * 3600, "0o" + "7" * 4800, "0b" + "1" * 15000, "1:" * 2500 + "1",
    "2001-13-01", "2001-02-30", "2001-12-14t25:59:43.10-05:00", "0x_", "0b_", "1_000", "1e400", ".inf", ".nan",
]  # fmt: skip

# -- JavaScript lockfiles and workspace files (targets in test_js_manifests) --------------------------------

MANIFESTS = FIXTURES / "manifests"
YARN_LOCKS = _samples("manifests/yarn/*yarn.lock")
PNPM_LOCKS = _samples("manifests/pnpm/*/pnpm-lock.yaml")
PNPM_WORKSPACES = _samples("manifests/pnpm/*/pnpm-workspace.yaml")
BUN_LOCKS = _samples("manifests/bun/*bun.lock")
JS_PACKAGE_JSONS = _samples(
    "manifests/yarn/*package.json", "manifests/pnpm/**/package.json", "manifests/bun/*package.json"
)
assert YARN_LOCKS and PNPM_LOCKS and PNPM_WORKSPACES and BUN_LOCKS and JS_PACKAGE_JSONS


def _flattened_projects(folder: str) -> list[dict[str, str]]:
    """Fixture folders whose files are named ``owner__repo__path__to__file``: one project per repository."""
    projects: dict[str, dict[str, str]] = {}
    for file in sorted((MANIFESTS / folder).iterdir()):
        parts = file.name.split("__")
        if len(parts) >= 3:
            projects.setdefault("__".join(parts[:2]), {})["/".join(parts[2:])] = file.read_text("utf-8")
    return list(projects.values())


def _tree_projects(folder: str) -> list[dict[str, str]]:
    """Fixture folders holding one project tree each (the files as the repository has them)."""
    projects = []
    for root in sorted(p for p in (MANIFESTS / folder).iterdir() if p.is_dir()):
        files = {
            f.relative_to(root).as_posix(): f.read_text("utf-8")
            for f in sorted(root.rglob("*"))
            if f.is_file() and ".ruff_cache" not in f.parts
        }
        projects.append(files)
    return projects


JS_PROJECTS = _flattened_projects("yarn") + _flattened_projects("bun") + _tree_projects("pnpm")
PYTHON_PROJECTS = (
    _tree_projects("pipfile") + _tree_projects("pylock") + _tree_projects("pip-compile")
    + _tree_projects("pip-compile-multi") + _flattened_projects("setup.py")
)  # fmt: skip
FIXTURE_PROJECTS = JS_PROJECTS + PYTHON_PROJECTS
assert len(JS_PROJECTS) == 2 + 3 + 11 and all("package.json" in p for p in JS_PROJECTS)


def project_documents(files: Mapping[str, str]) -> dict[str, object]:
    """A project's package.json files, parsed (None for one that is not JSON), as lockfile readers take them."""
    documents: dict[str, object] = {}
    for path, text in files.items():
        if path.rsplit("/", 1)[-1] == "package.json":
            try:
                documents[path] = json.loads(text.removeprefix("\ufeff"))
            except ValueError:
                documents[path] = None
    return documents


YARN_TOKENS = [
    "# yarn lockfile v1\n", "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n",
    "__metadata:\n  version: 8\n  cacheKey: 10\n", "__metadata:", '"a@^1.0.0", a@^1.1.0:\n', "a@^1.0.0:\n",
    '"@scope/a@npm:^1.0.0, @scope/a@npm:^1.1.0":\n', '  version "1.2.3"\n', "  version: 1.2.3\n", "version ",
    '  resolved "https://x.invalid/a-1.2.3.tgz#00"\n', '  resolution: "a@npm:1.2.3"\n', "  dependencies:\n",
    '    b "^2.0.0"\n', '    b: "npm:^2.0.0"\n', "  languageName: node\n", "  linkType: hard\n",
    '"root@workspace:.":\n', "a@workspace:packages/a", "a@portal:../x", "a@link:./x", "a@file:./x", "npm:b@^1",
    '"a@patch:a@npm%3A1.0.0#~/.yarn/patches/a.patch::version=1.0.0&hash=00&locator=root%40workspace%3A.":\n',
    "a@patch:a@npm%3A1.0.0#./p.patch::locator=a%40workspace%3Apackages%2Fa", "builtin<compat/typescript>",
    "<<<<<<< HEAD\n", "=======\n", ">>>>>>> theirs\n", "  ", "   ", "\n", "\r\n", "\r", '"', "\\", ":", ",",
    "#", "true", "false", "&a ", "*a", "!!map ", "{", "}", "[", "]", "- ", "? ", "|\n", ">\n", "\t", "\ufeff",
    *UNREADABLE_SCALARS,
]  # fmt: skip
PNPM_TOKENS = [
    "lockfileVersion: '9.0'\n", "lockfileVersion: 5.4\n", "lockfileVersion: '6.0'\n", "lockfileVersion: 13.0\n",
    "importers:\n", "  .:\n", "  packages/a:\n", "    dependencies:\n", "    devDependencies:\n", "    specifiers:\n",
    "      a:\n        specifier: ^1.0.0\n        version: 1.2.3\n", "      a: 1.2.3_b@1.0.0\n", "packages:\n",
    "snapshots:\n", "catalogs:\n  default:\n    a:\n      specifier: ^1.0.0\n      version: 1.2.3\n", "catalog:\n",
    "catalog:r17", "overrides:\n  a: ^1.0.0\n", "patchedDependencies:\n  a@1.0.0: patches/a.patch\n", "settings:\n",
    "projects:\n", "packageManagerDependencies:\n", "configDependencies:\n", "link:../x", "file:../x", "workspace:*",
    "(react@18.3.1)", "(patch_hash=00)", "_react@18.3.1", "/a/1.0.0", "/a@1.0.0", "a@1.0.0", "&a ", "*a", "<<: *a\n",
    "!!binary ", "!!str ", "!!int ", "!!set ", "!!omap ", "---\n", "...\n", "%YAML 1.1\n", "{", "}", "[", "]", ",",
    ": ", "- ", "'", '"', "\t", "? ", "|\n", ">-\n", "#", "~", "null", "$a", "-", "npm:b@^1", "'packages/*'",
    "  ", "    ", "\n", "\r\n", *UNREADABLE_SCALARS,
]  # fmt: skip
BUN_TOKENS = [
    *JSON_TOKENS, "//", "// c\n", "/*", "*/", "/* c */", ",}", ",]", ", }", '"lockfileVersion": 1,',
    '"lockfileVersion": 0,', '"lockfileVersion": 3,', '"configVersion": 1,', '"workspaces": {', '"": {',
    '"packages/a": {', '"name": "a",', '"packages": {', '"a": ["a@1.0.0", "", {}, "sha512-00"],',
    '"pad": ["left-pad@1.2.0", "", {}, "sha512-00"],', '"a/b": ["b@2.0.0", "", {}, "sha512-00"],',
    '["a@workspace:packages/a"]', '["a@link:../x", {}]', '["@root:"]', '"patchedDependencies": {',
    '"a@1.0.0": "patches/a.patch"', '"catalog": {', '"overrides": {', *UNREADABLE_SCALARS,
]  # fmt: skip
OVERRIDE_KEYS = [
    "a", "a@^1", "a@1.0.0", "**/a", "a/b", "**/a/**/b", "@s/a", "@s/a@^1", "@s/p/@s/a", "p>a", "p@1>a@<2",
    "a>@s/b@2", ".", "$a", "", " ", "@", "@s", "@s/", "/", "**", ">", "a>", "**/", "a@", "@s/a/b@1",
]  # fmt: skip
OVERRIDE_VALUES = [
    "^1.2.3", "1.2.3", "$a", "-", "npm:b@^1", "npm:b@latest", "latest", "workspace:*", "file:../x", "link:./x",
    "patch:a@npm%3A1.0.0#./a.patch", "github:user/repo", "https://x.invalid/a.tgz", "catalog:", "", "= = =",
]  # fmt: skip


@st.composite
def override_documents(draw: st.DrawFn) -> dict[str, object]:
    """A package.json with ``overrides`` (npm's nested objects too), ``resolutions`` and ``pnpm.overrides``."""
    keys = st.sampled_from(OVERRIDE_KEYS) | names | st.text(max_size=8)
    values = st.sampled_from(OVERRIDE_VALUES) | st.text(max_size=12)
    flat = st.dictionaries(keys, values | json_values(3), max_size=5)
    nested = st.recursive(flat, lambda inner: st.dictionaries(keys, values | inner, max_size=4), max_leaves=12)
    document: dict[str, object] = {}
    for section, strategy in (("overrides", nested), ("resolutions", flat), ("dependencies", flat)):
        if draw(st.booleans()):
            document[section] = draw(strategy)
    if draw(st.booleans()):
        document["pnpm"] = {"overrides": draw(flat)} if draw(st.integers(0, 4)) else draw(json_values(4))
    return document


# -- Python manifests and lockfiles (targets in test_python_manifests) --------------------------------------

PIPFILES = _samples("manifests/pipfile/*/Pipfile")
PIPFILE_LOCKS = _samples("manifests/pipfile/*/Pipfile.lock")
SETUP_PYS = _samples("manifests/setup.py/*setup.py", "manifests/pip-compile-multi/*/setup.py")
PYLOCKS = _samples("manifests/pylock/*/pylock.toml")
assert PIPFILES and PIPFILE_LOCKS and SETUP_PYS and PYLOCKS
UV_FORKED_LOCK = (
    'version = 1\nrevision = 2\nrequires-python = ">=3.9"\nresolution-markers = [\n'
    "    \"python_full_version >= '3.11'\",\n    \"python_full_version < '3.11'\",\n]\n\n"
    '[[package]]\nname = "alpha"\nversion = "1.0"\nsource = { registry = "https://registry.invalid/simple" }\n'
    "resolution-markers = [\n    \"python_full_version < '3.11'\",\n]\n\n"
    '[[package]]\nname = "alpha"\nversion = "2.0"\nsource = { registry = "https://registry.invalid/simple" }\n'
    "resolution-markers = [\n    \"python_full_version >= '3.11'\",\n]\n\n"
    '[[package]]\nname = "beta"\nversion = "1.5"\nsource = { registry = "https://registry.invalid/simple" }\n'
    "resolution-markers = [\n    \"sys_platform == 'win32'\",\n]\n\n"
    '[[package]]\nname = "beta"\nversion = "1.6"\nsource = { registry = "https://registry.invalid/simple" }\n'
    "resolution-markers = [\n    \"sys_platform != 'win32'\",\n]\n\n"
    '[[package]]\nname = "ws"\nversion = "0"\nsource = { editable = "." }\ndependencies = [\n'
    '    { name = "alpha", marker = "python_full_version < \'3.11\'" },\n    { name = "beta" },\n]\n'
)
FORKED_PYPROJECT = (
    '[project]\nname = "ws"\nversion = "0"\nrequires-python = ">=3.9"\ndependencies = [\n'
    '    "alpha<1.1; python_version < \'3.11\'",\n    "alpha>=1.1; python_version >= \'3.11\'",\n    "beta",\n]\n'
)
PIPFILE_TOKENS = [
    "[packages]", "[dev-packages]", "[requires]", "[docs]", "[[source]]", "[scripts]", "[pipenv]", "\n",
    'python_version = "3.11"', 'python_full_version = "3.11.4"', '"*"', '"==1.*"', '">=2,<3"', "requests = ",
    '{version = "==1.0", extras = ["x"]}', '{git = "https://x.invalid/r.git", ref = "main"}',
    '{path = ".", editable = true}', '{file = "https://x.invalid/a.tar.gz"}', "markers = \"python_version >= '3.8'\"",
    "sys_platform = \"== 'linux'\"", 'index = "pypi"', "version = ", *TOML_TOKENS, *UNREADABLE_SCALARS,
]  # fmt: skip
PIPFILE_LOCK_TOKENS = [
    *JSON_TOKENS, '"_meta": {"hash": {"sha256": "00"}, "pipfile-spec": 6}', '"default": {', '"develop": {',
    '"docs": {', '"version": "==1.2.3"', '"version": "*"', '"hashes": ["sha256:00"]',
    "\"markers\": \"python_version >= '3.8'\"", *UNREADABLE_SCALARS,
]  # fmt: skip
SETUP_PY_TOKENS = [
    "from setuptools import setup\n", "import setuptools\n", "setuptools.setup(", "distutils.core.setup(", "setup(",
    ")", "install_requires=[", "setup_requires=", "tests_require=", "extras_require={", "python_requires='>=3.8'",
    "name='x'", "'requests>=2'", "\"a==1; python_version<'3'\"", "'a @ https://x.invalid/a.tgz'", "u'", "r'", "b'",
    "f'", "'" * 3, '"' * 3, "\\", "\\\n", "+", "*", "**kw", "[", "]", "{", "}", "(", ":", ",",
    "'dev:python_version>\"3\"': [", "#", "\n", "\r", "\r\n", "\t", "    ", "\x0c", "\x00", "é", "\U0001f600",
    "if __name__ == '__main__':\n    ", "reqs = [", "reqs = ['a']\n", "reqs.append('x')\n", "reqs += ['x']\n",
    "global reqs\n", "reqs[0] = 'b'\n", "install_requires=reqs", "def f():\n    ", "lambda: 0", ";",
    "open('r.txt').read().splitlines()", "\\N{BULLET}",
]  # fmt: skip
LOCK_TOKENS = [
    "[[package]]", "[[packages]]", "\n", 'name = "alpha"', 'version = "1.0"', "resolution-markers = [", "marker = ",
    "\"python_full_version < '3.11'\"", "\"sys_platform == 'win32'\"", "\"extra == 'x'\"", "\"python_version > 'a'\"",
    "\"os_name == 'nt' and\"", 'lock-version = "1.0"', 'created-by = "uv"', "[metadata]", 'lock-version = "2.0"',
    *TOML_TOKENS, *UNREADABLE_SCALARS,
]  # fmt: skip


def check_manifest(manifest: Manifest, path: str, text: str) -> None:
    """What every parsed manifest must satisfy, whatever the input."""
    assert manifest.path == path
    for problem in manifest.problems:
        assert problem.file in (path, manifest.lockfile) and problem.line >= 1 and problem.column >= 1
        assert problem.message
    for dependency in manifest.dependencies:
        location = dependency.location
        assert location.file == path and location.line >= 1 and location.column >= 1
        assert 0 <= location.start <= location.end <= len(text), dependency
        if dependency.skip_reason is None:
            written = text[location.start : location.end]
            if dependency.ecosystem == "npm" and manifest.kind != "pnpm-workspace":  # JSON: escapes decoded
                assert decode_string(written) == dependency.constraint, dependency
            else:
                assert written == dependency.constraint, dependency


def check_edits(text: str, manifest: Manifest, data: st.DataObject) -> None:
    """Edit a few dependencies (or the same one twice, or a stale one): an edited text or a DepupError."""
    editable = [d for d in manifest.dependencies if d.skip_reason is None]
    chosen: list[Dependency] = []
    if manifest.dependencies:
        chosen.extend(data.draw(st.lists(st.sampled_from(manifest.dependencies), max_size=3)))
    add_editable: bool = data.draw(st.booleans())
    if editable and add_editable:
        chosen.append(data.draw(st.sampled_from(editable)))
    if not chosen:
        return
    edits = [(d, data.draw(new_constraints)) for d in chosen]
    target = data.draw(st.sampled_from([text, text[:-1], text + "\n", text.replace("1", "2", 1)]))
    editor = npm_edit.apply_edits if manifest.ecosystem == "npm" else python_edit
    try:
        result = bounded(lambda: editor(target, edits))
    except DepupError:
        return
    assert isinstance(result, str)


def check_problems(problems: Sequence[Problem], files: Sequence[str | None]) -> None:
    for problem in problems:
        assert problem.file in files and problem.line >= 1 and problem.column >= 1 and problem.message, problem


def check_lock(lock: JsLock, path: str, manager: str, manifests: Mapping[str, object]) -> None:
    """What every JavaScript lockfile reader must return, whatever the input: a ``JsLock`` of plain strings."""
    assert isinstance(lock, JsLock) and lock.path == path and lock.manager == manager and lock.format
    check_problems(lock.problems, [path])
    assert lock.readable or lock.problems
    for importer, locked in lock.importers.items():
        assert isinstance(importer, str)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in locked.items()), locked
    for name, versions in lock.versions.items():
        assert isinstance(name, str) and isinstance(versions, tuple) and all(isinstance(v, str) for v in versions)
    for importer, forced in lock.forced.items():
        assert importer in manifests and all(isinstance(k, str) and isinstance(v, str) for k, v in forced.items())
    for patch in lock.patches:
        assert isinstance(patch, Patch) and isinstance(patch.package, str) and isinstance(patch.file, str)
        assert patch.version is None or isinstance(patch.version, str)
    assert all(isinstance(name, str) for name in lock.local)


def check_edits_reparse(
    text: str,
    manifest: Manifest,
    data: st.DataObject,
    parse: Callable[[str], Manifest],
    editor: Callable[[str, Sequence[tuple[Dependency, str]]], str],
    render: Callable[[str], str] | None,
    values: st.SearchStrategy[str] = new_constraints,
) -> None:
    """Edit a few dependencies (or the same one twice, or a stale one): a ``DepupError``, or a text that parses
    (with ``parse``) to the same dependencies, each edited one with its new constraint, every other unchanged.
    ``render`` is what the editor writes for a value (None when the quoting may change, YAML): every other
    character of the text is kept."""
    editable = [d for d in manifest.dependencies if d.skip_reason is None]
    chosen: list[Dependency] = []
    if manifest.dependencies:
        chosen.extend(data.draw(st.lists(st.sampled_from(manifest.dependencies), max_size=3)))
    add_editable: bool = data.draw(st.booleans())
    if editable and add_editable:
        chosen.append(data.draw(st.sampled_from(editable)))
    if not chosen:
        return
    edits = [(d, data.draw(values)) for d in chosen]
    target = data.draw(st.sampled_from([text, text[:-1], text + "\n", text.replace("1", "2", 1)]))
    try:
        result = bounded(lambda: editor(target, edits))
    except DepupError:
        return
    assert isinstance(result, str)
    wanted = {(d.location.start, d.location.end): new for d, new in edits}
    assert len(wanted) == len(edits), "two edits of one span were applied"
    if render is not None:
        spliced, cursor = [], 0
        for (start, end), new in sorted(wanted.items()):
            spliced += [target[cursor:start], render(new)]
            cursor = end
        assert result == "".join(spliced) + target[cursor:], "characters outside the edited spans changed"
    before, after = parse(target).dependencies, parse(result).dependencies
    edited = {(d.location.start, d.location.end): d for d in before}
    for dependency, _ in edits:
        found = edited.get((dependency.location.start, dependency.location.end))
        assert found is not None and (found.name, found.location.section) == (
            dependency.name,
            dependency.location.section,
        ), f"{dependency.name} was edited where the text has no such dependency"
    assert [(d.name, d.location.section) for d in before] == [(d.name, d.location.section) for d in after]
    for old, new_dep in zip(before, after, strict=True):
        replaced = wanted.get((old.location.start, old.location.end))
        if replaced is None:
            assert new_dep.constraint == old.constraint, (old, new_dep)
        elif new_dep.skip_reason is None:  # the new constraint; for a new value that is an alias, its range
            alias = new_dep.key != old.key and replaced.endswith(new_dep.constraint)  # "NPM:b@^1": "^1"
            assert new_dep.constraint == replaced or alias, (old, new_dep, replaced)
        else:  # now skipped (a dist-tag, an alias without a range...): the value as written holds the new one
            assert replaced in new_dep.constraint, (old, new_dep, replaced)


def _text_strategy(bases: list[str], tokens: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=400),
        st.lists(st.sampled_from(tokens) | st.text(max_size=6), max_size=40).map("".join),
        mutated_text(bases, tokens),
    )


# -- Python ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_requirements_files(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=_text_strategy(REQUIREMENTS, REQUIREMENTS_TOKENS),
        path=st.sampled_from(["requirements.txt", "requirements/dev.txt", "sub/requirements-test.in", "a.txt"]),
        role=st.none() | st.sampled_from(list(Role)),
        data=st.data(),
    )
    def check(text: str, path: str, role: Role | None, data: st.DataObject) -> None:
        budget.count()
        parsed = bounded(lambda: parse_requirements_file(path, text, role=role))
        assert isinstance(parsed, requirements_module.RequirementsFile)
        check_manifest(parsed.manifest, path, text)
        for include in parsed.includes:
            assert not include.path.startswith("../") and not include.path.startswith("/")
        check_edits(text, parsed.manifest, data)

    budget.run("manifests: requirements files", check)


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_pyproject_toml(budget: Budget) -> None:
    @budget.settings()
    @given(text=_text_strategy(PYPROJECTS, TOML_TOKENS), data=st.data())
    def check(text: str, data: st.DataObject) -> None:
        budget.count()
        manifest = bounded(lambda: parse_pyproject("pyproject.toml", text))
        assert isinstance(manifest, Manifest)
        check_manifest(manifest, "pyproject.toml", text)
        check_edits(text, manifest, data)

    budget.run("manifests: pyproject.toml (PEP 621, PEP 735, build-system, Poetry)", check)


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_setup_cfg(budget: Budget) -> None:
    @budget.settings()
    @given(text=_text_strategy(SETUP_CFGS, CFG_TOKENS), data=st.data())
    def check(text: str, data: st.DataObject) -> None:
        budget.count()
        manifest = bounded(lambda: parse_setup_cfg("setup.cfg", text))
        assert isinstance(manifest, Manifest)
        check_manifest(manifest, "setup.cfg", text)
        check_edits(text, manifest, data)

    budget.run("manifests: setup.cfg", check)


# -- npm ---------------------------------------------------------------------------------------------------

PACKAGE_DOCUMENTS = [json.loads(t.removeprefix("\ufeff")) for t in PACKAGE_JSONS]
LOCK_DOCUMENTS = [json.loads(t) for t in LOCKS]


SECTION_NAMES = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies", "workspaces", "engines"]
sections = st.dictionaries(names, st.text(max_size=30) | st.sampled_from(JSON_TOKENS) | json_values(5), max_size=5)
sections |= json_values(5)


def _json_texts(bases: list[str], documents: list[object]) -> st.SearchStrategy[str]:
    indents = st.sampled_from([None, 2, "\t", 0])
    return st.one_of(
        _text_strategy(bases, JSON_TOKENS),
        st.builds(lambda v, i: json.dumps(v, indent=i, ensure_ascii=False), mutated_json(documents), indents),
        st.builds(lambda v, i: json.dumps(v, indent=i), json_values(), indents),
        st.dictionaries(st.sampled_from(SECTION_NAMES), sections).map(json.dumps),
        deep_json_texts(),
    )


@pytest.mark.parametrize("budget", budgets(quick=40))
def test_package_json(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=_json_texts(PACKAGE_JSONS, PACKAGE_DOCUMENTS),
        lock=st.none() | one_of_items(LOCKS),
        path=st.sampled_from(["package.json", "packages/a/package.json"]),
        data=st.data(),
    )
    def check(text: str, lock: str | None, path: str, data: st.DataObject) -> None:
        budget.count()
        info = read_lock("package-lock.json", lock) if lock is not None else None
        manifest = bounded(lambda: parse_package_json(path, text, info))
        assert isinstance(manifest, Manifest)
        check_manifest(manifest, path, text)
        check_edits(text, manifest, data)

    budget.run("manifests: package.json", check)


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_package_lock_json(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=_json_texts(LOCKS, LOCK_DOCUMENTS),
        manifest_path=st.sampled_from(["package.json", "packages/a/package.json", "other/package.json"]),
    )
    def check(text: str, manifest_path: str) -> None:
        budget.count()
        info = bounded(lambda: read_lock("package-lock.json", text))
        for problem in info.problems:
            assert problem.file == "package-lock.json" and problem.line >= 1 and problem.column >= 1
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.locked_for(manifest_path).items())

    budget.run("manifests: package-lock.json", check)


# -- whole checkouts ---------------------------------------------------------------------------------------

CHECKOUT_FILES: dict[str, st.SearchStrategy[str]] = {
    "requirements.txt": _text_strategy(REQUIREMENTS, REQUIREMENTS_TOKENS),
    "requirements/dev.in": _text_strategy(REQUIREMENTS, REQUIREMENTS_TOKENS),
    "requirements/dev.txt": _text_strategy(REQUIREMENTS, REQUIREMENTS_TOKENS),
    "pyproject.toml": _text_strategy(PYPROJECTS, [*TOML_TOKENS, *UNREADABLE_SCALARS]),
    "uv.lock": _text_strategy(UV_LOCKS, TOML_TOKENS)
    | st.builds(lambda n: "a = " + "[" * n + "]" * n, st.integers(1, 3000)),
    "poetry.lock": _text_strategy(UV_LOCKS, TOML_TOKENS),
    "setup.cfg": _text_strategy(SETUP_CFGS, CFG_TOKENS),
    "package.json": _json_texts(PACKAGE_JSONS, PACKAGE_DOCUMENTS),
    "packages/a/package.json": _json_texts(PACKAGE_JSONS, PACKAGE_DOCUMENTS),
    "package-lock.json": _json_texts(LOCKS, LOCK_DOCUMENTS),
    "npm-shrinkwrap.json": _json_texts(LOCKS, LOCK_DOCUMENTS),
    "yarn.lock": _text_strategy(YARN_LOCKS, YARN_TOKENS),
    "pnpm-lock.yaml": _text_strategy(PNPM_LOCKS, PNPM_TOKENS),
    "pnpm-workspace.yaml": _text_strategy(PNPM_WORKSPACES, PNPM_TOKENS),
    "bun.lock": _text_strategy(BUN_LOCKS, BUN_TOKENS),
    "packages/b/package.json": _text_strategy(JS_PACKAGE_JSONS, JSON_TOKENS) | override_documents().map(json.dumps),
    "Pipfile": _text_strategy(PIPFILES, PIPFILE_TOKENS),
    "Pipfile.lock": _text_strategy(PIPFILE_LOCKS, PIPFILE_LOCK_TOKENS),
    "setup.py": _text_strategy(SETUP_PYS, SETUP_PY_TOKENS),
    "pylock.toml": _text_strategy(PYLOCKS, LOCK_TOKENS),
    "pylock.dev.toml": _text_strategy(PYLOCKS, LOCK_TOKENS),
}
_TOKENS_BY_NAME = {
    "yarn.lock": YARN_TOKENS, "pnpm-lock.yaml": PNPM_TOKENS, "pnpm-workspace.yaml": PNPM_TOKENS, "bun.lock": BUN_TOKENS,
    "package.json": JSON_TOKENS, "Pipfile": PIPFILE_TOKENS, "Pipfile.lock": PIPFILE_LOCK_TOKENS,
    "setup.py": SETUP_PY_TOKENS, "setup.cfg": CFG_TOKENS, "pyproject.toml": TOML_TOKENS, "pylock.toml": LOCK_TOKENS,
}  # fmt: skip


@st.composite
def damaged_projects(draw: st.DrawFn) -> dict[str, str]:
    """One of the fixture projects (a lockfile with the manifests it locks) with up to three files damaged."""
    files = dict(pick(draw, FIXTURE_PROJECTS))
    for path in draw(st.lists(st.sampled_from(sorted(files)), max_size=3, unique=True)):
        tokens = _TOKENS_BY_NAME.get(path.rsplit("/", 1)[-1], REQUIREMENTS_TOKENS)
        files[path] = draw(mutated_text([files[path]], tokens))
    return files


@pytest.mark.parametrize("budget", budgets(quick=20))
def test_scan_of_a_checkout_of_hostile_files(budget: Budget) -> None:
    @budget.settings()
    @given(
        files=st.dictionaries(st.sampled_from(sorted(CHECKOUT_FILES)), st.just(None), max_size=6).flatmap(
            lambda chosen: st.fixed_dictionaries({path: CHECKOUT_FILES[path] for path in chosen})
        )
        | damaged_projects(),
        binary=st.none() | st.sampled_from(sorted(CHECKOUT_FILES)),
    )
    def check(files: dict[str, str], binary: str | None) -> None:
        budget.count()
        with tempfile.TemporaryDirectory(prefix="depup-fuzz-") as tmp:
            root = Path(tmp)
            for path, text in files.items():
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_bytes(text.encode("utf-8", "surrogatepass"))
            if binary is not None:
                (root / binary).parent.mkdir(parents=True, exist_ok=True)
                (root / binary).write_bytes(b"\xff\xfe\x00 not utf-8")
            result = bounded(lambda: scan(root))
            for problem in result.problems:
                assert problem.line >= 1 and problem.column >= 1 and problem.message
            for manifest in result.manifests:
                text = (root / manifest.path).read_bytes().decode("utf-8")
                check_manifest(manifest, manifest.path, text)

    budget.run("manifests: scan of whole checkouts", check)


# -- regressions: what the fuzzing found (each with its minimal input) -------------------------------------


def test_regression_requirements_long_whitespace_run_is_linear() -> None:
    """``(^|\\s+)#.*$`` searched every line: quadratic in a run of whitespace (100,000 spaces: about a minute;
    a million now: 0.3 s)."""
    parsed = bounded(lambda: parse_requirements_file("requirements.txt", "x" + " " * 1_000_000 + "y\n"))
    assert isinstance(parsed, requirements_module.RequirementsFile) and parsed.manifest.problems


def test_regression_requirements_many_brackets_is_linear() -> None:
    """``\\[[^\\]]*\\]$`` searched the requirement for extras: quadratic in the number of ``[`` (100,000: 7 s;
    a million now: 0.02 s)."""
    bounded(lambda: parse_requirements_file("requirements.txt", "[" * 1_000_000))


def test_regression_requirements_many_continuations_is_linear() -> None:
    """Continuation lines were joined with ``+=`` on an attribute: quadratic (30,000 lines: 6 s; 100,000 now:
    1.3 s)."""
    bounded(lambda: parse_requirements_file("requirements.txt", "a \\\n" * 100_000))


@pytest.mark.parametrize(
    "line", ["a  # c", "a#b # c", "# c", "   #", "a\t#\tb", "a\u3000# c", "a#", "#", "a", "", "  ", "a # b # c"]
)
def test_comment_start_is_the_regex_search(line: str) -> None:
    found = re.search(r"(^|\s+)#.*$", line)
    assert requirements_module._comment_start(line) == (found.start() if found else None)


@given(st.text(alphabet="[]a ", max_size=12))
def test_strip_extras_is_the_regex_substitution(text: str) -> None:
    assert requirements_module._strip_extras(text) == re.sub(r"\[[^\]]*\]$", "", text)


def test_regression_setup_cfg_long_whitespace_run_is_linear() -> None:
    """``\\s*(?P<key>[^=:]+?)\\s*[=:]`` on a line without a delimiter: quadratic (100,000 spaces: 90 s; a million
    now: 0.01 s)."""
    bounded(lambda: parse_setup_cfg("setup.cfg", "[options]\nx" + " " * 1_000_000 + "y\n"))


@given(st.text(alphabet=" \t=:ab", max_size=12))
def test_setup_cfg_delimiter_is_the_regex_match(line: str) -> None:
    match = re.match(r"\s*(?P<key>[^=:]+?)\s*[=:]", line)
    assert setupcfg_module._delimiter(line) == (match.end() - 1 if match else None)


def test_regression_pyproject_many_literal_strings_on_one_line_is_linear() -> None:
    """The TOML scanner looked for a newline after each literal string up to the end of the line: quadratic
    (20,000 strings on one line: 10 s; the scanner now takes 1.2 s for 100,000)."""
    strings = bounded(lambda: scan_strings("[tool.x]\nwords = [" + "'x'," * 100_000 + "]\n"))
    assert len(strings) == 100_000
    manifest = bounded(lambda: parse_pyproject("pyproject.toml", "[tool.x]\nwords = [" + "'x'," * 20_000 + "]\n"))
    assert isinstance(manifest, Manifest) and manifest.problems == ()


@pytest.mark.parametrize(
    ("text", "line"),
    [('[project]\nname = "a"\nname = "b"\n', 3), ("[tool.x]\na = {b = 1, b = 2}\n", 2)],
)
def test_regression_duplicate_keys_in_a_table_are_a_problem(text: str, line: int) -> None:
    """tomlkit raises KeyAlreadyPresent (not its ParseError) for a key repeated inside a table: a pyproject.toml
    with a duplicated ``name`` made parse_pyproject (and the whole scan) raise. Python's tomllib says where when
    tomlkit does not (tomlkit 0.15.3 reports a repeated table key itself, at the start of its line: the column
    depends on which of the two answers)."""
    [problem] = parse_pyproject("pyproject.toml", text).problems
    assert problem.line == line and problem.column >= 1 and "already exists" in problem.message
    [dependency] = parse_pyproject("pyproject.toml", '[project]\ndependencies = ["a>=1"]\n').dependencies
    with pytest.raises(DepupError):
        python_edit('[project]\ndependencies = ["a>=1"]\n[x]\nk = 1\nk = 2\n', [(dependency, ">=2")])


def test_regression_toml_syntax_error_columns_are_one_based() -> None:
    """tomlkit counts columns from 0; a Problem's column is 1-based (it said column 0 at the start of a line)."""
    [problem] = parse_pyproject("pyproject.toml", "[project]\nname = @\n").problems
    assert (problem.line, problem.column) == (2, len("name = @"))
    [problem] = parse_pyproject("pyproject.toml", "0").problems
    assert problem.column >= 1


def test_regression_package_json_positions_are_computed_once() -> None:
    """Every dependency's line/column rescanned the whole text: quadratic in dependencies x lines (30,000
    dependencies now: 1.6 s)."""
    text = json.dumps({"dependencies": {f"p{i}": "^1.2.3" for i in range(30_000)}}, indent=2)
    manifest = bounded(lambda: parse_package_json("package.json", text))
    assert isinstance(manifest, Manifest) and manifest.dependencies[-1].location.line == 30_002


@pytest.mark.parametrize("value", ["= " * 500, "=" * 5_000, "v" * 5_000, "=v " * 2_000, "^1.2.3 " * 200, "= " * 50_000])
def test_regression_npm_ranges_that_made_semver_quadratic_are_refused(value: str) -> None:
    """node-semver's ``[v=\\s]*`` made one 4,000-character range take a second (100,000: ten minutes)."""
    assert bounded(lambda: valid_range(value, loose=True)) is None
    manifest = bounded(lambda: parse_package_json("package.json", json.dumps({"dependencies": {"a": value}})))
    assert isinstance(manifest, Manifest)
    [dependency] = manifest.dependencies
    assert dependency.skip_reason is not None


@pytest.mark.parametrize("depth", [1000, 5000, 100_000])
def test_regression_deeply_nested_uv_lock_is_a_problem_not_a_crash(tmp_path: Path, depth: int) -> None:
    """tomllib recurses once per nested array: a deep uv.lock raised RecursionError out of scan()."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["httpx"]\n')
    (tmp_path / "uv.lock").write_text("a = " + "[" * depth + "]" * depth + "\n")
    result = scan(tmp_path)
    assert [p.message for p in result.problems if p.file == "uv.lock"] == [
        "not readable: arrays or tables nested too deeply"
    ]
    assert result.manifests[0].lockfile == "uv.lock"


@pytest.mark.parametrize("name", ["\U0001f600" * 70 + ".txt", "a" * 300 + ".txt", "x\x00y.txt"])
def test_regression_an_include_the_file_system_cannot_name_is_not_found(tmp_path: Path, name: str) -> None:
    """``Path.is_file`` raises for a name over 255 bytes (and a NUL byte): an include of one made scan() raise."""
    (tmp_path / "requirements.txt").write_text(f"-r {name}\nflask==2.0.1\n")
    result = scan(tmp_path)
    assert [p.message for p in result.problems] == [f"included file {name!r} not found"]
    assert [d.name for d in result.manifests[0].dependencies] == ["flask"]


@pytest.mark.parametrize("value", ["1", '"x"', "true", "{ name = 'x' }"])
def test_regression_uv_lock_whose_package_is_not_a_list(tmp_path: Path, value: str) -> None:
    """``for p in data.get("package", [])`` iterated whatever ``package`` was: ``package = 1`` raised TypeError."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["httpx"]\n')
    (tmp_path / "uv.lock").write_text(f"package = {value}\n")
    [manifest] = scan(tmp_path).manifests
    assert manifest.lockfile == "uv.lock" and manifest.dependencies[0].locked is None


# -- size limits -------------------------------------------------------------------------------------------


def test_manifests_over_the_size_limit_are_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"a==1\n" * (MAX_MANIFEST_BYTES // 5 + 1))
    (tmp_path / "package.json").write_bytes(b" " * (MAX_MANIFEST_BYTES + 1))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["httpx"]\n')
    with open(tmp_path / "uv.lock", "wb") as lock:  # sparse: only its size is looked at
        lock.truncate(MAX_LOCKFILE_BYTES + 1)
    result = bounded(lambda: scan(tmp_path))
    assert isinstance(result, type(scan(tmp_path)))
    refused = {p.file: p.message for p in result.problems}
    assert refused["requirements.txt"] == "file is larger than 5 MB; skipped"
    assert refused["package.json"] == "file is larger than 5 MB; skipped"
    assert refused["uv.lock"] == "file is larger than 64 MB; skipped"


FIVE_MB = MAX_MANIFEST_BYTES - 1024


@pytest.mark.fuzz
@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("requirements.txt", "pkg-a[x,y]>=1.0,<2 ; python_version>'3'  # c\n" * (FIVE_MB // 45)),
        ("requirements.txt", " " * FIVE_MB),
        ("requirements.txt", "a \\\n" * (FIVE_MB // 4)),
        ("requirements.txt", "[" * FIVE_MB),
        ("setup.cfg", "[options]\ninstall_requires =\n" + "    pkg-a>=1.0,<2\n" * (FIVE_MB // 18)),
        ("setup.cfg", "[options]\nx" + " " * FIVE_MB),
        ("pyproject.toml", "[project]\ndependencies = [\n" + '  "pkg-a>=1.0,<2",\n' * (FIVE_MB // 20) + "]\n"),
        ("pyproject.toml", "[project]\ndependencies = [" + "'x'," * (FIVE_MB // 4) + "]\n"),
        ("package.json", json.dumps({"dependencies": {f"p{i}": "^1.2.3" for i in range(FIVE_MB // 30)}}, indent=2)),
        ("package.json", json.dumps({"dependencies": {f"p{i}": "= " * 500 for i in range(FIVE_MB // 1010)}})),
        ("package.json", nested_text(100_000)[:FIVE_MB]),
    ],
    ids=lambda value: value if len(value) < 40 else f"{len(value) // 1024} KiB",
)
def test_five_megabyte_manifests_parse_in_bounded_time(path: str, text: str) -> None:
    """Files just under the 5 MB limit, of the worst shapes known: linear time (measured: 1 to 40 s), bounded."""
    parse = {
        "requirements.txt": lambda: parse_requirements_file(path, text).manifest,
        "setup.cfg": lambda: parse_setup_cfg(path, text),
        "pyproject.toml": lambda: parse_pyproject(path, text),
        "package.json": lambda: parse_package_json(path, text),
    }[path]
    manifest = bounded(parse, seconds=120.0)
    assert isinstance(manifest, Manifest)
    check_manifest(manifest, path, text)
