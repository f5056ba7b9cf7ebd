from __future__ import annotations

import pytest

from bot.deps.model import Role
from bot.deps.python import compiled_header, parse_python_manifest, parse_requirements, parse_requirements_file
from bot.deps.python.requirements import CompiledHeader, FileOption, Include

from .helpers import by_name, fixture_text, spans_hold_constraints, summary


def parse(text: str, path: str = "requirements.txt"):  # type: ignore[no-untyped-def]
    return parse_requirements_file(path, text)


def test_shared_sample_exactly() -> None:
    text = fixture_text("depup-samples__py-req__requirements.txt")
    manifest = parse_requirements("requirements.txt", text)
    assert manifest.kind == "requirements"
    assert manifest.problems == ()
    assert summary(manifest) == [
        ("flask", "==1.1.2", "runtime", None, (), None, None),
        ("requests", "==2.22.0", "runtime", None, (), None, None),
        ("django", "==3.2.0", "runtime", None, (), None, None),
        ("pytest", "==6.2.5", "runtime", None, (), None, None),
        ("black", "==22.3.0", "runtime", None, (), None, None),
        ("sqlalchemy", ">=1.3,<1.4", "runtime", None, (), None, None),
        ("numpy", "~=1.21.0", "runtime", None, (), None, None),
        ("celery", "==5.0.5", "runtime", None, ("redis",), None, None),
        ("uvicorn", "==0.13.4", "runtime", None, ("standard",), None, None),
        ("pywin32", "==227", "runtime", None, (), 'sys_platform == "win32"', None),
        ("importlib-metadata", "==1.7.0", "runtime", None, (), 'python_version < "3.8"', None),
    ]
    assert spans_hold_constraints(text, manifest)
    flask = manifest.dependencies[0]
    assert (flask.location.line, flask.location.column, flask.location.section) == (2, 1, "requirements")
    assert text[flask.location.start : flask.location.end] == "==1.1.2"
    assert by_name(manifest)["importlib-metadata"].key == "importlib-metadata"


def test_names_are_canonicalised_into_key() -> None:
    manifest = parse_requirements("requirements.txt", "Flask_SQLAlchemy==3.0\nzope.interface>=5\n")
    assert [(d.name, d.key) for d in manifest.dependencies] == [
        ("Flask_SQLAlchemy", "flask-sqlalchemy"),
        ("zope.interface", "zope-interface"),
    ]


@pytest.mark.parametrize(
    ("line", "constraint", "extras", "marker"),
    [
        ("requests", "", (), None),
        ("requests>=2.8.1", ">=2.8.1", (), None),
        ("requests >= 2.8.1, == 2.8.*", ">= 2.8.1, == 2.8.*", (), None),
        ("requests [security] >= 2.8.1 ; python_version < '2.7'", ">= 2.8.1", ("security",), "python_version < '2.7'"),
        ("requests[socks,security]==2.31.0", "==2.31.0", ("socks", "security"), None),
        ("requests (>=2.0,<3)", ">=2.0,<3", (), None),
        ("requests===2.31.0", "===2.31.0", (), None),
        ("requests~=2.31", "~=2.31", (), None),
        ("requests!=2.30.0,>=2", "!=2.30.0,>=2", (), None),
        ("requests;python_version>='3.8'", "", (), "python_version>='3.8'"),
        ("requests==2.*  # a comment", "==2.*", (), None),
        ("   requests==1.0   ", "==1.0", (), None),
    ],
)
def test_pep508_forms(line: str, constraint: str, extras: tuple[str, ...], marker: str | None) -> None:
    text = f"# header\n{line}\n"
    manifest = parse_requirements("requirements.txt", text)
    assert manifest.problems == ()
    (dep,) = manifest.dependencies
    assert (dep.name, dep.constraint, dep.extras, dep.marker, dep.skip_reason) == (
        "requests",
        constraint,
        extras,
        marker,
        None,
    )
    assert text[dep.location.start : dep.location.end] == constraint
    assert dep.location.line == 2


def test_bare_name_insertion_point_is_after_name_and_extras() -> None:
    text = "requests[socks]  # comment\nflask ; python_version < '3'\n"
    first, second = parse_requirements("requirements.txt", text).dependencies
    assert first.location.start == first.location.end == text.index("]") + 1
    assert second.location.start == second.location.end == len("requirements.txt"[:0]) + text.index("flask") + 5


def test_comments_and_hash_fragments() -> None:
    text = "#comment\n   # indented comment\nfoo==1.0 # trailing\nbar==2.0#not-a-comment-so-invalid\n"
    result = parse(text)
    assert [d.name for d in result.manifest.dependencies] == ["foo"]
    (problem,) = result.manifest.problems
    assert (problem.line, problem.file) == (4, "requirements.txt")


def test_line_continuation_keeps_offsets_into_the_original_text() -> None:
    text = "flask\\\n>=1.0,<2 \\\n    ; python_version > '3'\nnext==1\n"
    manifest = parse_requirements("requirements.txt", text)
    flask, nxt = manifest.dependencies
    assert (flask.constraint, flask.marker, flask.skip_reason) == (">=1.0,<2", "python_version > '3'", None)
    assert text[flask.location.start : flask.location.end] == ">=1.0,<2"
    assert (flask.location.line, nxt.location.line) == (1, 4)


def test_constraint_split_by_a_continuation_is_kept_untouched() -> None:
    text = "flask>=1.0,\\\n<2\n"
    (dep,) = parse_requirements("requirements.txt", text).dependencies
    assert dep.skip_reason == "line-continuation"


def test_comment_line_ends_a_continuation_like_pip() -> None:
    text = "flask==1.0 \\\n# comment \\\ndjango==4.2\n"
    manifest = parse_requirements("requirements.txt", text)
    assert [(d.name, d.constraint) for d in manifest.dependencies] == [("flask", "==1.0"), ("django", "==4.2")]


def test_hashes_make_an_entry_hash_pinned() -> None:
    text = "flask==3.0.0 \\\n    --hash=sha256:aaaa \\\n    --hash sha256:bbbb\nclick==8.1.7\n"
    result = parse(text)
    flask, click = result.manifest.dependencies
    assert flask.skip_reason == "hash-pinned"
    assert text[flask.location.start : flask.location.end] == "==3.0.0"
    assert click.skip_reason is None
    assert result.hash_pinned is True
    assert result.manifest.problems == ()


def test_config_settings_per_requirement_option() -> None:
    result = parse("pkg==1.0 --config-settings=editable_mode=compat -C key=value\n")
    (dep,) = result.manifest.dependencies
    assert (dep.constraint, dep.skip_reason, result.manifest.problems) == ("==1.0", None, ())


def test_unknown_per_requirement_option_is_a_problem_but_the_entry_stays() -> None:
    result = parse("pkg==1.0 --frobnicate\n")
    assert [d.name for d in result.manifest.dependencies] == ["pkg"]
    assert "unsupported per-requirement option '--frobnicate'" in result.manifest.problems[0].message


def test_includes_are_resolved_against_the_including_file() -> None:
    text = "-r base.txt\n--requirement=../common.txt\n-c constraints.txt\n--constraint ./sub/c.txt\n-rdev.txt\n"
    result = parse(text, "requirements/test.txt")
    assert result.includes == (
        Include("requirement", "requirements/base.txt", "base.txt", 1),
        Include("requirement", "common.txt", "../common.txt", 2),
        Include("constraint", "requirements/constraints.txt", "constraints.txt", 3),
        Include("constraint", "requirements/sub/c.txt", "./sub/c.txt", 4),
        Include("requirement", "requirements/dev.txt", "dev.txt", 5),
    )
    assert result.manifest.dependencies == ()


def test_includes_outside_the_repository_or_by_url_are_problems() -> None:
    result = parse("-r ../../x.txt\n-r https://example.invalid/r.txt\n", "app/requirements.txt")
    assert result.includes == ()
    assert [p.line for p in result.manifest.problems] == [1, 2]


def test_index_and_global_options_are_recorded() -> None:
    text = (
        "--index-url https://registry.invalid/simple\n"
        "-i https://registry.invalid/other\n"
        "--extra-index-url=https://extra.invalid/simple\n"
        "-f ./wheels\n--find-links https://links.invalid/\n"
        "--trusted-host registry.invalid\n--no-index\n--pre\n--prefer-binary\n--require-hashes\n"
        "--only-binary :all:\n--no-binary fred\nflask==1.0\n"
    )
    result = parse(text)
    assert result.index_url == "https://registry.invalid/other"
    assert result.extra_index_urls == ("https://extra.invalid/simple",)
    assert result.find_links == ("./wheels", "https://links.invalid/")
    assert FileOption("no-index", None, 7) in result.options
    assert [o.name for o in result.options][-5:] == [
        "pre",
        "prefer-binary",
        "require-hashes",
        "only-binary",
        "no-binary",
    ]
    assert result.manifest.problems == ()
    assert [d.name for d in result.manifest.dependencies] == ["flask"]


def test_unknown_option_line_is_a_problem() -> None:
    result = parse("--use-wheel\nflask\n")
    assert result.manifest.problems[0].line == 1
    assert "unsupported requirements-file option '--use-wheel'" in result.manifest.problems[0].message
    assert [d.name for d in result.manifest.dependencies] == ["flask"]


def test_option_missing_its_value_is_a_problem() -> None:
    assert "needs a value" in parse("--index-url\n").manifest.problems[0].message


@pytest.mark.parametrize(
    ("line", "name", "reason"),
    [
        ("-e git+https://github.invalid/o/r.git@v1#egg=mypkg", "mypkg", "editable"),
        ("--editable=./src/pkg#egg=localpkg", "localpkg", "editable"),
        ("git+https://github.invalid/o/r.git@main#egg=vcspkg", "vcspkg", "git"),
        ("hg+https://hg.invalid/r#egg=hgpkg", "hgpkg", "vcs"),
        ("https://files.invalid/pkgs/Some_Pkg-1.0-py3-none-any.whl", "Some_Pkg", "url"),
        ("https://files.invalid/pkgs/other-pkg-2.0.tar.gz", "other-pkg", "url"),
        ("./dist/wheelpkg-1.2-py3-none-any.whl", "wheelpkg", "local"),
        ("file:///tmp/x/filepkg-1.0.zip", "filepkg", "local"),
        ("named @ https://files.invalid/named-1.0.tar.gz", "named", "url"),
        ("named @ git+https://github.invalid/o/named.git", "named", "git"),
        ("named @ file:///srv/named", "named", "local"),
    ],
)
def test_lines_kept_untouched_name_a_package_with_a_skip_reason(line: str, name: str, reason: str) -> None:
    manifest = parse_requirements("requirements.txt", line + "\n")
    assert manifest.problems == ()
    (dep,) = manifest.dependencies
    assert (dep.name, dep.skip_reason, dep.constraint) == (name, reason, "")


@pytest.mark.parametrize(
    "line", ["-e .", "-e .[all]", "./local/project", "../sibling", ".", "-e git+https://g.invalid/x.git"]
)
def test_lines_kept_untouched_without_a_name_give_nothing(line: str) -> None:
    manifest = parse_requirements("requirements.txt", line + "\n")
    assert (manifest.dependencies, manifest.problems) == ((), ())


def test_url_line_with_marker() -> None:
    (dep,) = parse_requirements(
        "requirements.txt", "https://files.invalid/a-1.0-py3-none-any.whl; python_version < '3.12'\n"
    ).dependencies
    assert (dep.name, dep.skip_reason) == ("a", "url")


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("flask>=1.0 <2", 12),
        ("flask==", 6),
        ("[extras]==1", 1),
        ("flask>=1.0; python_version <", 28),
        ("pkg==${VERSION}", 4),
    ],
)
def test_malformed_lines_are_problems_with_line_and_column(line: str, column: int) -> None:
    text = "ok==1.0\n" + line + "\nlast==2.0\n"
    manifest = parse_requirements("req/requirements.txt", text)
    assert [d.name for d in manifest.dependencies] == ["ok", "last"]
    (problem,) = manifest.problems
    assert (problem.file, problem.line, problem.column) == ("req/requirements.txt", 2, column)
    assert problem.message.startswith("invalid requirement")


def test_unbalanced_quotes_in_options_are_a_problem() -> None:
    manifest = parse_requirements("requirements.txt", "--index-url 'https://x.invalid\nflask\n")
    assert manifest.problems[0].line == 1
    assert [d.name for d in manifest.dependencies] == ["flask"]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("requirements.txt", Role.RUNTIME),
        ("requirements/base.txt", Role.RUNTIME),
        ("requirements-dev.txt", Role.DEV),
        ("dev-requirements.txt", Role.DEV),
        ("requirements/test.txt", Role.DEV),
        ("requirements_tests.txt", Role.DEV),
        ("requirements/lint.in", Role.DEV),
        ("docs/requirements.txt", Role.DEV),
        ("ci/requirements.txt", Role.DEV),
        ("requirements-typing.txt", Role.DEV),
        ("science/requirements.txt", Role.RUNTIME),
        ("requirements/testimony.txt", Role.RUNTIME),
    ],
)
def test_role_from_the_file_path(path: str, role: Role) -> None:
    (dep,) = parse_requirements(path, "flask\n").dependencies
    assert dep.role is role


def test_role_override_for_constraint_files() -> None:
    (dep,) = parse_requirements("constraints.txt", "flask<3\n", role=Role.DEV).dependencies
    assert dep.role is Role.DEV


def test_pip_compile_output_is_compiled_and_names_its_source() -> None:
    text = fixture_text("aio-libs__aiohttp__requirements__base.txt")
    result = parse_requirements_file("requirements/base.txt", text)
    assert result.compiled == CompiledHeader(
        "pip-compile",
        ("--allow-unsafe", "--output-file=requirements/base.txt", "--strip-extras", "requirements/base.in"),
        ("requirements/base.in",),
    )
    deps = result.manifest.dependencies
    assert len(deps) == 17
    assert {d.skip_reason for d in deps} == {"compiled"}
    aiodns = deps[0]
    assert (aiodns.name, aiodns.constraint, aiodns.marker) == (
        "aiodns",
        "==3.2.0",
        'sys_platform == "linux" or sys_platform == "darwin"',
    )
    assert result.manifest.problems == ()


def test_uv_compiled_file_with_hashes() -> None:
    text = fixture_text("pyca__cryptography__.github__requirements__uv-requirements.txt")
    result = parse_requirements_file(".github/requirements/uv-requirements.txt", text)
    assert result.compiled is not None and result.compiled.tool == "uv"
    assert result.compiled.sources == ("uv-requirements.in",)
    assert result.hash_pinned
    (dep,) = result.manifest.dependencies
    assert (dep.name, dep.constraint, dep.skip_reason) == ("uv", "==0.6.14", "compiled")
    assert text[dep.location.start : dep.location.end] == "==0.6.14"


def test_pip_documentation_example() -> None:
    text = fixture_text("pypa__pip__docs__html__reference__requirements-file-format.md__example.txt")
    result = parse_requirements_file("requirements.txt", text)
    assert result.manifest.problems == ()
    assert summary(result.manifest) == [
        ("pytest", "", "runtime", None, (), None, None),
        ("pytest-cov", "", "runtime", None, (), None, None),
        ("beautifulsoup4", "", "runtime", None, (), None, None),
        ("docopt", "== 0.6.1", "runtime", None, (), None, None),
        ("requests", ">= 2.8.1, == 2.8.*", "runtime", None, ("security",), 'python_version < "2.7"', None),
        ("urllib3", "", "runtime", None, (), None, "url"),
        ("numpy", "", "runtime", None, (), None, "local"),
        ("wxPython_Phoenix", "", "runtime", None, (), None, "url"),
    ]
    assert [i.path for i in result.includes] == ["other-requirements.txt", "constraints.txt"]


def test_real_files_with_markers_comments_and_editables() -> None:
    aiohttp = parse_requirements("requirements/test.in", fixture_text("aio-libs__aiohttp__requirements__test.in"))
    isal = by_name(aiohttp)["isal"]
    assert (isal.constraint, isal.marker, isal.role) == ("", 'python_version < "3.14"', Role.DEV)
    assert by_name(aiohttp)["proxy.py"].constraint == ">= 2.4.4rc5"
    fastapi = parse_requirements_file(
        "requirements-tests.txt", fixture_text("fastapi__fastapi__requirements-tests.txt")
    )
    assert [i.path for i in fastapi.includes] == ["requirements-docs-tests.txt"]
    assert by_name(fastapi.manifest)["coverage"].constraint == ">= 6.5.0,< 8.0"
    assert by_name(fastapi.manifest)["coverage"].extras == ("toml",)
    assert "fastapi" not in by_name(fastapi.manifest)
    assert all(d.role is Role.DEV for d in fastapi.manifest.dependencies)
    pip = parse_requirements("tests/requirements.txt", fixture_text("pypa__pip__tests__requirements.txt"))
    virtualenvs = [d for d in pip.dependencies if d.name == "virtualenv"]
    assert [(d.constraint, d.marker) for d in virtualenvs] == [
        ("< 20.0", "python_version < '3.10'"),
        (">= 20.0", "python_version >= '3.10'"),
    ]
    assert by_name(pip)["cffi"].marker == 'python_version > "3.12"'


def test_dispatch_on_file_name() -> None:
    assert parse_python_manifest("a/requirements-dev.txt", "x\n").kind == "requirements"
    assert parse_python_manifest("a/requirements/base.in", "x\n").kind == "requirements"
    assert parse_python_manifest("pyproject.toml", "").kind == "pyproject"
    assert parse_python_manifest("pkg/setup.cfg", "").kind == "setup.cfg"


def test_crlf_and_no_trailing_newline() -> None:
    text = "flask==1.0\r\ndjango>=4\r\nclick"
    manifest = parse_requirements("requirements.txt", text)
    assert [(d.name, d.constraint, d.location.line) for d in manifest.dependencies] == [
        ("flask", "==1.0", 1),
        ("django", ">=4", 2),
        ("click", "", 3),
    ]
    assert spans_hold_constraints(text, manifest)
    assert manifest.dependencies[2].location.start == len(text)


def test_compiled_header_with_a_custom_command() -> None:
    text = (
        "#\n# This file is autogenerated by pip-compile with Python 3.12\n# by the following command:\n"
        "#\n#    make lock\n#\nx==1\n"
    )
    assert compiled_header(text) == CompiledHeader("pip-compile", (), (), custom_command="make lock")
    assert compiled_header("# just a comment\nx==1\n") is None
