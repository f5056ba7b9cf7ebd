"""The engine on the three peer samples, with the registry answers recorded on 2026-11-24, next to what
Renovate proposed for the same samples. Every disagreement here is deliberate (see the reason comments)."""

from __future__ import annotations

from bench.compare_renovate import compare, depup_updates
from bot.deps.registry.client import RegistryClient
from tests.support.registry_server import RegistryServer

# Why depup differs:
# - "value differs" on ranges: depup's bump keeps the chosen version as the floor (^19.3.1, >=1.4.54,<1.5);
#   Renovate resets it (^19.0.0, >=1.4,<1.5), which lets fresh installs resolve to releases nobody tested.
# - py-pyproject "version differs": the project declares requires-python >=3.8; Renovate's versions need
#   Python 3.9+ and would break installs on 3.8. depup offers the newest release that still supports 3.8.
# - importlib-metadata: the line only applies to python_version < "3.8"; 10.2.0 needs 3.11. 6.7.0 is the
#   newest that installs on 3.7.
# - axios 0.35.0, mypy 0.991, wheel 0.48.0: 0.x minors are majors for depup (semver), so the newest major is
#   offered (1.21.1, 1.14.1) rather than every 0.x step; wheel 0.48.0 also needs Python 3.9.
EXPECTED = [
    ("py-req", "flask", "non-major", "1.1.4 ==1.1.4", "1.1.4 ==1.1.4", "same"),
    ("py-req", "flask", "major", "3.1.3 ==3.1.3", "3.1.3 ==3.1.3", "same"),
    ("py-req", "requests", "non-major", "2.34.2 ==2.34.2", "2.34.2 ==2.34.2", "same"),
    ("py-req", "django", "non-major", "3.2.25 ==3.2.25", "3.2.25 ==3.2.25", "same"),
    ("py-req", "django", "major", "6.1.3 ==6.1.3", "6.1.3 ==6.1.3", "same"),
    ("py-req", "pytest", "major", "9.2.0 ==9.2.0", "9.2.0 ==9.2.0", "same"),
    ("py-req", "black", "non-major", "22.12.0 ==22.12.0", "22.12.0 ==22.12.0", "same"),
    ("py-req", "black", "major", "26.10.1 ==26.10.1", "26.10.1 ==26.10.1", "same"),
    ("py-req", "sqlalchemy", "non-major", "1.4.54 >=1.4,<1.5", "1.4.54 >=1.4.54,<1.5", "value differs"),
    ("py-req", "sqlalchemy", "major", "2.1.9 >=2.1,<2.2", "2.1.9 >=2.1.9,<2.2", "value differs"),
    ("py-req", "numpy", "non-major", "1.26.4 ~=1.26.4", "1.26.4 ~=1.26.4", "same"),
    ("py-req", "numpy", "major", "2.5.5 ~=2.5.5", "2.5.5 ~=2.5.5", "same"),
    ("py-req", "celery", "non-major", "5.7.0 ==5.7.0", "5.7.0 ==5.7.0", "same"),
    ("py-req", "uvicorn", "non-major", "0.54.0 ==0.54.0", "0.54.0 ==0.54.0", "same"),
    ("py-req", "pywin32", "major", "312 ==312", "312 ==312", "same"),
    ("py-req", "importlib-metadata", "major", "10.2.0 ==10.2.0", "6.7.0 ==6.7.0", "version differs"),
    ("py-pyproject", "requests", "non-major", "2.34.2 ==2.34.2", "2.32.4 ==2.32.4", "version differs"),
    ("py-pyproject", "flask", "major", "3.1.3 >=3.1,<3.2", "3.0.3 >=3.0.3,<4.0", "version differs"),
    ("py-pyproject", "pydantic", "non-major", "1.10.27 ==1.10.27", "1.10.27 ==1.10.27", "same"),
    ("py-pyproject", "pydantic", "major", "2.14.3 ==2.14.3", "2.10.6 ==2.10.6", "version differs"),
    ("py-pyproject", "httpx", "non-major", "0.28.1 ==0.28.1", "0.28.1 ==0.28.1", "same"),
    ("py-pyproject", "attrs", "major", "26.1.0 ~=26.1.0", "25.3.0 ~=25.3.0", "version differs"),
    ("py-pyproject", "pytest", "major", "9.2.0 ==9.2.0", "8.3.5 ==8.3.5", "version differs"),
    ("py-pyproject", "black", "non-major", "22.12.0 ==22.12.0", "22.12.0 ==22.12.0", "same"),
    ("py-pyproject", "black", "major", "26.10.1 ==26.10.1", "24.8.0 ==24.8.0", "version differs"),
    ("py-pyproject", "mypy", "non-major", "0.991 ==0.991", "-", "only renovate"),
    ("py-pyproject", "mypy", "major", "2.4.1 ==2.4.1", "1.14.1 ==1.14.1", "version differs"),
    ("py-pyproject", "flake8", "major", "7.5.0 ==7.5.0", "5.0.4 ==5.0.4", "version differs"),
    ("py-pyproject", "setuptools", "non-major", "58.5.3 ==58.5.3", "58.5.3 ==58.5.3", "same"),
    ("py-pyproject", "setuptools", "major", "84.2.1 ==84.2.1", "75.3.4 ==75.3.4", "version differs"),
    ("py-pyproject", "wheel", "non-major", "0.48.0 ==0.48.0", "-", "only renovate"),
    ("js-app", "react", "major", "19.3.1 ^19.0.0", "19.3.1 ^19.3.1", "value differs"),
    ("js-app", "express", "non-major", "4.22.3 4.22.3", "4.22.3 4.22.3", "same"),
    ("js-app", "express", "major", "5.3.0 5.3.0", "5.3.0 5.3.0", "same"),
    ("js-app", "lodash", "non-major", "4.18.1 ~4.18.0", "4.18.1 ~4.18.1", "value differs"),
    ("js-app", "axios", "non-major", "0.35.0 0.35.0", "0.21.4 0.21.4", "version differs"),
    ("js-app", "axios", "major", "1.21.1 1.21.1", "1.21.1 1.21.1", "same"),
    ("js-app", "webpack", "major", "5.112.2 ^5.0.0", "5.112.2 ^5.112.2", "value differs"),
    ("js-app", "jest", "major", "30.5.2 30.5.2", "30.5.2 30.5.2", "same"),
    ("js-app", "typescript", "non-major", "4.9.5 ~4.9.0", "4.9.5 ~4.9.5", "value differs"),
    ("js-app", "typescript", "major", "7.0.2 ~7.0.0", "7.0.2 ~7.0.2", "value differs"),
    ("js-app", "eslint", "major", "10.15.0 ^10.0.0", "10.15.0 ^10.15.0", "value differs"),
    ("py-pyproject", "wheel", "major", "-", "0.45.1 ==0.45.1", "only depup"),
]


def test_proposals_for_the_peer_samples_against_renovate(registry_server: RegistryServer) -> None:
    with RegistryClient(None, pypi_base=registry_server.url, npm_base=registry_server.url) as registry:
        rows = compare(depup_updates(registry))
    assert [(r.sample, r.dep, r.bucket, r.renovate, r.depup, r.verdict) for r in rows] == EXPECTED
