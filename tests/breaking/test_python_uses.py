"""Where a repository's own Python code uses what changed: real API diffs (replay registry) on small apps."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.breaking.model import ApiChange, ApiDiff, Breakage, Use
from bot.breaking.python_api import python_api_diff
from bot.breaking.python_uses import python_uses
from bot.risk.imports import MAX_FILE_BYTES
from tests.support.registry_server import RegistryServer

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "breaking"

MARKUP_REMOVED = "removed"
VERSION_DEPRECATED = (
    "deprecated: The '__version__' attribute is deprecated and will be removed in Flask 3.1. Use feature "
    "detection or 'importlib.metadat…"
)


def _app(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(APPS / name, root)
    return root


def _diff(changes: list[tuple[str, str, str]]) -> ApiDiff:
    return ApiDiff("python", "flask", "2.3.3", "3.0.0", analysed=True, changes=tuple(ApiChange(*c) for c in changes))  # type: ignore[arg-type]


def test_the_uses_of_what_flask_3_removed_in_a_flask_2_app(registry_server: RegistryServer, tmp_path: Path) -> None:
    root = _app(tmp_path, "flask2-app")
    # copies of the package and build output, which are not the project's code
    for vendored in (".venv/lib/python3.11/site-packages/flask/__init__.py", "build/lib/notes/views.py"):
        (root / vendored).parent.mkdir(parents=True)
        (root / vendored).write_text("from flask import Markup, escape\n")
    (root / "env-with-any-name").mkdir()
    (root / "env-with-any-name" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "env-with-any-name" / "uses.py").write_text("import flask\nflask.Markup\n")
    (root / "notes" / "huge.py").write_text("import flask\nflask.escape\n" + "#" * MAX_FILE_BYTES)
    diff = python_api_diff("flask", "2.2.5", "3.0.0")
    assert diff.analysed, diff.why_not

    uses, scanned = python_uses(root, "flask", diff)

    json_encoder = ("flask.json.JSONEncoder", "removed")
    locked = ("flask.helpers.locked_cached_property", "removed")
    assert [(u.file, u.line, u.symbol, u.detail) for u in uses] == [
        ("notes/jsonenc.py", 3, *json_encoder),  # from flask.json import JSONEncoder
        ("notes/jsonenc.py", 6, *json_encoder),  # class NotesJSONEncoder(JSONEncoder)
        ("notes/render.py", 3, *locked),  # from flask.helpers import locked_cached_property
        ("notes/render.py", 9, "flask.Markup", MARKUP_REMOVED),  # flask.Markup(...)
        ("notes/render.py", 14, "flask.__version__", VERSION_DEPRECATED),  # fl.__version__ (import flask as fl)
        ("notes/render.py", 21, *locked),  # @locked_cached_property
        ("notes/views.py", 1, "flask.Markup", MARKUP_REMOVED),  # from flask import ..., Markup, escape, json
        ("notes/views.py", 1, "flask.escape", "removed"),
        ("notes/views.py", 13, "flask.Markup", MARKUP_REMOVED),
        ("notes/views.py", 20, "flask.escape", "removed"),
    ]
    # ``from flask import json`` / ``json.dumps``, the Markup of markupsafe (render.py:10), the generated
    # notes_pb2.py, the virtualenvs, build/ and the file over the size bound are not uses
    assert scanned == 5  # notes/__init__, jsonenc, render, views and wsgi
    assert [u for u in uses if u.symbol in {c.symbol for c in diff.breaking}] == [
        u for u in uses if u.symbol != "flask.__version__"
    ]


def test_the_uses_of_what_click_8_1_removed_and_changed(registry_server: RegistryServer, tmp_path: Path) -> None:
    root = _app(tmp_path, "click-app")
    diff = python_api_diff("click", "8.0.4", "8.1.0")

    uses, scanned = python_uses(root, "click", diff)

    assert scanned == 1
    assert uses == (
        Use("notes_cli.py", 6, "click.get_terminal_size", "removed"),  # from click import get_terminal_size
        Use("notes_cli.py", 18, "click.get_terminal_size", "removed"),
        Use("notes_cli.py", 32, "click.get_os_args", "removed"),
        # click.Option(["--quiet"], is_flag=True) relies on show_default's default; --verbose passes it
        Use("notes_cli.py", 36, "click.Option", "default of 'show_default' changed from False to None"),
    )


def test_keyword_parameters_of_calls_on_names_from_the_package(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import flask\n"
        "from flask import Flask as F\n"
        "from flask.json import dumps\n"
        "app = flask.Flask(__name__, static_path='/s')\n"  # 4: removed keyword
        "other = F('x', static_path='/t')\n"  # 5: through an alias
        "plain = flask.Flask(__name__)\n"  # 6: not passed
        "app.run(debug=True)\n"  # 7: a method of an instance of flask.Flask
        "dumps({}, sort_keys=True)\n"  # 8: default of sort_keys changed, passed
        "dumps({})\n"  # 9: default changed, not passed: relies on it
        "dumps({}, **options)\n"  # 10: may pass it
        "flask.send_file('x', 'text/plain')\n"  # 11: a positional argument moved
        "flask.send_file('x')\n"  # 12: not by position
    )
    diff = _diff(
        [
            ("changed", "flask.Flask", "parameter 'static_path' removed"),
            ("changed", "flask.Flask.run", "parameter 'debug' removed"),
            ("changed", "flask.json.dumps", "default of 'sort_keys' changed from False to True"),
            ("changed", "flask.send_file", "parameter 'mimetype' moved from position 1 to 2"),
            # where the call passes it is not known: no use claimed
            ("changed", "flask.json.dumps", "parameter 'obj' became keyword only (was positional or keyword)"),
        ]
    )

    uses, scanned = python_uses(tmp_path, "flask", diff)

    assert scanned == 1
    assert [(u.line, u.symbol) for u in uses] == [
        (4, "flask.Flask"),
        (5, "flask.Flask"),
        (7, "flask.Flask.run"),
        (9, "flask.json.dumps"),
        (11, "flask.send_file"),
    ]


def test_members_of_instances_whose_type_is_plain(tmp_path: Path) -> None:
    """``engine = create_engine(...)`` (the function's return annotation: ApiDiff.returns), ``frame: pd.DataFrame``
    (an annotation), ``user = User()`` (a class called): then ``engine.execute``, ``frame.append`` and
    ``user.save`` are uses. Rebinding the name, or a name of the project's own, ends it."""
    (tmp_path / "db.py").write_text(
        "import pandas as pd\n"
        "from sqlalchemy import create_engine\n"
        "engine = create_engine('sqlite://')\n"
        "engine.execute('SELECT 1')\n"  # 4: Engine.execute removed
        "def add(frame: pd.DataFrame, other) -> pd.DataFrame:\n"
        "    other.append(frame)\n"  # 6: not annotated: unknown
        "    return frame.append(other)\n"  # 7: DataFrame.append removed
        "table: pd.DataFrame = load()\n"
        "table.append(1)\n"  # 9
        "engine = object()\n"
        "engine.execute('SELECT 2')\n"  # 11: rebound: no longer an Engine
        "engine\n"  # 12: the bare name is no use
    )
    diff = ApiDiff(
        "python", "sqlalchemy", "1.4.52", "2.0.29", analysed=True,
        changes=(
            ApiChange("removed", "sqlalchemy.engine.Engine.execute", "removed"),
            ApiChange("removed", "pandas.DataFrame.append", "removed"),
        ),
        returns=(("sqlalchemy.create_engine", "sqlalchemy.engine.Engine"),),
    )  # fmt: skip
    uses, _ = python_uses(tmp_path, "sqlalchemy", diff)
    assert [(u.line, u.symbol) for u in uses] == [
        (4, "sqlalchemy.engine.Engine.execute"),
        (7, "pandas.DataFrame.append"),
        (9, "pandas.DataFrame.append"),
    ]


def test_a_required_parameter_passed_by_position_is_passed(tmp_path: Path) -> None:
    """SQLAlchemy 2.0's Table(name, metadata, *args) where 1.4 took (*args, **kw): griffe reports both as
    required parameters added; a call passing them by position passes them (it was the calibration's only
    'use' in the SQLAlchemy app, a wrong one)."""
    (tmp_path / "models.py").write_text(
        "from sqlalchemy import MetaData, Table\n"
        "metadata = MetaData()\n"
        "users = Table('users', metadata)\n"  # 3: both passed by position
        "orders = Table('orders')\n"  # 4: metadata not passed
        "items = Table(name='items')\n"  # 5: metadata not passed either
        "rows = Table(*spec)\n"  # 6: may pass anything
    )
    diff = _diff(
        [
            ("changed", "sqlalchemy.Table", "required parameter 'name' added at position 1"),
            ("changed", "sqlalchemy.Table", "required parameter 'metadata' added at position 2"),
        ]
    )
    uses, _ = python_uses(tmp_path, "sqlalchemy", diff)
    assert [(u.line, u.detail) for u in uses] == [
        (4, "required parameter 'metadata' added at position 2"),
        (5, "required parameter 'metadata' added at position 2"),
    ]


def test_imports_attribute_chains_rebinding_and_star_imports(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "import flask.json\n"  # 1: the module is not removed, its member is
        "import flask.json as fj\n"
        "from flask import *\n"
        "x = flask.json.JSONEncoder\n"  # 4
        "y = fj.JSONEncoder\n"  # 5
        "z = Markup('<b>')\n"  # 6: through the star import
        "flask = None\n"
        "w = flask.Markup\n"  # 8: rebound, no longer the package
        "from flask.scaffold import Scaffold\n"  # 9: a removed module
        "from .flask import Markup\n"  # 10: a relative import is the repository's own module
    )
    diff = _diff(
        [
            ("removed", "flask.Markup", "removed"),
            ("removed", "flask.json.JSONEncoder", "removed"),
            ("removed", "flask.scaffold", "removed"),
        ]
    )

    uses, _ = python_uses(tmp_path, "flask", diff)

    assert [(u.file, u.line, u.symbol) for u in uses] == [
        ("pkg/a.py", 4, "flask.json.JSONEncoder"),
        ("pkg/a.py", 5, "flask.json.JSONEncoder"),
        ("pkg/a.py", 6, "flask.Markup"),
        ("pkg/a.py", 9, "flask.scaffold"),
    ]


def test_no_changes_no_uses_and_files_still_counted(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import flask\nflask.Markup\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.py").write_text("import flask\n")
    assert python_uses(tmp_path, "flask", _diff([])) == ((), 2)
    unanalysed = ApiDiff("python", "flask", "2.3.3", "3.0.0", analysed=False, why_not="timed out")
    assert python_uses(tmp_path, "flask", unanalysed) == ((), 2)
    # a file that does not parse is counted, and skipped
    assert python_uses(tmp_path, "flask", _diff([("removed", "flask.Markup", "removed")])) == (
        (Use("a.py", 2, "flask.Markup", "removed"),),
        2,
    )


def test_a_change_is_found_through_every_public_path_of_its_object(tmp_path: Path) -> None:
    """urllib3 2 removed ``Retry(method_whitelist=)``; the diff names ``urllib3.Retry``, apps write any spelling."""
    (tmp_path / "http.py").write_text(
        "import urllib3\n"
        "from urllib3.util.retry import Retry\n"
        "from urllib3 import util\n"
        "import urllib3.util.retry as retry_module\n"
        "a = Retry(total=3, method_whitelist=['GET'])\n"  # 5
        "b = util.Retry(method_whitelist=None)\n"  # 6
        "c = retry_module.Retry(total=1)\n"  # 7: the keyword not passed
        "d = urllib3.Retry(method_whitelist=[])\n"  # 8
        "e = urllib3.util.retry.Retry.DEFAULT\n"  # 9: a removed member, through the defining module
    )
    aliases = ("urllib3.util.Retry", "urllib3.util.retry.Retry")
    diff = ApiDiff(
        "python", "urllib3", "1.26.18", "2.2.1", analysed=True,
        changes=(
            ApiChange("removed", "urllib3.Retry.DEFAULT", "removed", tuple(f"{a}.DEFAULT" for a in aliases)),
            ApiChange("changed", "urllib3.Retry", "parameter 'method_whitelist' removed", aliases),
        ),
    )  # fmt: skip

    uses, scanned = python_uses(tmp_path, "urllib3", diff)

    assert scanned == 1
    assert uses == (
        Use("http.py", 5, "urllib3.Retry", "parameter 'method_whitelist' removed"),
        Use("http.py", 6, "urllib3.Retry", "parameter 'method_whitelist' removed"),
        Use("http.py", 8, "urllib3.Retry", "parameter 'method_whitelist' removed"),
        Use("http.py", 9, "urllib3.Retry.DEFAULT", "removed"),
    )
    breakage = Breakage(diff, uses, scanned)
    assert breakage.checked == 2  # two changes, however many spellings each has
    assert breakage.breaking_uses == uses
