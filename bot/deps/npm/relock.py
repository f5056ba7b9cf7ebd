"""Regenerating a JavaScript lockfile with the project's own package manager, in a throw-away copy, bounded in time.

One runner for every package manager (``bot.deps.npm.lockfile.regenerate_lock`` picks the manager and its
``Relocker``): the project (the workspace root, with every member's ``package.json``) is copied without
``node_modules``, VCS metadata or symbolic links; the manager's ``Relocker`` adds the few configuration files
it needs, each filtered to settings that cannot make the tool run a program the repository chose (no
``yarnPath``, no plugins, no ``script-shell``); install scripts are off; the tool's environment is an
allowlist (``bot.deps.confine.tool_environment``); the process group is killed at the deadline. Nothing runs
when the project refers to files outside itself (``Relocker.outside``).

Steps run in order; a step with ``restore_manifests`` first puts every ``package.json`` back as it was copied:
that is how an in-range update is recorded (install ``name@version``, restore the range, sync the lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from bot.deps.confine import Outside, refusal, tool_environment
from bot.deps.npm.tools import Tool

_TAIL = 2000
_NPMRC_REGISTRY = re.compile(r"^\s*(?:@[^:\s]+:)?registry\s*=", re.MULTILINE)
SKIPPED_DIRS = frozenset({"node_modules", ".git", ".hg", ".svn"})


@dataclass(frozen=True)
class LockResult:
    text: str | None  # the regenerated lockfile, None when there is none
    tool: str  # "npm 11.6.2", "pnpm 9.15.0", or the manager's name when no version could be read
    problem: str | None = None  # why there is no new lockfile (the tool's output tail included)
    lockfile: str | None = None  # repository-relative path of the lockfile the text belongs to


@dataclass(frozen=True)
class Job:
    """One regeneration: what the caller asked for, in terms of the copied project."""

    lock_name: str  # the lockfile's name in the project root ("pnpm-lock.yaml")
    member: PurePosixPath | None  # the workspace member whose package.json was edited, None for the root
    packages: tuple[str, ...] = ()  # ``name@version`` specs to record within the manifest's ranges
    refresh: bool = False  # lockfile maintenance: every locked version to the newest its range allows
    registry: str | None = None  # the npm registry base URL depup uses; None: the tool's own configuration
    # Workspace member folders (relative to the project root), for managers that address members by folder.
    members: tuple[PurePosixPath, ...] = ()


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    restore_manifests: bool = False  # put every package.json back as copied before running this step
    env: Mapping[str, str] = field(default_factory=dict)  # added to the tool environment for this step
    # Run on the copy (after the restore, before argv): rewrites the tool cannot do itself (yarn has no command
    # recording an exact version within a range); answers why it could not, or None.
    edit: Callable[[Path], str | None] | None = None


class Relocker(Protocol):
    """What differs between package managers when a lockfile is regenerated."""

    manager: str
    env_prefixes: tuple[str, ...]  # the manager's own environment variables passed through ("npm_config_")

    def default_versions(self, lock_text: str) -> str:
        """The tool versions that write this lockfile's format, when ``packageManager`` names none (npm range)."""
        ...

    def outside(self, project: Path, lock_name: str) -> list[Outside]:
        """Every reference in the project that the tool would follow outside ``project``."""
        ...

    def prepare(self, project: Path, work: Path, job: Job) -> None:
        """Copy or write, filtered, the configuration files the tool needs besides package.json and the lock."""
        ...

    def steps(self, tool: Tool, work: Path, job: Job) -> list[Step] | str:
        """The commands to run in ``work``, or why this regeneration cannot be done with ``tool``."""
        ...


def run_relock(relocker: Relocker, tool: Tool, project: Path, job: Job, timeout: float, lockfile: str) -> LockResult:
    """Regenerate ``job.lock_name`` of ``project`` (a directory of the checkout, left untouched) with ``tool``."""
    outside = relocker.outside(project, job.lock_name)
    if outside:
        return LockResult(None, tool.label, refusal(outside), lockfile)
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix=f"depup-{relocker.manager}-") as scratch:
        work = Path(scratch) / "project"
        copy_manifests(project, work, (job.lock_name,))
        relocker.prepare(project, work, job)
        steps = relocker.steps(tool, work, job)
        if isinstance(steps, str):
            return LockResult(None, tool.label, steps, lockfile)
        originals = {path: path.read_bytes() for path in package_files(work)}
        for step in steps:
            if step.restore_manifests:
                for path, content in originals.items():
                    path.write_bytes(content)
            if step.edit is not None:
                failed = step.edit(work)
                if failed is not None:
                    return LockResult(None, tool.label, failed, lockfile)
            env = {
                **tool_environment(os.environ, relocker.env_prefixes),
                "npm_config_ignore_scripts": "true",
                "npm_config_update_notifier": "false",
                "npm_config_audit": "false",
                "npm_config_fund": "false",
                "npm_config_progress": "false",
                **step.env,
            }
            problem = run(step.argv, work, deadline, env, tool.label)
            if problem is not None:
                return LockResult(None, tool.label, problem, lockfile)
        produced = work / job.lock_name
        if not produced.is_file():
            return LockResult(None, tool.label, f"{tool.label} finished without writing {job.lock_name}", lockfile)
        return LockResult(produced.read_bytes().decode("utf-8", "replace"), tool.label, None, lockfile)


def copy_manifests(source: Path, target: Path, root_files: Iterable[str] = ()) -> None:
    """Every ``package.json`` under ``source`` (outside node_modules and VCS folders) and the named files of its
    root, into ``target``; symbolic links are left out (a link can lead anywhere on the worker)."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = set(root_files)
    for folder, dirnames, filenames in os.walk(source):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not os.path.islink(os.path.join(folder, d))]
        here = Path(folder)
        relative = here.relative_to(source)
        for name in filenames:
            if (here / name).is_symlink():
                continue
            if name == "package.json" or (relative == Path(".") and name in wanted):
                (target / relative).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(here / name, target / relative / name)


def copy_files(source: Path, target: Path, paths: Iterable[str]) -> None:
    """Copy the named project-relative files (patch files, say) that exist and are not links."""
    for relative in paths:
        origin = source / relative
        if origin.is_symlink() or not origin.is_file():
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, target / relative)


def package_files(root: Path) -> list[Path]:
    """Every ``package.json`` under ``root``, in folder order, outside node_modules and VCS folders; links left out
    (a link can lead anywhere on the worker)."""
    found = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and not os.path.islink(os.path.join(folder, d))
        )
        if "package.json" in filenames and not os.path.islink(os.path.join(folder, "package.json")):
            found.append(Path(folder) / "package.json")
    return found


def read_json(path: Path) -> Any:
    """The JSON of a file (a BOM allowed), or None when it is missing or not JSON (the tool stops at it too)."""
    try:
        return json.loads(path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff"))
    except (OSError, ValueError, RecursionError):
        return None


def run(argv: Sequence[str], cwd: Path, deadline: float, env: Mapping[str, str], label: str) -> str | None:
    """Run one command of a tool until ``deadline``; None when it succeeded, else what went wrong."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return f"{label} ran out of time before the lockfile was regenerated"
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return f"{label} could not be started: {exc}"
    try:
        output, _ = process.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        try:
            output, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            output = b""
        return f"{label} timed out after {remaining:.1f} s and was stopped\n{tail(output)}".strip()
    if process.returncode != 0:
        return f"{label} exited with status {process.returncode}\n{tail(output)}"
    return None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def tail(output: bytes | None) -> str:
    return (output or b"").decode("utf-8", "replace")[-_TAIL:].strip()


def npmrc_registry_lines(project: Path) -> list[str]:
    """The ``registry`` and ``@scope:registry`` lines of the project's ``.npmrc`` (the only ones tools are given)."""
    npmrc = project / ".npmrc"
    if not npmrc.is_file() or npmrc.is_symlink():
        return []
    return [line for line in npmrc.read_text(errors="replace").splitlines() if _NPMRC_REGISTRY.match(line)]
