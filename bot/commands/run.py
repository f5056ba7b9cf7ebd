"""Running the ``/depup`` commands of one comment (SPEC §6).

A comment's commands run once, in order, each by the rules of its ``Spec``: a reaction at once, then one reply
that answers every command. The repository's lock is held throughout, so commands and scans never interleave.
Each command is marked done in Redis as soon as it ran (with its answer), so a retried job neither repeats it
nor loses its answer; an edited comment runs only the commands it gained (the ones in GitHub's ``changes.body``
copy of the old text count as done even when Redis forgot them). State lives on GitHub: approvals in the
``depup/approval`` check of the PR's head, pause and ignores in the dashboard issue.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from redis import Redis

from bot import audit
from bot.commands.auth import is_bot, may_run, role, who_may
from bot.commands.parse import Command, Invalid, help_text, parse, signatures
from bot.core.settings import Settings
from bot.deps.npm import semver
from bot.errors import GitHubRequestError, NotFound
from bot.github.client import InstallationClient, json_body
from bot.lifecycle import approval
from bot.lifecycle.dashboard import store_state
from bot.lifecycle.lock import repo_lock
from bot.lifecycle.reads import find_dashboard
from bot.lifecycle.repo_config import current_config
from bot.lifecycle.scan import Directives, ScanResult, scan_held
from bot.lifecycle.state import BRANCH_PREFIX, DashboardState, Ignore, Merge, Pause, parse_pr_meta, same_package
from bot.repos.registry import RepoRecord
from bot.rollback.service import Evidence, rollback
from config.model import Config

log = logging.getLogger(__name__)
LOCK_WAIT_SECONDS = 60
DONE_TTL = 30 * 24 * 3600
_REPLIED = "_replied"


@dataclass(frozen=True)
class CommentEvent:
    """What a command needs from an ``issue_comment`` delivery."""

    number: int  # the issue or pull request
    is_pull: bool
    comment_id: int
    body: str
    old_body: str | None  # the text before an edit
    login: str
    user: dict[str, Any]
    url: str
    delivery: str = ""


@dataclass(frozen=True)
class Outcome:
    """A command's answer; a scan may still have to happen (``rebase`` etc.) before it is final."""

    command: str
    text: str
    ok: bool = True
    scan: bool = False
    rebase: str = ""
    recreate: str = ""
    split: str = ""
    pr: int = 0
    finish: str = ""  # how the answer is completed from the scan's result (see _finish)


def handle_comment(
    settings: Settings, redis: Redis, gh: InstallationClient, record: RepoRecord, event: CommentEvent
) -> list[Outcome]:
    if is_bot(event.user):
        return []  # depup itself and other bots: no commands, no answers
    items = parse(event.body)
    if not items:
        return []
    if settings.dry_run:
        log.info("dry run: commands not run", extra={"commands": [getattr(i, "name", "invalid") for i in items]})
        return []
    keys = signatures(items)
    before = set(signatures(parse(event.old_body))) if event.old_body is not None else set()
    done_key = f"depup:commands:{record.full_name}:{event.comment_id}"
    if not _todo(redis, done_key, keys, items, before) and not _unreplied(redis, done_key, keys):
        return []
    _react(gh, record, event.comment_id)
    with repo_lock(redis, settings, record.full_name, wait=LOCK_WAIT_SECONDS):
        runner = _Runner(settings, redis, gh, record, event)
        for key, item in _todo(redis, done_key, keys, items, before):  # again, under the lock: exactly once
            outcome = runner.run(item)
            redis.hset(done_key, key, json.dumps(asdict(outcome)))
            redis.expire(done_key, DONE_TTL)
            runner.audit(item, outcome)
        replied = set(_replied(redis, done_key))
        pending = [
            (k, Outcome(**json.loads(v)))
            for k, v in ((k, redis.hget(done_key, k)) for k in keys)
            if v is not None and k not in replied
        ]
        if not pending:
            return []
        outcomes = [o for _, o in pending]
        result = runner.scan(outcomes) if any(o.scan for o in outcomes) else None
        final = [_finish(o, result) for o in outcomes]
        runner.reply(final, [k for k, _ in pending])
        redis.hset(done_key, _REPLIED, json.dumps(sorted(replied | {k for k, _ in pending})))
        return final


def _todo(
    redis: Redis, key: str, keys: list[str], items: tuple[Command | Invalid, ...], before: set[str]
) -> list[tuple[str, Command | Invalid]]:
    """The commands of the comment that have not run: not marked done, and not in the text before an edit."""
    done = {_text(k) for k in redis.hkeys(key)}
    return [(k, item) for k, item in zip(keys, items, strict=True) if k not in done and k not in before]


def _unreplied(redis: Redis, key: str, keys: list[str]) -> bool:
    """Whether commands of the comment ran but their answer was not posted (an interrupted earlier attempt)."""
    done = {_text(k) for k in redis.hkeys(key)} - {_REPLIED}
    return bool((done & set(keys)) - set(_replied(redis, key)))


def _replied(redis: Redis, key: str) -> list[str]:
    raw = redis.hget(key, _REPLIED)
    return list(json.loads(raw)) if raw else []


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _react(gh: InstallationClient, record: RepoRecord, comment_id: int) -> None:
    try:
        gh.rest.reactions.create_for_issue_comment(record.owner, record.name, comment_id, content="eyes")
    except GitHubRequestError as e:  # a deleted comment, say: the commands still run
        log.info("could not react to the comment", extra={"status": e.status})


class _Runner:
    def __init__(
        self, settings: Settings, redis: Redis, gh: InstallationClient, record: RepoRecord, event: CommentEvent
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.gh = gh
        self.record = record
        self.event = event
        self._state: DashboardState | None = None
        self._config: Config | None = None
        self._pull: dict[str, Any] | None = None
        self._role: str | None = None

    # -- what the commands read ----------------------------------------------------------------------------
    @property
    def state(self) -> DashboardState:
        if self._state is None:
            dashboard = find_dashboard(self.gh, self.record, self.redis)
            self._state = DashboardState.from_body(dashboard.body if dashboard else None)
        return self._state

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = current_config(self.gh, self.record, self.redis, self.state.config_blob)
        return self._config

    def pull(self) -> dict[str, Any] | None:
        """The pull request commented on, when it is one of depup's."""
        if not self.event.is_pull:
            return None
        if self._pull is None:
            try:
                self._pull = json_body(self.gh.rest.pulls.get(self.record.owner, self.record.name, self.event.number))
            except NotFound:
                return None
        head = self._pull.get("head") or {}
        ours = str(head.get("ref", "")).startswith(BRANCH_PREFIX) and parse_pr_meta(self._pull.get("body")) is not None
        return self._pull if ours else None

    def save(self, state: DashboardState) -> None:
        store_state(self.gh, self.record, self.redis, state)
        self._state = state

    # -- running -----------------------------------------------------------------------------------------
    def run(self, item: Command | Invalid) -> Outcome:
        if isinstance(item, Invalid):
            return Outcome("", f"`{item.text}`: {item.problem}. {_HELP_HINT}", ok=False)
        spec = item.spec
        if spec.on_pull and self.pull() is None:
            return Outcome(item.text, f"`/depup {item.name}` works on depup's own pull requests only.", ok=False)
        if spec.changes_state:
            login = self.event.login
            if self._role is None:
                self._role = role(self.gh, self.redis, self.record, login)
            if not may_run(self._role, login, self.config, approving=item.name == "approve"):
                who = who_may(self.record, approving=item.name == "approve")
                return Outcome(item.text, f"only {who} may run `/depup {item.name}`. Nothing was changed.", ok=False)
        command: Callable[[Command], Outcome] = getattr(self, f"_{item.name}")
        return command(item)

    def _help(self, item: Command) -> Outcome:
        return Outcome(item.text, help_text())

    def _approve(self, item: Command) -> Outcome:
        pull = self.pull()
        assert pull is not None
        if pull.get("state") != "open":
            return Outcome(item.text, "this pull request is closed: there is nothing to approve.", ok=False)
        login = self.event.login
        if str((pull.get("user") or {}).get("login", "")).lower() == login.lower():
            return Outcome(item.text, "the author of a pull request cannot approve it.", ok=False)
        meta = parse_pr_meta(pull.get("body"))
        assert meta is not None
        head = str((pull.get("head") or {}).get("sha", ""))
        if meta.approvals <= 0:
            return Outcome(item.text, "this pull request needs no approval; nothing to do.")
        gate = approval.read(self.gh, self.record, head) or approval.Approval(head, meta.approvals, ())
        gate = replace(gate, needed=meta.approvals)
        if gate.has(login):
            return Outcome(item.text, f"your approval of {head[:7]} already counts: {gate.describe()}.")
        gate = approval.write(self.gh, self.record, replace(gate, by=(*gate.by, login)))
        if not gate.met:
            more = f"{gate.missing} more approval{'s' if gate.missing != 1 else ''}"
            return Outcome(item.text, f"approval recorded: {gate.describe()}. {more} needed.")
        if meta.automerge and self.state.paused is None:
            return Outcome(
                item.text, f"approved: {gate.describe()}.", scan=True, pr=self.event.number, finish="approved"
            )
        paused = " depup is paused, so it does not merge it itself." if meta.automerge else ""
        return Outcome(
            item.text, f"approved: {gate.describe()}. The `depup/approval` check is green: a maintainer can merge it."
            + paused,
        )  # fmt: skip

    def _pause(self, item: Command) -> Outcome:
        if self.state.paused is not None:
            p = self.state.paused
            return Outcome(item.text, f"depup is already paused (by @{p.by} at {p.at}).")
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.save(replace(self.state, paused=Pause(self.event.login, at, self.event.url)))
        return Outcome(
            item.text,
            "depup is paused in this repository: it opens, updates, merges, splits and closes no pull requests and "
            "reverts nothing on its own; an explicit `/depup rollback` still works. `/depup resume` undoes it.",
            scan=True,
        )

    def _resume(self, item: Command) -> Outcome:
        if self.state.paused is None:
            return Outcome(item.text, "depup is not paused; nothing to do.")
        self.save(replace(self.state, paused=None))
        return Outcome(item.text, "depup is running again.", scan=True, finish="resumed")

    def _ignore(self, item: Command) -> Outcome:
        package = item.args[0]
        scope = item.args[1] if len(item.args) > 1 else ""
        ecosystem = self._ecosystem_of(package)
        what = scope.lower() if scope.lower() in ("major", "minor") else scope
        if what not in ("", "major", "minor"):
            problem = _version_problem(ecosystem, what)
            if problem:
                return Outcome(item.text, problem, ok=False)
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = Ignore(package, ecosystem, what, self.event.login, at)
        kept = tuple(
            i for i in self.state.ignores if not (same_package(i.ecosystem, i.package, package) and i.what == what)
        )
        self.save(replace(self.state, ignores=(*kept, entry)))
        return Outcome(
            item.text,
            f"depup will not propose {entry.describe()} of `{package}` any more; `/depup unignore {package}` "
            "undoes it.",
            scan=True,
            finish="closed",
        )

    def _unignore(self, item: Command) -> Outcome:
        package = item.args[0]
        state, lifted = self.state.without_package(package)
        configured = [r for r in self.config.ignore if any(same_package("", p, package) for p in r.packages)]
        note = (
            f" The `ignore` option of `.github/depup.yml` still ignores `{package}`: edit the file to lift that."
            if configured
            else ""
        )
        if not lifted:
            return Outcome(item.text, f"depup had not ignored `{package}` by command or rejection.{note}")
        self.save(state)
        return Outcome(
            item.text,
            f"depup proposes `{package}` again ({lifted} ignore{'s' if lifted != 1 else ''} lifted).{note}",
            scan=True,
            finish="opened",
        )

    def _rebase(self, item: Command) -> Outcome:
        branch = self._branch()
        if branch in self.state.hands_off:
            return Outcome(
                item.text,
                f"someone else pushed to `{branch}`, so depup does not rebase it over their commits. "
                "`/depup recreate` starts it over, discarding them.",
                ok=False,
            )
        return Outcome(item.text, "", scan=True, rebase=branch, pr=self.event.number, finish="rebased")

    def _recreate(self, item: Command) -> Outcome:
        branch = self._branch()
        return Outcome(item.text, "", scan=True, recreate=branch, pr=self.event.number, finish="rebased")

    def _split(self, item: Command) -> Outcome:
        pull = self.pull()
        assert pull is not None
        meta = parse_pr_meta(pull.get("body"))
        assert meta is not None
        if len([p for p in meta.packages if p.update_type != "lockfile"]) < 2:
            return Outcome(item.text, "this pull request carries one upgrade: there is nothing to split.", ok=False)
        if self._branch() in self.state.hands_off:
            return Outcome(item.text, "someone else pushed to this branch: depup leaves it alone.", ok=False)
        return Outcome(item.text, "", scan=True, split=self._branch(), pr=self.event.number, finish="split")

    def _plan(self, item: Command) -> Outcome:
        return Outcome(item.text, "", scan=True, finish="plan")

    def _rollback(self, item: Command) -> Outcome:
        package = item.args[0] if item.args else None
        merge, problem = self._merge_to_roll_back(package)
        if merge is None:
            return Outcome(item.text, problem, ok=False)
        evidence = Evidence(
            "command",
            f"@{self.event.login} asked for it with `{item.text}`",
            (f"- the comment: {self.event.url}",) if self.event.url else (),
        )
        state, outcome = rollback(
            self.settings, self.redis, self.gh, self.record, self.state, self.config, merge, evidence,
            package=package, actor=self.event.login, delivery=self.event.delivery,
        )  # fmt: skip
        self.save(state)
        if outcome.refused:
            reasons = "; ".join(outcome.refused)
            return Outcome(item.text, f"depup cannot roll #{merge.pr} back cleanly, so it pushed nothing: {reasons}",
                           ok=False)  # fmt: skip
        if outcome.existing:
            return Outcome(item.text, f"#{merge.pr} is already rolled back in #{outcome.pr}.")
        what = f"`{package}` of #{merge.pr}" if package else f"#{merge.pr}"
        merging = " It merges itself once its CI is green." if self.config.rollback.auto_merge else ""
        return Outcome(item.text, f"depup rolls back {what} in #{outcome.pr}.{merging}", scan=True)

    def _merge_to_roll_back(self, package: str | None) -> tuple[Merge | None, str]:
        pull = self.pull()
        if pull is not None:
            meta = parse_pr_meta(pull.get("body"))
            assert meta is not None
            if meta.rollback_of is not None:
                return None, "this pull request is a rollback itself: close it, or revert it by hand."
            if not pull.get("merged_at") or not pull.get("merge_commit_sha"):
                return None, "this pull request is not merged: there is nothing to roll back (close it instead)."
            if package and not any(same_package(c.ecosystem, c.package, package) for c in meta.packages):
                return None, f"#{self.event.number} did not upgrade `{package}`."
            known = self.state.merge_of(self.event.number)
            return known or Merge(
                self.event.number, str(pull["merge_commit_sha"]), meta.phase, ci="success",
                packages=tuple(c.package for c in meta.packages),
            ), ""  # fmt: skip
        if package is None:
            return None, "name the package (`/depup rollback <package>`), or comment on the merged depup PR."
        for merge in reversed(self.state.merges):
            if merge.revert_of is None and any(same_package("", p, package) for p in merge.packages):
                return merge, ""
        return None, f"depup found no recent merge of its that upgraded `{package}`."

    def _branch(self) -> str:
        pull = self.pull()
        assert pull is not None
        return str((pull.get("head") or {}).get("ref", ""))

    def _ecosystem_of(self, package: str) -> str:
        """The ecosystem of ``package`` when the comment is on a depup PR that carries it; "" otherwise."""
        pull = self.pull()
        meta = parse_pr_meta(pull.get("body")) if pull else None
        for carried in meta.packages if meta else ():
            if same_package(carried.ecosystem, carried.package, package):
                return carried.ecosystem
        return ""

    # -- after the commands -----------------------------------------------------------------------------
    def scan(self, outcomes: list[Outcome]) -> ScanResult:
        directives = Directives(
            rebase=frozenset(o.rebase for o in outcomes if o.rebase),
            recreate=frozenset(o.recreate for o in outcomes if o.recreate),
            split=frozenset(o.split for o in outcomes if o.split),
        )
        reason = "commands: " + ", ".join(o.command for o in outcomes if o.scan)
        return scan_held(
            self.settings, self.redis, self.gh, self.record, reason=reason, delivery=self.event.delivery,
            directives=directives,
        )  # fmt: skip

    def reply(self, outcomes: list[Outcome], keys: list[str]) -> None:
        if self.settings.dry_run:
            return
        tag = "<!-- depup:reply " + hashlib.sha256(
            f"{self.event.comment_id}:{'|'.join(keys)}".encode()
        ).hexdigest()[:16] + " -->"  # fmt: skip
        comments = json_body(
            self.gh.rest.issues.list_comments(self.record.owner, self.record.name, self.event.number, per_page=100)
        )
        if any(tag in str(c.get("body") or "") for c in comments):
            return
        lines = [f"@{self.event.login}"]
        lines.extend(f"- {'✅' if o.ok else '⚠️'} `{o.command or 'invalid'}`: {o.text}" for o in outcomes)
        if any(not o.command for o in outcomes):
            lines.extend(["", f"<details><summary>depup commands</summary>\n\n{help_text()}\n\n</details>"])
        body = "\n".join(lines) + "\n\n" + tag
        self.gh.rest.issues.create_comment(self.record.owner, self.record.name, self.event.number, body=body)

    def audit(self, item: Command | Invalid, outcome: Outcome) -> None:
        if isinstance(item, Invalid):
            action = "command_invalid"
        elif outcome.ok:
            action = f"command_{item.name}"
        else:
            action = "command_refused"
        target = f"#{self.event.number}"
        why = f"{outcome.command or item.text}: {outcome.text or 'done'}"
        audit.record(
            self.redis, self.record.full_name, actor=self.event.login, action=action, target=target,
            why=why[:300], delivery=self.event.delivery,
        )  # fmt: skip


_HELP_HINT = "See the commands below."


def _finish(outcome: Outcome, result: ScanResult | None) -> Outcome:
    """The answer completed with what the scan did."""
    if result is None or not outcome.finish:
        return outcome
    text = outcome.text
    if outcome.finish == "approved":
        text += (
            f" depup merged it (#{outcome.pr})." if outcome.pr in result.merged
            else " depup merges it once CI is green on its head."
        )  # fmt: skip
    elif outcome.finish == "rebased":
        branch = outcome.rebase or outcome.recreate
        head = result.rebased.get(branch)
        if head is None:
            why = "; ".join(result.errors[-3:]) or "it is no longer proposed (see the dashboard)"
            return replace(outcome, text=f"depup could not rebuild `{branch}`: {why}", ok=False)
        text = f"`{branch}` is {head[:7]}, one commit on the default branch's {result.head[:7]}."
    elif outcome.finish == "split":
        if outcome.pr not in result.closed:
            return replace(outcome, text="depup could not split it (see the dashboard).", ok=False)
        opened = ", ".join(f"#{n}" for n in result.opened) or "none yet (the limit of open pull requests)"
        text = f"split in two; the parts: {opened}."
    elif outcome.finish == "plan":
        text = (
            f"the dashboard #{result.dashboard} is up to date: plan {result.plan}, current phase "
            f"{result.phase or 'none'}."
        )
    elif outcome.finish in ("opened", "resumed") and result.opened:
        text += " Opened: " + ", ".join(f"#{n}" for n in result.opened) + "."
    elif outcome.finish == "closed" and result.closed:
        text += " Closed: " + ", ".join(f"#{n}" for n in result.closed) + "."
    return replace(outcome, text=text)


def _version_problem(ecosystem: str, version: str) -> str | None:
    python_ok = npm_ok = True
    try:
        SpecifierSet(version if version[0] in "<>=!~" else f"=={version}")
    except InvalidSpecifier:
        python_ok = False
    npm_ok = semver.valid_range(version) is not None
    if (ecosystem == "python" and not python_ok) or (ecosystem == "npm" and not npm_ok) or not (python_ok or npm_ok):
        return f"`{version}` is not a version or version range depup understands."
    return None
