"""The rewriters' tools, installed from the registries depup is configured with, once per version.

Python tools go into a virtualenv of their own, ``<tools dir>/pypi/<package>@<version>`` (wheels only: no
package's build code runs), from pip's configured index or ``DEPUP_PYPI_URL``; npm tools into
``<tools dir>/npm/<package>@<version>`` through ``bot.deps.npm.tools.npm_install`` (install scripts off). The
tools folder is the package managers' (``DEPUP_TOOLS_DIR``). ``installed_tool`` never raises for a tool
problem: it answers an ``Installed`` or why there is none.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bot.deps.confine import tool_environment
from bot.deps.npm import semver
from bot.deps.npm.tools import INSTALL_TIMEOUT, TOOLS_ENV, npm_install, package_version, tools_dir
from bot.deps.registry.urls import PYPI_ENV, RegistryConfigError, npm_registry_base
from bot.errors import DepupError
from bot.migrate.rewriters import Tool

_lock = threading.Lock()
_ERROR = re.compile(r"^ERROR:|^npm error (code|404|notarget|errno)|^error ")


class InstallFailed(DepupError):
    """A rewriter's tool could not be installed; the message says why (the installer's last words)."""


@dataclass(frozen=True)
class Installed:
    tool: Tool
    version: str
    argv: tuple[str, ...]  # the command prefix: (".../bin/python", "-I", "-m", "django_upgrade") or (".bin/x",)

    @property
    def label(self) -> str:
        return f"{self.tool.package} {self.version}"


def installed_tool(tool: Tool, *, install: bool = True) -> Installed | str:
    """The installed ``tool`` at the newest version in its range, installing it first when none is there
    (unless ``install`` is False), or why there is none."""
    found = _installed(tool)
    if found is not None or not install:
        return found or f"{tool.package} {tool.versions} is not installed in {_folder(tool)}"
    with _lock:
        found = _installed(tool)  # another thread installed it meanwhile
        return found or _install(tool)


def _folder(tool: Tool) -> Path:
    return tools_dir() / tool.source


def _installed(tool: Tool) -> Installed | None:
    base = _folder(tool)
    if not base.is_dir():
        return None
    best: Installed | None = None
    for folder in base.glob(f"{tool.package.replace('/', '+')}@*"):
        version = folder.name.rsplit("@", 1)[1]
        if not _satisfies(tool, version):
            continue
        candidate = _in(tool, version, folder)
        if candidate is not None and (best is None or _newer(tool, version, best.version)):
            best = candidate
    return best


def _in(tool: Tool, version: str, folder: Path) -> Installed | None:
    if tool.source == "pypi":
        python = folder / "bin" / "python"
        return Installed(tool, version, (str(python), "-I", "-m", tool.entry)) if python.exists() else None
    script = folder / "node_modules" / ".bin" / tool.entry
    return Installed(tool, version, (str(script),)) if script.exists() and shutil.which("node") else None


def _install(tool: Tool) -> Installed | str:
    base = _folder(tool)
    try:
        base.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{tool.package.replace('/', '+')}-", dir=base))
    except OSError as exc:
        return f"the tools folder {base} cannot be written ({exc.strerror}); set {TOOLS_ENV}"
    try:
        try:
            version = _pip_install(tool, scratch) if tool.source == "pypi" else _npm_install(tool, scratch)
        except InstallFailed as failed:
            return f"{tool.package} {tool.versions} could not be installed: {_gist(str(failed))}"
        target = base / f"{tool.package.replace('/', '+')}@{version}"
        with contextlib.suppress(OSError):  # an existing folder (another worker) is kept as it is
            scratch.rename(target)
        return _in(tool, version, target) or f"{tool.package} {version} was installed but does not run here"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _pip_install(tool: Tool, venv: Path) -> str:
    """The version of the tool installed into the new virtualenv ``venv``."""
    env = tool_environment(os.environ, ("PIP_",))
    index: list[str] = []
    override = os.environ.get(PYPI_ENV, "").strip()
    if override:
        index = ["--index-url", override.rstrip("/") + "/simple"]
    python = venv / "bin" / "python"
    commands = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--no-input", "--only-binary=:all:", *index,
         f"{tool.package}{tool.versions}"],
    ]  # fmt: skip
    for command in commands:
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstallFailed(str(exc)) from exc
        if done.returncode != 0:
            raise InstallFailed((done.stderr or done.stdout).strip()[-600:])
    return _readable(_dist_version(venv, tool.package))


def _npm_install(tool: Tool, prefix: Path) -> str:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise InstallFailed("node and npm are not installed on this worker")
    try:
        registry: str | None = npm_registry_base()
    except RegistryConfigError:
        registry = None
    failed = npm_install(npm, prefix, f"{tool.package}@{tool.versions}", registry)
    if failed is not None:
        raise InstallFailed(failed)
    return _readable(package_version(prefix, tool.package))


def _readable(version: str | None) -> str:
    if version is None:
        raise InstallFailed("installed without a readable version")
    return version


def _gist(output: str) -> str:
    """The installer's error lines ("ERROR: No matching distribution ...", "npm error code E404"), on one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR.search(line)]
    return " / ".join((errors or lines[-1:])[:3])[:400] or "no output"


def _dist_version(venv: Path, package: str) -> str | None:
    wanted = package.lower().replace("-", "_")
    for info in venv.glob("lib/python*/site-packages/*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        if name.lower().replace("-", "_") == wanted:
            return version
    return None


def _satisfies(tool: Tool, version: str) -> bool:
    if tool.source == "npm":
        return semver.valid(version) is not None and semver.satisfies(version, tool.versions)
    try:
        return SpecifierSet(tool.versions).contains(version)
    except (InvalidSpecifier, InvalidVersion):
        return False


def _newer(tool: Tool, a: str, b: str) -> bool:
    if tool.source == "npm":
        return semver.compare(a, b) > 0
    return Version(a) > Version(b)
