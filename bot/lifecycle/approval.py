"""The approval gate: a ``depup/approval`` check run on the head commit of every depup pull request that needs
approvals. It stays in progress until enough distinct people said ``/depup approve``, then succeeds.

Approvals belong to a commit: they are kept in the check run of the PR's head (its output carries them as a
hidden JSON block), so a new commit starts with none, and losing Redis loses none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.github.client import InstallationClient, json_body
from bot.repos.registry import RepoRecord

CHECK = "depup/approval"
_BLOCK = re.compile(r"<!-- depup:approvals (\{.*?\}) -->", re.DOTALL)


@dataclass(frozen=True)
class Approval:
    head: str
    needed: int
    by: tuple[str, ...]  # logins, in the order they approved
    check_id: int | None = None
    completed: bool = False  # the check run is completed (GitHub does not take a completed run back)

    @property
    def met(self) -> bool:
        return len(self.by) >= self.needed

    @property
    def missing(self) -> int:
        return max(self.needed - len(self.by), 0)

    def has(self, login: str) -> bool:
        return login.lower() in (b.lower() for b in self.by)

    def describe(self) -> str:
        given = f"{len(self.by)} of {self.needed} approval{'s' if self.needed != 1 else ''}"
        names = ", ".join(f"@{b}" for b in self.by)
        return f"{given} ({names})" if names else given


def read(gh: InstallationClient, record: RepoRecord, head: str) -> Approval | None:
    """The approval state of ``head``; None when depup has not put the check on it."""
    runs: dict[str, Any] = json_body(
        gh.rest.checks.list_for_ref(record.owner, record.name, head, check_name=CHECK, per_page=100)
    )
    mine = [r for r in runs.get("check_runs", []) if r.get("name") == CHECK]
    if not mine:
        return None
    run = max(mine, key=lambda r: int(r.get("id", 0)))
    output = run.get("output") or {}
    match = _BLOCK.search(str(output.get("text") or ""))
    data: dict[str, Any] = {}
    if match:
        try:
            data = json.loads(match.group(1))
        except ValueError:
            data = {}
    by = tuple(str(b) for b in data.get("by", []) if isinstance(b, str))
    needed = data.get("needed")
    count = int(needed) if isinstance(needed, int) else 1
    return Approval(head, count, by, int(run["id"]), run.get("status") == "completed")


def ensure(gh: InstallationClient, record: RepoRecord, head: str, needed: int) -> Approval | None:
    """Put the check on ``head`` of a PR that needs ``needed`` approvals (kept up to date when that number
    changes); nothing for a PR that needs none."""
    current = read(gh, record, head)
    if needed <= 0 and current is None:
        return None
    if current is not None and current.needed == needed:
        return current
    if current is None:
        return write(gh, record, Approval(head, needed, ()))
    return write(gh, record, Approval(head, needed, current.by, current.check_id, current.completed))


def write(gh: InstallationClient, record: RepoRecord, approval: Approval) -> Approval:
    if approval.met:
        title = "Approved" if approval.needed else "No approval needed"
        summary = f"{approval.describe()}: this upgrade may be merged once CI is green."
    else:
        title = f"Waiting for {approval.missing} more approval{'s' if approval.missing != 1 else ''}"
        summary = (
            f"{approval.describe()}. Someone with write access comments `/depup approve` on the pull request; "
            "a new commit on it resets the approvals."
        )
    data = json.dumps({"by": list(approval.by), "needed": approval.needed}, separators=(",", ":"))
    output: Any = {"title": title, "summary": summary, "text": f"<!-- depup:approvals {data} -->"}
    status: Any = {"status": "completed", "conclusion": "success"} if approval.met else {"status": "in_progress"}
    if approval.check_id is None or (approval.completed and not approval.met):
        owner, name = record.owner, record.name
        run = json_body(gh.rest.checks.create(owner, name, name=CHECK, head_sha=approval.head, output=output, **status))
        return Approval(approval.head, approval.needed, approval.by, int(run["id"]), approval.met)
    gh.rest.checks.update(record.owner, record.name, approval.check_id, output=output, **status)
    return Approval(approval.head, approval.needed, approval.by, approval.check_id, approval.met)
