"""The repository configuration as typed, frozen values: what the loader produces and every service reads.

The loader (``config.loader``) validates a repository's ``.github/depup.yml`` against ``config/schema.json``,
merges it over ``config/defaults.yml`` and builds a ``Config``. Nothing here reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

RiskLevel = Literal["low", "medium", "high"]
RISK_LEVELS: tuple[RiskLevel, ...] = ("low", "medium", "high")
UpdateKind = Literal["major", "minor", "patch", "lockfile"]  # "lockfile": lockfile maintenance
DependencyType = Literal["runtime", "dev", "build", "peer", "optional"]
EcosystemName = Literal["python", "npm"]
RangeStrategy = Literal["auto", "pin", "bump", "widen", "lockfile-only"]
MergeMethod = Literal["merge", "squash", "rebase"]
CommitStyle = Literal["plain", "conventional"]
PythonFloor = Literal["keep", "raise"]


@dataclass(frozen=True)
class Match:
    """Which updates a phase, group or rule applies to. An empty tuple (or None) means "any"; all given
    conditions must hold. ``packages`` are globs on the package name; a glob starting with ``!`` excludes."""

    ecosystems: tuple[EcosystemName, ...] = ()
    dependency_types: tuple[DependencyType, ...] = ()
    update_types: tuple[UpdateKind, ...] = ()
    packages: tuple[str, ...] = ()
    risk: tuple[RiskLevel, ...] = ()
    core: bool | None = None


@dataclass(frozen=True)
class Phase:
    name: str  # a slug, unique among phases: used in branch names and commands
    title: str
    match: Match
    approvals: int = 0  # approvals needed for every PR of the phase, at least (risk may ask for more)
    automerge: bool | None = None  # None: as ``automerge.enabled`` says


@dataclass(frozen=True)
class Group:
    """Updates matching ``match`` within one phase go into one pull request named after the group."""

    name: str
    match: Match


@dataclass(frozen=True)
class IgnoreRule:
    """Updates this rule matches are not proposed. ``versions`` are version ranges in the ecosystem's syntax
    (PEP 440 specifiers for Python, npm ranges for npm) that the target version must fall in; empty: any."""

    packages: tuple[str, ...]
    versions: tuple[str, ...] = ()
    update_types: tuple[UpdateKind, ...] = ()
    ecosystems: tuple[EcosystemName, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class Schedule:
    cron: str = "0 5 * * 1"  # five-field cron expression
    timezone: str = "UTC"  # IANA time zone name


@dataclass(frozen=True)
class CorePackages:
    """The effective core-framework lists: built-in defaults plus the repository's additions, minus its
    ``!name`` removals. Entries are globs on package names."""

    python: tuple[str, ...] = ()
    npm: tuple[str, ...] = ()


@dataclass(frozen=True)
class Approvals:
    low: int = 0
    medium: int = 0
    high: int = 1
    allowed: tuple[str, ...] = ()  # logins that may approve besides users with write access

    def required(self, level: RiskLevel) -> int:
        return {"low": self.low, "medium": self.medium, "high": self.high}[level]


@dataclass(frozen=True)
class Commands:
    allowed: tuple[str, ...] = ()  # logins that may run every command besides users with write access


@dataclass(frozen=True)
class Automerge:
    enabled: bool = False
    max_risk: RiskLevel = "low"
    method: MergeMethod = "squash"


@dataclass(frozen=True)
class HealthUrl:
    url: str
    expected_status: int = 200
    body_contains: str | None = None
    max_latency_ms: int | None = None


@dataclass(frozen=True)
class BaselineCheck:
    """Judging a deploy against the version it replaces (docs/health.md, "Against a baseline")."""

    enabled: bool = True
    samples: int = 30  # probes per URL before the deploy; the deploy is judged once it has as many
    per_round: int = 10  # probes per URL in each soak round
    spacing_ms: int = 100  # between two probes of one URL in a burst
    min_samples: int = 20  # per side: fewer and a metric is not judged
    significance: float = 0.01  # of the whole comparison: each of K metrics is tested at significance / K
    tolerance: float = 1.5  # a slowdown or error-rate increase smaller than this ratio is never a regression
    min_requests: int = 200  # per side, for Prometheus error rates
    min_slowdown_ms: int = 10  # a probe latency regression is also at least this much slower (median or p95)


PrometheusKind = Literal["latency", "error_rate"]


@dataclass(frozen=True)
class PrometheusQuery:
    name: str
    kind: PrometheusKind
    query: str  # latency: the value to compare; error_rate: the count of failed requests in $window
    total: str | None = None  # error_rate: the count of all requests in $window


@dataclass(frozen=True)
class Prometheus:
    url: str
    queries: tuple[PrometheusQuery, ...]
    auth: str | None = None  # the name of the operator's secret DEPUP_PROMETHEUS_AUTH_<NAME>
    window: timedelta = timedelta(minutes=10)  # the baseline: this long before the deploy
    step: timedelta = timedelta(seconds=30)  # latency series: one value every step


@dataclass(frozen=True)
class HealthCheck:
    environments: tuple[str, ...] = ("production",)
    urls: tuple[HealthUrl, ...] = ()
    probes: int = 5  # probe rounds during the soak window
    interval: timedelta = timedelta(minutes=2)
    soak: timedelta = timedelta(minutes=30)
    baseline: BaselineCheck = field(default_factory=BaselineCheck)
    prometheus: Prometheus | None = None

    @property
    def watched(self) -> bool:
        """Whether a successful deployment is soaked (probed, or measured against its baseline) before it is
        healthy, and so whether the next phase waits for that."""
        return bool(self.urls) or (self.prometheus is not None and self.baseline.enabled)


@dataclass(frozen=True)
class Rollback:
    auto: bool = True
    auto_merge: bool = False


@dataclass(frozen=True)
class Migrations:
    """Which allow-listed code rewriters may add a migration commit to upgrade PRs (``bot.migrate.rewriters``)."""

    enabled: bool = True
    allow: tuple[str, ...] = ()  # empty: every rewriter
    deny: tuple[str, ...] = ()

    def allows(self, rewriter: str) -> bool:
        return self.enabled and (not self.allow or rewriter in self.allow) and rewriter not in self.deny


@dataclass(frozen=True)
class Security:
    audit: bool = True
    block_new: bool = True


@dataclass(frozen=True)
class RiskSettings:
    weights: tuple[tuple[str, int], ...] = ()  # overrides of the risk model's default weights, by factor id
    medium_at: int = 3  # a score at or above this is medium risk
    high_at: int = 6  # a score at or above this is high risk

    def weight(self, factor: str, default: int) -> int:
        return dict(self.weights).get(factor, default)


TestLayer = Literal["unit", "integration", "e2e", "performance", "security", "other"]


@dataclass(frozen=True)
class CoverageGate:
    enabled: bool = True  # read coverage reports and coverage statuses
    max_drop: float | None = 1.0  # percentage points the head may lose against the base; None: report only


@dataclass(frozen=True)
class BenchmarkGate:
    enabled: bool = True  # read benchmark results
    noise_percent: float = 10.0  # the noise band of results without spread, and the narrowest band of any
    max_regression_percent: float = 20.0  # a regression beyond the noise and larger than this blocks automerge


@dataclass(frozen=True)
class Validation:
    """How a pull request's CI is judged beyond green or red: test layers, coverage and benchmarks."""

    layers: tuple[tuple[str, tuple[str, ...]], ...] = ()  # layer -> name patterns, replacing the built-in ones
    required_layers: tuple[TestLayer, ...] = ()  # layers automerge needs: present and passing
    coverage: CoverageGate = field(default_factory=CoverageGate)
    benchmarks: BenchmarkGate = field(default_factory=BenchmarkGate)
    max_artifact_mb: int = 20  # artifacts larger than this are not downloaded
    max_artifacts: int = 10  # artifacts read per commit, at most


@dataclass(frozen=True)
class Runtime:
    """The runtime versions the project runs on (``runtime``), None where the project's files decide."""

    python: str | None = None
    node: str | None = None
    python_floor: PythonFloor = "keep"  # "raise": propose raising requires-python when it alone holds updates back


@dataclass(frozen=True)
class Config:
    enabled: bool = True
    schedule: Schedule = field(default_factory=Schedule)
    ecosystems: tuple[EcosystemName, ...] = ("python", "npm")
    directories: tuple[str, ...] = ("**",)  # path globs of the directories whose manifests are managed
    ignore_paths: tuple[str, ...] = ()  # path globs never scanned (on top of node_modules, .venv, ...)
    phases: tuple[Phase, ...] = ()
    core_packages: CorePackages = field(default_factory=CorePackages)
    groups: tuple[Group, ...] = ()
    ignore: tuple[IgnoreRule, ...] = ()
    runtime: Runtime = field(default_factory=Runtime)
    min_release_age: timedelta = timedelta(days=3)
    range_strategy: RangeStrategy = "auto"
    max_open_prs: int = 5
    lockfile_maintenance: bool = True
    split_failing_groups: bool = True
    labels: tuple[str, ...] = ("dependencies",)
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    automerge: Automerge = field(default_factory=Automerge)
    approvals: Approvals = field(default_factory=Approvals)
    commands: Commands = field(default_factory=Commands)
    health_check: HealthCheck = field(default_factory=HealthCheck)
    rollback: Rollback = field(default_factory=Rollback)
    migrations: Migrations = field(default_factory=Migrations)
    security: Security = field(default_factory=Security)
    commit_style: CommitStyle = "plain"
    risk: RiskSettings = field(default_factory=RiskSettings)
    validation: Validation = field(default_factory=Validation)


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake in a configuration file, with where it is and what was expected."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: str  # the option, e.g. "phases[1].match.update_types[0]"; "" for the file as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"
