"""Merging a repository's options over the defaults, and building the typed ``Config`` from the result.

Both take values the schema and the semantic checks have accepted; nothing here validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.durations import parse_duration
from config.globs import compile_glob
from config.model import (
    Approvals,
    Automerge,
    BaselineCheck,
    BenchmarkGate,
    Commands,
    Config,
    CorePackages,
    CoverageGate,
    Group,
    HealthCheck,
    HealthUrl,
    IgnoreRule,
    Match,
    Migrations,
    Phase,
    Prometheus,
    PrometheusQuery,
    RiskSettings,
    Rollback,
    Runtime,
    Schedule,
    Security,
    Validation,
)

# Options whose own options merge one by one over the defaults' (the others replace the default whole).
MERGED_OBJECTS = (
    "schedule", "automerge", "approvals", "commands", "health_check", "rollback", "migrations", "security", "risk",
    "validation", "runtime",
)  # fmt: skip
MERGED_VALIDATION = ("coverage", "benchmarks")  # validation's own objects merge one by one too


def merge(defaults: Mapping[str, Any], file: Mapping[str, Any]) -> dict[str, Any]:
    """The effective options: ``file`` over ``defaults``. See MERGED_OBJECTS; ``risk.weights`` also merges
    by factor; ``core_packages`` extends the built-in lists, its ``!glob`` entries removing built-in ones."""
    merged = {**defaults, **file}
    for key in MERGED_OBJECTS:
        if key in file:
            merged[key] = {**defaults.get(key, {}), **file[key]}
    if isinstance(file.get("health_check"), dict) and "baseline" in file["health_check"]:
        merged["health_check"]["baseline"] = {
            **defaults.get("health_check", {}).get("baseline", {}),
            **file["health_check"]["baseline"],
        }
    for key in MERGED_VALIDATION:
        if key in file.get("validation", {}):
            merged["validation"][key] = {**defaults.get("validation", {}).get(key, {}), **file["validation"][key]}
    if "weights" in file.get("risk", {}):
        merged["risk"]["weights"] = {**defaults.get("risk", {}).get("weights", {}), **file["risk"]["weights"]}
    if "core_packages" in file:
        merged["core_packages"] = {
            ecosystem: extend_core(
                defaults.get("core_packages", {}).get(ecosystem, []), file["core_packages"].get(ecosystem, [])
            )
            for ecosystem in ("python", "npm")
        }
    return merged


def extend_core(built_in: list[str], entries: list[str]) -> list[str]:
    """The built-in list without what the ``!glob`` entries remove, then the other entries (once each)."""
    removed: set[str] = set()
    for entry in entries:
        if entry.startswith("!"):
            removed.update(removed_by(entry[1:], built_in))
    result = [name for name in built_in if name not in removed]
    for entry in entries:
        if not entry.startswith("!") and entry not in result:
            result.append(entry)
    return result


def removed_by(pattern: str, built_in: list[str]) -> list[str]:
    """The built-in core entries that ``!pattern`` removes: those equal to it or whose text it matches."""
    regex = compile_glob(pattern)
    return [entry for entry in built_in if entry == pattern or regex.match(entry)]


def build_config(options: Mapping[str, Any]) -> Config:
    """The ``Config`` of complete, valid options (defaults merged in)."""
    schedule, automerge, approvals = options["schedule"], options["automerge"], options["approvals"]
    health, rollback, security, risk = (
        options["health_check"],
        options["rollback"],
        options["security"],
        options["risk"],
    )
    return Config(
        enabled=options["enabled"],
        schedule=Schedule(cron=schedule["cron"], timezone=schedule["timezone"]),
        ecosystems=tuple(options["ecosystems"]),
        directories=tuple(options["directories"]),
        ignore_paths=tuple(options["ignore_paths"]),
        phases=tuple(_phase(phase) for phase in options["phases"]),
        core_packages=CorePackages(
            python=tuple(options["core_packages"]["python"]), npm=tuple(options["core_packages"]["npm"])
        ),
        groups=tuple(Group(name=group["name"], match=_match(group["match"])) for group in options["groups"]),
        ignore=tuple(_ignore_rule(rule) for rule in options["ignore"]),
        runtime=Runtime(
            python=options["runtime"].get("python"),
            node=options["runtime"].get("node"),
            python_floor=options["runtime"].get("python_floor", "keep"),
        ),
        min_release_age=parse_duration(options["min_release_age"]),
        range_strategy=options["range_strategy"],
        max_open_prs=int(options["max_open_prs"]),
        lockfile_maintenance=options["lockfile_maintenance"],
        split_failing_groups=options["split_failing_groups"],
        labels=tuple(options["labels"]),
        reviewers=tuple(options["reviewers"]),
        assignees=tuple(options["assignees"]),
        automerge=Automerge(enabled=automerge["enabled"], max_risk=automerge["max_risk"], method=automerge["method"]),
        approvals=Approvals(
            low=int(approvals["low"]),
            medium=int(approvals["medium"]),
            high=int(approvals["high"]),
            allowed=tuple(approvals["allowed"]),
        ),
        commands=Commands(allowed=tuple(options["commands"]["allowed"])),
        health_check=HealthCheck(
            environments=tuple(health["environments"]),
            urls=tuple(_health_url(url) for url in health["urls"]),
            probes=int(health["probes"]),
            interval=parse_duration(health["interval"]),
            soak=parse_duration(health["soak"]),
            baseline=_baseline(health.get("baseline", {})),
            prometheus=_prometheus(health["prometheus"]) if health.get("prometheus") else None,
        ),
        rollback=Rollback(auto=rollback["auto"], auto_merge=rollback["auto_merge"]),
        migrations=Migrations(
            enabled=options["migrations"]["enabled"],
            allow=tuple(options["migrations"]["allow"]),
            deny=tuple(options["migrations"]["deny"]),
        ),
        security=Security(audit=security["audit"], block_new=security["block_new"]),
        commit_style=options["commit_style"],
        risk=RiskSettings(
            weights=tuple(sorted((factor, int(weight)) for factor, weight in risk["weights"].items())),
            medium_at=int(risk["medium_at"]),
            high_at=int(risk["high_at"]),
        ),
        validation=_validation(options["validation"]),
    )


def _validation(options: Mapping[str, Any]) -> Validation:
    coverage, benchmarks = options["coverage"], options["benchmarks"]
    max_drop = coverage["max_drop"]
    return Validation(
        layers=tuple(sorted((layer, tuple(patterns)) for layer, patterns in options["layers"].items())),
        required_layers=tuple(options["required_layers"]),
        coverage=CoverageGate(enabled=coverage["enabled"], max_drop=float(max_drop) if max_drop is not None else None),
        benchmarks=BenchmarkGate(
            enabled=benchmarks["enabled"],
            noise_percent=float(benchmarks["noise_percent"]),
            max_regression_percent=float(benchmarks["max_regression_percent"]),
        ),
        max_artifact_mb=int(options["max_artifact_mb"]),
        max_artifacts=int(options["max_artifacts"]),
    )


def _match(match: Mapping[str, Any]) -> Match:
    return Match(
        ecosystems=tuple(match.get("ecosystems", ())),
        dependency_types=tuple(match.get("dependency_types", ())),
        update_types=tuple(match.get("update_types", ())),
        packages=tuple(match.get("packages", ())),
        risk=tuple(match.get("risk", ())),
        core=match.get("core"),
    )


def _phase(phase: Mapping[str, Any]) -> Phase:
    return Phase(
        name=phase["name"],
        title=phase.get("title", phase["name"]),
        match=_match(phase.get("match", {})),
        approvals=int(phase.get("approvals", 0)),
        automerge=phase.get("automerge"),
    )


def _ignore_rule(rule: Mapping[str, Any]) -> IgnoreRule:
    return IgnoreRule(
        packages=tuple(rule["packages"]),
        versions=tuple(rule.get("versions", ())),
        update_types=tuple(rule.get("update_types", ())),
        ecosystems=tuple(rule.get("ecosystems", ())),
        reason=rule.get("reason"),
    )


def _health_url(url: Mapping[str, Any]) -> HealthUrl:
    latency = url.get("max_latency_ms")
    return HealthUrl(
        url=url["url"],
        expected_status=int(url.get("expected_status", 200)),
        body_contains=url.get("body_contains"),
        max_latency_ms=int(latency) if latency is not None else None,
    )


def _baseline(options: Mapping[str, Any]) -> BaselineCheck:
    built_in = BaselineCheck()
    return BaselineCheck(
        enabled=bool(options.get("enabled", built_in.enabled)),
        samples=int(options.get("samples", built_in.samples)),
        per_round=int(options.get("per_round", built_in.per_round)),
        spacing_ms=int(options.get("spacing_ms", built_in.spacing_ms)),
        min_samples=int(options.get("min_samples", built_in.min_samples)),
        significance=float(options.get("significance", built_in.significance)),
        tolerance=float(options.get("tolerance", built_in.tolerance)),
        min_requests=int(options.get("min_requests", built_in.min_requests)),
        min_slowdown_ms=int(options.get("min_slowdown_ms", built_in.min_slowdown_ms)),
    )


def _prometheus(options: Mapping[str, Any]) -> Prometheus:
    return Prometheus(
        url=options["url"],
        queries=tuple(
            PrometheusQuery(name=q["name"], kind=q["kind"], query=q["query"], total=q.get("total"))
            for q in options["queries"]
        ),
        auth=options.get("auth"),
        window=parse_duration(options.get("window", "10m")),
        step=parse_duration(options.get("step", "30s")),
    )
