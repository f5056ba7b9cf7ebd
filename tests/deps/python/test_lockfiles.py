"""Lockfile regeneration against a local wheel directory (no network), plus one live check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.deps.apply import Selected, apply_updates
from bot.deps.proposals import Update
from bot.deps.python import lockfiles, parse_pyproject, regenerate_lock
from bot.deps.python.lockfiles import REFRESH_ALL, _mask, drop_new_option_lines, lock_kind
from bot.deps.python.pipconfig import pip_index_settings, uv_index_env
from tests.deps.python.conftest import HEADER


def tool(name: str) -> None:
    if shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])) is None:
        pytest.skip(f"{name} is not installed")


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def seed_uv_project(repo: Path, env: dict[str, str], dependencies: str) -> None:
    """A project with a real uv.lock, locked while alpha was held below 1.1."""
    repo.mkdir(parents=True, exist_ok=True)
    pyproject = '[project]\nname = "svc"\nversion = "0.1.0"\nrequires-python = ">=3.9"\ndependencies = [{}]\n'
    (repo / "pyproject.toml").write_text(pyproject.format('"alpha>=1.0,<1.1", "beta>=1.0"'))
    uv = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    assert uv is not None
    subprocess.run([uv, "lock"], cwd=repo, env=env, check=True, capture_output=True, timeout=60)
    (repo / "pyproject.toml").write_text(pyproject.format(dependencies))


def test_uv_lock_moves_only_the_named_package(tmp_path: Path, offline_env: dict[str, str]) -> None:
    tool("uv")
    repo = tmp_path / "repo"
    seed_uv_project(repo / "svc", offline_env, '"alpha>=1.0,<2", "beta>=1.0"')
    (repo / ".git").mkdir()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert 'name = "alpha"\nversion = "1.0"' in (repo / "svc" / "uv.lock").read_text()
    before = snapshot(repo)
    result = regenerate_lock(repo, "svc/pyproject.toml", "svc/uv.lock", ["alpha==1.1"], 60, env=offline_env)
    assert result.ok, result.problem
    assert result.tool == "uv"
    assert result.command[1:] == ("lock", "--upgrade-package", "alpha==1.1")
    assert result.text is not None and 'name = "alpha"\nversion = "1.1"' in result.text
    assert 'name = "beta"\nversion = "1.5"' in result.text
    assert snapshot(repo) == before, "the checkout is never modified"


def test_uv_lock_refresh_moves_every_package(tmp_path: Path, offline_env: dict[str, str]) -> None:
    tool("uv")
    repo = tmp_path / "repo"
    seed_uv_project(repo, offline_env, '"alpha>=1.0,<2", "beta>=1.0"')
    assert 'name = "alpha"\nversion = "1.0"' in (repo / "uv.lock").read_text()
    result = regenerate_lock(repo, "pyproject.toml", "uv.lock", [REFRESH_ALL], 60, env=offline_env)
    assert result.ok, result.problem
    assert result.command[1:] == ("lock", "--upgrade")
    assert result.text is not None and 'name = "alpha"\nversion = "1.1"' in result.text


def test_missing_lockfile_is_reported(tmp_path: Path) -> None:
    result = regenerate_lock(tmp_path, "pyproject.toml", "uv.lock", [], 5)
    assert result.problem is not None and result.problem.startswith("cannot read uv.lock")


def test_pip_compile_keeps_its_header_and_leaks_no_machine_options(tmp_path: Path, offline_env: dict[str, str]) -> None:
    tool("pip-compile")
    repo = tmp_path / "repo"
    (repo / "requirements").mkdir(parents=True)
    (repo / "requirements" / "base.in").write_text("alpha==1.1\nbeta\n")
    compiled = HEADER.format(args="--output-file=requirements/base.txt requirements/base.in") + (
        "alpha==1.0\n    # via\n    #   -r requirements/base.in\n    #   beta\n"
        "beta==1.5\n    # via -r requirements/base.in\n"
    )
    (repo / "requirements" / "base.txt").write_text(compiled)
    assert lock_kind("requirements/base.txt", compiled) == "pip-compile"
    result = regenerate_lock(
        repo, "requirements/base.in", "requirements/base.txt", ["alpha==1.1"], 120, env=offline_env
    )
    assert result.ok, result.problem
    assert result.text is not None
    assert "#    pip-compile --output-file=requirements/base.txt requirements/base.in\n#\nalpha==1.1\n" in result.text
    assert "alpha==1.1\n" in result.text and "beta==1.5\n" in result.text
    assert "--find-links" not in result.text and "--only-binary" not in result.text
    assert (repo / "requirements" / "base.txt").read_text() == compiled


def test_uv_pip_compile_runs_from_the_directory_named_in_its_header(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    tool("uv")
    repo = tmp_path / "repo"
    folder = repo / ".github" / "requirements"
    folder.mkdir(parents=True)
    (folder / "tools.in").write_text("alpha\n")
    (folder / "tools.txt").write_text(
        "# This file was autogenerated by uv via the following command:\n"
        "#    uv pip compile --generate-hashes tools.in -o tools.txt\n"
        "alpha==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n"
        "    # via -r tools.in\n"
    )
    result = regenerate_lock(
        repo, ".github/requirements/tools.in", ".github/requirements/tools.txt", ["alpha"], 60, env=offline_env
    )
    assert result.ok, result.problem
    assert result.tool == "uv pip compile"
    assert result.text is not None and "alpha==2.0" in result.text and "--hash=sha256:" in result.text


def test_timeout_kills_the_tool_and_reports(tmp_path: Path, offline_env: dict[str, str]) -> None:
    tool("uv")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\ndependencies = ["alpha"]\n')
    (repo / "uv.lock").write_text("version = 1\n")
    result = regenerate_lock(repo, "pyproject.toml", "uv.lock", ["alpha"], 0.005, env=offline_env)
    assert (result.ok, result.text) == (False, None)
    assert result.problem == "uv failed: timed out after 0.005 s"


def test_failure_reports_the_stderr_tail(tmp_path: Path, offline_env: dict[str, str]) -> None:
    tool("uv")
    repo = tmp_path / "repo"
    seed_uv_project(repo, offline_env, '"alpha>=9"')
    result = regenerate_lock(repo, "pyproject.toml", "uv.lock", [], 60, env=offline_env)
    assert (result.ok, result.text) == (False, None)
    assert result.problem is not None and result.problem.startswith("uv failed: exit status")
    assert "alpha" in result.problem


def test_credentials_in_urls_are_masked() -> None:
    assert (
        _mask("GET https://user:s3cret@links.invalid/simple/ failed") == "GET https://***@links.invalid/simple/ failed"
    )
    assert _mask("token only https://t0ken@host.invalid/x") == "token only https://***@host.invalid/x"


def test_missing_tool_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lockfiles, "_which", lambda name, env: None)
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\n')
    (tmp_path / "poetry.lock").write_text("# lock\n")
    result = regenerate_lock(tmp_path, "pyproject.toml", "poetry.lock", ["x"], 5)
    assert (result.text, result.tool, result.ok) == (None, "poetry", False)
    assert result.problem == "poetry is not installed: poetry.lock not updated"


def test_files_that_are_not_lockfiles_and_unsupported_headers(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask==1.0\n")
    assert regenerate_lock(tmp_path, "requirements.in", "requirements.txt", [], 5).problem == (
        "requirements.txt is not a lockfile depup can regenerate"
    )
    (tmp_path / "locked.txt").write_text(HEADER.format(args="--pip-args '--index-url x' requirements.in"))
    (tmp_path / "requirements.in").write_text("flask\n")
    if shutil.which("pip-compile", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("pip-compile is not installed")
    problem = regenerate_lock(tmp_path, "requirements.in", "locked.txt", [], 5).problem
    assert problem is not None and "options depup does not re-run: --pip-args" in problem


def test_drop_new_option_lines() -> None:
    original = "#\n# header\n#\n--index-url https://kept.invalid/simple\n\nalpha==1.0\n"
    regenerated = (
        "#\n# header\n#\n--index-url https://kept.invalid/simple\n--find-links /opt/wheels\n"
        "--extra-index-url file:///opt/x\n\nalpha==1.1\n"
    )
    assert (
        drop_new_option_lines(original, regenerated)
        == "#\n# header\n#\n--index-url https://kept.invalid/simple\n\nalpha==1.1\n"
    )
    assert (
        drop_new_option_lines("#\nalpha==1\n", "#\n--find-links /w\n--only-binary :all:\n\nalpha==2\n")
        == "#\nalpha==2\n"
    )


def test_pip_configuration_is_read_and_translated_for_uv(tmp_path: Path) -> None:
    config = tmp_path / "pip.conf"
    local = tmp_path / "local-wheels"
    local.mkdir()
    config.write_text(
        f"[global]\nindex-url = https://mirror.invalid/simple\nextra-index-url =\n    https://extra.invalid/simple\n"
        f"    file:///does/not/exist\nfind-links = {local} /missing/dir\n"
    )
    env = {"HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path / "none"), "PIP_CONFIG_FILE": str(config)}
    settings = pip_index_settings(env)
    assert settings.index_url == "https://mirror.invalid/simple"
    assert settings.extra_index_urls == ("https://extra.invalid/simple", "file:///does/not/exist")
    assert uv_index_env(env) == {
        "UV_INDEX_URL": "https://mirror.invalid/simple",
        "UV_EXTRA_INDEX_URL": "https://extra.invalid/simple",
        "UV_FIND_LINKS": str(local),
    }
    assert (
        pip_index_settings({**env, "PIP_INDEX_URL": "https://env.invalid/simple"}).index_url
        == "https://env.invalid/simple"
    )
    assert uv_index_env({**env, "UV_DEFAULT_INDEX": "https://uv.invalid/simple"}) == {}


def test_poetry_update_lock_moves_only_the_named_package(tmp_path: Path, simple_index: str) -> None:
    tool("poetry")
    repo = tmp_path / "repo"
    repo.mkdir()
    pyproject = (
        '[project]\nname = "papp"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = ["alpha ({})", "beta (>=1.0)"]\n[tool.poetry]\npackage-mode = false\n'
        f'[[tool.poetry.source]]\nname = "local"\nurl = "{simple_index}"\npriority = "primary"\n'
    )
    env = {**os.environ, "POETRY_CACHE_DIR": str(tmp_path / "poetry-cache"), "POETRY_NO_INTERACTION": "1"}
    (repo / "pyproject.toml").write_text(pyproject.format(">=1.0,<1.1"))
    poetry = shutil.which("poetry", path=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    assert poetry is not None
    subprocess.run([poetry, "lock"], cwd=repo, env=env, check=True, capture_output=True, timeout=120)
    (repo / "pyproject.toml").write_text(pyproject.format(">=1.0,<2"))
    kept = regenerate_lock(repo, "pyproject.toml", "poetry.lock", [], 120, env=env)
    assert kept.ok, kept.problem
    assert kept.text is not None and 'name = "alpha"\nversion = "1.0"' in kept.text
    moved = regenerate_lock(repo, "pyproject.toml", "poetry.lock", ["alpha==1.1"], 120, env=env)
    assert moved.ok, moved.problem
    assert moved.command[1:] == ("update", "--lock", "alpha")
    assert moved.text is not None and 'name = "alpha"\nversion = "1.1"' in moved.text
    assert 'name = "beta"\nversion = "1.5"' in moved.text


@pytest.mark.live
def test_live_uv_lock_against_the_configured_registry(tmp_path: Path) -> None:
    tool("uv")
    env = {**os.environ, "UV_PYTHON": sys.executable, "UV_CACHE_DIR": str(tmp_path / "cache")}
    pyproject = '[project]\nname = "live"\nversion = "0"\nrequires-python = ">=3.9"\ndependencies = ["six{}"]\n'
    (tmp_path / "pyproject.toml").write_text(pyproject.format("==1.15.0"))
    uv = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    assert uv is not None
    subprocess.run([uv, "lock"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    (tmp_path / "pyproject.toml").write_text(pyproject.format("==1.16.0"))
    result = regenerate_lock(tmp_path, "pyproject.toml", "uv.lock", ["six==1.16.0"], 120, env=env)
    assert result.ok, result.problem
    assert result.text is not None and 'name = "six"\nversion = "1.16.0"' in result.text


def test_custom_compile_command_header_is_kept(tmp_path: Path, offline_env: dict[str, str]) -> None:
    tool("pip-compile")
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "prod.in").write_text("alpha\n")
    original = (
        HEADER.format(args="").replace("pip-compile \n", "make requirements\n") + "alpha==1.0\n    # via -r prod.in\n"
    )
    assert "#    make requirements\n" in original
    (tmp_path / "reqs" / "prod.txt").write_text(original)
    result = regenerate_lock(tmp_path, "reqs/prod.in", "reqs/prod.txt", ["alpha"], 120, env=offline_env)
    assert result.ok, result.problem
    assert result.text is not None and "#    make requirements\n#\nalpha==2.0\n" in result.text


def test_raising_requires_python_re_resolves_uv_lock_moving_no_package(
    tmp_path: Path, offline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python floor (``bot.deps.floor``) applied like any update: the manifest's requires-python edited,
    ``uv lock`` run with no package named, the lock's own requires-python following."""
    tool("uv")
    for name in [k for k in os.environ if k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))]:
        monkeypatch.delenv(name)
    for name, value in offline_env.items():
        monkeypatch.setenv(name, value)
    repo = tmp_path / "repo"
    seed_uv_project(repo, offline_env, '"alpha>=1.0,<1.1", "beta>=1.0"')
    before = (repo / "uv.lock").read_text()
    assert 'requires-python = ">=3.9"' in before
    manifest = replace(parse_pyproject("pyproject.toml", (repo / "pyproject.toml").read_text()), lockfile="uv.lock")
    [entry] = manifest.python_floor
    update = Update("3.10", ">=3.10", "major", True, "bump")
    changes = apply_updates(repo, [Selected(manifest, entry, update)], lock_timeout=60)
    assert changes.problems == ()
    assert 'requires-python = ">=3.10"' in (changes.text("pyproject.toml") or "")
    after = changes.text("uv.lock") or ""
    assert 'requires-python = ">=3.10"' in after
    assert 'name = "alpha"\nversion = "1.0"' in after  # nothing upgraded: the lock is only re-resolved
