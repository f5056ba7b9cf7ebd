"""The project's own package manager, at the version it asks for, installed from the npm registry on demand.

A project names its package manager in ``package.json`` (``"packageManager": "pnpm@9.15.0+sha512..."``, as
corepack reads it); otherwise its lockfile's format says which major made it. depup never runs a package
manager the repository ships (yarn's ``yarnPath``, a vendored release): it installs the published package of
that version from the npm registry depup uses, with install scripts off, into a tools folder shared by the
worker's jobs (``DEPUP_TOOLS_DIR``, default ``$XDG_CACHE_HOME/depup/tools``), once per version.

| manager | npm package | what runs |
|---|---|---|
| npm | ``npm`` | ``node .../npm/bin/npm-cli.js`` (the npm on PATH when no version is asked or it is the one asked) |
| yarn 1 | ``yarn`` | ``node .../yarn/bin/yarn.js`` |
| yarn 2+ (Berry) | ``@yarnpkg/cli-dist`` | ``node .../@yarnpkg/cli-dist/bin/yarn.js`` |
| pnpm | ``pnpm`` | ``node .../pnpm/bin/pnpm.cjs`` |
| bun | ``bun`` | the platform binary of ``@oven/bun-<os>-<arch>`` (its postinstall, which only links it, is not run) |

``tool_for`` never raises for a tool problem: it answers a ``Tool`` or the reason there is none (no node, the
version cannot be installed), which the caller reports as "lockfile not regenerated".
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.deps.confine import tool_environment
from bot.deps.npm import semver
from bot.deps.npm.locks import Manager

TOOLS_ENV = "DEPUP_TOOLS_DIR"
INSTALL_TIMEOUT = 300.0
_PACKAGE_MANAGER = re.compile(r"^(npm|yarn|pnpm|bun)@([^+\s]+)(?:\+\S+)?$")
_SAFE_VERSION = re.compile(r"^[0-9A-Za-z.^~<>=|* -]{1,64}$")
_install_lock = threading.Lock()


@dataclass(frozen=True)
class Tool:
    manager: Manager
    version: str
    argv: tuple[str, ...]  # the command prefix: ("/usr/bin/node", ".../pnpm.cjs") or (".../bun",)

    @property
    def label(self) -> str:
        return f"{self.manager} {self.version}"

    @property
    def major(self) -> int:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isdigit() else 0


@dataclass(frozen=True)
class Wanted:
    """Which package manager a project uses and which versions of it will do."""

    manager: Manager
    versions: str  # an exact version or an npm range ("1", "^9", ">=4 <5")
    because: str  # "packageManager: pnpm@9.15.0", "yarn.lock v1"


def declared(package_json: object) -> tuple[Manager, str] | None:
    """``(manager, version)`` from a package.json's ``packageManager`` field, when it names one exactly."""
    if not isinstance(package_json, dict):
        return None
    value = package_json.get("packageManager")
    match = _PACKAGE_MANAGER.match(value.strip()) if isinstance(value, str) else None
    if match is None or semver.valid(match.group(2)) is None:
        return None
    return match.group(1), match.group(2)  # type: ignore[return-value]


def tools_dir() -> Path:
    configured = os.environ.get(TOOLS_ENV, "").strip()
    if configured:
        return Path(configured).absolute()  # tools run from their scratch copy: a relative path would not reach
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache) / "depup" / "tools"


def tool_for(wanted: Wanted, registry: str | None) -> Tool | str:
    """The installed tool satisfying ``wanted`` (installing it first when none is), or why there is none."""
    node = shutil.which("node")
    if node is None and wanted.manager != "bun":
        return f"node is not installed on this worker, so {wanted.manager} cannot run"
    if not _SAFE_VERSION.match(wanted.versions):
        return f"{wanted.because}: {wanted.versions!r} is not a version depup can install"
    if wanted.manager == "npm":
        system = _system_npm(node)
        if system is not None and semver.satisfies(system.version, wanted.versions):
            return system
    found = _installed(wanted)
    if found is not None:
        return found
    installed = _install(wanted, registry)
    return installed


def _package(manager: Manager, versions: str) -> str:
    if manager != "yarn":
        return manager
    # yarn 1 is published as `yarn`; yarn 2 and later (Berry) as `@yarnpkg/cli-dist`.
    exact = semver.valid(versions)
    yarn1 = semver.major(exact) == 1 if exact is not None else semver.satisfies("1.99999.99999", versions)
    return "yarn" if yarn1 else "@yarnpkg/cli-dist"


def _installed(wanted: Wanted) -> Tool | None:
    base = tools_dir()
    if not base.is_dir():
        return None
    best: Tool | None = None
    for folder in base.glob(f"{wanted.manager}@*"):
        version = folder.name.split("@", 1)[1]
        if semver.valid(version) is None or not semver.satisfies(version, wanted.versions):
            continue
        tool = _tool_in(wanted.manager, version, folder)
        if tool is not None and (best is None or semver.compare(version, best.version) > 0):
            best = tool
    return best


def _install(wanted: Wanted, registry: str | None) -> Tool | str:
    npm = shutil.which("npm")
    if npm is None:
        return f"npm is not installed on this worker to install {wanted.manager} {wanted.versions}"
    base = tools_dir()
    package = _package(wanted.manager, wanted.versions)
    with _install_lock:
        found = _installed(wanted)  # another thread of this worker may have installed it meanwhile
        if found is not None:
            return found
        try:
            base.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=f".{wanted.manager}-", dir=base))
        except OSError as exc:
            return f"the tools folder {base} cannot be written ({exc.strerror}); set {TOOLS_ENV}"
        try:
            failed = npm_install(npm, scratch, f"{package}@{wanted.versions}", registry)
            if failed is not None:
                return f"{package}@{wanted.versions} could not be installed ({wanted.because}): {failed[-600:]}"
            version = _package_version(scratch, package)
            if version is None:
                return f"{package}@{wanted.versions} was installed without a readable version"
            target = base / f"{wanted.manager}@{version}"
            with contextlib.suppress(OSError):  # an existing folder (another worker) is kept as it is
                scratch.rename(target)
            tool = _tool_in(wanted.manager, version, target)
            return tool or f"{package}@{version} was installed but does not run on this worker"
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def npm_install(npm: str, prefix: Path, spec: str, registry: str | None) -> str | None:
    """``npm install spec`` into ``prefix`` from ``registry`` (npm's own when None), install scripts off; None
    when it worked, else why not (the end of npm's output)."""
    command = [npm, "install", "--prefix", str(prefix), "--ignore-scripts", "--no-audit", "--no-fund"]
    command += ["--no-save", "--no-package-lock", spec]
    if registry:
        command.append(f"--registry={registry}")
    env = tool_environment(os.environ, ("npm_config_",)) | {"npm_config_update_notifier": "false"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return (done.stderr or done.stdout).strip()[-4000:]
    return None


def package_version(prefix: Path, package: str) -> str | None:
    """The version of ``package`` installed under ``prefix`` (its node_modules), when valid."""
    return _package_version(prefix, package)


def _package_version(prefix: Path, package: str) -> str | None:
    try:
        data = json.loads((prefix / "node_modules" / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) and semver.valid(version) else None


def _tool_in(manager: Manager, version: str, folder: Path) -> Tool | None:
    modules = folder / "node_modules"
    node = shutil.which("node")
    if manager == "bun":
        binary = _bun_binary(modules)
        return Tool(manager, version, (str(binary),)) if binary is not None else None
    scripts = {
        "npm": modules / "npm" / "bin" / "npm-cli.js",
        "pnpm": modules / "pnpm" / "bin" / "pnpm.cjs",
        "yarn": modules / ("yarn" if version.startswith("1.") else "@yarnpkg/cli-dist") / "bin" / "yarn.js",
    }
    script = scripts[manager]
    if manager == "pnpm" and not script.is_file():  # pnpm 12 and later: a native binary, no pnpm.cjs
        binary = _pnpm_binary(modules)
        return Tool(manager, version, (str(binary),)) if binary is not None else None
    if node is None or not script.is_file():
        return None
    return Tool(manager, version, (node, str(script)))


def _pnpm_binary(modules: Path) -> Path | None:
    """pnpm 12+'s binary for this platform (``@pnpm/exe.linux-x64``...), an optional dependency of ``pnpm``."""
    system = platform.system().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if arch is None:
        return None
    binary = modules / "@pnpm" / f"exe.{system}-{arch}{'-musl' if _is_musl() else ''}" / "pnpm"
    return binary if binary.is_file() and _runs([str(binary), "--version"]) else None


def _bun_binary(modules: Path) -> Path | None:
    system = platform.system().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine().lower())
    if arch is None:
        return None
    musl = "-musl" if _is_musl() else ""
    # The baseline build runs on every x86-64 CPU; the plain one needs AVX2.
    names = [f"bun-{system}-{arch}{musl}", f"bun-{system}-{arch}{musl}-baseline"]
    for name in names:
        binary = modules / "@oven" / name / "bin" / "bun"
        if binary.is_file() and _runs([str(binary), "--version"]):
            return binary
    return None


def _is_musl() -> bool:
    libc, _ = platform.libc_ver()
    return libc != "glibc" and Path("/lib").glob("ld-musl-*") is not None and any(Path("/lib").glob("ld-musl-*"))


def _runs(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return False


def _system_npm(node: str | None) -> Tool | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    version = system_version(npm)
    return Tool("npm", version, (npm,)) if version is not None else None


@lru_cache(maxsize=8)
def system_version(npm: str) -> str | None:
    """The version of the npm at ``npm`` (asked once per process: ``npm --version`` takes a fifth of a second)."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [npm, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    version = lines[-1].strip() if done.returncode == 0 and lines else ""
    return version if semver.valid(version) else None
