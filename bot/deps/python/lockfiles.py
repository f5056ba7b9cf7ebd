"""Regenerate a lockfile with the ecosystem's own tool, in a temporary copy, within a time limit.

Kinds (from the lockfile): ``uv.lock`` -> ``uv lock --upgrade-package NAME...``; ``poetry.lock`` ->
``poetry update --lock NAME...`` (only the named packages move, also when their constraint already allowed the
new version; with no names: ``poetry lock --no-update`` on Poetry 1.x, ``poetry lock`` on 2.x, which keep
every locked version); a requirements file whose header says pip-compile -> the header's command again with
``--upgrade-package NAME...``; ``uv pip compile`` likewise. ``packages`` entries may be ``name==version``
(uv and pip-compile hold the package to that version; Poetry takes the name only, the manifest's constraint
then decides).

Safety: the checkout is never touched (the directory is copied, VCS metadata, virtualenvs, caches and symbolic
links left out); the tool gets an environment without depup's secrets (``bot.deps.confine.tool_environment``)
and runs in its own process group, killed with it at the time limit. It does not run at all when the copy
refers to files outside it, or when it would build something (which runs code the repository chose) unless
``allow_source_builds``: ``bot.deps.python.confine`` says what is checked. Source builds are also disabled where
the tool allows it (uv ``UV_NO_BUILD``, pip ``PIP_ONLY_BINARY=:all:``); Poetry has no such switch (a git
dependency without static metadata may be built). Registries come from the environment and pip's configuration
(translated for uv). A missing tool, a failure or a timeout is a LockResult with the problem
(stderr tail, credentials in URLs masked), never an exception.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.deps.confine import tool_environment
from bot.deps.python.confine import COMPILE_KINDS, confinement_problem
from bot.deps.python.pipconfig import uv_index_env
from bot.deps.python.requirements import CompiledHeader, compiled_header

LockKind = Literal["uv", "poetry", "pip-compile", "uv-pip-compile"]
_IGNORED_NAMES = shutil.ignore_patterns(
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache",
)  # fmt: skip
_TOOL_VARIABLES = ("PIP_", "UV_", "POETRY_")  # besides bot.deps.confine.PASSED_VARIABLES
_CREDENTIALS = re.compile(r"(://)[^/@\s:]+(:[^/@\s]*)?@")
_TAIL_CHARS = 2000

# pip-compile / uv pip compile options accepted from a header (anything else makes us refuse to re-run it)
_FLAGS = frozenset(
    {
        "--generate-hashes", "--allow-unsafe", "--strip-extras", "--no-strip-extras", "--all-extras",
        "--no-emit-index-url", "--emit-index-url", "--no-emit-trusted-host", "--emit-trusted-host",
        "--no-annotate", "--annotate", "--emit-find-links", "--no-emit-find-links", "--pre", "--no-header",
        "--header", "--emit-options", "--no-emit-options", "--reuse-hashes", "--no-reuse-hashes",
        "--build-isolation", "--no-build-isolation", "--universal", "--no-emit-package", "--emit-index-annotation",
        "--no-strip-markers", "--strip-markers", "--no-deps", "--all-build-deps", "--only-build-deps",
        "--newline", "-q", "--quiet", "-v", "--verbose", "--emit-build-options", "--no-config",
    }
)  # fmt: skip
_VALUE_OPTIONS = frozenset(
    {
        "-o", "--output-file", "--extra", "--resolver", "--annotation-style", "--unsafe-package",
        "--python-version", "--python-platform", "-c", "--constraint", "--override", "--build-deps-for",
        "--index-strategy", "--resolution", "--prerelease", "--exclude-newer", "--no-emit-package", "--newline",
        "--group",
    }
)  # fmt: skip


@dataclass(frozen=True)
class LockResult:
    lockfile: str
    text: str | None  # the regenerated lockfile, None when it could not be regenerated
    tool: str | None  # "uv", "poetry", "pip-compile", "uv pip compile"
    command: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.text is not None


def lock_kind(lockfile_path: str, text: str) -> LockKind | None:
    name = posixpath.basename(lockfile_path)
    if name == "uv.lock":
        return "uv"
    if name == "poetry.lock":
        return "poetry"
    header = compiled_header(text)
    if header is None:
        return None
    return "pip-compile" if header.tool == "pip-compile" else "uv-pip-compile"


def regenerate_lock(
    repo_dir: Path,
    manifest_path: str,
    lockfile_path: str,
    packages: Sequence[str],
    timeout: float,
    *,
    allow_source_builds: bool = False,
    uv_from_pip_config: bool = False,
    env: Mapping[str, str] | None = None,
) -> LockResult:
    """Regenerate ``lockfile_path`` (repository-relative) after ``manifest_path`` changed, moving ``packages``.

    ``uv_from_pip_config`` gives uv the index settings of pip's configuration (uv does not read it); off by
    default because uv records the registry of every package in its lockfile, so a mirror would show up there.
    """
    base_env = tool_environment(os.environ if env is None else env, _TOOL_VARIABLES)
    if uv_from_pip_config:
        base_env.update(uv_index_env(base_env))
    try:
        current = (repo_dir / lockfile_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return LockResult(lockfile_path, None, None, problem=f"cannot read {lockfile_path}: {exc}")
    kind = lock_kind(lockfile_path, current)
    if kind is None:
        return LockResult(lockfile_path, None, None, problem=f"{lockfile_path} is not a lockfile depup can regenerate")
    tool_name = {"uv": "uv", "uv-pip-compile": "uv", "poetry": "poetry", "pip-compile": "pip-compile"}[kind]
    label = "uv pip compile" if kind == "uv-pip-compile" else tool_name
    executable = _which(tool_name, base_env)
    if executable is None:
        problem = f"{tool_name} is not installed: {lockfile_path} not updated"
        return LockResult(lockfile_path, None, label, problem=problem)
    try:
        with tempfile.TemporaryDirectory(prefix="depup-lock-") as tmp:
            work = Path(tmp) / "repo"
            shutil.copytree(repo_dir, work, ignore=_ignored)
            plan = _plan(kind, executable, work, manifest_path, lockfile_path, current, packages, base_env,
                         allow_source_builds, timeout)  # fmt: skip
            if isinstance(plan, str):
                return LockResult(lockfile_path, None, label, problem=plan)
            command, cwd, run_env = plan
            compiled = lockfile_path if kind in COMPILE_KINDS else None
            tool_args = command[3:] if kind == "uv-pip-compile" else command[1:]  # after "uv pip compile"
            refused = confinement_problem(work, cwd, kind, tool_args, compiled, allow_builds=allow_source_builds)
            if refused is not None:
                return LockResult(lockfile_path, None, label, _shown(command, work), refused)
            failure = _run(command, cwd, run_env, timeout)
            shown = _shown(command, work)
            if failure is not None:
                return LockResult(lockfile_path, None, label, shown, f"{label} failed: {failure}")
            text = (work / lockfile_path).read_text(encoding="utf-8")
            if kind in ("pip-compile", "uv-pip-compile"):
                text = drop_new_option_lines(current, text)
            return LockResult(lockfile_path, text, label, shown)
    except (OSError, UnicodeDecodeError) as exc:
        return LockResult(lockfile_path, None, label, problem=f"{label} could not run: {_mask(str(exc))}")


_EMITTED_OPTIONS = (
    "--index-url", "-i ", "--extra-index-url", "--find-links", "-f ", "--trusted-host", "--only-binary",
    "--no-binary", "--prefer-binary",
)  # fmt: skip


def drop_new_option_lines(original: str, regenerated: str) -> str:
    """Remove index/find-links/binary-format lines the tool wrote from *this machine's* pip settings.

    pip-compile copies the registries and format controls it ran with into its output; the operator's mirrors,
    local wheel directories and depup's own ``--only-binary`` must not leak into a user's repository, so option
    lines absent from the original are dropped (with the blank line that separated that block).
    """
    known = {line.strip() for line in original.splitlines()}
    lines = regenerated.splitlines(keepends=True)
    out: list[str] = []
    dropped_block = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(_EMITTED_OPTIONS) and stripped not in known:
            dropped_block = True
            continue
        if dropped_block and not stripped and out and not out[-1].lstrip().startswith(_EMITTED_OPTIONS):
            dropped_block = False
            continue
        dropped_block = False
        out.append(line)
    return "".join(out)


def _ignored(folder: str, names: list[str]) -> set[str]:
    """What the copy leaves out: VCS metadata, virtualenvs, caches, and every symbolic link (a link can lead
    anywhere on the worker; a checkout depup made holds none)."""
    return set(_IGNORED_NAMES(folder, names)) | {name for name in names if os.path.islink(os.path.join(folder, name))}


def _which(name: str, env: Mapping[str, str]) -> str | None:
    search = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    return shutil.which(name, path=search)


def _shown(command: Sequence[str], work: Path) -> tuple[str, ...]:
    return tuple(_mask(part.replace(str(work), ".")) for part in command)


REFRESH_ALL = "*"  # as ``packages``: move every locked version to the newest the manifest allows


def _plan(
    kind: LockKind,
    executable: str,
    work: Path,
    manifest_path: str,
    lockfile_path: str,
    current: str,
    packages: Sequence[str],
    env: dict[str, str],
    allow_source_builds: bool,
    timeout: float,
) -> tuple[list[str], Path, dict[str, str]] | str:
    run_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    lock_dir = work / posixpath.dirname(lockfile_path)
    if kind == "uv":
        run_env.update({"UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"})
        if not allow_source_builds:
            run_env["UV_NO_BUILD"] = "1"
        command = [executable, "lock"]
        if list(packages) == [REFRESH_ALL]:
            return [*command, "--upgrade"], lock_dir, run_env
        for package in packages:
            command += ["--upgrade-package", package]
        return command, lock_dir, run_env
    if kind == "poetry":
        run_env.update({"POETRY_NO_INTERACTION": "1", "POETRY_VIRTUALENVS_CREATE": "false"})
        if list(packages) == [REFRESH_ALL]:
            return [executable, "update", "--lock"], lock_dir, run_env
        names = [re.split(r"[=<>!~; \[]", p, maxsplit=1)[0] for p in packages]
        if names:
            return [executable, "update", "--lock", *names], lock_dir, run_env
        major = _poetry_major(executable, run_env, timeout)
        if major is None:
            return "cannot tell the Poetry version"
        command = [executable, "lock", "--no-update"] if major < 2 else [executable, "lock"]
        return command, lock_dir, run_env
    header = compiled_header(current)
    assert header is not None  # lock_kind found it
    return _plan_compile(kind, executable, work, manifest_path, lockfile_path, header, packages, run_env,
                         allow_source_builds)  # fmt: skip


def _plan_compile(
    kind: LockKind,
    executable: str,
    work: Path,
    manifest_path: str,
    lockfile_path: str,
    header: CompiledHeader,
    packages: Sequence[str],
    run_env: dict[str, str],
    allow_source_builds: bool,
) -> tuple[list[str], Path, dict[str, str]] | str:
    if header.custom_command is not None or not header.args:
        # a wrapper ran the tool (CUSTOM_COMPILE_COMMAND) or the header names no command: compile the manifest
        # next to the lockfile, and keep the header's wording
        lock_dir = (work / lockfile_path).parent
        if header.custom_command is not None and header.tool == "pip-compile":
            run_env.setdefault("CUSTOM_COMPILE_COMMAND", header.custom_command)
        header = CompiledHeader(header.tool, (os.path.relpath(work / manifest_path, lock_dir),), ())
    args = list(header.args)
    bad = _unsupported(args)
    if bad:
        return f"the header of {lockfile_path} uses options depup does not re-run: {' '.join(bad)}"
    output = _output_file(args)
    cwd = _command_dir(work, lockfile_path, output, header.sources or (posixpath.basename(manifest_path),))
    if cwd is None:
        return f"cannot tell from which directory the command in the header of {lockfile_path} was run"
    if output is None and (kind == "uv-pip-compile" or _default_output(header.sources) != Path(lockfile_path).name):
        args += ["--output-file", os.path.relpath(work / lockfile_path, cwd)]
    if kind == "uv-pip-compile":
        run_env.update({"UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"})
        if not allow_source_builds:
            run_env["UV_NO_BUILD"] = "1"
        command = [executable, "pip", "compile", *args]
    else:
        if not allow_source_builds:
            run_env["PIP_ONLY_BINARY"] = ":all:"
        command = [executable, *args]
    if list(packages) == [REFRESH_ALL]:
        return [*command, "--upgrade"], cwd, run_env
    for package in packages:
        command += ["--upgrade-package", package]
    return command, cwd, run_env


def _unsupported(args: Sequence[str]) -> list[str]:
    bad: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
            continue
        if not arg.startswith("-"):
            continue
        name = arg.split("=", 1)[0]
        if name in _VALUE_OPTIONS:
            skip_next = "=" not in arg
        elif name not in _FLAGS:
            bad.append(arg)
    return bad


def _default_output(sources: Sequence[str]) -> str:
    """pip-compile's output when none is named: ``X.in`` -> ``X.txt``, anything else -> requirements.txt."""
    if len(sources) == 1 and sources[0].endswith(".in"):
        return Path(sources[0]).with_suffix(".txt").name
    return "requirements.txt"


def _output_file(args: Sequence[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg in ("-o", "--output-file") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--output-file="):
            return arg.split("=", 1)[1]
        if arg.startswith("-o") and len(arg) > 2:
            return arg[2:]
    return None


def _command_dir(work: Path, lockfile_path: str, output: str | None, sources: Sequence[str]) -> Path | None:
    """The directory the header's command ran in: where its output names the lockfile and its sources exist."""
    target = (work / lockfile_path).resolve()
    candidate = target.parent
    while True:
        output_ok = output is None or (candidate / output).resolve() == target
        sources_ok = all(_exists(candidate / s) for s in sources if not s.startswith("-"))
        if output_ok and sources_ok:
            return candidate
        if candidate == work.resolve() or candidate.parent == candidate:
            return None
        candidate = candidate.parent


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def _poetry_major(executable: str, env: dict[str, str], timeout: float) -> int | None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [executable, "--version"], capture_output=True, text=True, env=env, timeout=min(timeout, 60), check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.\d+", done.stdout + done.stderr)
    return int(match.group(1)) if match else None


def _run(command: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float) -> str | None:
    """Run the tool in its own process group; the problem text, or None on success."""
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        list(command),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        return f"timed out after {timeout:g} s"
    if process.returncode != 0:
        return f"exit status {process.returncode}: {_tail(stderr or stdout)}"
    return None


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(output: str) -> str:
    text = _mask(output.strip())
    return text if len(text) <= _TAIL_CHARS else "..." + text[-_TAIL_CHARS:]


def _mask(text: str) -> str:
    return _CREDENTIALS.sub(r"\1***@", text)
