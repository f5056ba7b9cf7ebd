"""uv, pip-compile and Poetry touch nothing outside the repository, run no code of its choosing, and never see
depup's secrets, whatever the repository says.

Each hostile repository sits next to a directory ``outside`` holding a secret, a package and a place a build
backend would write to. The real tools run (offline, against a directory of wheels); after each attempt the
outside directory is byte for byte and file for file what it was, the secret is in no answer, and the
lockfile is reported as not regenerated. Control cases show the same features inside the repository still work.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.deps.confine import escapes, tool_environment
from bot.deps.python import regenerate_lock
from tests.deps.python.conftest import HEADER
from tests.deps.python.test_lockfiles import tool

SECRET = "SENTINEL-SECRET-6d1f0c"
DEPUP_SECRETS = {
    "GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretkeybody\n-----END RSA PRIVATE KEY-----",
    "GITHUB_WEBHOOK_SECRET": "webhook-secret-9f8e7d",
    "REDIS_URL": "redis://:redis-password-5a4b@127.0.0.1:6379/0",
    "DEPUP_OSV_URL": "https://user:osv-token-3c2b@osv.invalid",
}
EVIL_BACKEND = """\
import pathlib
pathlib.Path({marker!r}).write_text("the build backend ran")
def get_requires_for_build_wheel(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(directory, config_settings=None):
    raise SystemExit(1)
def build_wheel(*args, **kwargs):
    raise SystemExit(1)
def build_editable(*args, **kwargs):
    raise SystemExit(1)
"""
EVIL_PYPROJECT = (
    '[project]\nname = "{name}"\n{fields}\n'
    '[build-system]\nrequires = []\nbuild-backend = "evil"\nbackend-path = ["."]\n'
)


class World:
    """A repository and, beside it, what must stay untouched."""

    def __init__(self, tmp_path: Path) -> None:
        self.repo = tmp_path / "repo"
        self.outside = tmp_path / "outside"
        self.repo.mkdir()
        (self.outside / "pkg").mkdir(parents=True)
        (self.outside / "simple").mkdir()
        (self.outside / "secret.txt").write_text(f"{SECRET}==1.0\n")
        (self.outside / "pkg" / "pyproject.toml").write_text(f'[project]\nname = "{SECRET.lower()}"\nversion = "1"\n')
        self.before = self.state()

    def state(self) -> dict[str, tuple[int, bytes | None]]:
        """Every path under ``outside``: its mode and (for files) bytes; a new, changed or removed file shows."""
        found: dict[str, tuple[int, bytes | None]] = {}
        for path in sorted(self.outside.rglob("*")):
            info = path.lstat()
            found[str(path.relative_to(self.outside))] = (
                info.st_mode,
                path.read_bytes() if stat.S_ISREG(info.st_mode) else None,
            )
        return found

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text.replace("{OUT}", str(self.outside)).replace("{MARKER}", str(self.marker)))

    @property
    def marker(self) -> Path:
        return self.outside / "BACKEND-RAN"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def tools_env(tmp_path: Path, offline_env: dict[str, str]) -> dict[str, str]:
    """The offline environment, with a stand-in ``poetry`` first on PATH (Poetry is seldom installed): it writes
    the environment it got as the lockfile, so a run shows (and tells what the tool saw)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "poetry"
    fake.write_text(
        f"#!{sys.executable}\nimport json, os, pathlib\n"
        "pathlib.Path('poetry.lock').write_text(json.dumps(dict(os.environ)))\n"
    )
    fake.chmod(0o755)
    return {**offline_env, "PATH": f"{bin_dir}{os.pathsep}{offline_env.get('PATH', os.defpath)}"}


def compiled(args: str, body: str = "alpha==1.0\n    # via -r requirements.in\n") -> str:
    return HEADER.format(args=args) + body


PIP_COMPILE = compiled("--output-file=requirements.txt requirements.in")
UV_LOCK = 'version = 1\nrequires-python = ">=3.9"\n'
STATIC = 'version = "0.1.0"\nrequires-python = ">=3.9"\ndependencies = ["alpha"]'

# name -> (files, manifest, lockfile); {OUT} is the outside directory, {MARKER} where a build backend writes.
OUTSIDE: dict[str, tuple[dict[str, str], str, str]] = {
    "header input /proc/self/environ": (
        {"requirements.in": "alpha\n",
         "requirements.txt": compiled("--output-file=requirements.txt /proc/self/environ")},
        "requirements.in", "requirements.txt",
    ),
    "header constraint outside": (
        {"requirements.in": "alpha\n",
         "requirements.txt": compiled("-c {OUT}/secret.txt --output-file=requirements.txt requirements.in")},
        "requirements.in", "requirements.txt",
    ),
    "include by absolute path": (
        {"requirements.in": "-r {OUT}/secret.txt\nalpha\n", "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt",
    ),
    "include climbing out": (
        {"requirements.in": "alpha\n-r ../outside/secret.txt\n", "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt",
    ),
    "include of an include": (
        {"requirements.in": "-r base.in\n", "base.in": "alpha\n-c ../outside/secret.txt\n",
         "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt",
    ),
    "include from home": (
        {"requirements.in": "-r ~/secret.txt\nalpha\n", "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt",
    ),
    "editable outside": (
        {"requirements.in": "-e {OUT}/pkg\n", "requirements.txt": PIP_COMPILE}, "requirements.in", "requirements.txt",
    ),
    "file URL requirement": (
        {"requirements.in": "victim @ file://{OUT}/pkg\n", "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt",
    ),
    "find-links outside": (
        {"requirements.in": "--find-links {OUT}\nalpha\n", "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt",
    ),
    "index on disk": (
        {"requirements.in": "-i file://{OUT}/simple\nalpha\n", "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt",
    ),
    "the compiled file includes": (
        {"requirements.in": "alpha\n", "requirements.txt": compiled("--output-file=requirements.txt requirements.in",
                                                                   "-r {OUT}/secret.txt\nalpha==1.0\n")},
        "requirements.in", "requirements.txt",
    ),
    "pip-tools settings": (
        {"requirements.in": "alpha\n", "requirements.txt": PIP_COMPILE,
         "pyproject.toml": '[tool.pip-tools]\npip-args = "--find-links={OUT}"\n'},
        "requirements.in", "requirements.txt",
    ),
    "uv source path": (
        {"pyproject.toml": f'[project]\nname = "svc"\n{STATIC}\n'
                           '[tool.uv.sources]\nalpha = { path = "{OUT}/pkg" }\n',
         "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
    "uv workspace member outside": (
        {"pyproject.toml": f'[project]\nname = "svc"\n{STATIC}\n[tool.uv.workspace]\nmembers = ["../outside/*"]\n',
         "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
    "uv cache written outside": (
        {"pyproject.toml": f'[project]\nname = "svc"\n{STATIC}\n[tool.uv]\ncache-dir = "{{OUT}}/cache"\n',
         "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
    "direct reference in [project]": (
        {"pyproject.toml": '[project]\nname = "svc"\nversion = "0.1.0"\ndependencies = ["v @ file://{OUT}/pkg"]\n',
         "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
    "direct reference in a dependency group": (
        {"pyproject.toml": f'[project]\nname = "svc"\n{STATIC}\n[dependency-groups]\ndev = ["v @ file://{{OUT}}/pkg"]\n',
         "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
    "uv.toml settings": (
        {"pyproject.toml": f'[project]\nname = "svc"\n{STATIC}\n', "uv.toml": 'find-links = ["{OUT}"]\n',
         "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
    "Poetry path dependency": (
        {"pyproject.toml": '[tool.poetry]\nname = "svc"\nversion = "1"\n[tool.poetry.dependencies]\n'
                           'victim = { path = "{OUT}/pkg" }\n',
         "poetry.lock": "# lock\n"},
        "pyproject.toml", "poetry.lock",
    ),
    "Poetry source on disk": (
        {"pyproject.toml": '[tool.poetry]\nname = "svc"\nversion = "1"\n[[tool.poetry.source]]\nname = "disk"\n'
                           'url = "file://{OUT}/simple"\n',
         "poetry.lock": "# lock\n"},
        "pyproject.toml", "poetry.lock",
    ),
}  # fmt: skip

BUILDS: dict[str, tuple[dict[str, str], str, str]] = {
    "pip-compile of a pyproject.toml with dynamic dependencies": (
        {"pyproject.toml": EVIL_PYPROJECT.format(name="svc", fields='version = "1"\ndynamic = ["dependencies"]'),
         "evil.py": EVIL_BACKEND, "requirements.txt": compiled("--output-file=requirements.txt pyproject.toml")},
        "pyproject.toml", "requirements.txt",
    ),
    "pip-compile of setup.py": (
        {"setup.py": "import pathlib\npathlib.Path({MARKER!r}).write_text('setup.py ran')\n",
         "requirements.txt": compiled("--output-file=requirements.txt setup.py")},
        "setup.py", "requirements.txt",
    ),
    "pip-compile of a local directory": (
        {"requirements.in": "./pkg\n", "requirements.txt": PIP_COMPILE, "pkg/evil.py": EVIL_BACKEND,
         "pkg/pyproject.toml": EVIL_PYPROJECT.format(name="pkg", fields='version = "1"\ndependencies = []')},
        "requirements.in", "requirements.txt",
    ),
    "uv pip compile of an editable directory": (
        {"requirements.in": "-e ./pkg\n", "pkg/evil.py": EVIL_BACKEND,
         "pkg/pyproject.toml": EVIL_PYPROJECT.format(name="pkg", fields='version = "1"\ndependencies = []'),
         "requirements.txt": "# This file was autogenerated by uv via the following command:\n"
                             "#    uv pip compile requirements.in -o requirements.txt\nalpha==1.0\n"},
        "requirements.in", "requirements.txt",
    ),
    "uv lock of a project with a dynamic version": (
        {"pyproject.toml": EVIL_PYPROJECT.format(name="svc", fields='dynamic = ["version"]\ndependencies = ["alpha"]'),
         "evil.py": EVIL_BACKEND, "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
    "uv lock of a workspace member with dynamic dependencies": (
        {"pyproject.toml": f'[project]\nname = "svc"\n{STATIC}\n[tool.uv.workspace]\nmembers = ["libs/*"]\n',
         "libs/m/pyproject.toml": EVIL_PYPROJECT.format(name="m", fields='version = "1"\ndynamic = ["dependencies"]'),
         "libs/m/evil.py": EVIL_BACKEND, "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock",
    ),
}  # fmt: skip


def attempt(world: World, case: tuple[dict[str, str], str, str], env: dict[str, str]) -> str:
    files, manifest, lockfile = case
    world.write(files)
    result = regenerate_lock(world.repo, manifest, lockfile, ["alpha==1.1"], 120, env={**env, **DEPUP_SECRETS})
    assert result.text is None, "the tool ran and produced a lockfile"
    assert result.problem is not None
    assert SECRET not in result.problem and SECRET.lower() not in result.problem
    assert world.state() == world.before, "something outside the repository changed"
    assert not world.marker.exists()
    return result.problem


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_references_outside_the_repository_are_refused(name: str, world: World, tools_env: dict[str, str]) -> None:
    tool("uv")
    tool("pip-compile")
    problem = attempt(world, OUTSIDE[name], tools_env)
    assert "refers to files outside the repository" in problem, problem


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_nothing_is_built(name: str, world: World, offline_env: dict[str, str]) -> None:
    tool("uv")
    tool("pip-compile")
    problem = attempt(world, BUILDS[name], offline_env)
    assert "would build" in problem and "depup does not run it" in problem, problem


def test_a_symbolic_link_to_outside_is_left_out_of_the_copy(world: World, offline_env: dict[str, str]) -> None:
    tool("pip-compile")
    world.write({"requirements.txt": PIP_COMPILE})
    (world.repo / "requirements.in").symlink_to(world.outside / "secret.txt")
    result = regenerate_lock(world.repo, "requirements.in", "requirements.txt", ["alpha==1.1"], 120, env=offline_env)
    assert result.text is None and result.problem is not None
    assert SECRET not in result.problem
    assert world.state() == world.before


CONTROLS: dict[str, tuple[dict[str, str], str, str, Callable[[str], bool]]] = {
    "includes, constraints and find-links inside": (
        {"requirements.in": "-r base.in\n-c constraints.txt\n--find-links ./vendor\n", "base.in": "alpha\nbeta\n",
         "constraints.txt": "alpha<2\n", "vendor/README": "local wheels\n", "requirements.txt": PIP_COMPILE},
        "requirements.in", "requirements.txt", lambda text: "alpha==1.1" in text and "beta==1.5" in text,
    ),
    "a pyproject.toml with static dependencies": (
        {"pyproject.toml": '[project]\nname = "svc"\nversion = "1"\ndependencies = ["alpha", "beta"]\n',
         "requirements.txt": compiled("--output-file=requirements.txt pyproject.toml")},
        "pyproject.toml", "requirements.txt", lambda text: "alpha==1.1" in text and "beta==1.5" in text,
    ),
    "a uv workspace with a static member": (
        {"pyproject.toml": f'[project]\nname = "svc"\n{STATIC}\n[tool.uv.workspace]\nmembers = ["libs/*"]\n',
         "libs/m/pyproject.toml": '[project]\nname = "m"\nversion = "1"\ndependencies = ["beta"]\n',
         "uv.lock": UV_LOCK},
        "pyproject.toml", "uv.lock", lambda text: 'name = "m"' in text and 'name = "beta"' in text,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_the_same_features_inside_the_repository_work(name: str, world: World, offline_env: dict[str, str]) -> None:
    tool("uv")
    tool("pip-compile")
    files, manifest, lockfile, expected = CONTROLS[name]
    world.write(files)
    result = regenerate_lock(world.repo, manifest, lockfile, ["alpha==1.1"], 120, env=offline_env)
    assert result.ok, result.problem
    assert result.text is not None and expected(result.text), result.text


def test_the_tool_environment_holds_no_secret(world: World, tools_env: dict[str, str]) -> None:
    world.write({"pyproject.toml": '[tool.poetry]\nname = "svc"\nversion = "1"\n', "poetry.lock": "# lock\n"})
    env = {**tools_env, **DEPUP_SECRETS}
    result = regenerate_lock(world.repo, "pyproject.toml", "poetry.lock", ["alpha==1.1"], 60, env=env)
    assert result.ok, result.problem
    assert result.text is not None
    seen = json.loads(result.text)
    assert sorted(set(DEPUP_SECRETS) & set(seen)) == []
    assert not any(value in result.text for value in DEPUP_SECRETS.values())
    assert seen["PATH"] == tools_env["PATH"] and seen["PIP_FIND_LINKS"] == tools_env["PIP_FIND_LINKS"]
    assert seen["POETRY_NO_INTERACTION"] == "1"


def test_tool_environment_keeps_paths_locale_proxies_and_the_tools_own_settings() -> None:
    env = {
        "PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "HTTPS_PROXY": "http://proxy.invalid", "PIP_CERT": "/c",
        "UV_INDEX_URL": "https://i.invalid", "npm_config_registry": "https://r.invalid", **DEPUP_SECRETS,
        "GITHUB_APP_ID": "1", "SOMETHING_ELSE": "x",
    }  # fmt: skip
    kept = tool_environment(env, ("PIP_", "UV_"))
    assert kept == {k: env[k] for k in ("PATH", "HOME", "LANG", "HTTPS_PROXY", "PIP_CERT", "UV_INDEX_URL")}
    assert tool_environment(env, ("npm_config_",))["npm_config_registry"] == "https://r.invalid"


@pytest.mark.parametrize(
    ("written", "outside"),
    [
        ("requirements/base.in", False), ("./vendor", False), ("a/../b", False), ("https://x.invalid/../..", False),
        ("git+https://x.invalid/r.git", False), ("git+ssh://git@x.invalid/r", False), ("npm:left-pad@^1", False),
        ("^1.2.3", False), ("~4.1.0", False), ("sha256:00", False), ("", False), ("file:vendor/x.whl", False),
        ("..", True), ("../x", True), ("a/../../x", True), ("/etc/passwd", True), ("~/x", True), ("~bob/x", True),
        ("file:///etc/passwd", True), ("file://localhost/etc", True), ("file://server/share", True),
        ("file:../x", True), ("git+file:///srv/repo.git", True), ("link:../x", True), ("C:\\x", True),
        ("D:/x", True), ("\\\\server\\share", True), ("file:%2e%2e/x", True),
    ],
)  # fmt: skip
def test_what_leads_outside(tmp_path: Path, written: str, outside: bool) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    assert escapes(root, root, written) is outside
