"""The replay registry: real registry paths, its own address in bodies, 304s, 404s, gzip, and npm itself."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.registry_server import PLACEHOLDER, Fault, RegistryServer


def test_pypi_paths_answer_any_spelling(registry_server: RegistryServer) -> None:
    for path in ("/pypi/flask/json", "/pypi/Flask/json", "/pypi/typing_extensions/json"):
        response = httpx.get(registry_server.url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "application/json"
        assert response.headers["etag"]
    assert registry_server.count("python", "FLASK") == 2


def test_npm_paths_including_scoped_names(registry_server: RegistryServer) -> None:
    for path in ("/express", "/@types%2fnode", "/@types%2Fnode", "/@types/node"):
        response = httpx.get(registry_server.url + path)
        assert response.status_code == 200, path
    assert registry_server.count("npm", "@types/node") == 3
    assert httpx.get(registry_server.url + "/@types%2fnode").json()["name"] == "@types/node"


def test_bodies_carry_the_servers_address(registry_server: RegistryServer) -> None:
    body = httpx.get(registry_server.url + "/chalk").text
    assert PLACEHOLDER not in body
    tarball = json.loads(body)["versions"]["4.1.2"]["dist"]["tarball"]
    assert tarball == f"{registry_server.url}/chalk/-/chalk-4.1.2.tgz"


def test_if_none_match_and_bump(registry_server: RegistryServer) -> None:
    etag = httpx.get(registry_server.url + "/pypi/six/json").headers["etag"]
    assert httpx.get(registry_server.url + "/pypi/six/json", headers={"If-None-Match": etag}).status_code == 304
    registry_server.bump("python", "six")
    answer = httpx.get(registry_server.url + "/pypi/six/json", headers={"If-None-Match": etag})
    assert answer.status_code == 200
    assert answer.headers["etag"] != etag


def test_unknown_packages_and_tarballs_are_404(registry_server: RegistryServer) -> None:
    assert httpx.get(registry_server.url + "/pypi/depup-no-such-package/json").status_code == 404
    assert httpx.get(registry_server.url + "/depup-no-such-package").status_code == 404
    assert httpx.get(registry_server.url + "/chalk/-/chalk-4.1.2.tgz").status_code == 404
    assert httpx.get(registry_server.url + "/-/v1/search?text=x").status_code == 404
    assert httpx.get(registry_server.url + "/npm/../../etc/passwd").status_code == 404


def test_gzip_when_asked(registry_server: RegistryServer) -> None:
    raw = httpx.get(registry_server.url + "/react", headers={"Accept-Encoding": "identity"})
    with httpx.stream("GET", registry_server.url + "/react", headers={"Accept-Encoding": "gzip"}) as zipped:
        assert zipped.headers["content-encoding"] == "gzip"
        compressed = b"".join(zipped.iter_raw())
    assert gzip.decompress(compressed) == raw.content
    assert len(compressed) < len(raw.content) / 2


def test_npm_abbreviated_accept_gets_the_abbreviated_packument(registry_server: RegistryServer) -> None:
    full = httpx.get(registry_server.url + "/ms").json()
    answer = httpx.get(registry_server.url + "/ms", headers={"Accept": "application/vnd.npm.install-v1+json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.npm.install-v1+json"
    abbreviated = answer.json()
    assert "time" not in abbreviated and "repository" not in abbreviated
    assert abbreviated.get("modified") == full["time"].get("modified")
    assert abbreviated["dist-tags"] == full["dist-tags"]
    assert abbreviated["versions"].keys() == full["versions"].keys()
    latest = full["dist-tags"]["latest"]
    assert abbreviated["versions"][latest]["dist"] == full["versions"][latest]["dist"]
    assert "repository" not in abbreviated["versions"][latest]
    assert answer.headers["etag"] != httpx.get(registry_server.url + "/ms").headers["etag"]


def test_simple_api_lists_the_recorded_files(registry_server: RegistryServer) -> None:
    recorded = httpx.get(registry_server.url + "/pypi/flask/json").json()
    accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
    answer = httpx.get(registry_server.url + "/simple/Flask/", headers=accept)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.pypi.simple.v1+json"
    simple = answer.json()
    assert simple["meta"]["api-version"] == "1.1"
    assert simple["name"] == "flask"
    assert set(simple["versions"]) == set(recorded["releases"])
    files = {f["filename"]: f for f in simple["files"]}
    for version, entries in recorded["releases"].items():
        for entry in entries:
            made = files[entry["filename"]]
            assert made["upload-time"] == entry["upload_time_iso_8601"], version
            assert made.get("requires-python") == entry["requires_python"]
            assert bool(made["yanked"]) == entry["yanked"]
    html = httpx.get(registry_server.url + "/simple/flask/")
    assert html.headers["content-type"] == "text/html" and "Links for Flask" in html.text
    assert registry_server.path_counts["/simple/Flask/"] == 1
    assert registry_server.path_counts["/simple/flask/"] == 1
    assert registry_server.count("python", "flask") == 3


def test_latest_release_document(registry_server: RegistryServer) -> None:
    recorded = httpx.get(registry_server.url + "/pypi/flask/json").json()
    latest = recorded["info"]["version"]
    release = httpx.get(registry_server.url + f"/pypi/flask/{latest}/json").json()
    assert release["info"] == recorded["info"]
    assert release["urls"] == recorded["releases"][latest]
    assert httpx.get(registry_server.url + "/pypi/flask/0.1/json").status_code == 404


def test_faults(registry_server: RegistryServer) -> None:
    registry_server.inject("npm", "ms", Fault(status=503))
    assert httpx.get(registry_server.url + "/ms").status_code == 503
    registry_server.inject("npm", "ms", Fault(body=b"nope", content_type="text/plain"))
    assert httpx.get(registry_server.url + "/ms").text == "nope"
    registry_server.reset()
    assert httpx.get(registry_server.url + "/ms").json()["name"] == "ms"


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_install_package_lock_only_resolves_offline(registry_server: RegistryServer, tmp_path: Path) -> None:
    manifest = {
        "name": "replay-check",
        "version": "1.0.0",
        "dependencies": {"react": "^16.8.0", "axios": "0.21.1", "lodash": "~4.17.15", "chalk": "^4.1.0"},
    }
    (tmp_path / "package.json").write_text(json.dumps(manifest))
    (tmp_path / "npmrc").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    completed = subprocess.run(
        [
            "npm",
            "install",
            "--package-lock-only",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
            f"--registry={registry_server.url}/",
            f"--cache={tmp_path / 'cache'}",
            f"--userconfig={tmp_path / 'npmrc'}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lock = json.loads((tmp_path / "package-lock.json").read_text())
    versions = {path: entry["version"] for path, entry in lock["packages"].items() if path}
    assert versions["node_modules/react"] == "16.14.0"
    assert versions["node_modules/axios"] == "0.21.1"
    assert versions["node_modules/chalk"] == "4.1.2"
    assert versions["node_modules/color-name"] == "1.1.4"
    assert "node_modules/follow-redirects" in versions
    assert lock["packages"]["node_modules/chalk"]["integrity"].startswith("sha512-")
    assert [(s.path, s.status) for s in registry_server.served if s.status != 200] == []
