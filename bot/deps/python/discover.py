"""Python dependency files of a checkout, with the lockfiles that belong to them and the Python they run on.

Manifests: requirements files (and their ``-r``/``-c`` includes), ``pyproject.toml``, ``setup.cfg``,
``setup.py`` (read from its syntax tree, never run) and ``Pipfile``.

Requirements files are found by name (``is_requirements``): any ``.txt``/``.in``/``.pip`` file whose name holds
"requirement" (``requirements.txt``, ``requirements-dev.txt``, ``requirements_dev.txt``, ``requirements.dev.txt``,
``dev-requirements.in``, ``test_requirements.txt``), a ``.txt`` named for "constraints" (``constraints.txt``,
``constraints-py311.txt``), a word "reqs" (``reqs.txt``), and any ``.txt``/``.in`` below a folder named
``requirements``, ``requirement``, ``reqs`` or ``requirements.d`` at any depth (``requirements/base/prod.txt``).
That covers Renovate's pip_requirements pattern (which misses ``requirements_dev.txt``) and Dependabot's
(a name holding "requirements", and requirements folders). A ``.in`` file elsewhere is taken only when the
``.txt`` beside it says pip-compile compiled it: other ``.in`` files (templates, ``MANIFEST.in``) are not
requirements.

Lockfiles: ``uv.lock`` (the project's, or the workspace root's for a member of a ``[tool.uv.workspace]``),
``poetry.lock``, ``pylock.toml`` / ``pylock.<name>.toml`` (PEP 751) beside a ``pyproject.toml``, ``Pipfile.lock``
beside a ``Pipfile``, and compiled requirements (pip-compile, ``uv pip compile``, pip-compile-multi): the
compiled output is the lockfile of its input, whose current versions come from the output's pins (and those of
the compiled files it includes). A header's command ran in some directory: the one from which its
``--output-file`` names the compiled file and its inputs exist, the compiled file's own folder first, then each
parent (``pip-compile --output-file=requirements/base.txt requirements/base.in`` ran at the root).

Runtime evidence (``Manifest.requires_python`` / ``runtime_evidence``) when a manifest declares no Python: a
requirements file that installs a local project (``-e .``, ``.``) takes that project's ``requires-python``;
otherwise ``bot.deps.python.runtime`` (``.python-version``, ``.tool-versions``, Dockerfiles). A pyproject.toml
that declares requires-python gets that evidence as ``Manifest.runtime_python``: the highest floor depup would
raise it to (``bot.deps.floor``).
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.deps.checkout import MAX_LOCKFILE_BYTES, Checkout, is_file
from bot.deps.model import Dependency, Ecosystem, Manifest, Problem, Role
from bot.deps.python import locks, pipfile
from bot.deps.python.pyproject import parse_pyproject
from bot.deps.python.requirements import CompiledHeader, RequirementsFile, compiled_header, parse_requirements_file
from bot.deps.python.roles import role_for_path
from bot.deps.python.runtime import RuntimeEvidence, ancestors, is_evidence
from bot.deps.python.setupcfg import parse_setup_cfg
from bot.deps.python.setuppy import read_setup_py

REQUIREMENT_FOLDERS = frozenset({"requirements", "requirement", "reqs", "requirements.d"})
PROJECT_NAMES = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile")
_REQUIREMENT_SUFFIXES = (".txt", ".in", ".pip")
_WORDS = re.compile(r"[a-z0-9]+")
_PYLOCK = re.compile(r"^pylock(\.[^./]+)?\.toml$")
_LOCK_NAMES = frozenset({"uv.lock", "poetry.lock", "Pipfile.lock"})
_VIA = re.compile(r"^\s*#\s+(?:via\s+)?-r\s+(\S+\.in)\s*$")


def reads(path: str) -> bool:
    """Whether discovery may read ``path`` (a manifest, lockfile, include or runtime evidence)."""
    name = posixpath.basename(path)
    return (
        name in PROJECT_NAMES
        or name in _LOCK_NAMES
        or bool(_PYLOCK.match(name))
        or is_requirements(path)
        or name.endswith(".in")
        or is_evidence(path)
    )


def is_requirements(path: str) -> bool:
    """Whether ``path`` is a requirements file by its name or folder (see the module docstring)."""
    name = posixpath.basename(path).lower()
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix}" not in _REQUIREMENT_SUFFIXES:
        return False
    words = _WORDS.findall(stem)
    if "requirement" in stem or "reqs" in words or (suffix == "txt" and ("constraints" in words)):
        return True
    folders = path.lower().split("/")[:-1]
    return suffix != "pip" and any(folder in REQUIREMENT_FOLDERS for folder in folders)


@dataclass(frozen=True)
class _Compiled:
    path: str  # the compiled file (the lockfile)
    header: CompiledHeader
    versions: Mapping[str, str]


def python_manifests(checkout: Checkout) -> list[Manifest]:
    requirements = _requirements_files(checkout)
    manifests: dict[str, Manifest] = {}
    for path in checkout.files:
        name = posixpath.basename(path)
        if name not in PROJECT_NAMES:
            continue
        text = checkout.read(path)
        if text is None:
            continue
        if name == "pyproject.toml":
            manifests[path] = parse_pyproject(path, text)
        elif name == "setup.cfg":
            manifests[path] = parse_setup_cfg(path, text)
        elif name == "setup.py":
            read = read_setup_py(path, text)
            manifests[path] = read.manifest
            if read.unread:
                checkout.not_read(path, "not read statically: " + "; ".join(read.unread))
        else:
            manifests[path] = pipfile.parse_pipfile(path, text)
    workspaces = _uv_workspaces(checkout, manifests)
    for path, manifest in list(manifests.items()):
        if manifest.kind == "pyproject":
            manifests[path] = _with_pyproject_lock(checkout, manifest, workspaces, manifests)
        elif manifest.kind == pipfile.KIND:
            manifests[path] = _with_pipfile_lock(checkout, manifest)

    compiled: dict[str, list[_Compiled]] = {}  # input manifest -> the compiled files that lock it
    inputs: dict[str, list[str]] = {}  # compiled file -> its inputs
    for path, parsed in requirements.items():
        if parsed.compiled is None:
            continue
        sources = _compiled_sources(checkout, path, parsed)
        if sources is None:
            continue
        inputs[path] = sources
        versions = _pins(path, requirements)
        for source in sources:
            compiled.setdefault(source, []).append(_Compiled(path, parsed.compiled, versions))
    for path in checkout.files:  # pylock.toml written by uv pip compile: the lockfile of its inputs
        if _PYLOCK.match(posixpath.basename(path)) and not _beside_project(path, manifests):
            _compiled_pylock(checkout, path, compiled)

    for path, parsed in requirements.items():
        sources = inputs.get(path)
        if sources and all(s in manifests or s in requirements for s in sources):
            continue  # a compiled file whose inputs are known manifests is their lockfile, not a manifest
        manifests[path] = parsed.manifest
    for source, outputs in compiled.items():
        if source in manifests and manifests[source].lockfile is None:
            manifests[source] = _locked_by_compiled(manifests[source], outputs)

    evidence = RuntimeEvidence(checkout)
    for path, manifest in list(manifests.items()):
        if manifest.requires_python is None:
            manifests[path] = _runtime(checkout, manifest, requirements.get(path), manifests, evidence)
        elif manifest.python_floor:
            found = evidence.python(posixpath.dirname(path))
            if found is not None:
                manifests[path] = replace(manifest, runtime_python=(found[0].removeprefix(">="), found[1]))
    return list(manifests.values())


# -- requirements files ----------------------------------------------------------------------------------------
def _requirements_files(checkout: Checkout) -> dict[str, RequirementsFile]:
    root, files = checkout.root, checkout.files
    initial = [p for p in files if is_requirements(p)]
    present = set(files)
    for path in files:  # X.in beside an X.txt that pip-compile made from it
        if path.endswith(".in") and not is_requirements(path):
            output = path[:-3] + ".txt"
            if output in present and _compiled_from(checkout, output, path):
                initial += [path, output]
    requirements: dict[str, RequirementsFile] = {}
    pending: list[tuple[str, Role | None]] = [(p, None) for p in initial]
    while pending:  # follow -r / -c includes, each file parsed once
        path, role = pending.pop(0)
        if path in requirements:
            continue
        text = checkout.read(path)
        if text is None:
            continue
        parsed = parse_requirements_file(path, text, role=role)
        requirements[path] = parsed
        for include in parsed.includes:
            if not is_file(root / include.path):
                checkout.problems.append(Problem(path, include.line, 1, f"included file {include.written!r} not found"))
                continue
            # A constraints file pins what the including file installs, so its entries share that role.
            pending.append((include.path, (role or role_for_path(path)) if include.kind == "constraint" else None))
    return requirements


def _compiled_from(checkout: Checkout, output: str, source: str) -> bool:
    text = checkout.read(output)
    if text is None:
        return False
    parsed = parse_requirements_file(output, text)
    return parsed.compiled is not None and source in (_compiled_sources(checkout, output, parsed, quiet=True) or [])


def _compiled_sources(
    checkout: Checkout, path: str, parsed: RequirementsFile, *, quiet: bool = False
) -> list[str] | None:
    """The repository paths of the inputs a compiled file was made from, or None (with a problem) when the
    header's inputs cannot be found."""
    header = parsed.compiled
    assert header is not None
    folder = posixpath.dirname(path)
    if header.tool == "pip-compile-multi":
        return _multi_source(checkout, path, parsed.manifest.problems, quiet)
    sources = [s for s in header.sources if not s.startswith("-")]
    if not sources:  # a wrapper command, or no command: the .in file beside it, if any
        stem = posixpath.splitext(path)[0]
        return [stem + ".in"] if checkout.has(stem + ".in") else []
    output = _output(header.args)
    for base in ancestors(folder):
        if output is not None and posixpath.normpath(posixpath.join(base, output)) != path:
            continue
        resolved = [posixpath.normpath(posixpath.join(base, s)) if base else posixpath.normpath(s) for s in sources]
        if all(checkout.has(r) for r in resolved):
            return resolved
    if not quiet:
        checkout.problems.append(
            Problem(path, 1, 1, f"the inputs of its header's command ({' '.join(sources)}) are not in the repository")
        )
    return None


def _multi_source(checkout: Checkout, path: str, problems: Sequence[Problem], quiet: bool) -> list[str] | None:
    """pip-compile-multi writes ``X.txt`` from ``X.in`` in one folder (``--in-ext``/``--out-ext`` may rename)."""
    stem = posixpath.splitext(path)[0]
    if checkout.has(stem + ".in"):
        return [stem + ".in"]
    text = checkout.read(path) or ""
    for line in text.splitlines():  # "# via -r requirements/base.in": the input, named from the run's folder
        match = _VIA.match(line)
        if match is not None:
            for base in ancestors(posixpath.dirname(path)):
                candidate = posixpath.normpath(posixpath.join(base, match.group(1)) if base else match.group(1))
                if checkout.has(candidate) and posixpath.splitext(posixpath.basename(candidate))[0] == (
                    posixpath.basename(stem)
                ):
                    return [candidate]
    if not quiet:
        checkout.problems.append(Problem(path, 1, 1, "pip-compile-multi output without its .in file"))
    return None


def _output(args: Sequence[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg in ("-o", "--output-file") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--output-file="):
            return arg.split("=", 1)[1]
        if arg.startswith("-o") and len(arg) > 2 and not arg.startswith("--"):
            return arg[2:]
    return None


def _pins(
    path: str, requirements: Mapping[str, RequirementsFile], seen: frozenset[str] = frozenset()
) -> dict[str, str]:
    """``==`` pins of a compiled file and of the files it includes with ``-r`` (pip-compile-multi layers)."""
    parsed = requirements.get(path)
    if parsed is None or path in seen:
        return {}
    pins: dict[str, str] = {}
    for include in parsed.includes:
        if include.kind == "requirement":
            pins.update(_pins(include.path, requirements, seen | {path}))
    for dep in parsed.manifest.dependencies:
        if dep.constraint.startswith("==") and "*" not in dep.constraint and "," not in dep.constraint:
            pins[dep.key] = dep.constraint[2:].strip()
    return pins


def _covered(dep: Dependency, manifest: Manifest, args: Sequence[str]) -> bool:
    """Whether a compile with ``args`` pins ``dep`` of its input ``manifest``."""
    if dep.skip_reason is not None or dep.role is Role.BUILD or dep.location.section == "tests_require":
        return False
    if manifest.kind == "requirements" or dep.group is None:
        return True
    wanted = {a.split("=", 1)[1] for a in args if a.startswith(("--extra=", "--group="))}
    wanted |= {args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--extra", "--group")}
    return dep.group in wanted or ("--all-extras" in args and dep.location.section != "dependency-groups")


def _locked_by_compiled(manifest: Manifest, outputs: Sequence[_Compiled]) -> Manifest:
    first = outputs[0]
    deps: list[Dependency] = []
    for dep in manifest.dependencies:
        covering = [o for o in outputs if _covered(dep, manifest, o.header.args)]
        if not covering:
            deps.append(dep)
            continue
        version = next((o.versions[dep.key] for o in covering if dep.key in o.versions), None)
        if version is not None:
            deps.append(replace(dep, locked=version))
        else:
            why = f"{dep.name} is not pinned in {covering[0].path} (out of date, or compiled for another platform)"
            deps.append(replace(dep, locked=None, unknown_current=why))
    return replace(manifest, dependencies=tuple(deps), lockfile=first.path)


# -- lockfiles of projects ---------------------------------------------------------------------------------------
def _beside_project(path: str, manifests: Mapping[str, Manifest]) -> bool:
    folder = posixpath.dirname(path)
    return posixpath.join(folder, "pyproject.toml") in manifests if folder else "pyproject.toml" in manifests


def _read_lock(checkout: Checkout, path: str) -> str | None:
    return checkout.read(path, MAX_LOCKFILE_BYTES)


def _with_pyproject_lock(
    checkout: Checkout, manifest: Manifest, workspaces: Mapping[str, str], manifests: Mapping[str, Manifest]
) -> Manifest:
    folder = posixpath.dirname(manifest.path)
    root = workspaces.get(manifest.path)
    if root is not None:  # a uv workspace member: the root's uv.lock locks it, resolved for the root's Python
        lock_path = posixpath.join(posixpath.dirname(root), "uv.lock") if posixpath.dirname(root) else "uv.lock"
        python = manifest.requires_python or manifests[root].requires_python
        return _apply(checkout, manifest, lock_path, locks.read_uv_or_poetry_lock, python)
    for name in ("uv.lock", "poetry.lock"):
        lock_path = posixpath.join(folder, name) if folder else name
        if checkout.has(lock_path):
            return _apply(checkout, manifest, lock_path, locks.read_uv_or_poetry_lock, manifest.requires_python)
    pylocks = sorted(
        p for p in checkout.files if posixpath.dirname(p) == folder and _PYLOCK.match(posixpath.basename(p))
    )
    for chosen in sorted(pylocks, key=lambda p: posixpath.basename(p) != "pylock.toml"):
        if not _written_by_pipenv(checkout, chosen):  # pipenv's own copy of Pipfile.lock is not this project's
            return _apply(checkout, manifest, chosen, locks.read_pylock, manifest.requires_python)
    return manifest


def _apply(
    checkout: Checkout,
    manifest: Manifest,
    lock_path: str,
    reader: Callable[[str], locks.LockContents],
    python: str | None,
) -> Manifest:
    text = _read_lock(checkout, lock_path)
    if text is None:
        return locks.unreadable(manifest, lock_path, "see its problem")
    try:
        contents = reader(text)
    except locks.LockReadError as exc:
        checkout.fail(lock_path, str(exc), exc.line, exc.column)
        return locks.unreadable(manifest, lock_path, str(exc))
    return locks.apply_lock(manifest, lock_path, contents, python)


def _with_pipfile_lock(checkout: Checkout, manifest: Manifest) -> Manifest:
    lock_path = manifest.path + ".lock"
    if not checkout.has(lock_path):
        return manifest
    text = _read_lock(checkout, lock_path)
    if text is None:
        return pipfile.unreadable(manifest, lock_path, "see its problem")
    try:
        lock = pipfile.parse_pipfile_lock(text)
    except pipfile.PipfileLockError as exc:
        checkout.fail(lock_path, str(exc), exc.line, exc.column)
        return pipfile.unreadable(manifest, lock_path, str(exc))
    return pipfile.locked(manifest, lock_path, lock)


def _written_by_pipenv(checkout: Checkout, path: str) -> bool:
    """A pylock.toml pipenv writes beside Pipfile.lock (``[pipenv] use_pylock``): the same versions, written
    again with Pipfile.lock."""
    folder = posixpath.dirname(path)
    if not checkout.has(posixpath.join(folder, "Pipfile") if folder else "Pipfile"):
        return False
    head = (checkout.read(path, MAX_LOCKFILE_BYTES) or "")[:4096]
    return re.search(r"(?m)^created-by\s*=\s*[\"']pipenv[\"']", head) is not None


def _compiled_pylock(checkout: Checkout, path: str, compiled: dict[str, list[_Compiled]]) -> None:
    if _written_by_pipenv(checkout, path):
        return
    text = _read_lock(checkout, path)
    if text is None:
        return
    header = compiled_header(text)
    try:
        contents = locks.read_pylock(text)
    except locks.LockReadError as exc:
        checkout.fail(path, str(exc), exc.line, exc.column)
        return
    if header is None or header.custom_command is not None or not header.sources:
        checkout.not_read(path, f"a PEP 751 lock file (created by {contents.tool or 'an unknown tool'}) without a "
                                "manifest depup can find: its versions are not planned")  # fmt: skip
        return
    parsed = RequirementsFile(Manifest(path, Ecosystem.PYTHON, "pylock"), compiled=header)
    sources = _compiled_sources(checkout, path, parsed)
    if not sources:
        return
    versions = {name: entries[0].version for name, entries in contents.packages.items() if len(entries) == 1}
    for source in sources:
        compiled.setdefault(source, []).append(_Compiled(path, header, versions))


def _uv_workspaces(checkout: Checkout, manifests: Mapping[str, Manifest]) -> dict[str, str]:
    """Member ``pyproject.toml`` -> the workspace root's ``pyproject.toml``, for roots that have a ``uv.lock``."""
    members: dict[str, str] = {}
    for path, manifest in manifests.items():
        if manifest.kind != "pyproject":
            continue
        folder = posixpath.dirname(path)
        if not checkout.has(posixpath.join(folder, "uv.lock") if folder else "uv.lock"):
            continue
        try:
            data = tomllib.loads(checkout.read(path) or "")
        except (ValueError, RecursionError):  # TOMLDecodeError, or an integer past Python's int/str digit limit
            continue
        workspace = data.get("tool", {}).get("uv", {}).get("workspace") if isinstance(data.get("tool"), dict) else None
        if not isinstance(workspace, dict):
            continue
        include = [p for p in workspace.get("members", []) if isinstance(p, str)]
        exclude = [p for p in workspace.get("exclude", []) if isinstance(p, str)]
        for other in manifests:
            if other == path or posixpath.basename(other) != "pyproject.toml":
                continue
            member_dir = posixpath.dirname(other)
            relative = posixpath.relpath(member_dir, folder) if folder else member_dir
            if relative.startswith("..") or not member_dir:
                continue
            if any(_glob(p, relative) for p in include) and not any(_glob(p, relative) for p in exclude):
                members.setdefault(other, path)
    return members


def _glob(pattern: str, path: str) -> bool:
    """Whether a workspace glob (``packages/*``, ``libs/**``) matches a relative directory."""
    regex = ""
    i = 0
    pattern = pattern.strip("/").removeprefix("./")
    while i < len(pattern):
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.fullmatch(regex, path) is not None


# -- runtime evidence ------------------------------------------------------------------------------------------
def _runtime(
    checkout: Checkout,
    manifest: Manifest,
    parsed: RequirementsFile | None,
    manifests: Mapping[str, Manifest],
    evidence: RuntimeEvidence,
) -> Manifest:
    folder = posixpath.dirname(manifest.path)
    if parsed is not None:
        for reference in parsed.references:
            if not reference.requirement:
                continue
            target = _local_project(reference.written)
            if target is None:
                continue
            for base in dict.fromkeys([folder, ""]):
                directory = posixpath.normpath(posixpath.join(base, target)) if base else posixpath.normpath(target)
                for name in ("pyproject.toml", "setup.cfg", "setup.py"):
                    project = manifests.get(posixpath.join(directory, name) if directory != "." else name)
                    if project is not None and project.requires_python:
                        how = f"requires-python of {project.path} (installed by {reference.written})"
                        return replace(manifest, requires_python=project.requires_python, runtime_evidence=how)
    found = evidence.python(folder)
    if found is None:
        return manifest
    return replace(manifest, requires_python=found[0], runtime_evidence=found[1])


def _local_project(written: str) -> str | None:
    """The directory a requirement line installs from (``-e .``, ``.[dev]``, ``./sub``, ``file:.``), or None."""
    text = written.strip()
    for prefix in ("-e", "--editable"):
        if text.startswith(prefix + " ") or text.startswith(prefix + "="):
            text = text[len(prefix) + 1 :].strip()
    text = text.removeprefix("file:").split("#", 1)[0].split(";", 1)[0].strip()
    if "[" in text:
        text = text[: text.index("[")]
    if "://" in text or not text or not (text.startswith(".") or "/" in text):
        return None
    if text.lower().endswith((".whl", ".zip", ".tar.gz", ".tgz")):
        return None
    return text.rstrip("/") or "."
