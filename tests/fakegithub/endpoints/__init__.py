"""REST handlers, one module per API area; each registers itself by operationId in HANDLERS."""

from . import actions, apps, checks, git_data, issues, pulls, repos
from .base import HANDLERS, Ctx, Reply

__all__ = ["HANDLERS", "Ctx", "Reply", "actions", "apps", "checks", "git_data", "issues", "pulls", "repos"]
