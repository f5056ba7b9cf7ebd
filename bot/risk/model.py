"""Values of the risk model: the facts known about one proposed update, and the assessment made from them.

A fact that could not be established is ``None`` ("unknown"), never a guess: the assessment then shows the
factor as unknown with weight 0, so a maintainer sees what depup did not check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.breaking.model import Breakage
from config.model import RiskLevel


@dataclass(frozen=True)
class Vulnerability:
    id: str  # the advisory id (PYSEC-, GHSA-, CVE-, OSV ids)
    aliases: tuple[str, ...] = ()
    summary: str | None = None
    fixed_in: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True)
class Imports:
    """How much of the repository's code imports the package."""

    files: int  # source files that import it
    scanned: int  # source files of its ecosystem that were read
    modules: tuple[str, ...]  # the module names looked for (Python: import names; npm: the package name)


@dataclass(frozen=True)
class BreakingNotes:
    """What the release notes between the two versions say about breaking changes."""

    source: str  # where the notes were read (a URL or file)
    versions: int  # release sections read between current (exclusive) and target (inclusive)
    markers: tuple[str, ...]  # excerpts of lines with a breaking-change marker, at most a few


@dataclass(frozen=True)
class UpdateFacts:
    """Everything the risk model reads about one update of one package (possibly in several manifests)."""

    ecosystem: str  # "python" | "npm"
    package: str
    role: str  # the riskiest role among the dependencies updated: runtime > peer > build > optional > dev
    current: str
    target: str
    update_type: str  # "major" | "minor" | "patch" | "lockfile"
    majors_crossed: int  # release lines crossed (0.x minors count as lines); 0 for minor/patch
    releases_skipped: int | None  # stable releases strictly between current and target
    zero_x: bool  # current or target is a 0.x version (0.0.x included)
    core: bool  # on the core-framework list
    now: datetime
    target_published: datetime | None = None
    target_prerelease: bool = False
    target_yanked: str | None = None  # the yank reason ("yanked" when none given)
    target_deprecated: str | None = None
    current_yanked: str | None = None
    current_deprecated: str | None = None
    runtime_dropped: tuple[str, ...] | None = None  # runtime versions (Python/Node) current supports, target not
    runtime_floor: str | None = None  # the target's requires-python / engines.node, for the explanation
    peer_conflicts: tuple[str, ...] | None = None  # None: not checked (not npm, or peers unknown)
    vulnerabilities_fixed: tuple[Vulnerability, ...] | None = None  # None: not audited
    vulnerabilities_in_target: tuple[Vulnerability, ...] | None = None
    breaking_notes: BreakingNotes | None = None  # None: no release notes available
    imports: Imports | None = None  # None: code not available
    # The API diff and the repository's uses of what it removes or changes; None: not asked for this update (only
    # majors, 0.x minors and minors of core packages are analysed), else ``breakage.diff.analysed`` says whether.
    breakage: Breakage | None = None


@dataclass(frozen=True)
class Factor:
    id: str  # stable id, the key for ``risk.weights`` in the config
    weight: int  # points added to the score (0 for informational and unknown factors)
    reason: str  # one line a maintainer can check
    known: bool = True  # False: the fact could not be established


@dataclass(frozen=True)
class Assessment:
    score: int
    level: RiskLevel
    factors: tuple[Factor, ...]  # every factor considered, heaviest first, then unknowns
    security: bool = False  # fixes a known vulnerability: raises priority, not risk
    blocked: bool = False  # CI failed on the pull request that carries it

    def top_reasons(self, n: int = 3) -> tuple[str, ...]:
        return tuple(f.reason for f in self.factors if f.known and f.weight > 0)[:n]
