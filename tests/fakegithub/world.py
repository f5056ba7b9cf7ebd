"""World: all of the fake's state and every operation that changes it.

Both the REST handlers (endpoints/) and the test-side methods of FakeGitHub call these operations, so a
change has the same effects and emits the same webhooks whichever side made it. Callers hold
``world.lock`` (an RLock); webhooks are only queued here (payloads are built at once and sent later by
webhooks.Deliverer).

- world_core.py: users, apps, installations, tokens, rate-limit buckets, repositories, refs, trees;
- world_pulls.py: pull requests, mergeability, merges (merge, squash, rebase), the Merges API;
- world_issues.py: issues, labels, comments, reactions;
- world_checks.py: check runs and suites, commit statuses, deployments; workflow runs and their artifacts.
"""

from __future__ import annotations

from .world_checks import ActionsMixin
from .world_core import OutgoingEvent, WorldCore
from .world_issues import IssuesMixin
from .world_pulls import MergeOutcome, PullsMixin

__all__ = ["MergeOutcome", "OutgoingEvent", "World", "WorldCore"]


class World(PullsMixin, IssuesMixin, ActionsMixin):
    """The whole fake GitHub state."""
