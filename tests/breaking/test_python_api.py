"""The static public-API diff of Python packages, on real releases served by the replay registry."""

from __future__ import annotations

import io
import json
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from bot.breaking.fetch import MAX_RELEASE_BYTES, ReleaseFile
from bot.breaking.model import ApiChange, ApiDiff
from bot.breaking.python_api import choose_file, python_api_diff
from bot.breaking.unpack import MAX_UNPACKED_BYTES, unpack
from tests.breaking.test_python_deprecations import DJANGO_4_2_TIMEZONE
from tests.support.registry_server import FIXTURES, Fault, RegistryServer

FILES = FIXTURES / "files"
BLUEPRINT_TYPE_VARIABLES = (
    "after_request", "before_request", "error_handler", "teardown", "template_context_processor",
    "template_filter", "template_global", "template_test", "url_defaults", "url_value_preprocessor",
)  # fmt: skip


def _symbols(diff: ApiDiff, kind: str) -> list[str]:
    return [c.symbol for c in diff.changes if c.kind == kind]


def _change(diff: ApiDiff, symbol: str) -> ApiChange:
    (change,) = [c for c in diff.changes if c.symbol == symbol]
    return change


def test_flask_3_0_removes_markup_and_escape_that_2_3_deprecated(registry_server: RegistryServer) -> None:
    diff = python_api_diff("Flask", "2.3.3", "3.0.0")

    assert diff.analysed, diff.why_not
    assert (diff.ecosystem, diff.package, diff.current, diff.target) == ("python", "flask", "2.3.3", "3.0.0")
    assert diff.source == "wheels flask-2.3.3-py3-none-any.whl -> flask-3.0.0-py3-none-any.whl"
    assert _symbols(diff, "removed") == [
        "flask.Flask.got_first_request",
        "flask.Markup",
        "flask.blueprints.DeferredSetupFunction",
        *(f"flask.blueprints.T_{name}" for name in BLUEPRINT_TYPE_VARIABLES),
        "flask.escape",
        "flask.helpers.is_ip",
        "flask.helpers.locked_cached_property",
        "flask.scaffold",
        "flask.signals.signals_available",
        "flask.signals_available",
    ]
    # Markup was provided by flask 2.3's module __getattr__ with a warning; 3.0 provides it no more
    assert _change(diff, "flask.Markup").detail == (
        "removed (deprecated before: 'flask.Markup' is deprecated and will be removed in Flask 2.4. "
        "Import 'markupsafe.Markup' instead.)"
    )
    assert _symbols(diff, "changed") == []  # url_for's ``self, /`` is no caller's concern
    assert [(c.symbol, c.detail) for c in diff.changes if c.kind == "deprecated"] == [
        (
            "flask.__version__",
            "deprecated: The '__version__' attribute is deprecated and will be removed in Flask 3.1. Use feature "
            "detection or 'importlib.metadat…",
        )
    ]
    assert [c.symbol for c in diff.breaking] == _symbols(diff, "removed")
    assert registry_server.count("python", "flask") == 4  # two release documents, two wheels


def test_names_moved_into_a_warning_module_getattr_are_deprecated_not_removed(
    registry_server: RegistryServer,
) -> None:
    diff = python_api_diff("flask", "2.2.5", "2.3.3")

    assert diff.analysed, diff.why_not
    assert diff.source == "wheels Flask-2.2.5-py3-none-any.whl -> flask-2.3.3-py3-none-any.whl"
    removed = _symbols(diff, "removed")
    assert "flask.Markup" not in removed and "flask.escape" not in removed
    assert _change(diff, "flask.Markup") == ApiChange(
        "deprecated",
        "flask.Markup",
        "deprecated: 'flask.Markup' is deprecated and will be removed in Flask 2.4. "
        "Import 'markupsafe.Markup' instead.",
    )
    assert _change(diff, "flask.escape").kind == "deprecated"
    # the Flask 2.3 removals, and the deprecations it added in function bodies
    assert {"flask.json.JSONEncoder", "flask.json.JSONDecoder", "flask.Flask.before_first_request"} <= set(removed)
    assert {"flask.helpers.is_ip", "flask.helpers.locked_cached_property", "flask.Flask.got_first_request"} <= set(
        _symbols(diff, "deprecated")
    )
    assert _change(diff, "flask.helpers.is_ip").detail == (
        "deprecated: The 'is_ip' function is deprecated and will be removed in Flask 2.4."
    )


def test_click_8_1_removes_a_parameter_and_changes_defaults_and_positions(registry_server: RegistryServer) -> None:
    diff = python_api_diff("click", "8.0.4", "8.1.0")

    assert diff.analysed, diff.why_not
    assert [(c.kind, c.symbol, c.detail) for c in diff.changes] == [
        ("removed", "click.MultiCommand.resultcallback", "removed"),  # once, not per subclass (Group, ...)
        ("removed", "click.get_os_args", "removed"),
        ("removed", "click.get_terminal_size", "removed"),
        ("changed", "click.Option", "default of 'show_default' changed from False to None"),
        ("changed", "click.Parameter", "parameter 'autocompletion' removed"),
        ("changed", "click.Path", "parameter 'allow_dash' moved from position 7 to 8"),
        ("changed", "click.Path", "parameter 'path_type' moved from position 8 to 9"),
        ("changed", "click.Path", "parameter 'readable' moved from position 5 to 4"),
        ("changed", "click.Path", "parameter 'resolve_path' moved from position 6 to 7"),
        ("changed", "click.Path", "parameter 'writable' moved from position 4 to 5"),
    ]


def test_the_diff_is_deterministic_and_an_unchanged_release_has_no_changes(registry_server: RegistryServer) -> None:
    assert python_api_diff("click", "8.0.4", "8.1.0") == python_api_diff("click", "8.0.4", "8.1.0")
    same = python_api_diff("flask", "3.0.0", "3.0.0")
    assert same.analysed and same.changes == ()


def test_an_sdist_is_read_when_the_release_has_no_wheel(registry_server: RegistryServer) -> None:
    """The target as an sdist (``flask-3.0.0/src/flask/...``, built here from the recorded wheel's sources) gives
    the same diff as the wheel."""
    wheel = zipfile.ZipFile(FILES / "flask-3.0.0-py3-none-any.whl")
    sdist = io.BytesIO()
    with tarfile.open(fileobj=sdist, mode="w:gz") as tar:
        for name in sorted(n for n in wheel.namelist() if n.startswith("flask/")):
            data = wheel.read(name)
            info = tarfile.TarInfo(f"flask-3.0.0/src/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for extra in ("flask-3.0.0/tests/test_basic.py", "flask-3.0.0/setup.py"):
            info = tarfile.TarInfo(extra)
            tar.addfile(info, io.BytesIO(b""))
    _serve_only_sdist(registry_server, "flask", "3.0.0", sdist.getvalue())

    diff = python_api_diff("flask", "2.3.3", "3.0.0")

    assert diff.analysed, diff.why_not
    assert diff.source == "wheels flask-2.3.3-py3-none-any.whl -> flask-3.0.0.tar.gz"
    registry_server.reset()
    assert diff.changes == python_api_diff("flask", "2.3.3", "3.0.0").changes


# -- what cannot be analysed says why -------------------------------------------------------------------------------


def test_an_unknown_package_or_release_is_not_analysed(registry_server: RegistryServer) -> None:
    unknown = python_api_diff("no-such-package-depup", "1.0", "2.0")
    assert not unknown.analysed and unknown.changes == ()
    assert unknown.why_not is not None and "HTTP 404" in unknown.why_not

    # no document of this release, and the project's document does not list it
    missing = python_api_diff("flask", "2.3.3", "9.9.9")
    assert not missing.analysed
    assert missing.why_not == "flask 9.9.9 is not a release the registry lists"


def test_a_file_too_large_to_download_is_refused(registry_server: RegistryServer) -> None:
    registry_server.inject_file(
        "flask-3.0.0-py3-none-any.whl",
        Fault(status=200, body=b"\0" * (MAX_RELEASE_BYTES + 1), content_type="application/octet-stream"),
    )
    diff = python_api_diff("flask", "2.3.3", "3.0.0")
    assert not diff.analysed
    assert diff.why_not == "flask-3.0.0-py3-none-any.whl is larger than 20 MB (20 MB)"


def test_a_wheel_that_unpacks_too_large_is_refused(registry_server: RegistryServer) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("flask/__init__.py", b"#" * (MAX_UNPACKED_BYTES + 1))
    assert len(bomb.getvalue()) < 200_000
    registry_server.inject_file("flask-3.0.0-py3-none-any.whl", Fault(status=200, body=bomb.getvalue()))
    diff = python_api_diff("flask", "2.3.3", "3.0.0")
    assert not diff.analysed
    assert diff.why_not == "flask-3.0.0-py3-none-any.whl unpacks to more than 80 MB of Python sources"


def test_a_wheel_naming_a_path_outside_is_refused(registry_server: RegistryServer) -> None:
    escape = io.BytesIO()
    with zipfile.ZipFile(escape, "w") as wheel:
        wheel.writestr("flask/__init__.py", b"")
        wheel.writestr("flask/../../outside.py", b"print('escaped')")
    registry_server.inject_file("flask-3.0.0-py3-none-any.whl", Fault(status=200, body=escape.getvalue()))
    diff = python_api_diff("flask", "2.3.3", "3.0.0")
    assert not diff.analysed
    assert diff.why_not == (
        "flask-3.0.0-py3-none-any.whl names a path outside the archive ('flask/../../outside.py'); it was not unpacked"
    )


def test_symlinks_in_an_archive_are_not_created(tmp_path: Path) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        module = tarfile.TarInfo("pkg-1.0/pkg/__init__.py")
        module.size = 8
        tar.addfile(module, io.BytesIO(b"X = 1\n\n\n"))
        link = tarfile.TarInfo("pkg-1.0/pkg/secrets.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    unpacked = unpack(data.getvalue(), "pkg-1.0.tar.gz", tmp_path / "out")
    assert unpacked.modules == ("pkg",)
    assert unpacked.search_path == tmp_path / "out" / "pkg-1.0"
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "out").rglob("*"))
    assert files == ["out/pkg-1.0", "out/pkg-1.0/pkg", "out/pkg-1.0/pkg/__init__.py"]


def test_an_unreadable_sdist_is_not_analysed(registry_server: RegistryServer) -> None:
    _serve_only_sdist(registry_server, "flask", "3.0.0", b"this is not a tar archive")
    diff = python_api_diff("flask", "2.3.3", "3.0.0")
    assert not diff.analysed
    assert diff.why_not is not None
    assert diff.why_not.startswith("flask-3.0.0.tar.gz is not a readable tar archive")


def test_the_deadline_bounds_a_slow_download(registry_server: RegistryServer) -> None:
    registry_server.inject_file("flask-3.0.0-py3-none-any.whl", Fault(delay=3.0))
    started = time.monotonic()
    diff = python_api_diff("flask", "2.3.3", "3.0.0", deadline=time.monotonic() + 1.0)
    elapsed = time.monotonic() - started
    assert not diff.analysed
    assert diff.why_not is not None and "timed out" in diff.why_not
    assert elapsed < 2.5


def test_a_passed_deadline_reads_nothing(registry_server: RegistryServer) -> None:
    diff = python_api_diff("flask", "2.3.3", "3.0.0", deadline=time.monotonic() - 1)
    assert not diff.analysed
    assert diff.why_not == "the API diff ran out of time while listing the files of flask 2.3.3"
    assert registry_server.total_requests == 0


def _serve_only_sdist(server: RegistryServer, name: str, version: str, data: bytes) -> None:
    _serve_file(server, name, version, f"{name}-{version}.tar.gz", "sdist", data, "application/gzip")


def _serve_file(
    server: RegistryServer, name: str, version: str, filename: str, packagetype: str, data: bytes, content_type: str
) -> None:
    """Serve release ``version`` of ``name`` with one distribution file, ``data``."""
    url = f"{server.url}/packages/00/00/{filename}"
    document = {
        "info": {"name": name, "version": version},
        "urls": [{"filename": filename, "packagetype": packagetype, "size": len(data), "url": url}],
    }
    server.inject_release(name, version, Fault(status=200, body=json.dumps(document).encode()))
    server.inject_file(filename, Fault(status=200, body=data, content_type=content_type))


@pytest.mark.live
def test_live_flask_2_3_to_3_0() -> None:
    diff = python_api_diff("flask", "2.3.3", "3.0.0", deadline=time.monotonic() + 120)
    assert diff.analysed, diff.why_not
    assert {"flask.Markup", "flask.escape"} <= set(_symbols(diff, "removed"))


def test_symlink_entries_of_a_zip_are_not_created(tmp_path: Path) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as wheel:
        wheel.writestr("pkg/__init__.py", b"X = 1\n")
        link = zipfile.ZipInfo("pkg/secrets.py")
        link.external_attr = (0o120777) << 16  # a symlink, as zip tools store it
        wheel.writestr(link, "/etc/passwd")
    unpacked = unpack(data.getvalue(), "pkg-1.0-py3-none-any.whl", tmp_path)
    assert unpacked.modules == ("pkg",)
    assert sorted(p.name for p in (tmp_path / "pkg").iterdir()) == ["__init__.py"]


def test_the_analysed_code_is_never_run(registry_server: RegistryServer, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('imported')\n\ndef Markup(value):\n    return value\n"
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("flask/__init__.py", code)
        archive.writestr("flask/app.py", code)
        archive.writestr("flask-3.0.0.dist-info/top_level.txt", "flask\n")
    registry_server.inject_file("flask-3.0.0-py3-none-any.whl", Fault(status=200, body=wheel.getvalue()))

    diff = python_api_diff("flask", "2.3.3", "3.0.0")

    assert diff.analysed, diff.why_not
    assert not marker.exists()
    # read from the served wheel, not from the flask installed here: only its Markup function is left
    assert "flask.Markup" not in _symbols(diff, "removed")
    assert "flask.Flask" in _symbols(diff, "removed")


def test_the_file_read_is_a_pure_wheel_else_any_wheel_else_the_sdist() -> None:
    def files(*names: str) -> list[ReleaseFile]:
        kinds = {".whl": "bdist_wheel", ".gz": "sdist", ".zip": "sdist", ".egg": "bdist_egg"}
        return [ReleaseFile(n, f"https://registry.invalid/packages/{n}", kinds[Path(n).suffix], 1) for n in names]

    def chosen(*names: str) -> str | None:
        file = choose_file(files(*names))
        return file.filename if file else None

    assert chosen(
        "a-1.0.tar.gz", "a-1.0-cp311-cp311-win_amd64.whl", "a-1.0-py2.py3-none-any.whl", "a-1.0-py3-none-any.whl"
    ) == ("a-1.0-py3-none-any.whl")
    assert chosen("a-1.0.tar.gz", "a-1.0-cp311-cp311-win_amd64.whl", "a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl") == (
        "a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    )
    assert chosen("a-1.0.zip", "a-1.0.tar.gz", "a-1.0-py2.7.egg") == "a-1.0.tar.gz"
    assert chosen("a-1.0-py2.7.egg") is None


def test_an_sdist_with_a_flat_layout_names_its_packages_not_its_tests(tmp_path: Path) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name in ("a-1.0/setup.py", "a-1.0/a/__init__.py", "a-1.0/a/sub/mod.py", "a-1.0/tests/__init__.py",
                     "a-1.0/single.py", "a-1.0/docs/conf.py"):  # fmt: skip
            tar.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    unpacked = unpack(data.getvalue(), "a-1.0.tar.gz", tmp_path)
    assert unpacked.search_path == tmp_path / "a-1.0"
    assert unpacked.modules == ("a", "single")
    assert (tmp_path / "a-1.0" / "a" / "sub" / "__init__.py").is_file()  # a namespace portion, read as a package


def test_a_default_that_becomes_a_private_sentinel_is_no_change(tmp_path: Path) -> None:
    """SQLAlchemy 2.1's ``Column(default=_NoArg.NO_ARG)`` (was ``None``) means "not given" as before; a real
    default change (``False`` -> ``True``) is still one."""
    import griffe

    from bot.breaking.python_api import _detail

    for version, body in (
        ("old", "def column(name, default=None, strict=False): ...\n"),
        ("new", "class _NoArg:\n    NO_ARG = 0\n\ndef column(name, default=_NoArg.NO_ARG, strict=True): ...\n"),
    ):
        (tmp_path / version / "pkg").mkdir(parents=True)
        (tmp_path / version / "pkg" / "__init__.py").write_text(body)
    old = griffe.load("pkg", search_paths=[tmp_path / "old"], allow_inspection=False)
    new = griffe.load("pkg", search_paths=[tmp_path / "new"], allow_inspection=False)
    details = sorted(d for b in griffe.find_breaking_changes(old, new) if (d := _detail(b)) is not None)
    assert details == ["default of 'strict' changed from False to True"]


def _serve_wheel(server: RegistryServer, name: str, version: str, sources: dict[str, str]) -> None:
    """Serve a small pure wheel of ``name`` ``version`` holding ``sources`` (path -> text)."""
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in sources.items():
            archive.writestr(path, text)
        archive.writestr(f"{name}-{version}.dist-info/top_level.txt", f"{name}\n")
    filename = f"{name}-{version}-py3-none-any.whl"
    _serve_file(server, name, version, filename, "bdist_wheel", wheel.getvalue(), "application/zip")


# urllib3's layout: ``Retry`` is defined in ``util/retry.py`` and re-exported by ``util`` and by the package.
RETRY_1 = """
class Retry:
    def __init__(self, total=10, connect=None, method_whitelist=None, backoff_factor=0):
        self.total = total

    def sleep(self, response=None):
        pass


def parse_url(url):
    return url


def split_first(s, delims):
    return s
"""
RETRY_2 = """
class Retry:
    def __init__(self, total=10, connect=None, backoff_factor=0):
        self.total = total

    def sleep(self, response):
        pass


def parse_url(url):
    return url
"""
# ``import retrypkg as retrypkg`` there is a public path of the package itself: no name is spelled again under it
UTIL_1 = "import retrypkg as retrypkg\nfrom .retry import Retry, parse_url, split_first\n"
UTIL_2 = "import retrypkg as retrypkg\nfrom .retry import Retry, parse_url\n"


def test_a_change_carries_the_other_public_paths_of_its_object_and_is_counted_once(
    registry_server: RegistryServer,
) -> None:
    _serve_wheel(registry_server, "retrypkg", "1.0", {
        "retrypkg/__init__.py": "from .util.retry import Retry\nfrom .util import parse_url, split_first\n",
        "retrypkg/util/__init__.py": UTIL_1,
        "retrypkg/util/retry.py": RETRY_1,
    })  # fmt: skip
    _serve_wheel(registry_server, "retrypkg", "2.0", {
        "retrypkg/__init__.py": "from .util.retry import Retry\n",
        "retrypkg/util/__init__.py": UTIL_2,
        "retrypkg/util/retry.py": RETRY_2,
    })  # fmt: skip

    diff = python_api_diff("retrypkg", "1.0", "2.0")

    assert diff.analysed, diff.why_not
    retry = ("retrypkg.util.Retry", "retrypkg.util.retry.Retry")
    assert diff.changes == (
        # parse_url is gone from the package's top only: its other paths are still there, and are no uses
        ApiChange("removed", "retrypkg.parse_url", "removed"),
        # split_first is gone from all three places it could be written: one change, not three
        ApiChange(
            "removed", "retrypkg.split_first", "removed",
            ("retrypkg.util.split_first", "retrypkg.util.retry.split_first"),
        ),
        ApiChange("changed", "retrypkg.Retry", "parameter 'backoff_factor' moved from position 4 to 3", retry),
        ApiChange("changed", "retrypkg.Retry", "parameter 'method_whitelist' removed", retry),
        ApiChange(
            "changed", "retrypkg.Retry.sleep", "parameter 'response' became required at position 1",
            tuple(f"{path}.sleep" for path in retry),
        ),
    )  # fmt: skip
    assert diff.changes[3].paths == ("retrypkg.Retry", *retry)


# Django 4.2's django/utils/timezone.py, trimmed: ``utc`` comes from the module's __getattr__, with a warning.
TIMEZONE_4_2 = (
    DJANGO_4_2_TIMEZONE.replace(  # self-contained: the warning class defined in the module
        "from django.utils.deprecation import RemovedInDjango50Warning\n",
        "class RemovedInDjango50Warning(DeprecationWarning):\n    pass\n",
    )
    + "\n\ndef now():\n    pass\n"
)


def test_a_name_a_guarded_module_getattr_provided_is_removed_when_the_target_drops_it(
    registry_server: RegistryServer,
) -> None:
    _serve_wheel(registry_server, "tzpkg", "4.2", {"tzpkg/__init__.py": "", "tzpkg/timezone.py": TIMEZONE_4_2})
    _serve_wheel(
        registry_server, "tzpkg", "5.0", {"tzpkg/__init__.py": "", "tzpkg/timezone.py": "def now():\n    pass\n"}
    )

    diff = python_api_diff("tzpkg", "4.2", "5.0")

    assert diff.analysed, diff.why_not
    assert [c for c in diff.changes if c.symbol == "tzpkg.timezone.utc"] == [
        ApiChange(
            "removed",
            "tzpkg.timezone.utc",
            "removed (deprecated before: The django.utils.timezone.utc alias is deprecated. Please update your code "
            "to use datetime.timezone.utc instead.)",
        )
    ]


ENGINE_1 = """
class Engine:
    def execute(self, statement):
        return statement


def create_engine(url, **kwargs):
    return Engine()


def connect(url) -> "Engine":
    return Engine()
"""
ENGINE_2 = """
from typing import Optional


class Engine:
    def begin(self):
        return None


def create_engine(url: str, **kwargs) -> Engine:
    return Engine()


def connect(url) -> Optional[Engine]:
    return Engine()


def dispose(url) -> int:
    return 0
"""


def test_what_functions_return_is_read_from_either_release(registry_server: RegistryServer) -> None:
    """SQLAlchemy 1.4's create_engine has no return annotation, 2.0's says ``-> Engine``: either tells python_uses
    that ``engine = create_engine(...)`` is an Engine, named by the current release's public path."""
    for version, engine in (("1.0", ENGINE_1), ("2.0", ENGINE_2)):
        _serve_wheel(registry_server, "enginepkg", version, {
            "enginepkg/__init__.py": "from .engine.base import Engine, connect, create_engine\n",
            "enginepkg/engine/__init__.py": "",
            "enginepkg/engine/base.py": engine,
        })  # fmt: skip

    diff = python_api_diff("enginepkg", "1.0", "2.0")

    assert diff.analysed, diff.why_not
    assert ("removed", "enginepkg.Engine.execute") in [(c.kind, c.symbol) for c in diff.changes]
    assert list(diff.returns) == sorted(diff.returns)
    assert set(diff.returns) == set(  # under every public path a call can be written by
        (f"{module}.{function}", "enginepkg.Engine")
        for function in ("connect", "create_engine")
        for module in ("enginepkg", "enginepkg.engine.base")
    )
