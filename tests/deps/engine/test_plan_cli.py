from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from redis import Redis

from bot.deps.registry import client as registry_client
from bot.process.cli import main
from tests.support.registry_server import RegistryServer

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text())
SAMPLES = ROOT / "tests" / "fixtures" / "peers" / "samples"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLES, tmp_path / "repo")
    (tmp_path / "repo" / "broken").mkdir()
    (tmp_path / "repo" / "broken" / "requirements.txt").write_text(
        "flask[>=1\n-e ./local#egg=mylocal\nno-such-package-xyz==1\n"
    )
    return tmp_path / "repo"


def test_json_output_follows_the_documented_schema(
    checkout: Path, registry_server: RegistryServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    # --api-budget 0: no release files are downloaded, so the registry requests counted below are the lookups only
    assert main(["plan", str(checkout), "--json", "--api-budget", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    jsonschema.validate(out, SCHEMA)
    api = [
        i["api"] for p in out["plan"]["phases"] for g in p["groups"] for i in g["items"] if i["update_type"] == "major"
    ]
    assert api and all(not a["analysed"] and a["summary"] == f"not analysed: {a['why_not']}" for a in api)
    assert out["schema"] == "depup.plan/1"
    assert [m["path"] for m in out["manifests"]] == [
        "broken/requirements.txt",
        "js-app/package.json",
        "py-pyproject/pyproject.toml",
        "py-req/requirements.txt",
    ]
    deps = {(d["file"], d["name"]): d for d in out["dependencies"]}
    flask = deps[("py-req/requirements.txt", "flask")]
    assert [(u["version"], u["constraint"], u["update_type"], u["major"]) for u in flask["updates"]] == [
        ("1.1.4", "==1.1.4", "patch", False),
        ("3.1.3", "==3.1.3", "major", True),
    ]
    missing = deps[("broken/requirements.txt", "no-such-package-xyz")]
    assert missing["updates"] == [] and missing["reason"].startswith("lookup failed (not_found)")
    broken = next(m for m in out["manifests"] if m["path"] == "broken/requirements.txt")
    assert [p["line"] for p in broken["problems"]] == [1]  # the malformed line, reported, not fatal
    # One registry request per distinct package, however many manifests use it (PyPI: the Simple API), and one
    # for the project links of each PyPI package with a proposed update (the Simple API has none).
    packages = {
        (d["ecosystem"], d["package"]) for d in out["dependencies"] if not d["reason"] or "skipped" not in d["reason"]
    }
    proposed = {d["package"] for d in out["dependencies"] if d["ecosystem"] == "python" and d["updates"]}
    registry = out["registry"]
    assert registry["packages"] == registry["cache_misses"] == len(packages)
    assert registry["link_requests"] == len(proposed)
    assert registry["requests"] == registry_server.total_requests == len(packages) + len(proposed)
    paths = registry_server.path_counts
    assert sorted(p for p in paths if p.startswith("/simple/")) == sorted(
        f"/simple/{name}/" for eco, name in packages if eco == "python"
    )
    assert set(paths.values()) == {1}
    assert sum(1 for p in paths if p.endswith(".metadata")) == len(proposed)  # PEP 658: a few kB each
    assert registry["bytes"] > 0 and registry["cache_hits"] == registry["cache_bytes"] == 0


def test_text_output_lists_every_manifest_and_dependency(
    checkout: Path, registry_server: RegistryServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["plan", str(checkout)]) == 0
    out = capsys.readouterr().out
    assert "py-req/requirements.txt (python requirements)" in out
    assert "js-app/package.json (npm package.json, lockfile js-app/package-lock.json)" in out
    assert "importlib-metadata  runtime  1.7.0    6.7.0 (major, ==6.7.0)" in out
    assert "skipped: editable" in out
    assert any(line.startswith("33 dependencies in 4 manifests") for line in out.splitlines())
    # Then the phased plan under the default config.
    plan = out[out.index("Plan ") :]
    assert "Phase 1 low: Low-risk updates (approvals 0)" in plan
    assert "Phase 3 core-runtime: Core frameworks and runtime majors (approvals 1)" in plan
    assert "Upgrade flask from 1.1.2 to 3.1.3" not in plan  # waits for 1.1.4, listed under Later
    assert "flask 1.1.2 -> 3.1.3: after flask 1.1.4 of this phase is merged" in plan
    assert plan.rstrip().splitlines()[-1].startswith("! python package no-such-package-xyz: lookup failed")


def test_plan_follows_the_config_file_given(
    checkout: Path, registry_server: RegistryServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    config = checkout / "tuned.yml"
    config.write_text(
        "ecosystems: [npm]\n"
        "max_open_prs: 1\n"
        "ignore:\n  - packages: [react]\n    reason: stuck on 16\n"
        "phases:\n  - name: everything\n    title: Everything at once\n    match: {}\n"
    )
    assert main(["plan", str(checkout), "--config", str(config), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    jsonschema.validate(plan, SCHEMA["properties"]["plan"] | {"$defs": SCHEMA["$defs"]})
    assert [p["name"] for p in plan["phases"]] == ["everything"]
    items = [i for p in plan["phases"] for g in p["groups"] for i in g["items"]]
    assert {i["ecosystem"] for i in items} == {"npm"}
    assert [(i["package"], i["reason"]) for i in plan["ignored"]] == [("react", "ignored by rule react: stuck on 16")]
    assert len(plan["opening"]) == 1 and plan["waiting"]
    first = items[0]
    assert first["risk"]["level"] in ("low", "medium", "high") and first["risk"]["factors"]


def test_plan_as_markdown_uses_the_repository_config(
    checkout: Path, registry_server: RegistryServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    (checkout / ".github").mkdir()
    (checkout / ".github" / "depup.yml").write_text("directories: [js-app]\ncommit_style: conventional\n")
    assert main(["plan", str(checkout), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Upgrade plan\n")
    assert "#### chore(deps): phase 1: 2 low-risk npm upgrades" in out
    planned, _, left_out = out.partition("<details><summary>Manifests not managed</summary>")
    assert "py-req" not in planned
    assert "- py-req/requirements.txt: outside `directories`" in left_out


def test_plan_with_a_bad_config_prints_every_mistake_and_fails(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = checkout / "bad.yml"
    config.write_text("max_open_pr: 3\nrange_strategy: pinned\n")
    assert main(["plan", str(checkout), "--config", str(config)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{config}:1:1: unknown option 'max_open_pr' (did you mean 'max_open_prs'?)",
        f"{config}:2:17: range_strategy: unknown value 'pinned': expected one of auto, pin, bump, widen, lockfile-only"
        " (did you mean 'pin'?)",
    ]
    assert main(["plan", str(checkout), "--config", str(checkout / "missing.yml")]) == 1
    assert "missing.yml: no such file" in capsys.readouterr().err


def test_plan_of_a_missing_directory_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(tmp_path / "nope")]) == 1
    assert "is not a directory" in capsys.readouterr().err


def test_project_links_are_cached_per_release_and_read_back(
    checkout: Path,
    registry_server: RegistryServer,
    redis_client: Redis,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["plan", str(checkout), "--json", "--api-budget", "0"]) == 0
    alone = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("REDIS_URL", redis_url)
    runs = []
    for together in (10**6, 1):  # links read by the threads that would fetch them; then in one MGET
        monkeypatch.setattr(registry_client._Links, "MGET_AT_LEAST", together)
        assert main(["plan", str(checkout), "--json", "--api-budget", "0"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    proposed = {d["package"] for d in alone["dependencies"] if d["ecosystem"] == "python" and d["updates"]}
    cold, warm = (run["registry"] for run in runs)
    assert (cold["link_requests"], cold["link_cache_hits"]) == (len(proposed), 0)
    assert (warm["link_requests"], warm["link_cache_hits"], warm["requests"]) == (0, len(proposed), 0)
    # The links, whether fetched with or without a cache or read from it, are the same in the plan.
    assert alone["dependencies"] == runs[0]["dependencies"] == runs[1]["dependencies"]
    assert registry_server.total_requests == 2 * alone["registry"]["requests"]  # no cache, then the cold run
    # The cache's freshness over, the packages are asked again; their latest releases' links are not.
    for key in redis_client.scan_iter("depup:registry:*"):
        if redis_client.type(key) == b"hash":
            redis_client.hset(key, "fresh_until", 0)
    monkeypatch.setattr(registry_client._Links, "MGET_AT_LEAST", 10**6)
    assert main(["plan", str(checkout), "--json", "--api-budget", "0"]) == 0
    stale = json.loads(capsys.readouterr().out)["registry"]
    assert (stale["link_requests"], stale["link_cache_hits"]) == (0, len(proposed))
