"""World operations on pull requests: open, update, close, reopen, mergeability, merge (merge, squash,
rebase), the Merges API, reviewers. Mixed into World (world.py); callers hold world.lock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import payloads
from .git import Signature
from .merge import FileDiff, diff_trees, merge_trees
from .state import (
    ApiError,
    App,
    Issue,
    Pull,
    Repo,
    User,
    validation_failed,
)
from .world_core import WorldCore

ZERO_SHA = "0" * 40


@dataclass
class MergeOutcome:
    sha: str
    message: str = "Pull Request successfully merged"


@dataclass
class _Mergeability:
    clean: bool
    test_merge: str | None
    conflicts: list[str] = field(default_factory=list)


class PullsMixin(WorldCore):
    def open_pull(
        self,
        repo: Repo,
        head: str,
        base: str,
        title: str,
        body: str | None,
        user: User,
        *,
        draft: bool = False,
        maintainer_can_modify: bool = False,
        app: App | None = None,
        emit: bool = True,
    ) -> Pull:
        if ":" in head:
            head_owner, _, head = head.partition(":")
            if head_owner.lower() != repo.owner.login.lower():
                raise validation_failed("PullRequest", field="head", code="invalid")
        head_sha = repo.branch_sha(head)
        base_sha = repo.branch_sha(base)
        if base_sha is None:
            raise validation_failed("PullRequest", field="base", code="invalid")
        if head_sha is None:
            raise validation_failed("PullRequest", field="head", code="invalid")
        for pull in repo.pulls.values():
            if pull.state == "open" and pull.head_ref == head and pull.base_ref == base:
                raise validation_failed("PullRequest", f"A pull request already exists for {repo.owner.login}:{head}.")
        if not repo.store.commits_between(base_sha, head_sha):
            raise validation_failed("PullRequest", f"No commits between {base} and {head}")
        now = self.now()
        issue = Issue(self._new_number(repo), self.next_id(), title, body, user, now, now, app=app)
        pull = Pull(
            issue=issue,
            id=self.next_id(),
            head_ref=head,
            head_sha=head_sha,
            base_ref=base,
            base_sha=base_sha,
            draft=draft,
            maintainer_can_modify=maintainer_can_modify,
            mergeable_unknown_gets=self.mergeability_lag,
        )
        issue.pull = pull
        repo.issues[issue.number] = issue
        if emit:
            self._pull_event(repo, pull, "opened", user)
        return pull

    def _pull_event(self, repo: Repo, pull: Pull, action: str, sender: User, **extra: Any) -> None:
        inst = self.installation_for(repo)
        if inst is None:
            return
        body = payloads.pull_request(self.w, repo, pull, action, sender, inst, **extra)
        self.emit("pull_request", action, body, inst)

    def update_pull(
        self,
        repo: Repo,
        pull: Pull,
        sender: User,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        base: str | None = None,
        emit: bool = True,
    ) -> None:
        changes: dict[str, Any] = {}
        if title is not None and title != pull.issue.title:
            changes["title"] = {"from": pull.issue.title}
            pull.issue.title = title
        if body is not None and body != pull.issue.body:
            changes["body"] = {"from": pull.issue.body or ""}
            pull.issue.body = body
        if base is not None and base != pull.base_ref:
            base_sha = repo.branch_sha(base)
            if base_sha is None:
                raise validation_failed("PullRequest", field="base", code="invalid")
            changes["base"] = {"ref": {"from": pull.base_ref}, "sha": {"from": pull.base_sha}}
            pull.base_ref = base
            pull.base_sha = base_sha
            pull.mergeable_unknown_gets = self.mergeability_lag
        if changes:
            pull.issue.updated_at = self.now()
            if emit:
                self._pull_event(repo, pull, "edited", sender, changes=changes)
        if state is not None and state != pull.state:
            if state == "closed":
                self.close_pull(repo, pull, sender, emit=emit)
            else:
                self.reopen_pull(repo, pull, sender, emit=emit)

    def close_pull(self, repo: Repo, pull: Pull, sender: User, *, emit: bool = True) -> None:
        if pull.state == "closed":
            return
        now = self.now()
        pull.base_sha = repo.branch_sha(pull.base_ref) or pull.base_sha
        pull.issue.state = "closed"
        pull.issue.closed_at = now
        pull.issue.closed_by = sender
        pull.issue.updated_at = now
        if emit:
            self._pull_event(repo, pull, "closed", sender)

    def reopen_pull(self, repo: Repo, pull: Pull, sender: User, *, emit: bool = True) -> None:
        if pull.merged:
            raise validation_failed("PullRequest", "Cannot reopen a merged pull request", field="state")
        if repo.branch_sha(pull.head_ref) is None:
            raise validation_failed("PullRequest", "Cannot reopen: the head branch was deleted", field="state")
        pull.issue.state = "open"
        pull.issue.closed_at = None
        pull.issue.closed_by = None
        pull.issue.updated_at = self.now()
        pull.head_sha = repo.branch_sha(pull.head_ref) or pull.head_sha
        if emit:
            self._pull_event(repo, pull, "reopened", sender)

    def _diff_base(self, repo: Repo, pull: Pull) -> str:
        if pull.state == "open":
            return repo.branch_sha(pull.base_ref) or pull.base_sha
        return pull.base_sha

    def pull_commits(self, repo: Repo, pull: Pull) -> list[str]:
        return repo.store.commits_between(self._diff_base(repo, pull), pull.head_sha)

    def pull_files(self, repo: Repo, pull: Pull) -> list[FileDiff]:
        store = repo.store
        base = store.merge_base(self._diff_base(repo, pull), pull.head_sha)
        return diff_trees(store, store.commit(base).tree if base else None, store.commit(pull.head_sha).tree)

    def pulls_for_sha(self, repo: Repo, sha: str) -> list[Pull]:
        return [p for p in repo.pulls.values() if p.state == "open" and p.head_sha == sha]

    def _merge_state(self, repo: Repo, base_sha: str, head_sha: str) -> _Mergeability:
        key = (repo.id, base_sha, head_sha)
        cached = self._merge_cache.get(key)
        if cached is not None:
            return cached
        store = repo.store
        base = store.merge_base(base_sha, head_sha)
        result = merge_trees(
            store, store.commit(base).tree if base else None, store.commit(base_sha).tree, store.commit(head_sha).tree
        )
        test_merge = None
        if result.tree is not None:
            author = Signature("GitHub", "noreply@github.com", store.commit(head_sha).committer.timestamp)
            message = f"Merge {head_sha} into {base_sha}"
            test_merge = store.add_commit(result.tree, [base_sha, head_sha], message, author)
        state = _Mergeability(result.tree is not None, test_merge, result.conflicts)
        self._merge_cache[key] = state
        return state

    def mergeability(self, repo: Repo, pull: Pull, *, consume: bool = False) -> tuple[bool | None, str, str | None]:
        """(mergeable, mergeable_state, test merge commit sha) as GitHub reports them.

        While pull.mergeable_unknown_gets > 0 GitHub is still computing: null/"unknown"; each GET (consume)
        counts one down.
        """
        if pull.state != "open":
            return None, "unknown", None
        if pull.mergeable_unknown_gets > 0:
            if consume:
                pull.mergeable_unknown_gets -= 1
            return None, "unknown", None
        base_sha = repo.branch_sha(pull.base_ref)
        if base_sha is None:
            return None, "unknown", None
        state = self._merge_state(repo, base_sha, pull.head_sha)
        if not state.clean:
            return False, "dirty", None
        if pull.draft:
            return True, "draft", state.test_merge
        failing = self.w.combined_state(self.w.latest_statuses(repo, pull.head_sha)) in ("failure", "error") or any(
            r.conclusion in ("failure", "timed_out", "cancelled", "action_required")
            for r in repo.check_runs.values()
            if r.head_sha == pull.head_sha
        )
        return True, "unstable" if failing else "clean", state.test_merge

    def merge_pull(
        self,
        repo: Repo,
        pull: Pull,
        by: User,
        *,
        method: str = "merge",
        sha: str | None = None,
        commit_title: str | None = None,
        commit_message: str | None = None,
        emit: bool = True,
    ) -> MergeOutcome:
        if pull.merged or pull.state != "open":
            raise ApiError(405, "Pull Request is not mergeable")
        if sha is not None and sha != pull.head_sha:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        base_sha = repo.branch_sha(pull.base_ref)
        if base_sha is None:
            raise ApiError(405, "Base branch was deleted")
        if pull.draft:
            raise ApiError(405, "Pull Request is still a draft")
        store = repo.store
        state = self._merge_state(repo, base_sha, pull.head_sha)
        if not state.clean or state.test_merge is None:
            raise ApiError(405, "Pull Request is not mergeable")
        merged_tree = store.commit(state.test_merge).tree
        author = self.signature(by)
        committer = self.web_signature()
        number, title = pull.number, pull.title
        if method == "merge":
            message = commit_title or f"Merge pull request #{number} from {repo.owner.login}/{pull.head_ref}"
            message += "\n\n" + (commit_message if commit_message is not None else title)
            new_sha = store.add_commit(merged_tree, [base_sha, pull.head_sha], message, author, committer)
        elif method == "squash":
            commits = store.commits_between(base_sha, pull.head_sha)
            default_body = "\n\n".join(f"* {store.commit(c).message}" for c in commits) if len(commits) > 1 else ""
            message = commit_title or f"{title} (#{number})"
            body = commit_message if commit_message is not None else default_body
            if body:
                message += "\n\n" + body
            squash_author = self.signature(pull.user) if pull.user.type != "Bot" else author
            new_sha = store.add_commit(merged_tree, [base_sha], message, squash_author, committer)
        elif method == "rebase":
            new_sha = self._rebase(repo, base_sha, pull.head_sha, committer)
        else:
            raise validation_failed("PullRequest", f"Invalid merge method {method}", field="merge_method")
        pull.merged = True
        pull.merged_at = self.now()
        pull.merged_by = by
        pull.merge_commit_sha = new_sha
        pull.base_sha = base_sha
        pull.issue.state = "closed"
        pull.issue.closed_at = pull.merged_at
        pull.issue.closed_by = by
        pull.issue.updated_at = pull.merged_at
        self.set_ref(repo, f"refs/heads/{pull.base_ref}", new_sha, by, emit=emit)
        if emit:
            self._pull_event(repo, pull, "closed", by)
        return MergeOutcome(new_sha)

    def _rebase(self, repo: Repo, onto: str, head: str, committer: Signature) -> str:
        store = repo.store
        current = onto
        for sha in store.commits_between(onto, head):
            commit = store.commit(sha)
            if len(commit.parents) > 1:
                continue  # GitHub's rebase drops merge commits
            parent_tree = store.commit(commit.parents[0]).tree if commit.parents else None
            result = merge_trees(store, parent_tree, store.commit(current).tree, commit.tree)
            if result.tree is None:
                raise ApiError(405, "This branch can't be rebased")
            current = store.add_commit(result.tree, [current], commit.message, commit.author, committer)
        return current

    def merge_branches(self, repo: Repo, base: str, head: str, message: str | None, sender: User) -> str | None:
        """The Merges API: the new merge commit, or None when base already contains head."""
        base_sha = repo.branch_sha(base)
        if base_sha is None:
            raise ApiError(404, "Base does not exist")
        head_sha = repo.resolve(head)
        if head_sha is None:
            raise ApiError(404, "Head does not exist")
        store = repo.store
        if store.is_ancestor(head_sha, base_sha):
            return None
        state = self._merge_state(repo, base_sha, head_sha)
        if not state.clean or state.test_merge is None:
            raise ApiError(409, "Merge conflict")
        new_sha = store.add_commit(
            store.commit(state.test_merge).tree,
            [base_sha, head_sha],
            message or f"Merge {head} into {base}",
            self.signature(sender),
            self.web_signature(),
        )
        self.set_ref(repo, f"refs/heads/{base}", new_sha, sender)
        return new_sha

    def request_reviewers(self, repo: Repo, pull: Pull, logins: Iterable[str], sender: User) -> None:
        for login in logins:
            user = self.find_user(login)
            if user is None or (self.role_of(repo, user) in ("none",) and repo.private):
                raise validation_failed(
                    "PullRequest",
                    "Reviews may only be requested from collaborators. One or more of the users "
                    "or teams you specified is not a collaborator of the "
                    f"{repo.full_name} repository.",
                )
            if user is pull.user:
                raise validation_failed("PullRequest", "Review cannot be requested from pull request author.")
            if user not in pull.requested_reviewers:
                pull.requested_reviewers.append(user)
