"""Running the applicable rewriters on a confined copy of the upgraded repository.

The copy holds the repository's regular files only: no symbolic links, nothing under ``.git``,
``node_modules``, virtualenvs or vendored trees (``SKIP_SOURCE_DIRS``), nothing over ``MAX_FILE_BYTES``. Each
rewriter runs in it in turn (a later one sees the earlier ones' edits), as a process group of its own that
``TIME_LIMIT`` kills, with the environment of ``bot.deps.confine.tool_environment`` (never depup's secrets), a
scratch ``HOME``, and no network: in a new network namespace (``unshare -rn``) where the host allows one, else
behind proxy variables pointing at a closed port (logged as a warning). Python tools run isolated
(``python -I``: the copy is not on their import path), so nothing of the repository is imported or executed.

Only the copy's existing source files count as changed: a rewriter that creates or removes files, replaces one
by a link, writes other than UTF-8, or changes more than ``MAX_FILES_CHANGED`` files has its edits undone. One
that fails, times out or changes nothing yields no migration and a problem line. Results are cached in Redis by
(base commit, rewriter, tool version, target, hash of the files it reads), so rescans do not run tools again.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from bot.deps.confine import tool_environment
from bot.migrate.model import Migration, Outcome
from bot.migrate.rewriters import Invocation, Rewriter, Upgrade, applicable
from bot.migrate.tools import Installed, installed_tool
from bot.risk.imports import SKIP_SOURCE_DIRS
from config.model import Migrations

log = logging.getLogger(__name__)

TIME_LIMIT = 120.0
MAX_FILES_CHANGED = 300
MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 20000
CACHE_TTL = 14 * 24 * 3600
_CACHE_KEY = "depup:migrate:"
_SKIPPED = frozenset({*SKIP_SOURCE_DIRS, ".git", "vendor", "vendored", "third_party", "site-packages"})
_DEAD_PROXY = "http://127.0.0.1:9"
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
_DIAGNOSTIC = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>[A-Z]+[0-9]+ .*)$")


@dataclass(frozen=True)
class _Run:
    changed: dict[str, str]
    left: tuple[str, ...]
    problem: str | None = None
    cache: bool = True  # a timeout may not repeat: not cached


def migrate(
    work: Path, upgrades: Sequence[Upgrade], settings: Migrations, *, base: str, redis: Redis | None = None
) -> Outcome:
    """The migrations of the allowed rewriters applicable to ``upgrades`` for the upgraded tree ``work`` (left
    as it is), whose default-branch commit is ``base``."""
    if not settings.enabled:
        return Outcome()
    wanted = applicable(upgrades, settings.allows)
    if not wanted:
        return Outcome()
    migrations: list[Migration] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="depup-migrate-") as scratch:
        copy = Path(scratch) / "repo"
        files = _confined_copy(work, copy)
        for rewriter, upgrade in wanted:
            done, problem = _one(copy, files, rewriter, upgrade, base, redis, Path(scratch))
            if done is not None:
                migrations.append(done)
            if problem is not None:
                problems.append(problem)
    return Outcome(tuple(migrations), tuple(problems))


def _one(
    copy: Path, files: list[str], rewriter: Rewriter, upgrade: Upgrade, base: str, redis: Redis | None,
    scratch: Path,
) -> tuple[Migration | None, str | None]:  # fmt: skip
    what = f"{rewriter.name} for {upgrade.package} {upgrade.target}"
    sources = tuple(f for f in files if f.endswith(rewriter.suffixes))
    if not sources:  # no code it reads (or depup did not fetch it): nothing ran, nothing to say
        return None, None
    tool = installed_tool(rewriter.tool)
    if isinstance(tool, str):
        return None, f"{what}: not run: {tool}"
    what = f"{rewriter.name} ({tool.label}) for {upgrade.package} {upgrade.target}"
    before = {path: (copy / path).read_text(encoding="utf-8") for path in sources}
    key = _cache_key(base, rewriter, tool, upgrade, before)
    run = _cached(redis, key)
    if run is None:
        run = _execute(copy, sources, before, rewriter, tool, upgrade, scratch)
        if run.cache:
            _store(redis, key, run)
    if run.problem is not None:
        return None, f"{what}: {run.problem}"
    if not run.changed:
        return None, f"{what}: changed nothing" + (f" ({len(run.left)} findings left)" if run.left else "")
    for path, text in run.changed.items():  # the next rewriter starts from these edits (also on a cache hit)
        (copy / path).write_text(text, encoding="utf-8")
    notes = tuple((path, _lines(before[path], text)) for path, text in sorted(run.changed.items()))
    migration = Migration(
        rewriter.name, tool.label, upgrade.package, upgrade.target, dict(sorted(run.changed.items())), notes, run.left
    )
    return migration, None


def _execute(
    copy: Path, sources: tuple[str, ...], before: dict[str, str], rewriter: Rewriter, tool: Installed,
    upgrade: Upgrade, scratch: Path,
) -> _Run:  # fmt: skip
    """Run the rewriter's steps in ``copy``; on any failure the copy is put back as it was."""
    home = scratch / f"home-{rewriter.name}"
    home.mkdir(exist_ok=True)
    output: list[str] = []
    problem: str | None = None
    timed_out = False
    for args in rewriter.steps(upgrade, Invocation(sources, scratch)):
        status, text = run_confined([*tool.argv, *args], copy, home)
        output.append(text)
        if status is None:
            problem, timed_out = f"timed out after {TIME_LIMIT:.0f} s", True
            break
        if status != 0:
            problem = f"failed (exit status {status}): {_tail(text)}"
            break
    changed: dict[str, str] = {}
    if problem is None:
        changed, problem = _changes(copy, before)
    _restore(copy, before)
    if problem is not None:
        return _Run({}, (), problem, cache=not timed_out)
    left = tuple(dict.fromkeys(_left("\n".join(output), set(sources))))
    return _Run(changed, left)


def _changes(copy: Path, before: dict[str, str]) -> tuple[dict[str, str], str | None]:
    changed: dict[str, str] = {}
    for path, old in before.items():
        target = copy / path
        if target.is_symlink() or not target.is_file():
            return {}, f"refused: it replaced or removed {path}"
        try:
            new = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return {}, f"refused: it wrote {path} in another encoding than UTF-8"
        if new != old:
            changed[path] = new
    if len(changed) > MAX_FILES_CHANGED:
        return {}, f"refused: it changed {len(changed)} files, more than the {MAX_FILES_CHANGED} depup commits"
    return changed, None


def _restore(copy: Path, before: dict[str, str]) -> None:
    for path, text in before.items():
        target = copy / path
        if target.is_symlink():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def run_confined(argv: Sequence[str], cwd: Path, home: Path, timeout: float | None = None) -> tuple[int | None, str]:
    """Run ``argv`` in ``cwd`` without network, secrets or a way to outlive ``timeout``: its exit status (None
    when it was killed for time) and its output."""
    env = {k: v for k, v in tool_environment(os.environ, ()).items() if k.upper() not in _PROXIES}
    env |= {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config")}
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    prefix: tuple[str, ...] = ()
    if can_unshare():
        prefix = ("unshare", "-rn")
    else:
        log.warning("no network namespace on this host: a rewriter runs with dead proxy variables instead")
        env |= {name: _DEAD_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
        env |= {name.lower(): _DEAD_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [*prefix, *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        return 127, str(exc)
    try:
        out, _ = process.communicate(timeout=TIME_LIMIT if timeout is None else timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, ""
    return process.returncode, out


@lru_cache(maxsize=1)
def can_unshare() -> bool:
    """Whether this host lets an unprivileged process have a network namespace of its own."""
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10, check=False)  # noqa: S607
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _confined_copy(work: Path, copy: Path) -> list[str]:
    """Copy ``work``'s regular files (no links, none under skipped folders) to ``copy``; their paths."""
    files: list[str] = []
    for directory, dirs, names in os.walk(work):
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED and not (here / d).is_symlink())
        for name in sorted(names):
            source = here / name
            if source.is_symlink() or not source.is_file() or source.stat().st_size > MAX_FILE_BYTES:
                continue
            relative = source.relative_to(work).as_posix()
            target = copy / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            if _utf8(target):
                files.append(relative)
            if len(files) >= MAX_FILES:
                return files
    return files


def _utf8(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return True


def _left(output: str, sources: set[str]) -> list[str]:
    """The tool's findings it did not fix, as "path:line:col: CODE message" lines about the copy's files."""
    found = []
    for line in output.splitlines():
        match = _DIAGNOSTIC.match(line.strip())
        if match is not None and match.group("path").removeprefix("./") in sources:
            found.append(line.strip().removeprefix("./")[:300])
    return found


def _lines(old: str, new: str) -> str:
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return f"+{added} -{removed} lines"


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-3:])[-400:] or "no output"


def _cache_key(base: str, rewriter: Rewriter, tool: Installed, upgrade: Upgrade, files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for part in (base, rewriter.name, tool.label, upgrade.package, upgrade.target):
        digest.update(part.encode() + b"\0")
    for path, text in sorted(files.items()):
        digest.update(path.encode() + b"\0" + hashlib.sha256(text.encode()).digest())
    return _CACHE_KEY + digest.hexdigest()


def _cached(redis: Redis | None, key: str) -> _Run | None:
    if redis is None:
        return None
    try:
        raw = redis.get(key)
    except RedisError:
        return None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return _Run(dict(data["changed"]), tuple(data["left"]), data["problem"])
    except (ValueError, KeyError, TypeError):
        return None


def _store(redis: Redis | None, key: str, run: _Run) -> None:
    if redis is None:
        return
    value = json.dumps({"changed": run.changed, "left": list(run.left), "problem": run.problem})
    try:
        redis.set(key, value, ex=CACHE_TTL)
    except RedisError:
        log.warning("the migration cache could not be written", exc_info=True)
