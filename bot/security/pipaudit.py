"""Python audits through the ``pip-audit`` CLI (its stable surface: the JSON report), against an OSV server.

One run audits a requirements file of ``name==version`` lines with no resolution (``--no-deps --disable-pip``)
and ``--strict`` (a dependency it cannot audit fails the run instead of being skipped). A file may name each
package once, so the versions asked are split into rounds of distinct names (the first version asked of each
package, then the second...), one run per round, at most ``PER_RUN`` names a run, up to ``RUNS`` runs at once.

pip-audit exits 0 (nothing found) or 1 (vulnerabilities found) after writing its report; it also exits 1 on a
fatal error (with no report) and on an uncaught exception such as an OSV server error: a run is successful only
when it exited 0 or 1 *and* wrote a complete report. It runs in a temporary directory with its own HTTP cache
there, pip's configuration and indexes switched off: the only host it talks to is the OSV server given.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from bot.risk.model import Vulnerability
from bot.security.model import AuditError
from bot.security.records import short_summary, sort_versions, web_url

PER_RUN = 100  # names in one requirements file (pip-audit asks OSV one query at a time, within one timeout)
RUNS = 4  # pip-audit processes at once
_FATAL = "ERROR:pip_audit._cli:"
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout): \S")
_PASSED_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "SYSTEMROOT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)

Run = Sequence[tuple[str, Version]]  # (canonical name, version), each name once
RunAnswers = dict[str, tuple[Vulnerability, ...]]  # canonical name -> its vulnerabilities


def plan_runs(pairs: Sequence[tuple[str, Version]]) -> list[list[tuple[str, Version]]]:
    """The runs that audit every (canonical name, version): rounds of distinct names, cut at ``PER_RUN``."""
    rounds: list[list[tuple[str, Version]]] = []
    depth: dict[str, int] = {}
    for name, version in dict.fromkeys(pairs):
        level = depth.get(name, 0)
        depth[name] = level + 1
        if level == len(rounds):
            rounds.append([])
        rounds[level].append((name, version))
    return [r[i : i + PER_RUN] for r in rounds for i in range(0, len(r), PER_RUN)]


def audit_runs(runs: Sequence[Run], osv_url: str, timeout: float) -> list[RunAnswers | AuditError]:
    """Each run's answers by canonical name, or the error that stopped it (runs go concurrently)."""
    if not runs:
        return []

    def one(run: Run) -> RunAnswers | AuditError:
        try:
            return run_pip_audit(run, osv_url, timeout)
        except AuditError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(RUNS, len(runs))) as pool:
        return list(pool.map(one, runs))


def run_pip_audit(run: Run, osv_url: str, timeout: float) -> RunAnswers:
    """One pip-audit run: the vulnerabilities of each name of the run (``()`` when none)."""
    with tempfile.TemporaryDirectory(prefix="depup-pip-audit-") as tmp:
        folder = Path(tmp)
        requirements = folder / "requirements.txt"
        requirements.write_text("".join(f"{name}=={version}\n" for name, version in run), encoding="utf-8")
        report = folder / "report.json"
        command = [
            *pip_audit_command(),
            "--requirement",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "--strict",
            "--vulnerability-service",
            "osv",
            "--osv-url",
            osv_url.rstrip("/") + "/v1/query",
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--cache-dir",
            str(folder / "cache"),
            "--timeout",
            str(max(1, math.ceil(timeout))),
            "--output",
            str(report),
        ]
        try:
            done = subprocess.run(  # noqa: S603 (fixed command, no shell; the file's lines are checked names/versions)
                command, cwd=folder, env=_environment(folder), capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise AuditError(f"pip-audit did not finish within {timeout:g} s") from None
        except OSError as exc:
            raise AuditError(f"pip-audit could not be started: {exc}") from None
        text = report.read_text(encoding="utf-8") if report.is_file() else None
        if done.returncode not in (0, 1) or text is None:
            raise AuditError(f"pip-audit failed (exit {done.returncode}): {_last_line(done.stderr)}")
        return parse_report(text, [name for name, _ in run])


def parse_report(text: str, names: Sequence[str]) -> RunAnswers:
    """pip-audit's JSON report as the vulnerabilities of each of ``names`` (canonical); ``AuditError`` when the
    report skips a dependency, misses one, or is not the format expected."""
    try:
        report = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested about 1000 deep
        raise AuditError("pip-audit wrote a report that is not JSON") from None
    dependencies = report.get("dependencies") if isinstance(report, dict) else None
    if not isinstance(dependencies, list):
        raise AuditError("pip-audit wrote a report without a list of dependencies")
    found: dict[str, tuple[Vulnerability, ...]] = {}
    for dependency in dependencies:
        if not isinstance(dependency, dict) or not isinstance(dependency.get("name"), str):
            raise AuditError("pip-audit reported a dependency without a name")
        name = canonicalize_name(dependency["name"])
        if "skip_reason" in dependency:
            raise AuditError(f"pip-audit could not audit {name}: {dependency['skip_reason']}")
        vulns = dependency.get("vulns")
        if not isinstance(vulns, list):
            raise AuditError(f"pip-audit reported {name} without a list of vulnerabilities")
        found[name] = tuple(_vulnerability(name, v) for v in vulns)
    missing = [n for n in names if canonicalize_name(n) not in found]
    if missing:
        raise AuditError(f"pip-audit did not report {', '.join(missing[:5])}")
    return {name: found[canonicalize_name(name)] for name in names}


def pip_audit_command() -> list[str]:
    """The ``pip-audit`` installed beside the running interpreter (the module when no script is there)."""
    script = Path(sys.executable).parent / ("pip-audit.exe" if os.name == "nt" else "pip-audit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pip_audit"]


def _vulnerability(name: str, vuln: object) -> Vulnerability:
    if not isinstance(vuln, dict) or not isinstance(vuln.get("id"), str) or not vuln["id"]:
        raise AuditError(f"pip-audit reported a vulnerability of {name} without an id")
    aliases = vuln.get("aliases")
    fixes = vuln.get("fix_versions")
    description = vuln.get("description")
    return Vulnerability(
        id=vuln["id"],
        aliases=tuple(sorted(a for a in aliases if isinstance(a, str))) if isinstance(aliases, list) else (),
        summary=short_summary(description) if isinstance(description, str) and description != "N/A" else None,
        fixed_in=sort_versions("python", (f for f in fixes if isinstance(f, str))) if isinstance(fixes, list) else (),
        url=web_url(vuln["id"]),
    )


def _environment(folder: Path) -> dict[str, str]:
    """Only what the run needs: no pip configuration or index, caches and home inside the run's folder."""
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ENV}
    env.update(
        HOME=str(folder),
        XDG_CACHE_HOME=str(folder / "cache"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _last_line(stderr: bytes) -> str:
    """The most telling line of pip-audit's error output: its fatal message, else the last exception that has a
    message (``ServiceError`` has none; the HTTP error it wraps does), else the last line."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    fatal = [line.removeprefix(_FATAL) for line in lines if line.startswith(_FATAL)]
    exceptions = [line for line in lines if _EXCEPTION.match(line)]
    chosen = (fatal or exceptions or lines or ["no error message"])[-1]
    return chosen[:300]
