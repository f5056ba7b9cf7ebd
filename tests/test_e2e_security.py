"""Security on upgrade PRs, end to end: the scan audits the versions in use and the targets (pip-audit for
Python, OSV for npm) against a local OSV server serving real advisories."""

from __future__ import annotations

from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup
from tests.support.osv_server import OsvServer

REPO = "octo-org/secure"
CONFIG = """\
min_release_age: 30 days
risk: {high_at: 99}
"""


def install(depup: Depup, requirements: str) -> FakeGitHub:
    fake = depup.fake
    fake.create_repo(REPO, files={"requirements.txt": requirements, ".github/depup.yml": CONFIG})
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    return fake


def test_an_upgrade_that_fixes_a_known_vulnerability_is_a_security_pr_that_opens_first(
    depup: Depup, osv_server: OsvServer
) -> None:
    fake = install(depup, "requests==2.22.0\nclick==7.0\n")
    pulls = {p.head_ref: p for p in fake.pulls(REPO)}
    assert "depup/python/security-requests" in pulls
    pull = pulls["depup/python/security-requests"]
    assert pull.title.startswith("[security] Upgrade requests from 2.22.0 to ")
    assert "### Security" in pull.body and "PYSEC-2023-74" in pull.body
    assert "CVE-2023-32681" in pull.body
    assert "fixes PYSEC-2023-74" in pull.body  # the risk factor (priority, weight 0)
    # click has no advisory: an ordinary phase-1 PR, audited, nothing to report.
    click = [p for p in fake.pulls(REPO) if "click" in p.title]
    assert click and "### Security" not in click[0].body
    assert osv_server.count() > 0
