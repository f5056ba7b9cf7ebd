"""Regenerating a JavaScript project's lockfile with its own package manager (``bot.deps.npm.relock`` runs it).

``regenerate_lock`` finds the project the edited ``package.json`` belongs to (its workspace root: ``workspaces``
of a package.json above it, or ``pnpm-workspace.yaml``), the lockfile there (``bot.deps.npm.locks.LOCKFILES``),
the package manager that writes it and the version the project names in ``packageManager`` (else the versions
that write that lockfile's format), installs that tool when needed (``bot.deps.npm.tools``) and runs it. It
never touches the checkout and never raises for a tool problem: a missing tool, a failing one or a timeout come
back as ``LockResult.problem`` so the caller keeps its manifest edit and reports the lockfile problem.

npm's steps: ``npm install --package-lock-only`` (with ``name@version`` specs first for in-range updates, then
the original package.json restored and the lock synced to it, so the manifest's ranges stay exactly as written;
``npm update --package-lock-only`` to refresh). From a repository ``.npmrc`` only ``registry`` /
``@scope:registry`` lines are kept: other settings (``git``, ``script-shell``, ``node-options``...) can make npm
run programs the repository chooses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from bot.deps.confine import Outside
from bot.deps.model import Dependency
from bot.deps.npm.confine import references_outside
from bot.deps.npm.locks import LOCKFILES, Manager
from bot.deps.npm.manifest import workspace_globs
from bot.deps.npm.relock import Job, LockResult, Relocker, Step, npmrc_registry_lines, run_relock
from bot.deps.npm.tools import Tool, Wanted, declared, tool_for
from bot.deps.npm.workspaces import workspace_match

__all__ = ["LOCKFILE_NAMES", "LockResult", "install_spec", "regenerate_lock", "relocker_for"]

LOCKFILE_NAMES = tuple(LOCKFILES)


def install_spec(dependency: Dependency, version: str) -> str:
    """The ``install`` argument recording ``version`` for a dependency (aliases included)."""
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

    The manifests in ``repo_dir`` are taken as they are (already edited). ``packages`` are install specs
    (``name@version``, see ``install_spec``) to record for in-range, lockfile-only updates. ``registry`` is
    given to the tool; without it the tool's own configuration decides. ``refresh`` (lockfile maintenance)
    moves every locked version to the newest its range allows.
    """
    manifest = PurePosixPath(manifest_dir)
    root = project_root(repo_dir, manifest)
    project = repo_dir / root
    lock_name = lockfile_name(project)
    if lock_name is None:
        return LockResult(None, "npm", f"no lockfile next to {root / 'package.json'}")
    lockfile = str(root / lock_name)
    manager = LOCKFILES[lock_name]
    if lock_name == "bun.lockb":
        why = (
            "bun.lockb is bun's binary lockfile, left to CI (bun 1.2 and later write bun.lock, which depup regenerates)"
        )
        return LockResult(None, manager, why, lockfile)
    relocker = relocker_for(manager)
    lock_text = (project / lock_name).read_bytes().decode("utf-8", "replace")
    wanted = _wanted(project, manager, relocker, lock_text, lock_name)
    tool = tool_for(wanted, registry)
    if isinstance(tool, str):
        return LockResult(None, manager, tool, lockfile)
    member = manifest.relative_to(root) if manifest != root else None
    job = Job(lock_name, member, tuple(packages), refresh, registry, tuple(_members(project)))
    return run_relock(relocker, tool, project, job, timeout, lockfile)


def relocker_for(manager: Manager) -> Relocker:
    if manager == "npm":
        return NPM
    if manager == "yarn":
        from bot.deps.npm.yarn import YARN

        return YARN
    if manager == "pnpm":
        from bot.deps.npm.pnpm import PNPM

        return PNPM
    from bot.deps.npm.bun import BUN

    return BUN


def lockfile_name(project: Path) -> str | None:
    """The lockfile of the project rooted at ``project``: the one its ``packageManager`` writes when several are
    there, else the first of ``LOCKFILES`` present."""
    present = [name for name in LOCKFILES if (project / name).is_file() and not (project / name).is_symlink()]
    if len(present) > 1:
        named = declared(_package_json(project))
        preferred = [name for name in present if named is not None and LOCKFILES[name] == named[0]]
        if preferred:
            return preferred[0]
    return present[0] if present else None


def _wanted(project: Path, manager: Manager, relocker: Relocker, lock_text: str, lock_name: str) -> Wanted:
    named = declared(_package_json(project))
    if named is not None and named[0] == manager:
        return Wanted(manager, named[1], f"packageManager: {manager}@{named[1]}")
    engines = _package_json(project).get("engines")
    if manager == "npm" and isinstance(engines, dict) and isinstance(engines.get("npm"), str):
        return Wanted(manager, engines["npm"], f"engines.npm: {engines['npm']}")
    return Wanted(manager, relocker.default_versions(lock_text), f"the format of {lock_name}")


def _package_json(project: Path) -> dict[str, object]:
    try:
        data = json.loads((project / "package.json").read_bytes().decode("utf-8", "replace").removeprefix("\ufeff"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def project_root(repo_dir: Path, manifest_dir: PurePosixPath) -> PurePosixPath:
    """The workspace root whose member ``manifest_dir`` is (``workspaces`` globs of a package.json above it, or
    the ``packages`` of a ``pnpm-workspace.yaml``), else ``manifest_dir`` itself."""
    for ancestor in list(manifest_dir.parents):
        relative = str(manifest_dir.relative_to(ancestor))
        if any(workspace_match(relative, glob) for glob in _workspace_globs(repo_dir / ancestor)):
            return ancestor
    return manifest_dir


def _workspace_globs(folder: Path) -> list[str]:
    globs: list[str] = []
    candidate = folder / "package.json"
    if candidate.is_file():
        globs += workspace_globs(candidate.read_text(encoding="utf-8", errors="replace"))
    if (folder / "pnpm-workspace.yaml").is_file():
        from bot.deps.npm.pnpm import workspace_packages

        globs += workspace_packages(folder / "pnpm-workspace.yaml")
    return [g for g in globs if not g.startswith("!")]


def _members(project: Path) -> list[PurePosixPath]:
    globs = _workspace_globs(project)
    if not globs:
        return []
    found = []
    for path in sorted(project.rglob("package.json")):
        relative = PurePosixPath(path.parent.relative_to(project).as_posix())
        if "node_modules" in relative.parts or str(relative) == ".":
            continue
        if any(workspace_match(str(relative), glob) for glob in globs):
            found.append(relative)
    return found


class _Npm:
    manager: str = "npm"
    env_prefixes: tuple[str, ...] = ("npm_config_",)

    def default_versions(self, lock_text: str) -> str:
        # lockfileVersion 1 was written by npm 5-6; npm 7+ reads it and writes version 3 (or 2): the npm at hand
        # (any) is right for every format.
        return "*"

    def outside(self, project: Path, lock_name: str) -> list[Outside]:
        return references_outside(project, lock_name, npmrc_registry_lines(project))

    def prepare(self, project: Path, work: Path, job: Job) -> None:
        kept = npmrc_registry_lines(project)
        if kept:
            (work / ".npmrc").write_text("\n".join(kept) + "\n")

    def steps(self, tool: Tool, work: Path, job: Job) -> list[Step]:
        base = (*tool.argv, "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund")
        if job.registry:
            base = (*base, f"--registry={job.registry}")
        steps: list[Step] = []
        if job.refresh:
            steps.append(Step((*tool.argv, "update", *base[len(tool.argv) + 1 :])))
        elif job.packages:
            target = (f"--workspace={job.member}",) if job.member is not None else ()
            steps.append(Step((*base, *target, *job.packages)))
        steps.append(Step(base, restore_manifests=bool(steps)))
        return steps


NPM = _Npm()
