"""The recorded registry answers: dated, complete for samples and benchmark, small, free of registry hosts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pip._internal.models.index import PyPI

from tests.support.registry_server import FIXTURES, recorded_names

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "tests" / "fixtures" / "peers" / "samples"
OWN_FILES = [
    *FIXTURES.rglob("*"),
    *(ROOT / "bot" / "deps" / "registry").rglob("*.py"),
    *(ROOT / "tests" / "deps" / "registry").rglob("*.py"),
    ROOT / "tests" / "support" / "registry_server.py",
]


def index() -> dict[str, object]:
    loaded: dict[str, object] = json.loads((FIXTURES / "INDEX.json").read_text())
    return loaded


def test_index_is_dated_and_lists_every_file() -> None:
    data = index()
    assert data["recorded"] == "2026-11-24"
    assert data["packages"] == {"python": recorded_names("python"), "npm": recorded_names("npm")}
    total = len(recorded_names("python")) + len(recorded_names("npm"))
    assert data["total_packages"] == total >= 220
    assert (FIXTURES / "NOTICE").read_text().startswith("Recorded package registry metadata")


def test_benchmark_set_is_large_and_recorded() -> None:
    sets = index()["sets"]
    assert isinstance(sets, dict)
    bench = sets["benchmark"]
    assert len(bench["python"]) + len(bench["npm"]) >= 220
    assert {canonicalize_name(n) for n in bench["python"]} <= set(recorded_names("python"))
    assert set(bench["npm"]) <= set(recorded_names("npm"))


def test_fixtures_stay_small() -> None:
    size = sum(path.stat().st_size for path in FIXTURES.rglob("*") if path.is_file())
    assert size < 25 * 1024 * 1024


def registry_hosts() -> set[str]:
    hosts = {urlsplit(PyPI.url).netloc, PyPI.file_storage_domain}
    npm = shutil.which("npm")
    if npm is not None:
        env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
        completed = subprocess.run(
            [npm, "config", "get", "registry", f"--userconfig={os.devnull}", f"--globalconfig={os.devnull}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if completed.returncode == 0 and completed.stdout.strip():
            hosts.add(urlsplit(completed.stdout.strip().splitlines()[-1]).netloc)
    return {host for host in hosts if host}


def test_no_registry_host_is_written_anywhere() -> None:
    hosts = registry_hosts()
    assert len(hosts) >= 2
    for path in OWN_FILES:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for host in hosts:
                assert host not in text, f"{path.relative_to(ROOT)} names a registry host"


def sample_python_names() -> set[str]:
    names: set[str] = set()
    for line in (SAMPLES / "py-req" / "requirements.txt").read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            names.add(canonicalize_name(Requirement(line).name))
    pyproject = tomllib.loads((SAMPLES / "py-pyproject" / "pyproject.toml").read_text())
    specs = list(pyproject["build-system"]["requires"]) + list(pyproject["project"]["dependencies"])
    for extra in pyproject["project"].get("optional-dependencies", {}).values():
        specs += extra
    return names | {canonicalize_name(Requirement(spec).name) for spec in specs}


def sample_npm_names() -> set[str]:
    manifest = json.loads((SAMPLES / "js-app" / "package.json").read_text())
    lock = json.loads((SAMPLES / "js-app" / "package-lock.json").read_text())
    root = lock["packages"][""]
    names: set[str] = set()
    for section in ("dependencies", "devDependencies"):
        names |= set(manifest.get(section, {})) | set(root.get(section, {}))
    return names


def test_every_sample_package_is_recorded() -> None:
    assert sample_python_names() <= set(recorded_names("python"))
    assert sample_npm_names() <= set(recorded_names("npm"))
