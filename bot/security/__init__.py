"""Known vulnerabilities of package versions (OSV advisories), for the risk model and security updates.

``Auditor`` asks an OSV server (``DEPUP_OSV_URL``) about (package, version) pairs, through pip-audit for Python
and OSV's API for npm, and caches the answers in Redis; ``audit_for`` / ``audit_from`` make the ``Audit``
callable ``bot.risk.facts.gather`` takes. Failures are ``AuditFailure`` values.
"""

from bot.security.audit import Auditor, audit_for, audit_from
from bot.security.model import AuditFailure

__all__ = ["AuditFailure", "Auditor", "audit_for", "audit_from"]
