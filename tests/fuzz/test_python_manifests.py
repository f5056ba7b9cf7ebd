"""Fuzzing the Python manifests and lockfiles: ``Pipfile`` (``bot.deps.python.pipfile.parse_pipfile`` with the
Pipfile editor), ``Pipfile.lock`` (``parse_pipfile_lock``, ``locked``), ``setup.py`` (``read_setup_py`` /
``parse_setup_py``, and its editor through ``bot.deps.python.apply_edits``), and ``bot.deps.python.locks``
(``pylock.toml``, ``uv.lock`` with forks, ``poetry.lock``: ``read_pylock``, ``read_uv_or_poetry_lock``,
``apply_lock``).

Inputs: random text, generated files, and random edits of the files in tests/fixtures/manifests/{pipfile,setup.py,
pylock,pip-compile-multi} and of a uv.lock forked by Python version and by platform (seeds and tokens in
``test_manifests``). Properties, as there: parsing never raises (a ``Problem`` with file, line >= 1, column >= 1
and a message; the lockfile readers raise only their own error, with line and column); every dependency lies
inside the text, an editable one's span holding exactly its constraint; the editor returns a text that re-parses
to exactly the intended change, or raises a ``DepupError``; a locked version is one the lockfile holds for that
package; every example is bounded in time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.deps.model import Manifest, Role
from bot.deps.python import apply_edits as python_edit
from bot.deps.python import locks, parse_pyproject, pipfile
from bot.deps.python.pipfile import PipfileLockError, lock_section, parse_pipfile, parse_pipfile_lock
from bot.deps.python.setuppy import SetupPy, parse_setup_py, read_setup_py
from bot.deps.scan import MAX_MANIFEST_BYTES, scan
from tests.fuzz.budget import Budget, bounded, budgets
from tests.fuzz.mutate import deep_json_texts, mutated_json, mutated_text
from tests.fuzz.test_manifests import (
    FORKED_PYPROJECT,
    LOCK_TOKENS,
    PIPFILE_LOCK_TOKENS,
    PIPFILE_LOCKS,
    PIPFILE_TOKENS,
    PIPFILES,
    PYLOCKS,
    PYPROJECTS,
    REQUIREMENTS_TOKENS,
    SETUP_PY_TOKENS,
    SETUP_PYS,
    UNREADABLE_SCALARS,
    UV_FORKED_LOCK,
    UV_LOCKS,
    _text_strategy,
    check_edits_reparse,
    check_manifest,
    names,
)

SPECS = ['"*"', '"==1.0"', '">=2,<3"', '"~=1.4"', '""', '" ==1.0 "', "'==1.0'", '"""==1"""', "'''>=1'''",
         '{version = "==1.*", extras = ["a"]}', '{version = "*", sys_platform = "== \'linux\'"}',
         '{version = ">=1", markers = "python_version >= \'3.8\'", index = "pypi"}', '{git = "https://x.invalid/r"}',
         '{path = ".", editable = true}', '{file = "https://x.invalid/a.tgz"}', '{extras = ["x"]}', "1", "[]", "{}",
         '"\\u003e=1"', *UNREADABLE_SCALARS]  # fmt: skip


@st.composite
def pipfiles(draw: st.DrawFn) -> str:
    """A Pipfile of random categories (the known ones, custom ones, the ones that are no category)."""
    lines = []
    categories = st.sampled_from(["packages", "dev-packages", "docs", "tests", "requires", "source", "scripts"])
    for category in draw(st.lists(categories | names, max_size=4, unique=True)):
        lines.append(f"[{category}]")
        for name in draw(st.lists(names, max_size=5, unique=True)):
            spec = draw(st.sampled_from(SPECS) | st.text(max_size=10).map(json.dumps))
            lines.append(f"{name} = {spec}")
        if category == "requires":
            lines.append(draw(st.sampled_from(['python_version = "3.11"', 'python_full_version = "3.9.1"', ""])))
    return "\n".join(lines) + "\n"


PYTHON_VALUES = st.sampled_from(
    ["==2.0", ">=1,<3", "~=1.4", "", "*", "==1.*", " >=1", "'", '"', "\\", "#", ";x", "[x]"]
)
PYTHON_VALUES |= st.text(max_size=12)


# -- Pipfile and Pipfile.lock ------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_pipfile(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=_text_strategy(PIPFILES, PIPFILE_TOKENS) | pipfiles(),
        path=st.sampled_from(["Pipfile", "sub/Pipfile"]),
        data=st.data(),
    )
    @example(text="[packages]\n0 = 0x" + "f" * 3600 + "\n", path="Pipfile", data=None)  # found at 3,000: fixed
    def check(text: str, path: str, data: st.DataObject | None) -> None:
        budget.count()
        manifest = bounded(lambda: parse_pipfile(path, text))
        assert isinstance(manifest, Manifest) and manifest.kind == pipfile.KIND
        check_manifest(manifest, path, text)
        if data is not None:
            parse = functools.partial(parse_pipfile, path)
            check_edits_reparse(text, manifest, data, parse, python_edit, str, PYTHON_VALUES)

    budget.run("manifests: Pipfile and its editor", check)


PIPFILE_LOCK_DOCUMENTS = [json.loads(t) for t in PIPFILE_LOCKS]
PIPFILE_MANIFEST = parse_pipfile("Pipfile", PIPFILES[0])


@pytest.mark.parametrize("budget", budgets(quick=25))
def test_pipfile_lock(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=_text_strategy(PIPFILE_LOCKS, PIPFILE_LOCK_TOKENS)
        | st.builds(json.dumps, mutated_json(PIPFILE_LOCK_DOCUMENTS))
        | deep_json_texts()
    )
    @example(text='{"_meta": {}, "default": {"a": {"version": ' + "1" * 5000 + "}}}")  # ValueError, fixed
    def check(text: str) -> None:
        budget.count()
        try:
            lock = bounded(lambda: parse_pipfile_lock(text))
        except PipfileLockError as exc:
            assert exc.line >= 1 and exc.column >= 1 and str(exc)
            manifest = pipfile.unreadable(PIPFILE_MANIFEST, "Pipfile.lock", str(exc))
            check_manifest(manifest, "Pipfile", PIPFILES[0])
            return
        for section, versions in lock.sections.items():
            assert isinstance(section, str)
            assert all(isinstance(k, str) and isinstance(v, str) and "*" not in v for k, v in versions.items())
        manifest = bounded(lambda: pipfile.locked(PIPFILE_MANIFEST, "Pipfile.lock", lock))
        check_manifest(manifest, "Pipfile", PIPFILES[0])
        for dependency in manifest.dependencies:
            locked = lock.sections.get(lock_section(dependency.location.section), {})
            assert dependency.locked is None or dependency.locked == locked.get(dependency.key), dependency

    budget.run("manifests: Pipfile.lock", check)


# -- setup.py ----------------------------------------------------------------------------------------------

REQUIREMENT_STRINGS = st.sampled_from(
    ["requests>=2", "a==1.0", "b[x,y]~=1.4 ; python_version<'3'", "c @ https://x.invalid/c.tgz", "d", "", " ", "-e .",
     "e>=1  # c", "f\\\\g", "é>=1", "g===1", "h (>=1)", "i; extra == 'x'", "x" * 300]
) | st.text(max_size=20)  # fmt: skip
LITERALS = st.sampled_from(["'{}'", '"{}"', "u'{}'", "r'{}'", "'''{}'''", "'{}' 'x'", "f'{}'", "b'{}'", "'{}'.lower()"])


@st.composite
def setup_pys(draw: st.DrawFn) -> str:
    """A setup.py calling setup() with requirement lists written many ways."""

    def strings() -> str:
        items = [
            draw(LITERALS).format(draw(REQUIREMENT_STRINGS).replace("'", "\\'")) for _ in range(draw(st.integers(0, 4)))
        ]
        return draw(st.sampled_from(["[{}]", "({})", "[{},]", "{}"])).format(", ".join(items))

    keywords = []
    for keyword in draw(
        st.lists(st.sampled_from(["install_requires", "setup_requires", "tests_require"]), unique=True)
    ):
        keywords.append(f"{keyword}={strings()}")
    if draw(st.booleans()):
        extras = {
            draw(st.sampled_from(["dev", "test", "docs:python_version<'3.9'", "x", ""])): strings() for _ in range(2)
        }
        keywords.append("extras_require={" + ", ".join(f"{k!r}: {v}" for k, v in extras.items()) + "}")
    if draw(st.booleans()):
        keywords.append("name=" + draw(st.sampled_from(["'requests'", "'x'", "NAME", "f'x'"])))
    prelude = draw(st.sampled_from(["", "REQS = ['a>=1']\n", "REQS = ['a']\nREQS.append('b')\n", "NAME = 'x'\n"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    call = draw(st.sampled_from(["setup", "setuptools.setup", "distutils.core.setup"]))
    body = f"{prelude}from setuptools import setup{newline}{newline}{call}(" + f",{newline}    ".join(keywords) + ")"
    return body.replace("\n", newline) + newline


@pytest.mark.parametrize("budget", budgets(quick=30))
def test_setup_py(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=_text_strategy(SETUP_PYS, SETUP_PY_TOKENS) | setup_pys() | mutated_text(SETUP_PYS, REQUIREMENTS_TOKENS),
        path=st.sampled_from(["setup.py", "pkg/setup.py"]),
        data=st.data(),
    )
    @example(text="x = 1\rsetup(install_requires=['a>=1'])\r", path="setup.py", data=None)  # IndexError, fixed
    def check(text: str, path: str, data: st.DataObject | None) -> None:
        budget.count()
        read = bounded(lambda: read_setup_py(path, text))
        assert isinstance(read, SetupPy) and all(isinstance(u, str) and u for u in read.unread)
        check_manifest(read.manifest, path, text)
        if data is not None:
            parse = functools.partial(parse_setup_py, path)
            check_edits_reparse(text, read.manifest, data, parse, python_edit, str, PYTHON_VALUES)

    budget.run("manifests: setup.py and its editor", check)


# -- pylock.toml, uv.lock (forks), poetry.lock -------------------------------------------------------------

LOCK_MANIFESTS = [("pyproject.toml", FORKED_PYPROJECT), *(("pyproject.toml", text) for text in PYPROJECTS[:3])]
PARSED_LOCK_MANIFESTS = [(path, text, parse_pyproject(path, text)) for path, text in LOCK_MANIFESTS]
REQUIRES_PYTHON = st.none() | st.sampled_from(
    [">=3.9", ">=3.11", ">=3.9,<3.10", "==3.12.*", "<3", ">=4", "~=3.10", "garbage", "", ">=3.11.11", "!=3.10.*"]
)


@pytest.mark.parametrize("budget", budgets(quick=25))
def test_python_lockfiles(budget: Budget) -> None:
    @budget.settings()
    @given(
        text=mutated_text([UV_FORKED_LOCK, *UV_LOCKS], LOCK_TOKENS) | _text_strategy(PYLOCKS, LOCK_TOKENS),
        kind=st.sampled_from(["pylock.toml", "uv.lock", "poetry.lock"]),
        manifest=st.integers(0, len(PARSED_LOCK_MANIFESTS) - 1),
        requires_python=REQUIRES_PYTHON,
    )
    @example(
        text="lock-version = '1.0'\nx = " + "1" * 5000 + "\n", kind="pylock.toml", manifest=0, requires_python=None
    )
    @example(text="x = " + "1" * 5000 + "\n", kind="uv.lock", manifest=0, requires_python=None)  # ValueError, fixed
    def check(text: str, kind: str, manifest: int, requires_python: str | None) -> None:
        budget.count()
        path, manifest_text, parsed = PARSED_LOCK_MANIFESTS[manifest]
        reader = locks.read_pylock if kind == "pylock.toml" else locks.read_uv_or_poetry_lock
        try:
            contents = bounded(lambda: reader(text))
        except locks.LockReadError as exc:
            assert exc.line >= 1 and exc.column >= 1 and str(exc)
            unread = locks.unreadable(parsed, kind, str(exc))
            check_manifest(unread, path, manifest_text)
            assert all(d.unknown_current for d in unread.dependencies if d.skip_reason is None and d.role != Role.BUILD)
            return
        assert contents.tool is None or isinstance(contents.tool, str)
        for name, entries in contents.packages.items():
            assert isinstance(name, str) and entries
            assert all(isinstance(e.version, str) and all(isinstance(m, str) for m in e.markers) for e in entries)
        locked = bounded(lambda: locks.apply_lock(parsed, kind, contents, requires_python))
        assert locked.lockfile == kind
        check_manifest(locked, path, manifest_text)
        for dependency in locked.dependencies:
            versions = {e.version for e in contents.packages.get(dependency.key, ())}
            assert dependency.locked is None or dependency.locked in versions, dependency
            if dependency.skip_reason is None and dependency.role != Role.BUILD and dependency.locked is None:
                assert dependency.unknown_current, dependency

    budget.run("manifests: pylock.toml, uv.lock (forks), poetry.lock", check)


# -- regressions: what the fuzzing found (each with its minimal input) -------------------------------------

TOO_LONG = "1" * 5000  # Python refuses int <-> str past 4,300 digits: json and tomllib raise a bare ValueError


def test_regression_pipfile_value_that_cannot_be_printed_is_a_problem() -> None:
    """A value neither a string nor a table was reported with its repr: a hexadecimal integer past 4,300 decimal
    digits (tomlkit reads it) has none, and parse_pipfile raised ValueError. Found by the Pipfile target at 3,000
    examples. The problem names the value's type now."""
    [problem] = parse_pipfile("Pipfile", "[packages]\nrequests = 0x" + "f" * 3600 + "\n").problems
    assert (problem.line, problem.column, problem.message) == (
        2,
        1,
        "[packages] requests: unsupported value of type int",
    )


def test_regression_pipfile_lock_number_too_long_for_python_is_a_lock_error() -> None:
    with pytest.raises(PipfileLockError, match="not valid JSON") as raised:
        parse_pipfile_lock('{"_meta": {}, "default": {"a": {"version": ' + TOO_LONG + "}}}")
    assert (raised.value.line, raised.value.column) == (1, 1)


@pytest.mark.parametrize(
    ("reader", "text"),
    [
        (locks.read_pylock, "lock-version = '1.0'\nsize = " + TOO_LONG + "\n"),
        (locks.read_uv_or_poetry_lock, "x = " + TOO_LONG),
    ],
    ids=["pylock.toml", "uv.lock"],
)
def test_regression_toml_lock_number_too_long_for_python_is_a_lock_error(
    reader: Callable[[str], locks.LockContents], text: str
) -> None:
    with pytest.raises(locks.LockReadError, match="not valid TOML"):
        reader(text)


def test_regression_scan_of_a_number_too_long_for_python_in_toml(tmp_path: Path) -> None:
    """tomlkit reports the number as a problem of pyproject.toml, then the uv workspace lookup read the file again
    with tomllib, whose ValueError made scan() raise; a pylock.toml of such a number did too."""
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\ndependencies = ["a"]\nx = {TOO_LONG}\n')
    (tmp_path / "uv.lock").write_text('version = 1\n[[package]]\nname = "a"\nversion = "1.0"\n')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pyproject.toml").write_text('[project]\nname = "b"\ndependencies = ["a"]\n')
    (tmp_path / "b" / "pylock.toml").write_text(f"lock-version = '1.0'\nsize = {TOO_LONG}\n")
    result = scan(tmp_path)
    assert {p.file for p in result.problems} >= {"b/pylock.toml"}
    [manifest] = [m for m in result.manifests if m.path == "b/pyproject.toml"]
    assert manifest.lockfile == "b/pylock.toml" and manifest.dependencies[0].unknown_current


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
def test_regression_setup_py_with_carriage_return_line_ends(newline: str) -> None:
    """Python ends a line at ``\\r`` too; the offsets of ast's line numbers counted ``\\n`` alone: IndexError past
    the last ``\\n``, and a span on the wrong line before it."""
    text = newline.join(["import setuptools", "x = 1", "setuptools.setup(install_requires=['a>=1', 'b==2'])", ""])
    manifest = parse_setup_py("setup.py", text)
    assert [(d.name, d.constraint, d.location.line) for d in manifest.dependencies] == [
        ("a", ">=1", 3),
        ("b", "==2", 3),
    ]
    check_manifest(manifest, "setup.py", text)
    edited = python_edit(text, [(manifest.dependencies[1], "==3")])
    assert edited == text.replace("b==2", "b==3")


# -- size limits -------------------------------------------------------------------------------------------

FIVE_MB = MAX_MANIFEST_BYTES - 1024


def _repeat(head: str, entry: str, tail: str = "") -> str:
    """``head``, then ``entry`` (formatted with its index) as often as fits in five megabytes, then ``tail``."""
    count = (FIVE_MB - len(head) - len(tail)) // (len(entry.format(i=999_999)) + 1) if entry else 0
    return head + "".join(entry.format(i=i) for i in range(count)) + tail


SETUP_HEAD = "from setuptools import setup\nsetup(install_requires=[\n"
# id -> (file name, head, entry repeated up to 5 MB, tail): built when its test runs, not when tests are collected.
FIVE_MB_PYTHON_SHAPES = {
    "pipfile": (
        "Pipfile",
        "[packages]\n",
        'p{i} = {{version = "==1.{i}", markers = "python_version >= \'3.8\'"}}\n',
        "",
    ),
    "pipfile-nested": ("Pipfile", "[packages]\na = " + "[" * 100_000, "", ""),
    "pipfile-lock": ("Pipfile.lock", '{"_meta": {}, "default": {', '"p{i}": {{"version": "==1.{i}"}},', '"z": {}}}'),
    "setup-py": ("setup.py", SETUP_HEAD, "    'p{i}>=1.{i}',\n", "])\n"),
    "setup-py-entries-not-literals": ("setup.py", SETUP_HEAD, "    f'p{i}',\n", "])\n"),
    "setup-py-nested": ("setup.py", "setup(install_requires=" + "[" * 100_000, "", ""),
    "pylock": ("pylock.toml", "lock-version = '1.0'\n", '[[packages]]\nname = "p{i}"\nversion = "1.{i}"\n', ""),
}


@pytest.mark.fuzz
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("shape", sorted(FIVE_MB_PYTHON_SHAPES))
def test_five_megabyte_python_files_parse_in_bounded_time(shape: str) -> None:
    """Files just under the 5 MB limit, of the worst shapes known: linear time, bounded."""
    name, head, entry, tail = FIVE_MB_PYTHON_SHAPES[shape]
    text = _repeat(head, entry, tail)
    assert len(text.encode()) < MAX_MANIFEST_BYTES
    if name == "Pipfile.lock":
        bounded(lambda: parse_pipfile_lock(text), 120.0)
    elif name == "pylock.toml":
        contents = bounded(lambda: locks.read_pylock(text), 120.0)
        manifest = parse_pyproject("pyproject.toml", FORKED_PYPROJECT)
        bounded(lambda: locks.apply_lock(manifest, name, contents), 120.0)
    else:
        parse = parse_pipfile if name == "Pipfile" else parse_setup_py
        manifest = bounded(lambda: parse(name, text), 120.0)
        check_manifest(manifest, name, text)
