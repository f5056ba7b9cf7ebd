"""World operations on issues (pull requests included), labels, comments and reactions. Mixed into World
(world.py); callers hold world.lock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import payloads
from .state import (
    ApiError,
    App,
    Comment,
    Issue,
    Label,
    Reaction,
    Repo,
    User,
    validation_failed,
)
from .world_core import WorldCore

ZERO_SHA = "0" * 40
LABEL_COLORS = ["ededed", "d73a4a", "0075ca", "a2eeef", "7057ff", "008672", "e4e669", "d876e3"]


class IssuesMixin(WorldCore):
    def create_issue(
        self,
        repo: Repo,
        title: str,
        body: str | None,
        user: User,
        *,
        labels: Iterable[str] = (),
        assignees: Iterable[str] = (),
        app: App | None = None,
    ) -> Issue:
        now = self.now()
        issue = Issue(self._new_number(repo), self.next_id(), title, body, user, now, now, app=app)
        issue.labels = [self.ensure_label(repo, name) for name in labels]
        issue.assignees = [self.user(login) for login in assignees]
        repo.issues[issue.number] = issue
        return issue

    def update_issue(
        self,
        repo: Repo,
        issue: Issue,
        sender: User,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
        labels: list[str] | None = None,
        assignees: list[str] | None = None,
    ) -> None:
        if issue.pull is not None and (title is not None or body is not None):
            self.w.update_pull(repo, issue.pull, sender, title=title, body=body)
        else:
            if title is not None:
                issue.title = title
            if body is not None:
                issue.body = body
        if labels is not None:
            self.set_labels(repo, issue, labels, sender)
        if assignees is not None:
            issue.assignees = [self.user(login) for login in assignees]
        if state is not None and state != issue.state:
            if issue.pull is not None:
                self.w.update_pull(repo, issue.pull, sender, state=state)
            elif state == "closed":
                issue.state = "closed"
                issue.closed_at = self.now()
                issue.closed_by = sender
                issue.state_reason = state_reason or "completed"
            else:
                issue.state = "open"
                issue.closed_at = None
                issue.closed_by = None
                issue.state_reason = "reopened"
        elif state_reason is not None and issue.state == "closed":
            issue.state_reason = state_reason
        issue.updated_at = self.now()

    def ensure_label(self, repo: Repo, name: str, color: str | None = None, description: str | None = None) -> Label:
        label = repo.labels.get(name.lower())
        if label is None:
            color = color or LABEL_COLORS[len(repo.labels) % len(LABEL_COLORS)]
            label = Label(self.next_id(), name, color, description, False)
            repo.labels[name.lower()] = label
        return label

    def create_label(self, repo: Repo, name: str, color: str | None, description: str | None) -> Label:
        if name.lower() in repo.labels:
            raise validation_failed("Label", field="name", code="already_exists")
        return self.ensure_label(repo, name, (color or "ededed").lstrip("#").lower(), description)

    def add_labels(self, repo: Repo, issue: Issue, names: Iterable[str], sender: User) -> None:
        for name in names:
            label = self.ensure_label(repo, name)
            if label not in issue.labels:
                issue.labels.append(label)
                issue.updated_at = self.now()
                if issue.pull is not None:
                    self.w._pull_event(repo, issue.pull, "labeled", sender, label=label)

    def remove_label(self, repo: Repo, issue: Issue, name: str, sender: User) -> None:
        label = next((lb for lb in issue.labels if lb.name.lower() == name.lower()), None)
        if label is None:
            raise ApiError(404, "Label does not exist")
        issue.labels.remove(label)
        issue.updated_at = self.now()
        if issue.pull is not None:
            self.w._pull_event(repo, issue.pull, "unlabeled", sender, label=label)

    def set_labels(self, repo: Repo, issue: Issue, names: list[str], sender: User) -> None:
        wanted = {n.lower() for n in names}
        for label in list(issue.labels):
            if label.name.lower() not in wanted:
                self.remove_label(repo, issue, label.name, sender)
        self.add_labels(repo, issue, names, sender)

    def add_comment(
        self, repo: Repo, number: int, user: User, body: str, *, app: App | None = None, emit: bool = True
    ) -> Comment:
        issue = self.issue(repo, number)
        now = self.now()
        comment = Comment(self.next_id(), number, user, body, now, now, app=app)
        repo.comments[comment.id] = comment
        issue.comment_ids.append(comment.id)
        issue.updated_at = now
        if emit:
            self._comment_event(repo, comment, "created", user)
        return comment

    def _comment_event(self, repo: Repo, comment: Comment, action: str, sender: User, **extra: Any) -> None:
        inst = self.installation_for(repo)
        if inst is None:
            return
        body = payloads.issue_comment(self.w, repo, comment, action, sender, inst, **extra)
        self.emit("issue_comment", action, body, inst)

    def comment(self, repo: Repo, comment_id: int) -> Comment:
        comment = repo.comments.get(comment_id)
        if comment is None:
            raise ApiError(404, "Not Found")
        return comment

    def edit_comment(self, repo: Repo, comment: Comment, body: str, sender: User, *, emit: bool = True) -> None:
        old = comment.body
        comment.body = body
        comment.updated_at = self.now()
        if emit:
            self._comment_event(repo, comment, "edited", sender, changes={"body": {"from": old}})

    def add_reaction(self, target: Comment | Issue, user: User, content: str) -> tuple[Reaction, bool]:
        for reaction in target.reactions:
            if reaction.user is user and reaction.content == content:
                return reaction, False
        reaction = Reaction(self.next_id(), user, content, self.now())
        target.reactions.append(reaction)
        return reaction, True
