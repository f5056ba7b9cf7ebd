"""Every option: a valid value lands in Config, an invalid one is reported at its line and column with its
path, and the default applies when the option is left out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.errors import ConfigInvalid
from config.loader import default_config, load_config, validate
from config.model import (
    Approvals,
    Automerge,
    BenchmarkGate,
    Config,
    CoverageGate,
    Group,
    HealthCheck,
    HealthUrl,
    IgnoreRule,
    Match,
    Migrations,
    Phase,
    RiskSettings,
    Rollback,
    Runtime,
    Schedule,
    Security,
    Validation,
)

F = "f.yml"


def problems(text: str) -> list[str]:
    return [str(problem) for problem in validate(text, F)]


# (yaml, what to read from the Config, the value expected there)
VALID: list[tuple[str, Callable[[Config], Any], Any]] = [
    ("enabled: false", lambda c: c.enabled, False),
    ("schedule: {cron: '0 6 * * *'}", lambda c: c.schedule, Schedule("0 6 * * *", "UTC")),
    ("schedule: {cron: '*/15 1-5 1,15 jan-jun mon-fri'}", lambda c: c.schedule.cron, "*/15 1-5 1,15 jan-jun mon-fri"),
    ("schedule: {timezone: America/New_York}", lambda c: c.schedule, Schedule("0 5 * * 1", "America/New_York")),
    ("ecosystems: [npm]", lambda c: c.ecosystems, ("npm",)),
    ("ecosystems: []", lambda c: c.ecosystems, ()),
    ("directories: ['services/*', '!services/legacy']", lambda c: c.directories, ("services/*", "!services/legacy")),
    ("ignore_paths: ['legacy/**']", lambda c: c.ignore_paths, ("legacy/**",)),
    (
        "phases:\n  - name: all\n    title: Everything\n    match: {ecosystems: [npm], dependency_types: [peer],"
        " update_types: [major], packages: ['@types/*', '!@types/node'], risk: [high], core: true}\n"
        "    approvals: 2\n    automerge: false",
        lambda c: c.phases,
        (
            Phase(
                "all",
                "Everything",
                Match(("npm",), ("peer",), ("major",), ("@types/*", "!@types/node"), ("high",), True),
                approvals=2,
                automerge=False,
            ),
        ),
    ),
    ("phases: [{name: only}]", lambda c: c.phases, (Phase("only", "only", Match()),)),
    ("phases: [{name: p1, automerge: null}]", lambda c: c.phases[0].automerge, None),
    ("core_packages: {python: [wagtail]}", lambda c: c.core_packages.python[-1], "wagtail"),
    ("core_packages: {python: [wagtail]}", lambda c: len(c.core_packages.npm), 18),
    ("core_packages: {npm: ['!@angular/*', '!react*']}", lambda c: c.core_packages.npm[:2], ("vue", "next")),
    ("core_packages: {python: ['!django']}", lambda c: "django" in c.core_packages.python, False),
    (
        "groups: [{name: eslint, match: {packages: ['eslint*']}}]",
        lambda c: c.groups,
        (Group("eslint", Match(packages=("eslint*",))),),
    ),
    (
        "ignore:\n  - packages: [django]\n    versions: ['>=5']\n    update_types: [major]\n    ecosystems: [python]\n"
        "    reason: later",
        lambda c: c.ignore,
        (IgnoreRule(("django",), (">=5",), ("major",), ("python",), "later"),),
    ),
    (
        "ignore: [{packages: [react], versions: ['^19.0.0', '>=19']}]",
        lambda c: c.ignore[0].versions,
        ("^19.0.0", ">=19"),
    ),
    ("ignore: [{packages: [react], versions: ['19.x'], ecosystems: [npm]}]", lambda c: c.ignore[0].versions, ("19.x",)),
    ("min_release_age: 0", lambda c: c.min_release_age, timedelta(0)),
    ("min_release_age: 1", lambda c: c.min_release_age, timedelta(days=1)),
    ("min_release_age: 72h", lambda c: c.min_release_age, timedelta(hours=72)),
    ("min_release_age: 90m", lambda c: c.min_release_age, timedelta(minutes=90)),
    ("min_release_age: 2 weeks", lambda c: c.min_release_age, timedelta(weeks=2)),
    ("min_release_age: 1d", lambda c: c.min_release_age, timedelta(days=1)),
    ("min_release_age: 1.5 hours", lambda c: c.min_release_age, timedelta(minutes=90)),
    ("min_release_age: 30s", lambda c: c.min_release_age, timedelta(seconds=30)),
    ("range_strategy: lockfile-only", lambda c: c.range_strategy, "lockfile-only"),
    ("max_open_prs: 0", lambda c: c.max_open_prs, 0),
    ("lockfile_maintenance: false", lambda c: c.lockfile_maintenance, False),
    ("split_failing_groups: false", lambda c: c.split_failing_groups, False),
    ("labels: [deps, bot]", lambda c: c.labels, ("deps", "bot")),
    ("reviewers: [alice, my-org/back_end.team]", lambda c: c.reviewers, ("alice", "my-org/back_end.team")),
    ("assignees: [bob-1]", lambda c: c.assignees, ("bob-1",)),
    ("automerge: {enabled: true}", lambda c: c.automerge, Automerge(True, "low", "squash")),
    ("automerge: {max_risk: medium, method: rebase}", lambda c: c.automerge, Automerge(False, "medium", "rebase")),
    ("approvals: {low: 1, medium: 2}", lambda c: c.approvals, Approvals(1, 2, 1)),
    ("approvals: {high: 3, allowed: [carol]}", lambda c: c.approvals, Approvals(0, 0, 3, ("carol",))),
    ("commands: {allowed: [carol, dan-2]}", lambda c: c.commands.allowed, ("carol", "dan-2")),
    ("health_check: {environments: [prod, eu]}", lambda c: c.health_check.environments, ("prod", "eu")),
    (
        "health_check:\n  urls:\n    - url: https://app.example/healthz\n      expected_status: 204\n"
        "      body_contains: ok\n      max_latency_ms: 800\n    - url: http://localhost:8080/",
        lambda c: c.health_check.urls,
        (HealthUrl("https://app.example/healthz", 204, "ok", 800), HealthUrl("http://localhost:8080/")),
    ),
    ("health_check: {probes: 3}", lambda c: c.health_check, HealthCheck(probes=3)),
    ("health_check: {interval: 30s, soak: 1h}", lambda c: c.health_check.soak, timedelta(hours=1)),
    ("health_check: {interval: 30s}", lambda c: c.health_check.interval, timedelta(seconds=30)),
    ("rollback: {auto: false}", lambda c: c.rollback, Rollback(False, False)),
    ("rollback: {auto_merge: true}", lambda c: c.rollback, Rollback(True, True)),
    ("migrations: {enabled: false}", lambda c: c.migrations, Migrations(False, (), ())),
    ("migrations: {deny: [ruff-pyupgrade]}", lambda c: c.migrations, Migrations(True, (), ("ruff-pyupgrade",))),
    (
        "migrations: {allow: [django-upgrade, react-18-codemod]}",
        lambda c: (c.migrations.allows("django-upgrade"), c.migrations.allows("bump-pydantic")),
        (True, False),
    ),
    ("security: {audit: false}", lambda c: c.security, Security(False, True)),
    ("security: {block_new: false}", lambda c: c.security, Security(True, False)),
    ("commit_style: conventional", lambda c: c.commit_style, "conventional"),
    ("runtime: {python_floor: raise}", lambda c: c.runtime, Runtime(python_floor="raise")),
    ("runtime: {python: '3.11'}", lambda c: c.runtime, Runtime(python="3.11", python_floor="keep")),
    ("runtime: {python_floor: raise, node: '20'}", lambda c: c.runtime.python_floor, "raise"),
    ("risk: {weights: {major: 5, core: -2}}", lambda c: c.risk, RiskSettings((("core", -2), ("major", 5)), 3, 6)),
    ("risk: {medium_at: 2}", lambda c: c.risk, RiskSettings((), 2, 6)),
    ("risk: {high_at: 10}", lambda c: c.risk, RiskSettings((), 3, 10)),
    ("risk: {medium_at: 8, high_at: 9}", lambda c: (c.risk.medium_at, c.risk.high_at), (8, 9)),
    (
        "validation: {layers: {integration: ['contract-*', it], e2e: [cypress]}}",
        lambda c: c.validation.layers,
        (("e2e", ("cypress",)), ("integration", ("contract-*", "it"))),
    ),
    (
        "validation: {required_layers: [unit, integration]}",
        lambda c: c.validation.required_layers,
        ("unit", "integration"),
    ),
    ("validation: {coverage: {max_drop: 0.5}}", lambda c: c.validation.coverage, CoverageGate(True, 0.5)),
    ("validation: {coverage: {max_drop: null}}", lambda c: c.validation.coverage.max_drop, None),
    ("validation: {coverage: {enabled: false}}", lambda c: c.validation.coverage, CoverageGate(False, 1.0)),
    ("validation: {benchmarks: {noise_percent: 5}}", lambda c: c.validation.benchmarks, BenchmarkGate(True, 5.0, 20.0)),
    (
        "validation: {benchmarks: {enabled: false, max_regression_percent: 35.5}}",
        lambda c: c.validation.benchmarks,
        BenchmarkGate(False, 10.0, 35.5),
    ),
    (
        "validation: {max_artifact_mb: 5, max_artifacts: 0}",
        lambda c: c.validation,
        Validation(max_artifact_mb=5, max_artifacts=0),
    ),
]


@pytest.mark.parametrize(("text", "read", "expected"), VALID, ids=[text[:50] for text, _, _ in VALID])
def test_a_valid_value_lands_in_config(text: str, read: Callable[[Config], Any], expected: Any) -> None:
    assert read(load_config(text, F)) == expected


# (yaml, the one problem expected, as check-config prints it)
INVALID: list[tuple[str, str]] = [
    ("enabled: maybe", "f.yml:1:10: enabled: expected true or false, got 'maybe'"),
    ("schedule: weekly", "f.yml:1:11: schedule: expected a mapping of options, got 'weekly'"),
    ("schedule:\n  cron: 5", "f.yml:2:9: schedule.cron: expected text, got 5"),
    (
        "schedule:\n  cron: '0 5 * *'",
        "f.yml:2:9: schedule.cron: expected a cron expression of 5 fields (minute hour day-of-month month "
        "day-of-week), got 4 in '0 5 * *'",
    ),
    (
        "schedule:\n  cron: '0 24 * * *'",
        "f.yml:2:9: schedule.cron: the hour field '24' of '0 24 * * *' is not valid (0-23)",
    ),
    (
        "schedule: {cron: '0 5 * * funday'}",
        "f.yml:1:18: schedule.cron: the day-of-week field 'funday' of '0 5 * * funday' is not valid (0-6 or sun-sat)",
    ),
    ("schedule: {cron: ''}", "f.yml:1:18: schedule.cron: must not be empty"),
    (
        "schedule:\n  timezone: Mars/Olympus",
        "f.yml:2:13: schedule.timezone: unknown time zone 'Mars/Olympus' (an IANA name like 'UTC' or 'Europe/Paris')",
    ),
    (
        "schedule:\n  timezone: europe/berlin",
        "f.yml:2:13: schedule.timezone: unknown time zone 'europe/berlin' (did you mean 'Europe/Berlin'?)",
    ),
    ("schedule: {crontab: x}", "f.yml:1:12: schedule: unknown option 'crontab' (did you mean 'cron'?)"),
    ("ecosystems: [ruby]", "f.yml:1:14: ecosystems[0]: unknown value 'ruby': expected one of python, npm"),
    ("ecosystems: python", "f.yml:1:13: ecosystems: expected a list, got 'python'"),
    ("ecosystems: [npm, npm]", "f.yml:1:19: ecosystems[1]: 'npm' is listed twice (first at line 1, column 14)"),
    (
        "directories: ['a/b**']",
        "f.yml:1:15: directories[0]: invalid path glob 'a/b**': '**' must be a whole path segment, like 'a/**/b'",
    ),
    ("ignore_paths: ['']", "f.yml:1:16: ignore_paths[0]: must not be empty"),
    (
        "ignore_paths: ['x[a']",
        "f.yml:1:16: ignore_paths[0]: invalid path glob 'x[a': '[' at position 2 is never closed",
    ),
    ("phases: []", "f.yml:1:9: phases: needs at least 1 entry, got an empty list"),
    ("phases: {low: {}}", "f.yml:1:9: phases: expected a list, got a mapping"),
    ("phases:\n  - title: Untitled", "f.yml:2:5: phases[0]: missing required option 'name'"),
    (
        "phases:\n  - name: Low Risk",
        "f.yml:2:11: phases[0].name: expected a name of lowercase letters, digits and dashes, starting with a letter "
        "or digit, got 'Low Risk'",
    ),
    (
        "phases:\n  - name: a\n  - name: a",
        "f.yml:3:11: phases[1].name: duplicate phase name 'a', first at line 2 (phases[0])",
    ),
    ("phases:\n  - name: a\n    title: 7", "f.yml:3:12: phases[0].title: expected text, got 7"),
    (
        "phases:\n  - name: a\n    match: [major]",
        "f.yml:3:12: phases[0].match: expected a mapping of options, got a list",
    ),
    (
        "phases:\n  - name: a\n    approvals: -1",
        "f.yml:3:16: phases[0].approvals: expected a whole number of at least 0, got -1",
    ),
    (
        "phases:\n  - name: a\n    automerge: sometimes",
        "f.yml:3:16: phases[0].automerge: expected true or false or null, got 'sometimes'",
    ),
    (
        "phases:\n  - name: a\n    matches: {}",
        "f.yml:3:5: phases[0]: unknown option 'matches' (did you mean 'match'?)",
    ),
    (
        "phases:\n  - name: a\n    match: {ecosystems: [pypi]}",
        "f.yml:3:26: phases[0].match.ecosystems[0]: unknown value 'pypi': expected one of python, npm",
    ),
    (
        "phases:\n  - name: a\n    match: {dependency_types: [devel]}",
        "f.yml:3:32: phases[0].match.dependency_types[0]: unknown value 'devel': expected one of runtime, dev, build, "
        "peer, optional (did you mean 'dev'?)",
    ),
    (
        "phases:\n  - name: a\n    match: {update_types: [Major]}",
        "f.yml:3:28: phases[0].match.update_types[0]: unknown value 'Major': expected one of major, minor, patch, "
        "lockfile (did you mean 'major'?)",
    ),
    (
        "phases:\n  - name: a\n    match: {packages: ['eslint-[']}",
        "f.yml:3:24: phases[0].match.packages[0]: invalid glob 'eslint-[': '[' at position 8 is never closed",
    ),
    (
        "phases:\n  - name: a\n    match: {risk: [critical]}",
        "f.yml:3:20: phases[0].match.risk[0]: unknown value 'critical': expected one of low, medium, high",
    ),
    ("phases:\n  - name: a\n    match: {core: 1}", "f.yml:3:19: phases[0].match.core: expected true or false, got 1"),
    ("core_packages: {python: django}", "f.yml:1:25: core_packages.python: expected a list, got 'django'"),
    (
        "core_packages:\n  npm: ['[x']",
        "f.yml:2:9: core_packages.npm[0]: invalid glob '[x': '[' at position 1 is never closed",
    ),
    (
        "core_packages:\n  python: ['!djngo']",
        "f.yml:2:12: core_packages.python[0]: '!djngo' removes nothing: no built-in python core package matches it "
        "(did you mean '!django'?)",
    ),
    (
        "core_packages: {go: [gin]}",
        "f.yml:1:17: core_packages: unknown option 'go' (the options here are python, npm)",
    ),
    ("groups:\n  - name: eslint", "f.yml:2:5: groups[0]: missing required option 'match'"),
    (
        "groups:\n  - {name: x, match: {}}\n  - {name: x, match: {}}",
        "f.yml:3:12: groups[1].name: duplicate group name 'x', first at line 2 (groups[0])",
    ),
    (
        "groups:\n  - {name: _x, match: {}}",
        "f.yml:2:12: groups[0].name: expected a name of lowercase letters, digits and "
        "dashes, starting with a letter or digit, got '_x'",
    ),
    ("ignore:\n  - versions: ['>=2']", "f.yml:2:5: ignore[0]: missing required option 'packages'"),
    (
        "ignore:\n  - packages: [django]\n    ecosystems: [python]\n    versions: ['^5.0']",
        "f.yml:4:16: ignore[0].versions[0]: expected a PEP 440 specifier like '>=2,<3', got '^5.0'",
    ),
    (
        "ignore:\n  - packages: [react]\n    ecosystems: [npm]\n    versions: ['>=19,<20']",
        "f.yml:4:16: ignore[0].versions[0]: expected an npm range like '^2.0.0', got '>=19,<20'",
    ),
    (
        "ignore:\n  - packages: [react]\n    versions: ['=>19']",
        "f.yml:3:16: ignore[0].versions[0]: expected a PEP 440 specifier like '>=2,<3' or an npm range like "
        "'^2.0.0', got '=>19'",
    ),
    (
        "ignore:\n  - packages: [x]\n    update_types: [breaking]",
        "f.yml:3:20: ignore[0].update_types[0]: unknown value 'breaking': expected one of major, minor, patch, "
        "lockfile",
    ),
    (
        "ignore:\n  - packages: [x]\n    ecosystems: [maven]",
        "f.yml:3:18: ignore[0].ecosystems[0]: unknown value 'maven': expected one of python, npm",
    ),
    ("ignore:\n  - packages: [x]\n    reason: [a]", "f.yml:3:13: ignore[0].reason: expected text, got a list"),
    (
        "min_release_age: 3 dayz",
        "f.yml:1:18: min_release_age: expected a duration like '90m', '72h', '3 days' or '2 weeks', or a whole "
        "number of days, got '3 dayz'",
    ),
    ("min_release_age: -1", "f.yml:1:18: min_release_age: expected a number of days from 0 to 36500, got -1"),
    (
        "min_release_age: [3]",
        "f.yml:1:18: min_release_age: expected a duration like '90m', '72h', '3 days' or '2 weeks', or a whole "
        "number of days, got a list",
    ),
    (
        "range_strategy: pinned",
        "f.yml:1:17: range_strategy: unknown value 'pinned': expected one of auto, pin, bump, widen, lockfile-only "
        "(did you mean 'pin'?)",
    ),
    ("max_open_prs: -1", "f.yml:1:15: max_open_prs: expected a whole number of at least 0, got -1"),
    ("max_open_prs: five", "f.yml:1:15: max_open_prs: expected a whole number, got 'five'"),
    ("max_open_prs: 2.5", "f.yml:1:15: max_open_prs: expected a whole number, got 2.5"),
    ("lockfile_maintenance: 'no'", "f.yml:1:23: lockfile_maintenance: expected true or false, got 'no'"),
    ("split_failing_groups: 1", "f.yml:1:23: split_failing_groups: expected true or false, got 1"),
    ("labels: dependencies", "f.yml:1:9: labels: expected a list, got 'dependencies'"),
    ("labels:\n  - ''", "f.yml:2:5: labels[0]: must not be empty"),
    ("labels: [" + "x" * 51 + "]", "f.yml:1:10: labels[0]: is 51 characters long; the most allowed is 50"),
    (
        "reviewers: ['@alice']",
        "f.yml:1:13: reviewers[0]: expected a GitHub login like 'octocat' or a team like 'my-org/reviewers' (without "
        "'@'), got '@alice'",
    ),
    (
        "assignees: [my-org/team]",
        "f.yml:1:13: assignees[0]: expected a GitHub login like 'octocat' (without '@'), got 'my-org/team'",
    ),
    ("automerge: true", "f.yml:1:12: automerge: expected a mapping of options, got true"),
    ("automerge: {enabled: 1}", "f.yml:1:22: automerge.enabled: expected true or false, got 1"),
    (
        "automerge: {max_risk: none}",
        "f.yml:1:23: automerge.max_risk: unknown value 'none': expected one of low, medium, high",
    ),
    (
        "automerge: {method: rebse}",
        "f.yml:1:21: automerge.method: unknown value 'rebse': expected one of merge, squash, rebase (did you mean "
        "'rebase'?)",
    ),
    ("approvals: {low: -1}", "f.yml:1:18: approvals.low: expected a whole number of at least 0, got -1"),
    ("approvals: {medium: x}", "f.yml:1:21: approvals.medium: expected a whole number, got 'x'"),
    ("approvals: {high: true}", "f.yml:1:19: approvals.high: expected a whole number, got true"),
    (
        "approvals: {allowed: ['a b']}",
        "f.yml:1:23: approvals.allowed[0]: expected a GitHub login like 'octocat' (without '@'), got 'a b'",
    ),
    (
        "commands: {allowed: ['@carol']}",
        "f.yml:1:22: commands.allowed[0]: expected a GitHub login like 'octocat' (without '@'), got '@carol'",
    ),
    ("commands: {who: [carol]}", "f.yml:1:12: commands: unknown option 'who' (the options here are allowed)"),
    (
        "approvals: {critical: 2}",
        "f.yml:1:13: approvals: unknown option 'critical' (the options here are low, medium, high, allowed)",
    ),
    (
        "health_check: {environments: production}",
        "f.yml:1:30: health_check.environments: expected a list, got 'production'",
    ),
    (
        "health_check:\n  urls:\n    - url: ftp://example.org/",
        "f.yml:3:12: health_check.urls[0].url: expected an http:// or https:// URL, got 'ftp://example.org/'",
    ),
    (
        "health_check:\n  urls:\n    - expected_status: 200",
        "f.yml:3:7: health_check.urls[0]: missing required option 'url'",
    ),
    (
        "health_check:\n  urls:\n    - {url: 'https://x', expected_status: 600}",
        "f.yml:3:43: health_check.urls[0].expected_status: expected a whole number from 100 to 599, got 600",
    ),
    (
        "health_check:\n  urls:\n    - {url: 'https://x', body_contains: ''}",
        "f.yml:3:41: health_check.urls[0].body_contains: must not be empty",
    ),
    (
        "health_check:\n  urls:\n    - {url: 'https://x', max_latency_ms: 0}",
        "f.yml:3:42: health_check.urls[0].max_latency_ms: expected a whole number of at least 1, got 0",
    ),
    (
        "health_check:\n  urls:\n    - {url: 'https://x', timeout: 5}",
        "f.yml:3:26: health_check.urls[0]: unknown option 'timeout' (the options here are url, expected_status, "
        "body_contains, max_latency_ms)",
    ),
    ("health_check: {probes: 0}", "f.yml:1:24: health_check.probes: expected a whole number of at least 1, got 0"),
    (
        "health_check: {interval: 0}",
        "f.yml:1:26: health_check.interval: the time between probe rounds must be more than 0",
    ),
    (
        "health_check: {soak: 30 mins please}",
        "f.yml:1:22: health_check.soak: expected a duration like '90m', '72h', '3 days' or '2 weeks', or a whole "
        "number of days, got '30 mins please'",
    ),
    ("rollback: {auto: 'yes!'}", "f.yml:1:18: rollback.auto: expected true or false, got 'yes!'"),
    ("rollback: {auto_merge: null}", "f.yml:1:24: rollback.auto_merge: expected true or false, got nothing"),
    ("rollback: {automerge: true}", "f.yml:1:12: rollback: unknown option 'automerge' (did you mean 'auto_merge'?)"),
    ("migrations: {enabled: 1}", "f.yml:1:23: migrations.enabled: expected true or false, got 1"),
    ("migrations: {allow: django-upgrade}", "f.yml:1:21: migrations.allow: expected a list, got 'django-upgrade'"),
    (
        "migrations:\n  deny: [django-upgrad]",
        "f.yml:2:10: migrations.deny[0]: unknown value 'django-upgrad': expected one of django-upgrade, "
        "bump-pydantic, ruff-numpy2, ruff-pyupgrade, react-18-codemod, react-19-codemod (did you mean "
        "'django-upgrade'?)",
    ),
    (
        "migrations: {only: []}",
        "f.yml:1:14: migrations: unknown option 'only' (the options here are enabled, allow, deny)",
    ),
    ("security: {audit: []}", "f.yml:1:19: security.audit: expected true or false, got a list"),
    ("security:\n  block_new:", "f.yml:2:3: security.block_new: expected true or false, got nothing"),
    (
        "commit_style: semantic",
        "f.yml:1:15: commit_style: unknown value 'semantic': expected one of plain, conventional",
    ),
    (
        "risk: {weights: {Major: 2}}",
        "f.yml:1:18: risk.weights: expected a risk factor id of lowercase letters, digits and underscores as a key, "
        "got 'Major'",
    ),
    ("risk: {weights: {major: 21}}", "f.yml:1:25: risk.weights.major: expected a whole number from -10 to 20, got 21"),
    ("risk: {weights: [major]}", "f.yml:1:17: risk.weights: expected a mapping of options, got a list"),
    ("risk: {medium_at: x}", "f.yml:1:19: risk.medium_at: expected a whole number, got 'x'"),
    ("risk: {high_at: 3}", "f.yml:1:17: risk.high_at: high_at (3) must be greater than medium_at (3)"),
    ("risk: {medium_at: 6}", "f.yml:1:19: risk.medium_at: high_at (6) must be greater than medium_at (6)"),
    ("runtime: {node: 14.21}", "f.yml:1:17: runtime.node: expected text, got 14.21"),
    (
        "runtime: {python: '3'}",
        "f.yml:1:19: runtime.python: expected a Python version like '3.11' or '3.11.4', got '3'",
    ),
    (
        "runtime:\n  python_floor: bump",
        "f.yml:2:17: runtime.python_floor: unknown value 'bump': expected one of keep, raise",
    ),
    (
        "runtime: {python_floor: true}",
        "f.yml:1:25: runtime.python_floor: unknown value true: expected one of keep, raise",
    ),
    (
        "runtime: {ruby: '3.3'}",
        "f.yml:1:11: runtime: unknown option 'ruby' (the options here are python, node, python_floor)",
    ),
    (
        "validation: {required_layers: [units]}",
        "f.yml:1:32: validation.required_layers[0]: unknown value 'units': expected one of unit, integration, e2e, "
        "performance, security, other (did you mean 'unit'?)",
    ),
    (
        "validation: {layers: {units: [x]}}",
        "f.yml:1:23: validation.layers: unknown option 'units' (did you mean 'unit'?)",
    ),
    ("validation: {layers: {unit: x}}", "f.yml:1:29: validation.layers.unit: expected a list, got 'x'"),
    ("validation: {layers: {unit: [1]}}", "f.yml:1:30: validation.layers.unit[0]: expected text, got 1"),
    (
        "validation: {coverage: {max_drop: -1}}",
        "f.yml:1:35: validation.coverage.max_drop: expected a number from 0 to 100, got -1",
    ),
    ("validation: {coverage: {enabled: 1}}", "f.yml:1:34: validation.coverage.enabled: expected true or false, got 1"),
    (
        "validation: {benchmarks: {noise_percent: ten}}",
        "f.yml:1:42: validation.benchmarks.noise_percent: expected a number, got 'ten'",
    ),
    (
        "validation: {benchmarks: {max_regression_percent: -5}}",
        "f.yml:1:51: validation.benchmarks.max_regression_percent: expected a number from 0 to 1000, got -5",
    ),
    (
        "validation: {max_artifact_mb: 0}",
        "f.yml:1:31: validation.max_artifact_mb: expected a whole number from 1 to 500, got 0",
    ),
    (
        "validation: {max_artifacts: 51}",
        "f.yml:1:29: validation.max_artifacts: expected a whole number from 0 to 50, got 51",
    ),
    (
        "validation: {speed: 1}",
        "f.yml:1:14: validation: unknown option 'speed' (the options here are layers, required_layers, coverage, "
        "benchmarks, max_artifact_mb, max_artifacts)",
    ),
]


@pytest.mark.parametrize(("text", "expected"), INVALID, ids=[text[:50] for text, _ in INVALID])
def test_an_invalid_value_is_reported_where_it_is(text: str, expected: str) -> None:
    assert problems(text) == [expected]
    with pytest.raises(ConfigInvalid) as raised:
        load_config(text, F)
    assert [str(problem) for problem in raised.value.problems] == [expected]


SET_ANOTHER = {"enabled": "max_open_prs: 9"}


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Config)])
def test_the_default_applies_when_the_option_is_left_out(name: str) -> None:
    other = "commit_style: conventional" if name != "commit_style" else "max_open_prs: 9"
    built_in = {"phases": default_config().phases, "core_packages": default_config().core_packages}
    expected = built_in.get(name, getattr(Config(), name))
    assert getattr(load_config(other, F), name) == expected


def test_every_option_is_tested() -> None:
    from config.files import schema

    tested = "\n".join(text for text, *_ in [*VALID, *INVALID])
    for name in schema()["properties"]:
        assert f"{name}:" in tested, name
