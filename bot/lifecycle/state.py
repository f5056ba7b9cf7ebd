"""depup's upgrade state, kept on GitHub (the source of truth) as hidden JSON blocks: one in each depup pull
request's body (what it carries) and one in the dashboard issue's body (ignored versions, merges waiting for
their post-merge CI, branches humans took over, the last valid config). Losing Redis loses none of it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from packaging.utils import canonicalize_name

from bot.plan.render import META_PREFIX
from config.model import IgnoreRule

DASHBOARD_PREFIX = "<!-- depup:dashboard "
DASHBOARD_LABEL = "depup-dashboard"
BRANCH_PREFIX = "depup/"
ROLLBACK_PREFIX = "depup/rollback/"  # revert PRs: depup's, but not part of any plan
MAX_MERGES = 30
_BLOCK = re.compile(r"<!-- depup:(meta|dashboard) (\{.*?\}) -->", re.DOTALL)


@dataclass(frozen=True)
class Carried:
    ecosystem: str
    package: str
    current: str
    target: str
    update_type: str


@dataclass(frozen=True)
class PrMeta:
    plan: str
    phase: str
    group: str
    packages: tuple[Carried, ...]
    approvals: int = 0  # approvals the PR needs before it merges
    automerge: bool = False
    rollback_of: int | None = None  # a revert PR: the PR whose upgrade it reverts


def parse_pr_meta(body: str | None) -> PrMeta | None:
    data = _block(body, "meta")
    if data is None:
        return None
    try:
        packages = tuple(
            Carried(str(p["ecosystem"]), str(p["package"]), str(p["from"]), str(p["to"]), str(p.get("type", "")))
            for p in data.get("packages", [])
        )
        return PrMeta(
            str(data["plan"]),
            str(data["phase"]),
            str(data["group"]),
            packages,
            int(data.get("approvals", 0)),
            bool(data.get("automerge", False)),
            int(data["rollback_of"]) if data.get("rollback_of") is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class IgnoredVersion:
    ecosystem: str
    package: str
    version: str
    reason: str


@dataclass(frozen=True)
class Merge:
    pr: int
    sha: str
    phase: str
    ci: str = "pending"  # pending | success | failure
    at: str | None = None  # ISO time of the merge
    packages: tuple[str, ...] = ()  # the packages it upgraded
    health: str = ""  # "" (no deployment seen) | soaking | healthy | failing | rolled_back
    deployment: int | None = None  # the deployment whose health decides it
    revert_of: int | None = None  # this merge is depup's revert of that PR
    reverted_by: int | None = None  # depup's revert PR of this merge

    @property
    def settled(self) -> bool:
        """Rolled back: its revert (a merge of its own) is what the gate waits for now."""
        return self.health == "rolled_back"


@dataclass(frozen=True)
class Split:
    """A group whose CI failed, split to find the package that breaks it: the package sets of its parts."""

    key: str  # the group's plan key
    origin: int  # the pull request that failed first
    rounds: int  # splits made so far
    parts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Pause:
    """``/depup pause``: the repository's emergency switch."""

    by: str
    at: str  # ISO time
    comment: str = ""  # the URL of the comment that paused depup


@dataclass(frozen=True)
class Ignore:
    """``/depup ignore <package> [major|minor|<version>]``: ``what`` is "" (every update), "major", "minor" or
    a version (range) in the ecosystem's syntax."""

    package: str
    ecosystem: str  # "" for every ecosystem
    what: str
    by: str
    at: str

    def rules(self) -> tuple[IgnoreRule, ...]:
        reason = f"/depup ignore by @{self.by}"
        ecosystems: Any = (self.ecosystem,) if self.ecosystem else ()
        if self.what in ("", "major", "minor"):
            kinds: Any = {"": (), "major": ("major",), "minor": ("major", "minor")}[self.what]
            return (IgnoreRule(packages=(self.package,), update_types=kinds, ecosystems=ecosystems, reason=reason),)
        rules = []
        for ecosystem in ecosystems or ("python", "npm"):
            version = f"=={self.what}" if ecosystem == "python" and self.what[0] not in "<>=!~" else self.what
            rules.append(
                IgnoreRule(packages=(self.package,), versions=(version,), ecosystems=(ecosystem,), reason=reason)
            )
        return tuple(rules)

    def describe(self) -> str:
        scope = {"": "any update", "major": "major updates", "minor": "minor and major updates"}
        return scope.get(self.what, f"version {self.what}")


@dataclass(frozen=True)
class DashboardState:
    ignored: tuple[IgnoredVersion, ...] = ()
    merges: tuple[Merge, ...] = ()
    hands_off: tuple[str, ...] = ()  # branches someone else pushed to
    config_blob: str | None = None  # the blob of the last valid .github/depup.yml
    splits: tuple[Split, ...] = ()
    closed_by_depup: tuple[int, ...] = ()  # PRs depup closed itself (split, obsolete): not a maintainer's "no"
    paused: Pause | None = None
    ignores: tuple[Ignore, ...] = ()  # /depup ignore
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they are

    def ignore_rules(self) -> tuple[IgnoreRule, ...]:
        return tuple(r for i in self.ignores for r in i.rules()) + tuple(
            IgnoreRule(
                packages=(i.package,),
                versions=(f"=={i.version}" if i.ecosystem == "python" else i.version,),
                ecosystems=(i.ecosystem,),  # type: ignore[arg-type]
                reason=i.reason,
            )
            for i in self.ignored
        )

    def with_ignored(self, *versions: IgnoredVersion) -> DashboardState:
        known = {(i.ecosystem, i.package, i.version) for i in self.ignored}
        new = [v for v in versions if (v.ecosystem, v.package, v.version) not in known]
        return replace(self, ignored=(*self.ignored, *new)) if new else self

    def without_package(self, package: str) -> tuple[DashboardState, int]:
        """The state without any ignore of ``package`` (``/depup ignore`` and rejected versions), and how many
        entries that lifted."""
        ignores = tuple(i for i in self.ignores if not same_package(i.ecosystem, i.package, package))
        ignored = tuple(i for i in self.ignored if not same_package(i.ecosystem, i.package, package))
        lifted = len(self.ignores) - len(ignores) + len(self.ignored) - len(ignored)
        return replace(self, ignores=ignores, ignored=ignored), lifted

    def split_map(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        return {s.key: s.parts for s in self.splits}

    def closed(self, number: int) -> DashboardState:
        return replace(self, closed_by_depup=(*self.closed_by_depup, number)[-200:])

    def with_merge(self, merge: Merge) -> DashboardState:
        if any(m.pr == merge.pr for m in self.merges):
            return self
        return replace(self, merges=(*self.merges, merge)[-MAX_MERGES:])

    def merge_of(self, pr: int) -> Merge | None:
        return next((m for m in self.merges if m.pr == pr), None)

    def with_merges(self, *changed: Merge) -> DashboardState:
        """The state with those merges (matched by PR number) replaced."""
        by_pr = {m.pr: m for m in changed}
        return replace(self, merges=tuple(by_pr.get(m.pr, m) for m in self.merges))

    def to_json(self) -> dict[str, Any]:
        data = {**self.extra, **asdict(self)}
        data.pop("extra")
        return data

    @classmethod
    def from_body(cls, body: str | None) -> DashboardState:
        data = _block(body, "dashboard") or {}
        known = {"ignored", "merges", "hands_off", "config_blob", "splits", "closed_by_depup", "paused", "ignores"}
        paused = data.get("paused")
        try:
            return cls(
                ignored=tuple(IgnoredVersion(**i) for i in data.get("ignored", [])),
                merges=tuple(Merge(**{**m, "packages": tuple(m.get("packages", ()))}) for m in data.get("merges", [])),
                hands_off=tuple(str(b) for b in data.get("hands_off", [])),
                config_blob=data.get("config_blob"),
                splits=tuple(
                    Split(str(x["key"]), int(x["origin"]), int(x["rounds"]), tuple(tuple(p) for p in x["parts"]))
                    for x in data.get("splits", [])
                ),
                closed_by_depup=tuple(int(n) for n in data.get("closed_by_depup", [])),
                paused=Pause(**paused) if isinstance(paused, dict) else None,
                ignores=tuple(Ignore(**i) for i in data.get("ignores", [])),
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (TypeError, ValueError, KeyError):
            return cls()

    def block(self) -> str:
        return DASHBOARD_PREFIX + _dump(self.to_json()) + " -->"


def same_package(ecosystem: str, a: str, b: str) -> bool:
    """Whether two spellings name the same package: PEP 503 names for Python (``Django``, ``typing_extensions``),
    lower case for npm; ``ecosystem`` "" matches either way."""
    if ecosystem in ("python", "") and canonicalize_name(a) == canonicalize_name(b):
        return True
    return a.lower() == b.lower()


def _dump(data: object) -> str:
    # "--" cannot appear inside an HTML comment: escape it the way JSON allows.
    return json.dumps(data, separators=(",", ":"), sort_keys=True).replace("--", "-\\u002d")


def _block(body: str | None, kind: str) -> dict[str, Any] | None:
    for match in _BLOCK.finditer(body or ""):
        if match.group(1) == kind:
            try:
                data = json.loads(match.group(2))
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


__all__ = [
    "BRANCH_PREFIX",
    "DASHBOARD_LABEL",
    "META_PREFIX",
    "ROLLBACK_PREFIX",
    "Carried",
    "DashboardState",
    "Ignore",
    "IgnoredVersion",
    "Merge",
    "Pause",
    "PrMeta",
    "Split",
    "parse_pr_meta",
    "same_package",
]
