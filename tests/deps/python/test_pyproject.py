from __future__ import annotations

from bot.deps.model import Role
from bot.deps.python import parse_pyproject

from .helpers import by_name, fixture_text, spans_hold_constraints, summary


def test_shared_sample_exactly() -> None:
    text = fixture_text("depup-samples__py-pyproject__pyproject.toml")
    manifest = parse_pyproject("pyproject.toml", text)
    assert (manifest.kind, manifest.project_name, manifest.requires_python, manifest.problems) == (
        "pyproject",
        "sample-pyproject",
        ">=3.8",
        (),
    )
    assert summary(manifest) == [
        ("requests", "==2.22.0", "runtime", None, (), None, None),
        ("flask", ">=1.1,<2.0", "runtime", None, (), None, None),
        ("pydantic", "==1.8.2", "runtime", None, (), None, None),
        ("httpx", "==0.18.2", "runtime", None, ("http2",), None, None),
        ("attrs", "~=20.3.0", "runtime", None, (), None, None),
        ("click", ">=7.0", "runtime", None, (), None, None),
        ("pytest", "==6.2.5", "dev", "dev", (), None, None),
        ("black", "==22.3.0", "dev", "dev", (), None, None),
        ("mypy", "==0.910", "dev", "dev", (), None, None),
        ("flake8", "==3.9.2", "dev", "dev", (), None, None),
        ("setuptools", "==58.0.0", "build", None, (), None, None),
        ("wheel", "==0.36.2", "build", None, (), None, None),
    ]
    assert spans_hold_constraints(text, manifest)
    flask = by_name(manifest)["flask"]
    assert text[flask.location.start : flask.location.end] == ">=1.1,<2.0"
    assert (flask.location.line, flask.location.column, flask.location.section) == (12, 6, "project.dependencies")
    assert by_name(manifest)["pytest"].location.section == "project.optional-dependencies"
    assert by_name(manifest)["wheel"].location.section == "build-system.requires"


def test_offsets_are_found_in_the_raw_text_not_by_substring_search() -> None:
    text = (
        '[project]\nname = "p"\n# "flask>=1.1,<2.0" in a comment first\n'
        'dependencies = ["flask>=1.1,<2.0", \'flask>=1.1,<2.0; os_name == "nt"\']\n'
        '[project.optional-dependencies]\nx = ["flask (>=1.1,<2.0)"]\n'
    )
    manifest = parse_pyproject("pyproject.toml", text)
    starts = [d.location.start for d in manifest.dependencies]
    assert len(set(starts)) == 3
    assert all(text[s : s + 10] == ">=1.1,<2.0" for s in starts)
    assert starts[0] > text.index("dependencies")
    assert manifest.dependencies[1].marker == 'os_name == "nt"'


def test_dependency_groups_with_include_group() -> None:
    text = (
        "[dependency-groups]\n"
        'test = ["pytest>=8", "coverage[toml]"]\n'
        'typing = ["mypy==1.10"]\n'
        'all = [{include-group = "test"}, {include-group = "Typing"}, "ruff"]\n'
        'broken = [{include-group = "missing"}]\n'
    )
    manifest = parse_pyproject("pyproject.toml", text)
    assert summary(manifest) == [
        ("pytest", ">=8", "dev", "test", (), None, None),
        ("coverage", "", "dev", "test", ("toml",), None, None),
        ("mypy", "==1.10", "dev", "typing", (), None, None),
        ("ruff", "", "dev", "all", (), None, None),
    ]
    (problem,) = manifest.problems
    assert (problem.line, "missing" in problem.message) == (5, True)


def test_optional_dependency_roles_and_self_reference() -> None:
    text = (
        '[project]\nname = "My_Pkg"\ndependencies = []\n'
        "[project.optional-dependencies]\n"
        'socks = ["pysocks>=1"]\ndev = ["pytest"]\ndocs-build = ["sphinx"]\nall = ["my-pkg[socks,dev]"]\n'
    )
    manifest = parse_pyproject("pyproject.toml", text)
    assert [(d.name, d.role, d.group, d.skip_reason) for d in manifest.dependencies] == [
        ("pysocks", Role.OPTIONAL, "socks", None),
        ("pytest", Role.DEV, "dev", None),
        ("sphinx", Role.DEV, "docs-build", None),
        ("my-pkg", Role.OPTIONAL, "all", "self"),
    ]


def test_url_and_git_references_are_skipped() -> None:
    text = (
        "[project]\ndependencies = [\n"
        '  "mike @ git+https://github.invalid/jimporter/mike.git",\n'
        '  "wheelpkg @ https://files.invalid/wheelpkg-1.0-py3-none-any.whl",\n'
        '  "local @ file:///srv/local",\n]\n'
    )
    assert [(d.name, d.skip_reason) for d in parse_pyproject("pyproject.toml", text).dependencies] == [
        ("mike", "git"),
        ("wheelpkg", "url"),
        ("local", "local"),
    ]


def test_strings_with_escapes_or_multiline_are_kept_untouched() -> None:
    text = '[project]\ndependencies = ["flask\\u003e=1.0", """django>=4"""]\n'
    manifest = parse_pyproject("pyproject.toml", text)
    assert [(d.name, d.constraint, d.skip_reason) for d in manifest.dependencies] == [
        ("flask", ">=1.0", "unusual-string"),
        ("django", ">=4", "unusual-string"),
    ]


def test_dotted_keys_inline_tables_and_literal_strings() -> None:
    text = (
        "project.name = 'dotted'\n"
        "project.dependencies = ['attrs>=22']\n"
        "build-system = { requires = [\"setuptools>=61\", 'wheel'] }\n"
    )
    manifest = parse_pyproject("pyproject.toml", text)
    assert manifest.project_name == "dotted"
    assert summary(manifest) == [
        ("attrs", ">=22", "runtime", None, (), None, None),
        ("setuptools", ">=61", "build", None, (), None, None),
        ("wheel", "", "build", None, (), None, None),
    ]
    assert spans_hold_constraints(text, manifest)


def test_invalid_toml_is_a_problem_with_line_and_column() -> None:
    manifest = parse_pyproject("sub/pyproject.toml", '[project]\nname = "x"\ndependencies = ["a",\n[tool]\n')
    (problem,) = manifest.problems
    assert (problem.file, problem.line) == ("sub/pyproject.toml", 4)
    assert problem.column >= 1
    assert manifest.dependencies == ()


def test_invalid_requirement_strings_and_shapes_are_problems() -> None:
    text = '[project]\ndependencies = ["ok>=1", "bad>=1 <2", 42]\n[project.optional-dependencies]\nx = "not-a-list"\n'
    manifest = parse_pyproject("pyproject.toml", text)
    assert [d.name for d in manifest.dependencies] == ["ok"]
    assert [(p.line, p.message.split(":")[0]) for p in manifest.problems] == [
        (2, "invalid requirement 'bad>=1 <2'"),
        (2, "project.dependencies"),
        (4, "project.optional-dependencies is not a list of requirement strings"),
    ]
    assert manifest.problems[0].column == text.splitlines()[1].index("<2") + 1


def test_poetry_forms() -> None:
    text = (
        '[tool.poetry]\nname = "poetic"\n\n[tool.poetry.dependencies]\n'
        'python = "^3.9"\n'
        'caret = "^1.2"\n'
        "tilde = '~1.2'\n"
        'wild = "1.2.*"\n'
        'range = ">=1,<2"\n'
        'star = "*"\n'
        'exact = "1.2.3"\n'
        'table = { version = " ^2.0 ", extras = ["a", "b"], python = ">=3.10", markers = "os_name == \'nt\'" }\n'
        'gitdep = { git = "https://github.invalid/o/r.git", branch = "main" }\n'
        'pathdep = { path = "../lib", develop = true }\n'
        'urldep = { url = "https://files.invalid/u-1.0.tar.gz" }\n'
        'opt = { version = "^3", optional = true }\n'
        'testopt = { version = "^4", optional = true }\n'
        'multi = [{ version = "^1", python = "<3.10" }, { version = "^2", python = ">=3.10" }]\n'
        'nover = { source = "private" }\n'
        '\n[tool.poetry.dependencies.sub]\nversion = "~=5.1"\n'
        '\n[tool.poetry.extras]\nspeed = ["opt"]\ntest = ["testopt"]\n'
        '\n[tool.poetry.group.lint.dependencies]\nruff = "^0.5"\n'
        '\n[tool.poetry.group.main.dependencies]\nmainly = "^1"\n'
        '\n[tool.poetry.dev-dependencies]\npytest = "^8"\n'
    )
    manifest = parse_pyproject("pyproject.toml", text)
    assert (manifest.project_name, manifest.requires_python, manifest.problems) == ("poetic", ">=3.9,<4", ())
    assert summary(manifest) == [
        ("caret", "^1.2", "runtime", None, (), None, None),
        ("tilde", "~1.2", "runtime", None, (), None, None),
        ("wild", "1.2.*", "runtime", None, (), None, None),
        ("range", ">=1,<2", "runtime", None, (), None, None),
        ("star", "*", "runtime", None, (), None, None),
        ("exact", "1.2.3", "runtime", None, (), None, None),
        ("table", "^2.0", "runtime", None, ("a", "b"), "os_name == 'nt'", None),
        ("gitdep", "", "runtime", None, (), None, "git"),
        ("pathdep", "", "runtime", None, (), None, "local"),
        ("urldep", "", "runtime", None, (), None, "url"),
        ("opt", "^3", "optional", "speed", (), None, None),
        ("testopt", "^4", "dev", "test", (), None, None),
        ("multi", "^1", "runtime", None, (), None, "multiple-constraints"),
        ("multi", "^2", "runtime", None, (), None, "multiple-constraints"),
        ("nover", "", "runtime", None, (), None, "no-version"),
        ("sub", "~=5.1", "runtime", None, (), None, None),
        ("pytest", "^8", "dev", "dev", (), None, None),
        ("ruff", "^0.5", "dev", "lint", (), None, None),
        ("mainly", "^1", "runtime", "main", (), None, None),
    ]
    assert spans_hold_constraints(text, manifest)
    deps = by_name(manifest)
    assert text[deps["table"].location.start : deps["table"].location.end] == "^2.0"
    assert deps["caret"].location.column == 1 and deps["caret"].location.line == 6
    assert deps["sub"].location.section == "tool.poetry.dependencies"
    assert deps["ruff"].location.section == "tool.poetry.group.lint.dependencies"


def test_poetry_2_project_tables_enrich_without_duplicates() -> None:
    text = (
        '[project]\nname = "p2"\nrequires-python = ">=3.10"\ndependencies = ["requests (>=2.31,<3)"]\n'
        '[tool.poetry.dependencies]\nrequests = { source = "internal" }\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "^8"\n'
    )
    manifest = parse_pyproject("pyproject.toml", text)
    assert summary(manifest) == [
        ("requests", ">=2.31,<3", "runtime", None, (), None, None),
        ("pytest", "^8", "dev", "dev", (), None, None),
    ]
    assert manifest.requires_python == ">=3.10"


def test_real_world_poetry_files() -> None:
    legacy = parse_pyproject("pyproject.toml", fixture_text("python-poetry__poetry__pyproject.toml"))
    assert legacy.requires_python == ">=2.7"  # "~2.7 || ^3.4": Poetry's syntax as one PEP 440 specifier
    deps = by_name(legacy)
    assert (deps["cachecontrol"].constraint, deps["cachecontrol"].extras) == ("^0.12.4", ("filecache",))
    assert (deps["black"].constraint, deps["black"].role, deps["black"].group) == ("^18.3-alpha.0", Role.DEV, "dev")
    sample = by_name(
        parse_pyproject(
            "pyproject.toml", fixture_text("python-poetry__poetry__tests__fixtures__sample_project__pyproject.toml")
        )
    )
    assert sample["pendulum"].skip_reason == "git"
    assert sample["demo"].skip_reason == "local"
    assert (sample["orator"].role, sample["orator"].group) == (Role.OPTIONAL, "db")
    assert sample["functools32"].marker is not None and sample["functools32"].marker.startswith("python_version ~=")
    textual = parse_pyproject("pyproject.toml", fixture_text("Textualize__textual__pyproject.toml"))
    assert {d.group for d in textual.dependencies if d.role is Role.OPTIONAL} == {"syntax"}
    assert by_name(textual)["platformdirs"].constraint == ">=3.6.0,<5"


def test_real_world_pep621_files() -> None:
    flask = parse_pyproject("pyproject.toml", fixture_text("pallets__flask__pyproject.toml"))
    assert (flask.project_name, flask.requires_python, flask.problems) == ("Flask", ">=3.9", ())
    groups = {d.group for d in flask.dependencies if d.location.section == "dependency-groups"}
    assert groups == {"dev", "docs", "docs-auto", "gha-update", "pre-commit", "tests", "typing"}
    assert by_name(flask)["flit_core"].constraint == "<4"
    pydantic = parse_pyproject("pyproject.toml", fixture_text("pydantic__pydantic__pyproject.toml"))
    assert [d.marker for d in pydantic.dependencies if d.name == "typing-extensions"] == [
        'python_version < "3.13"',
        'python_version >= "3.13"',
    ]
    httpx = parse_pyproject("pyproject.toml", fixture_text("encode__httpx__pyproject.toml"))
    assert by_name(httpx)["click"].constraint == "==8.*"
    assert by_name(httpx)["click"].role is Role.OPTIONAL
