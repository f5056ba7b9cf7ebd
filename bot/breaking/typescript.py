"""The TypeScript compiler, installed from the npm registry on demand, and the one node script of ours it runs.

depup reads type declarations and the repository's JavaScript/TypeScript with the compiler's own parser and
checker (``ts_api.cjs`` beside this module), as data: the script never requires, imports or evaluates the files
it reads, and its compiler host refuses files outside the folder it was given. ``typescript`` is installed like
the package managers (``bot.deps.npm.tools``): the published package at a fixed version, install scripts off,
into the shared tools folder (``DEPUP_TOOLS_DIR``), once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from bot.breaking.fetch import AnalysisError
from bot.deps.confine import tool_environment
from bot.deps.npm.tools import TOOLS_ENV, npm_install, tools_dir
from bot.deps.registry.urls import RegistryConfigError, npm_registry_base

TYPESCRIPT_VERSION = "5.9.3"  # the last line with the JavaScript compiler API (7.x is the native port)
SCRIPT = Path(__file__).with_name("ts_api.cjs")
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_install_lock = threading.Lock()


def typescript_js() -> Path:
    """``lib/typescript.js`` of the installed compiler, installing it first when it is not there."""
    installed = _compiler_in(tools_dir() / f"typescript@{TYPESCRIPT_VERSION}")
    if installed is not None:
        return installed
    return _install()


def run(request: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """The script's JSON answer to ``request``; AnalysisError when node, the compiler or the script fails."""
    node = shutil.which("node")
    if node is None:
        raise AnalysisError("node is not installed on this worker, so type declarations cannot be read")
    compiler = typescript_js()
    if timeout <= 0:
        raise AnalysisError("the time for the analysis ran out")
    env = tool_environment(os.environ, ()) | {"NODE_OPTIONS": "--max-old-space-size=1024"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell; the script only parses files
            [node, str(SCRIPT), str(compiler)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AnalysisError(f"reading the declarations took longer than {timeout:.0f} s") from exc
    except OSError as exc:
        raise AnalysisError(f"node could not be started ({exc.strerror})") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise AnalysisError(f"the TypeScript reader failed: {tail[0][:300]}")
    if len(done.stdout) > MAX_ANSWER_BYTES:
        raise AnalysisError("the TypeScript reader's answer is too large")
    try:
        answer = json.loads(done.stdout)
    except ValueError as exc:
        raise AnalysisError("the TypeScript reader sent malformed JSON") from exc
    if not isinstance(answer, dict):
        raise AnalysisError("the TypeScript reader sent JSON that is not an object")
    return answer


def _compiler_in(folder: Path) -> Path | None:
    compiler = folder / "node_modules" / "typescript" / "lib" / "typescript.js"
    return compiler if compiler.is_file() else None


def _install() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise AnalysisError(f"npm is not installed on this worker to install typescript {TYPESCRIPT_VERSION}")
    try:
        registry: str | None = npm_registry_base()
    except RegistryConfigError:
        registry = None
    base = tools_dir()
    target = base / f"typescript@{TYPESCRIPT_VERSION}"
    with _install_lock:
        installed = _compiler_in(target)
        if installed is not None:
            return installed
        try:
            base.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=".typescript-", dir=base))
        except OSError as exc:
            raise AnalysisError(f"the tools folder {base} cannot be written ({exc.strerror}); set {TOOLS_ENV}") from exc
        try:
            failed = npm_install(npm, scratch, f"typescript@{TYPESCRIPT_VERSION}", registry)
            if failed is not None or _compiler_in(scratch) is None:
                tail = (failed or "")[-300:]
                raise AnalysisError(f"typescript {TYPESCRIPT_VERSION} could not be installed: {tail}")
            with contextlib.suppress(OSError):  # an existing folder (another worker) is kept as it is
                scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        installed = _compiler_in(target)
        if installed is None:
            raise AnalysisError(f"typescript {TYPESCRIPT_VERSION} was installed but is not in {target}")
        return installed
