"""Known vulnerabilities of package versions, asked of an OSV server and cached in Redis.

``Auditor.vulnerabilities(ecosystem, [(package, version), ...])`` answers every pair asked, or an
``AuditFailure`` saying why it could not (never an exception, never a guessed "no vulnerability"):

- Python: the ``pip-audit`` CLI with OSV as its service (``bot.security.pipaudit``); each advisory's link is
  then read from its OSV record (``GET /v1/vulns/{id}``; when that fails, the link is its osv.dev page);
- npm: OSV's API directly (``bot.security.osv``): ``/v1/querybatch`` for the ids, ``/v1/vulns/{id}`` for the records.

``audit_for`` (and ``audit_from``) turn answers into the ``Audit`` callable ``bot.risk.facts.gather`` takes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from redis import Redis

from bot.risk.facts import Audit
from bot.risk.model import Vulnerability
from bot.security import pipaudit
from bot.security.cache import VulnerabilityCache
from bot.security.model import ECOSYSTEMS, Answers, AuditError, AuditFailure, Pair
from bot.security.osv import OsvClient
from bot.security.records import advisory_url, vulnerability

log = logging.getLogger(__name__)

_PYTHON_NAME = re.compile(r"^[A-Z0-9]([A-Z0-9._-]*[A-Z0-9])?$", re.IGNORECASE)  # PEP 508 names

Found = dict[Pair, tuple[Vulnerability, ...]]


class Auditor:
    """Audits package versions against the OSV server at ``osv_url`` (its API root, e.g. ``https://api.osv.dev``).

    ``redis`` caches answers for 6 hours per (ecosystem, package, version); ``None`` caches nothing.
    ``timeout`` bounds each pip-audit run and each HTTP request, in seconds.
    """

    def __init__(self, redis: Redis | None, osv_url: str, *, timeout: float = 60) -> None:
        self.osv_url = osv_url.rstrip("/")
        self.timeout = timeout
        self._cache = VulnerabilityCache(redis) if redis is not None else None

    def vulnerabilities(self, ecosystem: str, versions: Iterable[tuple[str, str]]) -> Found | AuditFailure:
        """The known vulnerabilities of every (package, version) asked (``()`` when none), or why the audit failed.

        Package names are canonical: PEP 503 for Python, as published for npm. Answers are keyed by the pairs
        as given. One failing part fails the whole call (answers already obtained are cached all the same).
        """
        pairs = list(dict.fromkeys((package, version) for package, version in versions))
        if ecosystem not in ECOSYSTEMS:
            return AuditFailure(ecosystem, f"no vulnerability audit for the {ecosystem!r} ecosystem (python or npm)")
        if not pairs:
            return {}
        found: Found = self._cache.read(ecosystem, pairs) if self._cache is not None else {}
        missing = [pair for pair in pairs if pair not in found]
        if missing:
            fresh, error = self._python(missing) if ecosystem == "python" else self._npm(missing)
            if self._cache is not None:
                self._cache.store(ecosystem, fresh)
            if error is not None:
                log.warning("%s vulnerability audit of %d versions failed: %s", ecosystem, len(missing), error)
                return AuditFailure(ecosystem, str(error))
            found.update(fresh)
        log.info("audited %d %s versions (%d from the cache)", len(pairs), ecosystem, len(pairs) - len(missing))
        return {pair: found[pair] for pair in pairs}

    def _python(self, pairs: Sequence[Pair]) -> tuple[Found, AuditError | None]:
        try:
            keys = {pair: _python_key(*pair) for pair in pairs}
        except AuditError as exc:
            return {}, exc
        runs = pipaudit.plan_runs(list(keys.values()))
        by_key: dict[tuple[str, Version], tuple[Vulnerability, ...]] = {}
        error: AuditError | None = None
        for run, result in zip(runs, pipaudit.audit_runs(runs, self.osv_url, self.timeout), strict=True):
            if isinstance(result, AuditError):
                error = error or result
                continue
            for name, version in run:
                by_key[(name, version)] = result[name]
        by_key = self._with_links(by_key)
        return {pair: by_key[key] for pair, key in keys.items() if key in by_key}, error

    def _with_links(
        self, found: dict[tuple[str, Version], tuple[Vulnerability, ...]]
    ) -> dict[tuple[str, Version], tuple[Vulnerability, ...]]:
        """pip-audit's report has no references: link each advisory as its OSV record does (best effort)."""
        ids = list(dict.fromkeys(v.id for vulns in found.values() for v in vulns))
        if not ids:
            return found
        links: dict[str, str] = {}
        with OsvClient(self.osv_url, timeout=self.timeout) as client:
            for vuln_id in ids:
                try:
                    links[vuln_id] = advisory_url(client.record(vuln_id))
                except AuditError as exc:
                    log.info("no OSV record for %s, linked to its osv.dev page: %s", vuln_id, exc)
        return {
            key: tuple(replace(v, url=links[v.id]) if v.id in links else v for v in vulns)
            for key, vulns in found.items()
        }

    def _npm(self, pairs: Sequence[Pair]) -> tuple[Found, AuditError | None]:
        try:
            with OsvClient(self.osv_url, timeout=self.timeout) as client:
                ids = client.affecting("npm", pairs)
                records = client.records(i for found in ids for i in found)
                return {
                    pair: tuple(
                        vulnerability(records[i], "npm", pair[0]) for i in found if not records[i].get("withdrawn")
                    )
                    for pair, found in zip(pairs, ids, strict=True)
                }, None
        except AuditError as exc:
            return {}, exc


def audit_from(answers: Mapping[str, Answers | AuditFailure]) -> Audit:
    """The ``Audit`` callable of ``bot.risk.facts.gather`` over audits already made, keyed by ecosystem.

    ``audit(ecosystem, package, current, target)`` answers ``(fixed, present)``:

    - ``present``: the vulnerabilities of ``target`` (what remains after the update);
    - ``fixed``: the vulnerabilities of ``current`` the target does not have (neither the id nor any alias of one
      is among the target's ids and aliases);

    and ``None`` ("not audited", shown as unknown) when the ecosystem's audit failed or was not made, or when
    either version is not among its answers.
    """

    def audit(
        ecosystem: str, package: str, current: str, target: str
    ) -> tuple[tuple[Vulnerability, ...], tuple[Vulnerability, ...]] | None:
        found = answers.get(ecosystem)
        if found is None or isinstance(found, AuditFailure):
            return None
        before, after = found.get((package, current)), found.get((package, target))
        if before is None or after is None:
            return None
        remaining = {name for v in after for name in (v.id, *v.aliases)}
        fixed = tuple(v for v in before if v.id not in remaining and not remaining.intersection(v.aliases))
        return fixed, after

    return audit


def audit_for(auditor: Auditor, updates: Iterable[tuple[str, str, str, str]]) -> tuple[Audit, tuple[AuditFailure, ...]]:
    """Audit the current and target versions of every update, and return the ``Audit`` for ``gather`` with the
    failures met (at most one per ecosystem, to log or show; their updates' audit facts stay unknown).

    ``updates`` are ``(ecosystem, package, current, target)``, with the package key ``gather`` is given
    (Python names canonical). One ``Auditor.vulnerabilities`` call per ecosystem; cached versions cost nothing::

        audit, failures = audit_for(Auditor(redis, settings.osv_url), [("python", "requests", "2.19.1", "2.31.0")])
        facts = gather(..., audit=audit)
    """
    wanted: dict[str, list[Pair]] = {}
    for ecosystem, package, current, target in updates:
        wanted.setdefault(ecosystem, []).extend([(package, current), (package, target)])
    answers = {ecosystem: auditor.vulnerabilities(ecosystem, pairs) for ecosystem, pairs in wanted.items()}
    failures = tuple(a for a in answers.values() if isinstance(a, AuditFailure))
    return audit_from(answers), failures


def _python_key(package: str, version: str) -> tuple[str, Version]:
    if not _PYTHON_NAME.match(package):
        raise AuditError(f"{package!r} is not a Python package name")
    try:
        return canonicalize_name(package), Version(version)
    except InvalidVersion:
        raise AuditError(f"{package} {version!r} is not a PEP 440 version, which pip-audit cannot audit") from None
