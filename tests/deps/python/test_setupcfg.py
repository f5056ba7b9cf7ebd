from __future__ import annotations

from bot.deps.model import Role
from bot.deps.python import parse_setup_cfg

from .helpers import by_name, fixture_text, spans_hold_constraints, summary


def test_all_sections_and_roles() -> None:
    text = (
        "[metadata]\nname = demo\n\n"
        "[options]\n"
        "python_requires = >=3.9\n"
        "install_requires =\n"
        "    requests>=2.0,<3\n"
        "    # a comment inside the value\n"
        "    ; another comment\n"
        '    colorama;sys_platform=="win32"\n'
        "\n"
        "    attrs [tests] >= 22 ; python_version >= '3.8'\n"
        "setup_requires = setuptools>=61; wheel\n"
        "tests_require =\n    pytest>=7\n"
        "\n[options.extras_require]\n"
        "socks = PySocks>=1.5\n"
        "testing =\n    coverage[toml]\n"
        "all =\n    demo[socks]\n"
    )
    manifest = parse_setup_cfg("pkg/setup.cfg", text)
    assert (manifest.kind, manifest.project_name, manifest.requires_python, manifest.problems) == (
        "setup.cfg",
        "demo",
        ">=3.9",
        (),
    )
    assert summary(manifest) == [
        ("requests", ">=2.0,<3", "runtime", None, (), None, None),
        ("colorama", "", "runtime", None, (), 'sys_platform=="win32"', None),
        ("attrs", ">= 22", "runtime", None, ("tests",), "python_version >= '3.8'", None),
        ("setuptools", ">=61", "build", None, (), None, None),
        ("wheel", "", "build", None, (), None, None),
        ("pytest", ">=7", "dev", None, (), None, None),
        ("PySocks", ">=1.5", "optional", "socks", (), None, None),
        ("coverage", "", "dev", "testing", ("toml",), None, None),
        ("demo", "", "optional", "all", ("socks",), None, "self"),
    ]
    assert spans_hold_constraints(text, manifest)
    requests = manifest.dependencies[0]
    assert (requests.location.line, requests.location.column, requests.location.section) == (
        7,
        5,
        "options.install_requires",
    )


def test_one_line_value_split_on_semicolons_like_setuptools() -> None:
    manifest = parse_setup_cfg("setup.cfg", '[options]\ninstall_requires = foo>=1; python_version < "3.8"\n')
    assert [d.name for d in manifest.dependencies] == ["foo"]
    (problem,) = manifest.problems
    assert problem.line == 2
    assert "put each requirement on its own line" in problem.message


def test_malformed_entries_are_problems_and_parsing_goes_on() -> None:
    text = "[options]\ninstall_requires =\n    good==1\n    bad>=1 <2\n    also-good\n"
    manifest = parse_setup_cfg("setup.cfg", text)
    assert [d.name for d in manifest.dependencies] == ["good", "also-good"]
    (problem,) = manifest.problems
    assert (problem.line, problem.column) == (4, 12)


def test_dash_keys_colon_delimiter_and_file_directive() -> None:
    text = "[options]\ninstall-requires: click>=8\ntests_require = file: requirements-test.txt\n"
    manifest = parse_setup_cfg("setup.cfg", text)
    assert [(d.name, d.constraint) for d in manifest.dependencies] == [("click", ">=8")]


def test_other_sections_are_ignored() -> None:
    text = "[flake8]\ninstall_requires = notadep\n[options.entry_points]\nconsole_scripts =\n    x = y:z\n"
    assert parse_setup_cfg("setup.cfg", text).dependencies == ()


def test_real_world_files() -> None:
    aiohttp_text = fixture_text("aio-libs__aiohttp__setup.cfg")
    aiohttp = parse_setup_cfg("setup.cfg", aiohttp_text)
    assert aiohttp.problems == ()
    assert spans_hold_constraints(aiohttp_text, aiohttp)
    deps = by_name(aiohttp)
    assert (deps["async-timeout"].constraint, deps["async-timeout"].marker) == (
        ">= 4.0, < 5.0",
        'python_version < "3.11"',
    )
    assert (deps["aiodns"].role, deps["aiodns"].group) == (Role.OPTIONAL, "speedups")
    pytest_text = fixture_text("pytest-dev__pytest__setup.cfg")
    pytest_cfg = parse_setup_cfg("setup.cfg", pytest_text)
    assert (pytest_cfg.project_name, pytest_cfg.requires_python) == ("pytest", ">=3.8")
    assert by_name(pytest_cfg)["setuptools-scm"].role is Role.BUILD
    assert by_name(pytest_cfg)["hypothesis"].role is Role.DEV
    assert by_name(pytest_cfg)["exceptiongroup"].marker == 'python_version<"3.11"'
