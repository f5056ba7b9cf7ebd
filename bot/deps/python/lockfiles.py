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
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.deps.confine import escapes, tool_environment
from bot.deps.python.confine import COMPILE_KINDS, confinement_problem
from bot.deps.python.pipconfig import uv_index_env
from bot.deps.python.requirements import CompiledHeader, compiled_header

LockKind = Literal["uv", "poetry", "pip-compile", "uv-pip-compile", "pipenv", "pip-compile-multi"]
_IGNORED_NAMES = shutil.ignore_patterns(
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache",
)  # fmt: skip
_TOOL_VARIABLES = ("PIP_", "UV_", "POETRY_")  # besides bot.deps.confine.PASSED_VARIABLES
# pipenv's own settings an operator may give (its cache, a mirror, timeouts); the others are set for the run
_PIPENV_VARIABLES = ("PIPENV_CACHE_DIR", "PIPENV_PYPI_MIRROR", "PIPENV_TIMEOUT", "PIPENV_REQUESTS_TIMEOUT",
                     "PIPENV_MAX_RETRIES", "PIPENV_INSTALL_TIMEOUT")  # fmt: skip
_PYLOCK = re.compile(r"^pylock(\.[^./]+)?\.toml$")
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
    tool: str | None  # "uv", "poetry", "pip-compile", "uv pip compile", "pipenv", "pip-compile-multi"
    command: tuple[str, ...] = ()
    problem: str | None = None
    # Other files the tool rewrote with the lockfile, (path, text): pylock.toml exported from uv.lock or written
    # by pipenv beside Pipfile.lock, the other layers of a pip-compile-multi run
    also: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None and self.text is not None


def lock_kind(lockfile_path: str, text: str) -> LockKind | None:
    name = posixpath.basename(lockfile_path)
    if name == "uv.lock":
        return "uv"
    if name == "poetry.lock":
        return "poetry"
    if name == "Pipfile.lock":
        return "pipenv"
    header = compiled_header(text)
    if header is None or (_PYLOCK.match(name) and (header.tool != "uv" or header.custom_command is not None)):
        return None
    if header.tool == "pip-compile-multi":
        return "pip-compile-multi"
    return "pip-compile" if header.tool == "pip-compile" else "uv-pip-compile"


def _not_regenerated(lockfile_path: str, text: str) -> str:
    """Why ``lockfile_path`` is left to the project's CI (no tool depup runs can write it as it was written)."""
    if not _PYLOCK.match(posixpath.basename(lockfile_path)):
        return f"{lockfile_path} is not a lockfile depup can regenerate"
    found = re.search(r"(?m)^created-by\s*=\s*[\"']([^\"']+)", text)
    creator = found.group(1) if found else "an unknown tool"
    how = {
        "pip": "pip lock, which builds the project to read its metadata",
        "uv": "uv export from uv.lock: it is written again when uv.lock is",
        "pipenv": "pipenv beside Pipfile.lock: it is written again when Pipfile.lock is",
    }.get(creator, creator)
    return f"{lockfile_path} (PEP 751) was written by {how}; depup does not regenerate it on its own: left to CI"


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
        return LockResult(lockfile_path, None, None, problem=_not_regenerated(lockfile_path, current))
    if kind == "pipenv":
        source = os.environ if env is None else env
        base_env.update({k: source[k] for k in _PIPENV_VARIABLES if k in source})
    tool_name = {"uv": "uv", "uv-pip-compile": "uv", "poetry": "poetry", "pip-compile": "pip-compile",
                 "pipenv": "pipenv", "pip-compile-multi": "pip-compile-multi"}[kind]  # fmt: skip
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
            checked_kind, checked_args = kind, tool_args
            if kind == "pip-compile-multi":  # it runs pip-compile on every .in file of its directory
                layers = sorted((work / posixpath.dirname(lockfile_path)).glob("*.in"))
                checked_kind, checked_args = "pip-compile", [os.path.relpath(p, cwd) for p in layers]
            refused = confinement_problem(work, cwd, checked_kind, checked_args, compiled,
                                          allow_builds=allow_source_builds)  # fmt: skip
            if refused is not None:
                return LockResult(lockfile_path, None, label, _shown(command, work), refused)
            before = _derived(work, lockfile_path, kind)
            failure = _run(command, cwd, run_env, timeout)
            shown = _shown(command, work)
            if failure is None and kind == "uv":
                failure = _export_pylocks(executable, work, lockfile_path, run_env, timeout)
            if failure is not None:
                return LockResult(lockfile_path, None, label, shown, f"{label} failed: {failure}")
            text = (work / lockfile_path).read_text(encoding="utf-8")
            if kind in ("pip-compile", "uv-pip-compile"):
                text = drop_new_option_lines(current, text)
            after = _derived(work, lockfile_path, kind)
            if kind == "pip-compile-multi":
                text = keep_multi_header(current, drop_new_option_lines(current, text))
                after = {p: keep_multi_header(before.get(p, t), drop_new_option_lines(before.get(p, ""), t))
                         for p, t in after.items()}  # fmt: skip
            also = tuple((path, after[path]) for path in sorted(after) if after[path] != before.get(path))
            return LockResult(lockfile_path, text, label, shown, also=also)
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


def keep_multi_header(original: str, regenerated: str) -> str:
    """pip-compile-multi's output with the original's header comment (versions of the tool word it differently):
    the new ``# SHA1:`` line (the digest of the .in file), then the original header, then the new body."""

    def split(text: str) -> tuple[list[str], list[str]]:
        lines = text.splitlines(keepends=True)
        end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
        return lines[:end], lines[end:]

    old_header, _ = split(original)
    new_header, body = split(regenerated)
    if not old_header or not new_header or not new_header[0].startswith("# SHA1:"):
        return regenerated
    kept = old_header[1:] if old_header[0].startswith("# SHA1:") else old_header
    return "".join([new_header[0], *kept, *body])


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
    if kind == "pipenv":
        run_env.update(
            PIPENV_PIPFILE=str(work / manifest_path), PIPENV_VENV_IN_PROJECT="1", PIPENV_IGNORE_VIRTUALENVS="1",
            PIPENV_YES="1", PIPENV_NOSPIN="1", PIPENV_DONT_LOAD_ENV="1", PIPENV_DONT_USE_PYENV="1",
            PIPENV_DONT_USE_ASDF="1", PIPENV_NO_INHERIT="1",
        )  # fmt: skip
        if not allow_source_builds:
            run_env["PIP_ONLY_BINARY"] = ":all:"
        if list(packages) == [REFRESH_ALL] or not packages:
            return [executable, "lock"], (work / manifest_path).parent, run_env
        # only the named packages move; the Pipfile (already edited) is left as it is
        return [executable, "upgrade", "--lock-only", *packages], (work / manifest_path).parent, run_env
    if kind == "pip-compile-multi":
        if not allow_source_builds:
            run_env["PIP_ONLY_BINARY"] = ":all:"
        folder = posixpath.dirname(lockfile_path) or "."
        source = posixpath.splitext(lockfile_path)[0] + ".in"
        command = [executable, "--directory", folder, "--only-path", source, "--no-upgrade"]
        hashed = sorted(p.stem for p in (work / folder).glob("*.txt") if "--hash=" in p.read_text("utf-8", "replace"))
        for stem in hashed:
            command += ["--generate-hashes", stem]
        if list(packages) == [REFRESH_ALL]:
            command[command.index("--no-upgrade")] = "--upgrade"
        else:
            for package in packages:
                command += ["--upgrade-package", package]
        return command, work, run_env
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


def _derived(work: Path, lockfile_path: str, kind: LockKind) -> dict[str, str]:
    """The files a run of ``kind`` may rewrite besides the lockfile: PEP 751 files beside it (pipenv's
    ``use_pylock``, ``uv export``), the other ``.txt`` layers of a pip-compile-multi directory."""
    folder = (work / lockfile_path).parent
    if kind in ("uv", "pipenv"):
        paths = [p for p in folder.iterdir() if _PYLOCK.match(p.name) and p.is_file()]
    elif kind == "pip-compile-multi":
        paths = [p for p in folder.glob("*.txt") if p.is_file()]
    else:
        return {}
    found = {Path(os.path.relpath(p, work)).as_posix(): p.read_text("utf-8", "replace") for p in paths}
    found.pop(lockfile_path, None)
    return found


def _export_pylocks(
    executable: str, work: Path, lockfile_path: str, env: Mapping[str, str], timeout: float
) -> str | None:
    """Run again the ``uv export`` that wrote each pylock.toml beside ``uv.lock`` (its header's command)."""
    folder = (work / lockfile_path).parent
    for path in sorted(p for p in folder.iterdir() if _PYLOCK.match(p.name) and p.is_file()):
        header = compiled_header(path.read_text("utf-8", "replace"))
        command = header.custom_command if header is not None else None
        if command is None or not command.startswith("uv export "):
            continue
        try:
            args = shlex.split(command)[2:]
        except ValueError:
            continue
        bad = [a for a in args if a.startswith("-") and a.split("=", 1)[0] not in _EXPORT_OPTIONS]
        if bad or any(escapes(work, folder, a.split("=", 1)[-1]) for a in args):
            return f"the header of {os.path.relpath(path, work)} uses options depup does not re-run: {' '.join(bad)}"
        failure = _run([executable, "export", *args], folder, env, timeout)
        if failure is not None:
            return failure
    return None


_EXPORT_OPTIONS = frozenset(
    {
        "--format", "-o", "--output-file", "--no-hashes", "--all-extras", "--extra", "--no-dev", "--dev", "--group",
        "--only-group", "--no-group", "--all-groups", "--only-dev", "--package", "--all-packages", "--frozen",
        "--no-emit-project", "--no-emit-workspace", "--no-editable", "--no-header", "--prune", "--quiet", "-q",
        "--no-annotate",
    }
)  # fmt: skip


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
