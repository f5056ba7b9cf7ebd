"""WorldCore: the fake's state (users, apps, installations, tokens, repositories, refs) and the operations
on it that everything else builds on. World (world.py) adds pull requests, issues and checks as mixins.

Both the REST handlers (endpoints/) and the test-side methods of FakeGitHub call these operations, so a
change has the same effects and emits the same webhooks whichever side made it. Callers hold
``world.lock`` (an RLock); webhooks are only queued here (payloads built at once, sent later by
webhooks.Deliverer).
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from . import keys, payloads
from .git import GitError, ObjectStore, Signature, TreeEntry
from .state import (
    ApiError,
    App,
    Installation,
    Issue,
    Pull,
    RateBucket,
    Repo,
    Token,
    User,
    validation_failed,
)

if TYPE_CHECKING:
    from .world import World
    from .world_pulls import _Mergeability

ZERO_SHA = "0" * 40
DEFAULT_PERMISSIONS = {
    "metadata": "read",
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
    "statuses": "write",
    "deployments": "read",
    "actions": "read",
}
DEFAULT_EVENTS = [
    "check_run",
    "check_suite",
    "deployment",
    "deployment_status",
    "issue_comment",
    "pull_request",
    "push",
    "status",
]

# Installation ids are unique per process: githubkit's default token cache is process-wide and keyed by
# (app id, installation id), so a second fake must not reuse an id a client already holds a token for.
_INSTALLATION_IDS = itertools.count(30_000_000 + secrets.randbelow(1_000_000) * 10)


@dataclass
class OutgoingEvent:
    event: str
    action: str | None
    payload: dict[str, Any]
    installation: Installation | None


class WorldCore:
    def __init__(self, *, web_url: str = "http://github.localhost") -> None:
        self.lock = threading.RLock()
        self.api_url = "http://127.0.0.1:0"
        self.web_url = web_url.rstrip("/")
        self.time_offset = timedelta()
        self.users: dict[str, User] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self.buckets: dict[str, RateBucket] = {}
        self.mergeability_lag = 0
        self.sink: Callable[[OutgoingEvent], None] | None = None
        self._ids = itertools.count(1_000_001)
        self._merge_cache: dict[tuple[int, str, str], _Mergeability] = {}
        self.foreign_apps: list[App] = []
        self.web_flow = self.add_user("web-flow")
        self.github_org = self.add_user("github", type="Organization")

    # -- basics ---------------------------------------------------------------------------------
    @property
    def w(self) -> World:
        """This object as the whole World (for the payload builders and the other mixins)."""
        return cast("World", self)

    @property
    def web_host(self) -> str:
        return self.web_url.split("://", 1)[-1].split("/", 1)[0]

    def now(self) -> datetime:
        return (datetime.now(UTC) + self.time_offset).replace(microsecond=0)

    def next_id(self) -> int:
        return next(self._ids)

    @property
    def app(self) -> App:
        """The app under test (the first registered)."""
        if not self.apps:
            raise RuntimeError("register_app() first")
        return next(iter(self.apps.values()))

    def emit(self, event: str, action: str | None, payload: dict[str, Any], inst: Installation | None) -> None:
        if self.sink is not None:
            self.sink(OutgoingEvent(event, action, payload, inst))

    # -- users ----------------------------------------------------------------------------------
    def add_user(self, login: str, type: str = "User", name: str | None = None, email: str | None = None) -> User:
        key = login.lower()
        if key in self.users:
            user = self.users[key]
            user.type = type
            return user
        if type not in ("User", "Organization", "Bot"):
            raise ValueError(f"unknown user type {type!r}")
        user = User(login, self.next_id(), type, self.now(), name, email)
        self.users[key] = user
        return user

    def user(self, login: str, *, create_as: str | None = "User") -> User:
        found = self.users.get(login.lower())
        if found is not None:
            return found
        if create_as is None:
            raise KeyError(login)
        return self.add_user(login, type="Bot" if login.endswith("[bot]") else create_as)

    def find_user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    def user_for_email(self, email: str) -> User | None:
        if email == "noreply@github.com":
            return self.web_flow
        for user in self.users.values():
            if email in (user.email, user.noreply_email):
                return user
        return None

    def signature(self, user: User, when: datetime | None = None) -> Signature:
        when = when or self.now()
        return Signature(user.name or user.login, user.email or user.noreply_email, int(when.timestamp()))

    def web_signature(self) -> Signature:
        return Signature("GitHub", "noreply@github.com", int(self.now().timestamp()))

    # -- apps, installations, tokens ---------------------------------------------------------------
    def register_app(
        self,
        app_id: int,
        slug: str,
        name: str,
        owner: str | None = None,
        permissions: Mapping[str, str] | None = None,
        events: Iterable[str] | None = None,
    ) -> App:
        owner_user = self.user(owner or f"{slug}-owner", create_as="Organization")
        bot = self.add_user(f"{slug}[bot]", type="Bot")
        private_pem, public_pem = keys.keypair(app_id)
        app = App(
            id=app_id,
            slug=slug,
            name=name,
            owner=owner_user,
            bot=bot,
            created_at=self.now(),
            permissions=dict(permissions or DEFAULT_PERMISSIONS),
            events=list(events or DEFAULT_EVENTS),
            private_key_pem=private_pem,
            public_key_pem=public_pem,
            webhook_secret=secrets.token_hex(20),
            hook_id=self.next_id(),
            client_id=f"Iv23li{secrets.token_hex(7)}",
        )
        self.apps[app_id] = app
        return app

    def foreign_app(self, slug: str) -> App:
        """Another app (e.g. github-actions) that owns check runs; created on first use."""
        found = self.find_app(slug)
        if found is not None:
            return found
        names = {"github-actions": "GitHub Actions"}
        app = App(
            id=self.next_id(),
            slug=slug,
            name=names.get(slug, slug),
            owner=self.github_org,
            bot=self.add_user(f"{slug}[bot]", type="Bot"),
            created_at=self.now(),
            permissions={"checks": "write", "contents": "read", "metadata": "read"},
            events=["check_run", "check_suite"],
        )
        self.foreign_apps.append(app)
        return app

    def find_app(self, slug: str) -> App | None:
        for app in [*self.apps.values(), *self.foreign_apps]:
            if app.slug == slug:
                return app
        return None

    def create_installation(
        self,
        account: str,
        repos: Iterable[str] | None,
        *,
        app: App | None = None,
        permissions: Mapping[str, str] | None = None,
        sender: User | None = None,
        emit: bool = True,
    ) -> Installation:
        app = app or self.app
        owner = self.user(account, create_as="Organization")
        names = [self.repo(r).full_name for r in repos] if repos is not None else []
        inst = Installation(
            id=next(_INSTALLATION_IDS),
            app=app,
            account=owner,
            repository_selection="all" if repos is None else "selected",
            repos=names,
            permissions=dict(permissions or app.permissions),
            events=list(app.events),
            created_at=self.now(),
            updated_at=self.now(),
        )
        self.installations[inst.id] = inst
        if emit:
            sender = sender or self._account_sender(owner)
            self.emit("installation", "created", payloads.installation(self.w, inst, "created", sender), inst)
        return inst

    def _account_sender(self, account: User) -> User:
        if account.type == "User":
            return account
        return self.user(f"{account.login}-admin")

    def installation(self, installation_id: int) -> Installation:
        inst = self.installations.get(installation_id)
        if inst is None or inst.deleted:
            raise KeyError(installation_id)
        return inst

    def installation_repos(self, inst: Installation) -> list[Repo]:
        if inst.repository_selection == "all":
            return [r for r in self.repos.values() if r.owner is inst.account]
        return [self.repos[n.lower()] for n in inst.repos if n.lower() in self.repos]

    def installation_for(self, repo: Repo, app: App | None = None) -> Installation | None:
        app = app or (self.app if self.apps else None)
        for inst in self.installations.values():
            if inst.deleted or inst.app is not app:
                continue
            if any(r is repo for r in self.installation_repos(inst)):
                return inst
        return None

    def add_repos_to_installation(
        self, inst: Installation, repos: Iterable[str], *, sender: User | None = None, emit: bool = True
    ) -> None:
        added = [self.repo(r) for r in repos]
        added = [r for r in added if r.full_name not in inst.repos]
        inst.repos.extend(r.full_name for r in added)
        inst.updated_at = self.now()
        if emit and added:
            sender = sender or self._account_sender(inst.account)
            body = payloads.installation_repositories(self.w, inst, "added", added, [], sender)
            self.emit("installation_repositories", "added", body, inst)

    def remove_repos_from_installation(
        self, inst: Installation, repos: Iterable[str], *, sender: User | None = None, emit: bool = True
    ) -> None:
        removed = [self.repo(r) for r in repos]
        removed = [r for r in removed if r.full_name in inst.repos]
        inst.repos[:] = [n for n in inst.repos if all(n != r.full_name for r in removed)]
        inst.updated_at = self.now()
        if emit and removed:
            sender = sender or self._account_sender(inst.account)
            body = payloads.installation_repositories(self.w, inst, "removed", [], removed, sender)
            self.emit("installation_repositories", "removed", body, inst)

    def delete_installation(self, inst: Installation, *, sender: User | None = None, emit: bool = True) -> None:
        for token in self.tokens.values():
            if token.installation is inst:
                token.revoked = True
        if emit:
            sender = sender or self._account_sender(inst.account)
            self.emit("installation", "deleted", payloads.installation(self.w, inst, "deleted", sender), inst)
        inst.deleted = True

    def issue_token(self, inst: Installation, repos: list[Repo] | None, permissions: Mapping[str, str] | None) -> Token:
        if permissions:
            for name, level in permissions.items():
                have = inst.permissions.get(name)
                if have is None or (level == "write" and have == "read"):
                    raise ApiError(422, "The permissions requested are not granted to this installation.")
        token = Token(
            token="ghs_" + "".join(secrets.choice(keys.TOKEN_ALPHABET) for _ in range(36)),
            installation=inst,
            expires_at=self.now() + timedelta(hours=1),
            permissions=dict(permissions or inst.permissions),
            repository_selection="selected" if repos is not None else inst.repository_selection,
            repos=[r.full_name for r in repos] if repos is not None else None,
        )
        self.tokens[token.token] = token
        return token

    def token_can_see(self, token: Token, repo: Repo) -> bool:
        if token.repos is not None and repo.full_name not in token.repos:
            return False
        return any(r is repo for r in self.installation_repos(token.installation))

    def bucket(self, key: str, limit: int) -> RateBucket:
        bucket = self.buckets.get(key)
        now = int(self.now().timestamp())
        if bucket is None or bucket.reset <= now:
            bucket = RateBucket(limit=limit, reset=now + 3600)
            self.buckets[key] = bucket
        return bucket

    # -- repositories -----------------------------------------------------------------------------
    def repo(self, full_name: str) -> Repo:
        try:
            return self.repos[full_name.lower()]
        except KeyError:
            raise KeyError(f"no repository {full_name}") from None

    def find_repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def create_repo(
        self,
        full_name: str,
        files: Mapping[str, str | bytes] | None = None,
        *,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
    ) -> Repo:
        owner_login, _, name = full_name.partition("/")
        if not owner_login or not name or "/" in name:
            raise ValueError(f"bad repository name {full_name!r}")
        if full_name.lower() in self.repos:
            raise ValueError(f"{full_name} exists")
        owner = self.user(owner_login, create_as="Organization")
        now = self.now()
        repo = Repo(
            id=self.next_id(),
            owner=owner,
            name=name,
            private=private,
            default_branch=default_branch,
            created_at=now,
            updated_at=now,
            pushed_at=now,
            description=description,
            store=ObjectStore(),
        )
        self.repos[full_name.lower()] = repo
        author = owner if owner.type == "User" else self.user(f"{owner.login}-admin")
        sha = self.commit_files(repo, None, files or {"README.md": f"# {name}\n"}, "Initial commit", author)
        repo.refs[f"refs/heads/{default_branch}"] = sha
        return repo

    def commit_files(
        self,
        repo: Repo,
        parent: str | None,
        changes: Mapping[str, str | bytes | None],
        message: str,
        author: User,
        *,
        committer: Signature | None = None,
    ) -> str:
        store = repo.store
        files: dict[str, tuple[str, str]] = {}
        if parent is not None:
            files = {p: (e.mode, e.sha) for p, e in store.flatten(store.commit(parent).tree).items()}
        for path, content in changes.items():
            path = path.strip("/")
            if content is None:
                files.pop(path, None)
                continue
            data = content.encode() if isinstance(content, str) else content
            mode = files.get(path, ("100644", ""))[0]
            files[path] = (mode, store.add_blob(data))
        tree = store.tree_from_paths(files)
        return store.add_commit(tree, [parent] if parent else [], message, self.signature(author), committer)

    def set_ref(
        self,
        repo: Repo,
        ref: str,
        sha: str | None,
        sender: User,
        *,
        emit: bool = True,
        pusher: User | None = None,
    ) -> None:
        """Move, create or delete a ref; emits push, and pull_request.synchronize for PRs on that branch."""
        before = repo.refs.get(ref)
        if sha is None:
            repo.refs.pop(ref, None)
        else:
            repo.refs[ref] = sha
        if before == sha:
            return
        now = self.now()
        repo.pushed_at = now
        repo.updated_at = now
        forced = bool(before and sha and not repo.store.is_ancestor(before, sha))
        if emit and (ref.startswith("refs/heads/") or ref.startswith("refs/tags/")):
            inst = self.installation_for(repo)
            if inst is not None:
                body = payloads.push(self.w, repo, ref, before, sha, forced, sender, pusher or sender, inst)
                self.emit("push", None, body, inst)
        if ref.startswith("refs/heads/") and sha is not None:
            branch = ref[len("refs/heads/") :]
            for pull in list(repo.pulls.values()):
                if pull.head_ref == branch and pull.state == "open" and pull.head_sha != sha:
                    old = pull.head_sha
                    pull.head_sha = sha
                    pull.issue.updated_at = now
                    pull.mergeable_unknown_gets = self.mergeability_lag
                    self.w._pull_event(repo, pull, "synchronize", sender, before=old, after=sha)
                elif pull.base_ref == branch and pull.state == "open":
                    pull.mergeable_unknown_gets = self.mergeability_lag

    def push(
        self,
        repo: Repo,
        branch: str,
        changes: Mapping[str, str | bytes | None],
        message: str,
        author: User,
        *,
        emit: bool = True,
    ) -> str:
        parent = repo.branch_sha(branch)
        if parent is None and branch != repo.default_branch:
            parent = repo.branch_sha(repo.default_branch)
        sha = self.commit_files(repo, parent, changes, message, author)
        self.set_ref(repo, f"refs/heads/{branch}", sha, author, emit=emit)
        return sha

    def role_of(self, repo: Repo, user: User) -> str:
        explicit = repo.collaborators.get(user.login.lower())
        if explicit is not None:
            return explicit
        if user is repo.owner:
            return "admin"
        return "none" if repo.private else "read"

    def author_association(self, repo: Repo, user: User) -> str:
        if user is repo.owner:
            return "OWNER"
        role = repo.collaborators.get(user.login.lower())
        if role in ("admin", "maintain", "write", "triage"):
            return "MEMBER" if repo.owner.type == "Organization" and role != "triage" else "COLLABORATOR"
        if role == "read":
            return "COLLABORATOR"
        return "NONE"

    # -- numbers shared by issues and pull requests ---------------------------------------------------
    def _new_number(self, repo: Repo) -> int:
        number = repo.next_number
        repo.next_number += 1
        return number

    def pull(self, repo: Repo, number: int) -> Pull:
        issue = repo.issues.get(number)
        if issue is None or issue.pull is None:
            raise ApiError(404, "Not Found")
        return issue.pull

    def issue(self, repo: Repo, number: int) -> Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise ApiError(404, "Not Found")
        return issue

    # -- git data helpers for handlers ----------------------------------------------------------------
    def apply_tree(self, repo: Repo, base_tree: str | None, items: list[dict[str, Any]]) -> str:
        """GitHub's create-tree: nested paths, base_tree, sha null deletes, content creates a blob."""
        store = repo.store
        files = {p: (e.mode, e.sha) for p, e in store.flatten(base_tree).items()}
        for item in items:
            path = str(item.get("path", "")).strip("/")
            mode = str(item.get("mode", "100644"))
            if not path:
                raise validation_failed("Tree", "tree.path is required", field="path")
            sha: str | None
            if "content" in item and item["content"] is not None:
                sha = store.add_blob(str(item["content"]).encode())
            else:
                sha = item.get("sha")
            if sha is None:
                files = {p: v for p, v in files.items() if p != path and not p.startswith(path + "/")}
                continue
            kind = item.get("type") or ("tree" if mode == "040000" else "commit" if mode == "160000" else "blob")
            if mode == "040000" or kind == "tree":
                if not store.is_tree(sha):
                    raise validation_failed("Tree", f"tree.sha {sha} is not a valid tree", field="sha")
                files = {p: v for p, v in files.items() if p != path and not p.startswith(path + "/")}
                for sub_path, entry in store.flatten(sha).items():
                    files[f"{path}/{sub_path}"] = (entry.mode, entry.sha)
                continue
            if mode == "160000":
                if kind != "commit":
                    raise validation_failed("Tree", "tree.type must be commit for mode 160000", field="type")
            elif not store.is_blob(sha):
                raise validation_failed("Tree", f"tree.sha {sha} is not a valid blob", field="sha")
            for existing in list(files):
                if existing.startswith(path + "/"):
                    del files[existing]
            files[path] = (mode, sha)
        try:
            return store.tree_from_paths(files)
        except GitError as exc:
            raise validation_failed("Tree", str(exc)) from exc

    def lookup_content(self, repo: Repo, ref: str, path: str) -> tuple[str, TreeEntry] | None:
        sha = repo.resolve(ref)
        if sha is None:
            return None
        entry = repo.store.lookup(repo.store.commit(sha).tree, path)
        return (sha, entry) if entry is not None else None
