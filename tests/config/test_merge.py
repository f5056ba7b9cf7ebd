"""How a repository's file combines with the defaults."""

from __future__ import annotations

from datetime import timedelta

from config.build import extend_core, merge
from config.loader import default_config, default_options, load_config
from config.model import HealthCheck, Match, Phase


def test_top_level_lists_replace_the_defaults() -> None:
    config = load_config("labels: [deps]\nphases: [{name: all}]\ndirectories: [app]")
    assert config.labels == ("deps",)
    assert config.phases == (Phase("all", "all", Match()),)
    assert config.directories == ("app",)


def test_nested_options_merge_one_by_one() -> None:
    config = load_config("health_check: {soak: 1h}\nschedule: {timezone: Asia/Tokyo}\nrisk: {weights: {major: 1}}")
    assert config.health_check == HealthCheck(soak=timedelta(hours=1))
    assert config.schedule.cron == default_config().schedule.cron
    assert config.risk.weights == (("major", 1),) and config.risk.high_at == 6


def test_risk_weights_merge_by_factor() -> None:
    defaults = {**default_options(), "risk": {"weights": {"core": 2, "major": 3}, "medium_at": 3, "high_at": 6}}
    merged = merge(defaults, {"risk": {"weights": {"major": 9}}})
    assert merged["risk"]["weights"] == {"core": 2, "major": 9}


def test_core_packages_extend_and_remove_built_ins() -> None:
    assert extend_core(["django", "flask"], ["wagtail", "django"]) == ["django", "flask", "wagtail"]
    assert extend_core(["react", "react-dom", "vue"], ["!react*", "preact"]) == ["vue", "preact"]
    assert extend_core(["@angular/*", "vue"], ["!@angular/*"]) == ["vue"]
    config = load_config("core_packages: {npm: ['!typescript', 'lit']}")
    assert "typescript" not in config.core_packages.npm and config.core_packages.npm[-1] == "lit"
    assert config.core_packages.python == default_config().core_packages.python


def test_merge_leaves_its_inputs_alone() -> None:
    defaults = default_options()
    file = {"schedule": {"cron": "0 1 * * *"}, "risk": {"weights": {"core": 1}}, "core_packages": {"npm": ["lit"]}}
    merge(defaults, file)
    assert defaults == default_options()
    assert file == {
        "schedule": {"cron": "0 1 * * *"},
        "risk": {"weights": {"core": 1}},
        "core_packages": {"npm": ["lit"]},
    }


def test_the_effective_config_is_what_the_plan_reads() -> None:
    config = load_config("max_open_prs: 2\nautomerge: {enabled: true, max_risk: medium}")
    assert (config.max_open_prs, config.automerge.enabled, config.automerge.max_risk) == (2, True, "medium")
    assert config.approvals.required("high") == 1


def test_validation_and_its_coverage_and_benchmarks_merge_one_by_one() -> None:
    config = load_config(
        "validation: {required_layers: [unit], coverage: {max_drop: 2}, benchmarks: {noise_percent: 4}}"
    )
    assert config.validation.required_layers == ("unit",)
    assert config.validation.coverage.max_drop == 2.0 and config.validation.coverage.enabled
    assert config.validation.benchmarks.noise_percent == 4.0
    assert config.validation.benchmarks.max_regression_percent == 20.0
    assert config.validation.max_artifact_mb == 20
