"""Regenerating ``package-lock.json`` with npm itself, in a throw-away copy, bounded in time.

``regenerate_lock`` never touches the checkout and never raises for a tool problem: a missing npm, a
failing npm or a timeout come back as ``LockResult.problem`` (with the tail of npm's output) so the caller
keeps its manifest edit and reports the lockfile problem, instead of half-updating silently.

What is copied: the package.json files of the project (the workspace root and all its members when the
manifest belongs to an npm workspace), the lockfile, and from a repository ``.npmrc`` only its
``registry`` / ``@scope:registry`` lines: other settings (``git``, ``script-shell``, ``node-options``...)
can make npm run programs the repository chooses. Install scripts are disabled (``--ignore-scripts`` and
the matching environment variable), so only npm's resolver runs. npm does not run when the project refers to
files outside it (``bot.deps.npm.confine``), and its environment holds none of depup's secrets.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path, PurePosixPath

from bot.deps.confine import refusal, tool_environment
from bot.deps.model import Dependency
from bot.deps.npm.confine import references_outside
from bot.deps.npm.manifest import workspace_globs

LOCKFILE_NAMES = ("npm-shrinkwrap.json", "package-lock.json")  # npm prefers the shrinkwrap when both exist
_NPMRC_REGISTRY = re.compile(r"^\s*(?:@[^:\s]+:)?registry\s*=", re.MULTILINE)
_TAIL = 2000
_SKIPPED_DIRS = {"node_modules", ".git"}


@dataclass(frozen=True)
class LockResult:
    text: str | None  # the regenerated lockfile, None when there is none
    tool: str  # "npm 11.6.2", or "npm" when its version could not be read
    problem: str | None = None  # why there is no new lockfile (npm's output tail included)
    lockfile: str | None = None  # repository-relative path of the lockfile the text belongs to


def install_spec(dependency: Dependency, version: str) -> str:
    """The ``npm install`` argument recording ``version`` for a dependency (aliases included)."""
    if dependency.key != dependency.name:
        return f"{dependency.name}@npm:{dependency.key}@{version}"
    return f"{dependency.name}@{version}"


def regenerate_lock(
    repo_dir: Path,
    manifest_dir: str,
    packages: Sequence[str],
    timeout: float,
    registry: str | None = None,
    *,
    refresh: bool = False,
) -> LockResult:
    """Regenerate the lockfile that belongs to the package.json in ``manifest_dir`` (repository-relative).

    The manifests in ``repo_dir`` are taken as they are (already edited). ``packages`` are ``npm install``
    specs (``name@version``, see ``install_spec``) to record for in-range, lockfile-only updates; they are
    installed first and the original package.json is then restored and the lock synced to it, so the
    manifest's ranges stay exactly as written. ``registry`` is passed as ``--registry``; without it npm's
    own configuration decides. ``refresh`` (lockfile maintenance) moves every locked version to the newest
    its range allows (``npm update --package-lock-only``).
    """
    npm = shutil.which("npm")
    if npm is None:
        return LockResult(None, "npm", "npm is not installed on this worker; the lockfile was not updated")
    tool = _npm_version(npm)
    root = _project_root(repo_dir, PurePosixPath(manifest_dir))
    lock_name = next((name for name in LOCKFILE_NAMES if (repo_dir / root / name).is_file()), None)
    if lock_name is None:
        return LockResult(None, tool, f"no lockfile next to {root / 'package.json'}")
    lockfile = str(root / lock_name)
    member = PurePosixPath(manifest_dir).relative_to(root) if PurePosixPath(manifest_dir) != root else None
    base = [npm, "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"]
    if registry:
        base.append(f"--registry={registry}")
    outside = references_outside(repo_dir / root, lock_name, _npmrc_registry_lines(repo_dir / root))
    if outside:
        return LockResult(None, tool, refusal(outside), lockfile)
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="depup-npm-") as scratch:
        work = Path(scratch) / "project"
        _copy_project(repo_dir / root, work)
        steps: list[list[str]] = []
        if refresh:
            steps.append([npm, "update", *base[2:]])
        elif packages:
            target = [f"--workspace={member}"] if member is not None else []
            steps.append([*base, *target, *packages])
        steps.append(base)
        originals = _manifests(work)
        for index, command in enumerate(steps):
            if index > 0:
                _restore(originals)
            problem = _run(command, work, deadline)
            if problem is not None:
                return LockResult(None, tool, problem, lockfile)
        produced = work / lock_name
        if not produced.is_file():
            return LockResult(None, tool, f"npm finished without writing {lock_name}", lockfile)
        return LockResult(produced.read_text(encoding="utf-8"), tool, None, lockfile)


def _run(command: list[str], cwd: Path, deadline: float) -> str | None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return "npm ran out of time before the lockfile was regenerated"
    env = {
        **tool_environment(os.environ, ("npm_config_",)),
        "npm_config_ignore_scripts": "true",
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_progress": "false",
    }
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return f"npm could not be started: {exc}"
    try:
        output, _ = process.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        try:
            output, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            output = b""
        return f"npm timed out after {remaining:.1f} s and was stopped\n{_tail(output)}".strip()
    if process.returncode != 0:
        return f"npm exited with status {process.returncode}\n{_tail(output)}"
    return None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(output: bytes | None) -> str:
    return (output or b"").decode("utf-8", "replace")[-_TAIL:].strip()


@lru_cache(maxsize=8)
def _npm_version(npm: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [npm, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "npm"
    lines = done.stdout.strip().splitlines()
    return f"npm {lines[-1]}" if done.returncode == 0 and lines else "npm"


def _project_root(repo_dir: Path, manifest_dir: PurePosixPath) -> PurePosixPath:
    """The workspace root whose ``workspaces`` globs include ``manifest_dir``, else ``manifest_dir`` itself."""
    for ancestor in list(manifest_dir.parents):
        candidate = repo_dir / ancestor / "package.json"
        if ancestor == manifest_dir or not candidate.is_file():
            continue
        relative = str(manifest_dir.relative_to(ancestor))
        globs = workspace_globs(candidate.read_text(encoding="utf-8", errors="replace"))
        if any(fnmatch(relative, glob.rstrip("/")) for glob in globs):
            return ancestor
    return manifest_dir


def _copy_project(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for folder, dirnames, filenames in os.walk(source):
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS]
        here = Path(folder)
        relative = here.relative_to(source)
        for name in filenames:
            if (here / name).is_symlink():
                continue  # a link can lead anywhere on the worker (a checkout depup made holds none)
            if name == "package.json" or (relative == Path(".") and name in LOCKFILE_NAMES):
                (target / relative).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(here / name, target / relative / name)
    kept = _npmrc_registry_lines(source)
    if kept:
        (target / ".npmrc").write_text("\n".join(kept) + "\n")


def _npmrc_registry_lines(project: Path) -> list[str]:
    """The ``registry`` and ``@scope:registry`` lines of the project's ``.npmrc`` (the only ones npm is given)."""
    npmrc = project / ".npmrc"
    if not npmrc.is_file() or npmrc.is_symlink():
        return []
    return [line for line in npmrc.read_text(errors="replace").splitlines() if _NPMRC_REGISTRY.match(line)]


def _manifests(work: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in work.rglob("package.json")}


def _restore(originals: dict[Path, bytes]) -> None:
    for path, content in originals.items():
        path.write_bytes(content)
