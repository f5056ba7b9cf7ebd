"""Authentication and authorization like GitHub's for a GitHub App.

- /app, /app/installations, /app/installations/{id}/access_tokens: ``Bearer <JWT>`` signed RS256 by a
  registered app (iss = app id, exp in the future, exp - iat <= 10 min + 1 min of drift).
- everything else: ``token <t>`` or ``Bearer <t>`` with an unexpired installation token whose
  installation (and token scope) includes the repository, and the permission the operation needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from .state import ApiError, App, Repo, Token
from .world import World

APP_OPERATIONS = {
    "apps/get-authenticated",
    "apps/list-installations",
    "apps/create-installation-access-token",
}
ANONYMOUS_OK = {"rate-limit/get"}
JWT_ERROR = "A JSON web token could not be decoded"
LEVELS = {"read": 1, "write": 2, "admin": 3}

# operationId -> acceptable (permission, level) alternatives
PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "apps/list-repos-accessible-to-installation": (("metadata", "read"),),
    "repos/get": (("metadata", "read"),),
    "repos/get-collaborator-permission-level": (("metadata", "read"),),
    "repos/get-content": (("contents", "read"),),
    "repos/create-or-update-file-contents": (("contents", "write"),),
    "repos/get-commit": (("contents", "read"),),
    "repos/compare-commits-with-basehead": (("contents", "read"),),
    "repos/merge": (("contents", "write"),),
    "git/get-ref": (("contents", "read"),),
    "git/get-tree": (("contents", "read"),),
    "git/get-commit": (("contents", "read"),),
    "git/get-blob": (("contents", "read"),),
    "git/create-ref": (("contents", "write"),),
    "git/update-ref": (("contents", "write"),),
    "git/delete-ref": (("contents", "write"),),
    "git/create-blob": (("contents", "write"),),
    "git/create-tree": (("contents", "write"),),
    "git/create-commit": (("contents", "write"),),
    "checks/list-for-ref": (("checks", "read"),),
    "actions/list-workflow-runs-for-repo": (("actions", "read"),),
    "actions/list-workflow-run-artifacts": (("actions", "read"),),
    "actions/download-artifact": (("actions", "read"),),
    "checks/create": (("checks", "write"),),
    "checks/update": (("checks", "write"),),
    "repos/get-combined-status-for-ref": (("statuses", "read"),),
    "repos/create-commit-status": (("statuses", "write"),),
    "pulls/list": (("pull_requests", "read"),),
    "pulls/get": (("pull_requests", "read"),),
    "pulls/list-files": (("pull_requests", "read"),),
    "pulls/list-commits": (("pull_requests", "read"),),
    "pulls/create": (("pull_requests", "write"),),
    "pulls/update": (("pull_requests", "write"),),
    "pulls/merge": (("contents", "write"),),
    "pulls/request-reviewers": (("pull_requests", "write"),),
    "issues/get": (("issues", "read"), ("pull_requests", "read")),
    "issues/list-for-repo": (("issues", "read"),),
    "issues/list-comments": (("issues", "read"), ("pull_requests", "read")),
    "issues/create": (("issues", "write"),),
    "issues/update": (("issues", "write"), ("pull_requests", "write")),
    "issues/create-comment": (("issues", "write"), ("pull_requests", "write")),
    "issues/update-comment": (("issues", "write"), ("pull_requests", "write")),
    "issues/add-labels": (("issues", "write"), ("pull_requests", "write")),
    "issues/remove-label": (("issues", "write"), ("pull_requests", "write")),
    "issues/create-label": (("issues", "write"), ("pull_requests", "write")),
    "reactions/create-for-issue": (("issues", "write"), ("pull_requests", "write")),
    "reactions/create-for-issue-comment": (("issues", "write"), ("pull_requests", "write")),
    "repos/list-deployments": (("deployments", "read"),),
    "repos/list-deployment-statuses": (("deployments", "read"),),
    "repos/create-deployment": (("deployments", "write"),),
}


@dataclass
class Identity:
    kind: str  # app | installation | anonymous
    app: App | None = None
    token: Token | None = None

    @property
    def installation_id(self) -> int | None:
        return self.token.installation.id if self.token else None


def _credential(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not value.strip():
        return ""
    return value.strip()


def verify_jwt(world: World, token: str) -> App:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise ApiError(401, JWT_ERROR) from None
    if header.get("alg") != "RS256":
        raise ApiError(401, JWT_ERROR)
    app = world.apps.get(int(claims["iss"])) if str(claims.get("iss", "")).isdigit() else None
    if app is None:
        raise ApiError(401, JWT_ERROR)
    try:
        verified = jwt.decode(
            token, app.public_key_pem, algorithms=["RS256"], options={"require": ["exp", "iat", "iss"]}, leeway=0
        )
    except jwt.PyJWTError:
        raise ApiError(401, JWT_ERROR) from None
    now = time.time() + world.time_offset.total_seconds()
    exp, iat = verified["exp"], verified["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise ApiError(401, JWT_ERROR)
    if exp <= now or exp - iat > 600 + 60 or iat > now + 60:
        raise ApiError(401, JWT_ERROR)
    return app


PUBLIC_READS = frozenset({"repos/get", "repos/get-content"})


def authenticate(world: World, header: str | None) -> Identity:
    credential = _credential(header)
    if credential is None:
        return Identity("anonymous")
    if credential.startswith(("ghs_", "ghu_", "ghp_", "gho_")) or credential.count(".") != 2:
        token = world.tokens.get(credential)
        if token is None or token.revoked or token.installation.deleted or token.expires_at <= world.now():
            raise ApiError(401, "Bad credentials")
        return Identity("installation", app=token.installation.app, token=token)
    return Identity("app", app=verify_jwt(world, credential))


def authorize(world: World, identity: Identity, operation_id: str, repo: Repo | None, has_repo_params: bool) -> None:
    """Raise the ApiError GitHub would answer, if any."""
    if operation_id in APP_OPERATIONS:
        if identity.kind != "app":
            raise ApiError(401, JWT_ERROR)
        return
    if operation_id in ANONYMOUS_OK:
        return
    if identity.kind == "anonymous":
        if repo is not None and not repo.private and operation_id in PUBLIC_READS:
            return
        raise ApiError(401, "Requires authentication")
    if identity.kind == "app" or identity.token is None:
        raise ApiError(401, "Bad credentials")
    if repo is not None and not repo.private and operation_id in PUBLIC_READS:
        return  # like GitHub, any installation token can read public repositories
    if has_repo_params and (repo is None or not world.token_can_see(identity.token, repo)):
        raise ApiError(404, "Not Found")
    needs = PERMISSIONS.get(operation_id, ())
    granted = identity.token.permissions
    if needs and not any(LEVELS.get(granted.get(name, ""), 0) >= LEVELS[level] for name, level in needs):
        raise ApiError(403, "Resource not accessible by integration")
