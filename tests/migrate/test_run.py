"""The allow-listed rewriters on small real-looking apps (tests/fixtures/migrate), with the real tools installed
by scripts/test (tests/support/rewriters.py): what each fixes, what it leaves, and the confinement around it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from redis import Redis

from bot.migrate import rewriters as rw
from bot.migrate import run
from bot.migrate.model import Outcome
from bot.migrate.rewriters import Rewriter, Upgrade, floor_raised
from bot.migrate.run import migrate
from config.model import Migrations

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "migrate"
ALL = Migrations()
DJANGO = Upgrade("python", "django", "3.2.25", "5.0.14")
PYDANTIC = Upgrade("python", "pydantic", "1.10.13", "2.11.7")
NUMPY = Upgrade("python", "numpy", "1.26.4", "2.2.6")
REACT = Upgrade("npm", "react", "17.0.2", "18.3.1")


def app(tmp_path: Path, name: str) -> Path:
    work = tmp_path / name
    shutil.copytree(APPS / name, work)
    return work


def texts(work: Path) -> dict[str, str]:
    return {p.relative_to(work).as_posix(): p.read_text() for p in sorted(work.rglob("*")) if p.is_file()}


def timed(work: Path, upgrade: Upgrade, redis: Redis | None = None) -> tuple[Outcome, float]:
    started = time.monotonic()
    outcome = migrate(work, [upgrade], ALL, base="b" * 40, redis=redis)
    return outcome, time.monotonic() - started


def test_django_upgrade_fixes_url_ugettext_force_text_for_5_0(
    tmp_path: Path, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("django-upgrade")
    work = app(tmp_path, "django32")
    before = texts(work)
    outcome, _ = timed(work, DJANGO)
    assert texts(work) == before  # the tree given is left as it is: the copy is rewritten
    [m] = outcome.migrations
    assert m.rewriter == "django-upgrade" and m.tool.startswith("django-upgrade 1.")
    assert m.message == "Migrate code for django 5.0 (django-upgrade): 4 files"
    assert m.summary == "django-upgrade: 4 files"
    assert sorted(m.files) == ["shop/api.py", "shop/models.py", "shop/urls.py", "shop/views.py"]
    urls = m.files["shop/urls.py"]
    assert "from django.urls import include, path" in urls
    assert 'path("", views.index, name="index")' in urls
    assert 'path("items/<int:pk>/", views.item, name="item")' in urls
    views = m.files["shop/views.py"]
    assert "force_str(found.name)" in views and "gettext as _" in views and "ngettext(" in views
    assert "ugettext" not in m.files["shop/models.py"] and "gettext_lazy as _" in m.files["shop/models.py"]
    assert 'indexes = [models.Index(fields=["name", "price"])]' in m.files["shop/models.py"]  # index_together
    assert "vendor/old/compat.py" not in m.files  # vendored code is not rewritten
    assert dict(m.notes)["shop/urls.py"].startswith("+")
    assert outcome.problems == ()


def test_django_target_version_is_the_highest_the_tool_knows_at_most_the_target() -> None:
    steps = rw.by_name("django-upgrade").steps
    scratch = Path("/nonexistent")
    assert steps(DJANGO, rw.Invocation(("a.py",), scratch))[0][:2] == ("--target-version", "5.0")
    later = Upgrade("python", "django", "4.2.0", "9.1.0")
    assert steps(later, rw.Invocation(("a.py",), scratch))[0][1] == "6.1"
    assert not rw.by_name("django-upgrade").applies(Upgrade("python", "django", "5.0.1", "5.0.14"))  # a patch
    assert rw.by_name("django-upgrade").applies(Upgrade("python", "django", "4.2.9", "5.0.1"))


def test_bump_pydantic_migrates_config_validators_and_optional_defaults(
    tmp_path: Path, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("bump-pydantic")
    work = app(tmp_path, "pydantic1")
    outcome, _ = timed(work, PYDANTIC)
    [m] = outcome.migrations
    assert sorted(m.files) == ["accounts/models.py"]
    models = m.files["accounts/models.py"]
    assert "model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)" in models
    assert '@field_validator("name")\n    @classmethod' in models
    assert "zip_code: Optional[str] = None" in models and "address: Optional[Address] = None" in models
    assert "class Config" not in models
    assert not any(p.name == "bump-pydantic.log" for p in work.rglob("*"))


def test_ruff_numpy2_fixes_removed_aliases_and_lists_what_it_left(
    tmp_path: Path, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("ruff-numpy2")
    work = app(tmp_path, "numpy1")
    outcome, _ = timed(work, NUMPY)
    [m] = outcome.migrations
    summary = m.files["stats/summary.py"]
    for old, new in (("np.NaN", "np.nan"), ("np.float_", "np.float64"), ("np.Inf", "np.inf")):
        assert old not in summary and new in summary
    assert "np.prod(" in summary and "np.complex128" in summary
    assert "np.in1d(values, allowed)" in summary  # ruff's fix changes behaviour, so it is not applied
    assert [line.split(": ", 1)[1][:6] for line in m.left] == ["NPY201"]
    assert m.left[0].startswith("stats/summary.py:")


def test_react_codemod_turns_reactdom_render_into_create_root(
    tmp_path: Path, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("react-18-codemod")
    work = app(tmp_path, "react17")
    outcome, _ = timed(work, REACT)
    [m] = outcome.migrations
    assert m.message == "Migrate code for react 18.3 (react-18-codemod): 2 files"  # Search.js: a 19 break
    assert sorted(m.files) == ["src/index.js", "src/legacy.js"]  # not node_modules
    index = m.files["src/index.js"]
    assert 'import { createRoot } from "react-dom/client";' in index
    assert "const root = createRoot(document.getElementById('root'));" in index
    assert "root.render(" in index and "ReactDOM.render" not in index
    assert "createRoot(node)" in m.files["src/legacy.js"]


def test_pyupgrade_runs_when_the_python_floor_is_raised(tmp_path: Path, rewriter: Callable[[str], Rewriter]) -> None:
    rewriter("ruff-pyupgrade")
    work = tmp_path / "repo"
    work.mkdir()
    (work / "lib.py").write_text(
        "from typing import List, Optional\n\n\nclass A(object):\n    pass\n\n\n"
        "def f(x: Optional[List[int]]) -> str:\n    return '{}'.format(x)\n"
    )
    raised = floor_raised('[project]\nrequires-python = ">=3.8"\n', '[project]\nrequires-python = ">=3.10"\n')
    assert raised == ("3.8", "3.10")
    outcome = migrate(work, [Upgrade("python", "python", *raised)], ALL, base="c" * 40)
    [m] = outcome.migrations
    assert m.message == "Migrate code for python 3.10 (ruff-pyupgrade): 1 file"
    assert "def f(x: list[int] | None) -> str:" in m.files["lib.py"] and "class A:" in m.files["lib.py"]
    assert floor_raised('[project]\nrequires-python = ">=3.10"\n', '[project]\nrequires-python = ">=3.10"\n') is None


def test_rewriters_run_in_turn_on_one_copy_and_the_config_chooses_them(
    tmp_path: Path, rewriter: Callable[[str], Rewriter]
) -> None:
    rewriter("ruff-numpy2")
    rewriter("ruff-pyupgrade")
    work = app(tmp_path, "numpy1")
    floor = Upgrade("python", "python", "3.8", "3.10")
    both = migrate(work, [NUMPY, floor], ALL, base="d" * 40)
    assert [m.rewriter for m in both.migrations] == ["ruff-numpy2"]  # nothing for pyupgrade in this app
    [problem] = both.problems
    assert problem.startswith("ruff-pyupgrade (ruff 0.") and problem.endswith("for python 3.10: changed nothing")
    denied = migrate(work, [NUMPY], Migrations(deny=("ruff-numpy2",)), base="d" * 40)
    assert denied == Outcome()
    assert migrate(work, [NUMPY], Migrations(enabled=False), base="d" * 40) == Outcome()
    assert migrate(work, [NUMPY], Migrations(allow=("django-upgrade",)), base="d" * 40) == Outcome()


def test_a_failing_rewriter_yields_no_migration_and_leaves_the_copy_as_it_was(
    tmp_path: Path, rewriter: Callable[[str], Rewriter], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = rewriter("ruff-numpy2")

    def fails(upgrade: Upgrade, invocation: rw.Invocation) -> tuple[tuple[str, ...], ...]:
        # a real fix first, then a command the tool rejects: the fix must not survive
        return (real.steps(upgrade, invocation)[0], ("check", "--select", "NOPE999", "."))

    monkeypatch.setattr(rw, "REWRITERS", (replace(real, steps=fails),))
    work = app(tmp_path, "numpy1")
    outcome = migrate(work, [NUMPY], ALL, base="e" * 40)
    assert outcome.migrations == ()
    [problem] = outcome.problems
    assert problem.startswith("ruff-numpy2 (ruff ") and "failed (exit status 2)" in problem and "NOPE999" in problem


def test_a_rewriter_past_its_time_limit_is_killed_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "survived"
    status, _ = run.run_confined(["sh", "-c", f"(sleep 3; touch {marker}) & sleep 30"], tmp_path, tmp_path, timeout=0.5)
    assert status is None
    time.sleep(3.5)
    assert not marker.exists()  # the background child was killed with the group


def test_rewriters_have_no_network_and_no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", "-----BEGIN secret")
    monkeypatch.setenv("DEPUP_PYPI_URL", "http://127.0.0.1:1/pypi")
    monkeypatch.setenv("REDIS_URL", "redis://secret")
    probe = (
        "import os, socket\n"
        "print(sorted(k for k in os.environ if k.startswith(('GITHUB', 'DEPUP', 'REDIS'))))\n"
        "s = socket.socket()\n"
        "s.settimeout(2)\n"
        "try:\n    s.connect(('1.1.1.1', 53)); print('connected')\n"
        "except OSError as e:\n    print('no network', e.errno)\n"
    )
    status, out = run.run_confined([shutil.which("python3") or "python3", "-c", probe], tmp_path, tmp_path)
    assert status == 0, out
    assert out.splitlines()[0] == "[]"
    assert out.splitlines()[1].startswith("no network")
    assert run.can_unshare()  # this host has network namespaces (the fallback is the dead proxy)


def test_links_and_escapes_are_not_followed_or_committed(tmp_path: Path, rewriter: Callable[[str], Rewriter]) -> None:
    rewriter("ruff-numpy2")
    outside = tmp_path / "outside.py"
    outside.write_text("import numpy as np\nx = np.NaN\n")
    work = app(tmp_path, "numpy1")
    (work / "stats" / "linked.py").symlink_to(outside)
    (work / "linkdir").symlink_to(tmp_path, target_is_directory=True)
    (work / "node_modules" / "pkg").mkdir(parents=True)
    (work / "node_modules" / "pkg" / "m.py").write_text("import numpy as np\nx = np.NaN\n")
    [m] = migrate(work, [NUMPY], ALL, base="f" * 40).migrations
    assert sorted(m.files) == ["stats/summary.py"]
    assert outside.read_text() == "import numpy as np\nx = np.NaN\n"


def test_results_are_cached_by_base_tool_and_files(
    tmp_path: Path, rewriter: Callable[[str], Rewriter], redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    rewriter("django-upgrade")
    work = app(tmp_path, "django32")
    first, _ = timed(work, DJANGO, redis_client)
    assert len(redis_client.keys("depup:migrate:*")) == 1
    ran: list[object] = []
    real = run._execute
    monkeypatch.setattr(run, "_execute", lambda *a: ran.append(a) or real(*a))
    again, _ = timed(work, DJANGO, redis_client)
    assert again == first and ran == []  # from the cache, the tool not run
    (work / "shop" / "views.py").write_text("from django.utils.encoding import force_text\n")
    changed, _ = timed(work, DJANGO, redis_client)
    assert len(ran) == 1 and changed.migrations[0].files["shop/views.py"].startswith("from django.utils.encoding")


def test_react_17_to_19_runs_both_codemods_in_turn(tmp_path: Path, rewriter: Callable[[str], Rewriter]) -> None:
    rewriter("react-18-codemod")
    rewriter("react-19-codemod")
    work = app(tmp_path, "react17")
    outcome = migrate(work, [Upgrade("npm", "react-dom", "17.0.2", "19.1.0")], ALL, base="9" * 40)
    first, second = outcome.migrations
    assert (first.rewriter, sorted(first.files)) == ("react-18-codemod", ["src/index.js", "src/legacy.js"])
    assert (second.rewriter, sorted(second.files)) == ("react-19-codemod", ["src/Search.js"])
    assert "ref={(ref) => {\n        this.refs.query = ref;" in second.files["src/Search.js"]
    assert second.message == "Migrate code for react-dom 19.1 (react-19-codemod): 1 file"


def test_the_repository_cannot_shadow_a_tool_module(tmp_path: Path, rewriter: Callable[[str], Rewriter]) -> None:
    """django-upgrade imports tokenize_rt and runs in the copy: a tokenize_rt.py of the repository must not be
    what it imports (the tool runs with ``python -I``, the copy is not on its path)."""
    rewriter("django-upgrade")
    work = app(tmp_path, "django32")
    marker = tmp_path / "imported"
    (work / "tokenize_rt.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    (work / "django_upgrade.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    [m] = migrate(work, [DJANGO], ALL, base="8" * 40).migrations
    assert len(m.files) == 4 and not marker.exists()


def test_without_network_namespaces_the_proxies_are_dead_and_a_warning_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(run, "can_unshare", lambda: False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    probe = "import os; print(os.environ['HTTPS_PROXY'], os.environ['http_proxy'], os.environ['HOME'])"
    status, out = run.run_confined([shutil.which("python3") or "python3", "-c", probe], tmp_path, tmp_path / "h")
    assert status == 0, out
    assert out.split() == ["http://127.0.0.1:9", "http://127.0.0.1:9", str(tmp_path / "h")]
    assert "no network namespace on this host" in caplog.text
