"""``/depup`` commands end to end: a comment on the fake GitHub -> signed webhook -> web -> worker -> the
command's effect on GitHub, with a reaction and one reply. Every command is tried by an authorised user, a
read-only user, an outside user, depup itself, another bot, and on an issue that is not a depup PR."""

from __future__ import annotations

import json

import pytest

from bot import audit
from bot.lifecycle.state import DASHBOARD_LABEL
from bot.process.cli import main
from tests.fakegithub import FakeGitHub
from tests.support.harness import Depup

REPO = "octo-org/cmds"
CONFIG = """\
min_release_age: 0
security: {audit: false}
max_open_prs: 10
risk: {high_at: 99}
groups:
  - {name: all, match: {}}
phases:
  - {name: all, title: Everything, match: {}, approvals: 2}
automerge: {enabled: true, max_risk: high, method: squash}
commands: {allowed: [carol]}
"""
REQUIREMENTS = "click==7.0\nidna==2.10\n"
BRANCH = "depup/python/all-all"
WRITER, SECOND, READER, OUTSIDER, LISTED, OTHER_BOT = "maint", "maint2", "reader", "outsider", "carol", "renovate[bot]"


def install(depup: Depup, config: str = CONFIG) -> tuple[FakeGitHub, int]:
    fake = depup.fake
    fake.create_repo(REPO, files={"requirements.txt": REQUIREMENTS, ".github/depup.yml": config})
    fake.set_permission(REPO, WRITER, "write")
    fake.set_permission(REPO, SECOND, "maintain")
    fake.set_permission(REPO, READER, "read")
    fake.set_permission(REPO, LISTED, "triage")
    fake.add_user(OUTSIDER)
    fake.add_user(OTHER_BOT, type="Bot")
    fake.create_installation(account="octo-org", repos=[REPO])
    depup.run_worker()
    [pull] = fake.pulls(REPO)
    return fake, pull.number


def say(depup: Depup, number: int, login: str, body: str) -> str | None:
    """Comment as ``login``; depup's reply to it, or None when it did not answer."""
    fake = depup.fake
    before = {c.id for c in fake.comments(REPO, number)}
    comment = fake.comment(REPO, number, login, body)
    depup.run_worker()
    replies = [c.body for c in fake.comments(REPO, number) if c.id not in before and "<!-- depup:reply" in c.body]
    assert len(replies) <= 1
    reactions = [r.content for r in comment.reactions]
    if replies:
        assert reactions == ["eyes"]
    return replies[0] if replies else None


REFUSED = "only people with write, maintain or admin access to octo-org/cmds"
ANSWER_WRITES = {"reactions/create-for-issue-comment", "issues/create-comment"}


def writes_since(fake: FakeGitHub, count: int) -> set[str]:
    return {c.operation_id for c in fake.writes()[count:]}


def check(fake: FakeGitHub, branch: str = BRANCH, head: str | None = None) -> tuple[str, str | None, str]:
    head = head or fake.branch_sha(REPO, branch)
    assert head is not None
    [run] = [c for c in fake.check_runs(REPO, head) if c.name == "depup/approval"]
    return run.status, run.conclusion, str(run.output.get("summary"))


def dashboard_body(fake: FakeGitHub) -> str:
    [issue] = [i for i in fake.issues(REPO) if DASHBOARD_LABEL in [label.name for label in i.labels]]
    return issue.body or ""


def plain_issue(fake: FakeGitHub) -> int:
    return fake.create_issue(REPO, "Unrelated bug", "Something is off", by=WRITER).number


def refused_everywhere(depup: Depup, number: int, command: str, *, pull_only: bool) -> None:
    """Nobody but an authorised user gets ``command`` to do anything; bots are not even answered."""
    fake = depup.fake
    before = len(fake.writes())
    for login in (READER, OUTSIDER):
        reply = say(depup, number, login, command)
        assert reply is not None and REFUSED in reply and "Nothing was changed." in reply, reply
        assert f"@{login}" in reply
    for bot in (f"{fake.app.slug}[bot]", OTHER_BOT):
        assert say(depup, number, bot, command) is None
    assert writes_since(fake, before) <= ANSWER_WRITES  # a reaction and a reply, nothing else
    if pull_only:
        issue = plain_issue(fake)
        reply = say(depup, issue, WRITER, command)
        assert reply is not None and "works on depup's own pull requests only" in reply
        assert writes_since(fake, before) <= ANSWER_WRITES
    entries = audit.latest(depup.redis, REPO, 50)
    assert any(e.action == "command_refused" and e.actor == READER for e in entries)


def ci_green(fake: FakeGitHub, branch: str = BRANCH) -> str:
    head = fake.branch_sha(REPO, branch)
    assert head is not None
    fake.set_status(REPO, head, context="ci/test", state="success")
    return head


def test_two_approvals_merge_with_automerge_and_the_same_approver_counts_once(depup: Depup) -> None:
    fake, number = install(depup)
    refused_everywhere(depup, number, "/depup approve", pull_only=True)
    assert check(fake)[:2] == ("in_progress", None)
    head = ci_green(fake)
    depup.run_worker()

    reply = say(depup, number, WRITER, "/depup approve")
    assert reply is not None and "approval recorded: 1 of 2 approvals (@maint). 1 more approval needed." in reply
    status, conclusion, summary = check(fake)
    assert (status, conclusion) == ("in_progress", None) and "1 of 2 approvals (@maint)" in summary
    assert fake.pull(REPO, number).state == "open"

    reply = say(depup, number, WRITER, "/DePuP approve")
    assert reply is not None and "already counts: 1 of 2 approvals (@maint)" in reply
    assert "1 of 2" in check(fake)[2] and fake.pull(REPO, number).state == "open"

    reply = say(depup, number, LISTED, "Looks fine.\n/depup approve")  # named in commands.allowed
    assert reply is not None and "approved: 2 of 2 approvals (@maint, @carol)" in reply
    assert f"depup merged it (#{number})" in reply
    assert check(fake, head=head)[:2] == ("completed", "success")
    assert fake.pull(REPO, number).merged
    actions = [(e.actor, e.action) for e in audit.latest(depup.redis, REPO, 50)]
    assert (WRITER, "command_approve") in actions and (LISTED, "command_approve") in actions
    assert ("depup", "pr_merged") in actions


def test_approval_without_automerge_turns_the_check_green_for_a_human(depup: Depup) -> None:
    fake, number = install(depup, CONFIG.replace("automerge: {enabled: true", "automerge: {enabled: false"))
    say(depup, number, WRITER, "/depup approve")
    reply = say(depup, number, SECOND, "/depup approve")
    assert reply is not None and "The `depup/approval` check is green: a maintainer can merge it." in reply
    assert check(fake)[:2] == ("completed", "success") and fake.pull(REPO, number).state == "open"


def test_a_new_commit_resets_approvals_and_says_so(depup: Depup) -> None:
    fake, number = install(depup)
    say(depup, number, WRITER, "/depup approve")
    old_head = fake.branch_sha(REPO, BRANCH)
    fake.push(REPO, "main", {"README.md": "# cmds\n"}, author=WRITER)
    depup.run_worker()
    reply = say(depup, number, SECOND, "/depup rebase")
    new_head = fake.branch_sha(REPO, BRANCH)
    assert new_head != old_head and reply is not None and f"`{BRANCH}` is {new_head[:7]}" in reply  # type: ignore[index]
    notes = [c.body for c in fake.comments(REPO, number) if "no longer count" in c.body]
    assert len(notes) == 1 and "(@maint) no longer count" in notes[0] and "needs 2 approvals again" in notes[0]
    assert check(fake)[:2] == ("in_progress", None) and "0 of 2 approvals" in check(fake)[2]
    reply = say(depup, number, WRITER, "/depup approve")  # counts again, on the new commit
    assert reply is not None and "1 of 2 approvals (@maint)" in reply


def test_the_author_of_a_pull_request_cannot_approve_it(depup: Depup) -> None:
    fake, number = install(depup)
    body = fake.pull(REPO, number).body
    fake.push(REPO, "depup/python/by-hand", {"requirements.txt": "click==7.1.2\nidna==2.10\n"}, author=WRITER)
    mine = fake.open_pull(REPO, "depup/python/by-hand", title="by hand", body=body, by=WRITER)
    reply = say(depup, mine.number, WRITER, "/depup approve")
    assert reply is not None and "the author of a pull request cannot approve it" in reply


def test_rebase_and_recreate(depup: Depup) -> None:
    fake, number = install(depup)
    refused_everywhere(depup, number, "/depup rebase", pull_only=True)
    refused_everywhere(depup, number, "/depup recreate", pull_only=True)
    head = fake.branch_sha(REPO, BRANCH)
    reply = say(depup, number, WRITER, "/depup rebase")
    assert reply is not None and f"`{BRANCH}` is {head[:7]}" in reply  # type: ignore[index]  # nothing to do
    assert fake.branch_sha(REPO, BRANCH) == head

    fake.push(REPO, BRANCH, {"notes.txt": "mine\n"}, author=WRITER)  # someone else's commit: hands off
    depup.run_worker()
    reply = say(depup, number, WRITER, "/depup rebase")
    assert reply is not None and "`/depup recreate` starts it over" in reply
    reply = say(depup, number, SECOND, "/depup recreate")
    recreated = fake.branch_sha(REPO, BRANCH)
    assert reply is not None and recreated is not None and f"`{BRANCH}` is {recreated[:7]}" in reply
    assert fake.read_text(REPO, BRANCH, "notes.txt") is None
    assert fake.read_text(REPO, BRANCH, "requirements.txt") == "click==7.1.2\nidna==3.20\n"
    assert "edited by someone else" not in dashboard_body(fake)


def test_split(depup: Depup) -> None:
    fake, number = install(depup)
    refused_everywhere(depup, number, "/depup split", pull_only=True)
    reply = say(depup, number, WRITER, "/depup split")
    assert fake.pull(REPO, number).state == "closed"
    parts = {p.title.split(" (split of")[0]: p.number for p in fake.pulls(REPO)}
    assert sorted(parts) == ["Upgrade click from 7.0 to 7.1.2", "Upgrade idna from 2.10 to 3.20"]
    assert reply is not None and "split in two; the parts:" in reply
    assert all(f"#{n}" in reply for n in parts.values())
    reply = say(depup, parts["Upgrade click from 7.0 to 7.1.2"], WRITER, "/depup split")
    assert reply is not None and "carries one upgrade: there is nothing to split" in reply


def test_pause_stops_merges_and_pull_requests_until_resume(depup: Depup) -> None:
    fake, number = install(depup)
    refused_everywhere(depup, number, "/depup pause", pull_only=False)
    issue = plain_issue(fake)
    reply = say(depup, issue, WRITER, "/depup pause")  # a repository command: any issue will do
    assert reply is not None and "depup is paused in this repository" in reply
    assert "**depup is paused**" in dashboard_body(fake)
    assert say(depup, issue, SECOND, "/depup pause") is not None  # says it already is

    ci_green(fake)
    say(depup, number, WRITER, "/depup approve")
    reply = say(depup, number, SECOND, "/depup approve")
    assert reply is not None and "depup is paused, so it does not merge it itself" in reply
    assert fake.pull(REPO, number).state == "open"
    # A new dependency does not reach the open PR while paused.
    fake.push(REPO, "main", {"requirements.txt": REQUIREMENTS + "six==1.15.0\n"}, author=WRITER)
    depup.run_worker()
    assert "six" not in (fake.read_text(REPO, BRANCH, "requirements.txt") or "")
    assert [p.number for p in fake.pulls(REPO)] == [number]

    refused_everywhere(depup, number, "/depup resume", pull_only=False)
    reply = say(depup, number, WRITER, "/depup resume")
    assert reply is not None and "depup is running again." in reply
    assert "**depup is paused**" not in dashboard_body(fake)
    assert "six==" in (fake.read_text(REPO, BRANCH, "requirements.txt") or "")
    actions = [e.action for e in audit.latest(depup.redis, REPO, 50)]
    assert "command_pause" in actions and "command_resume" in actions


def test_ignore_and_unignore(depup: Depup) -> None:
    fake, number = install(depup)
    refused_everywhere(depup, number, "/depup ignore idna", pull_only=False)
    refused_everywhere(depup, number, "/depup unignore idna", pull_only=False)
    reply = say(depup, number, WRITER, "/depup ignore idna major")
    assert reply is not None and "depup will not propose major updates of `idna` any more" in reply
    assert fake.read_text(REPO, BRANCH, "requirements.txt") == "click==7.1.2\nidna==2.10\n"
    assert "## Ignored by command" in dashboard_body(fake) and "`idna` (python): major updates" in dashboard_body(fake)

    reply = say(depup, number, WRITER, "/depup ignore click banana")
    assert reply is not None and "`banana` is neither `major`, `minor` nor a version" in reply

    reply = say(depup, plain_issue(fake), SECOND, "/depup unignore idna")
    assert reply is not None and "depup proposes `idna` again (1 ignore lifted)" in reply
    assert fake.read_text(REPO, BRANCH, "requirements.txt") == "click==7.1.2\nidna==3.20\n"
    reply = say(depup, number, SECOND, "/depup unignore idna")
    assert reply is not None and "depup had not ignored `idna`" in reply


def test_plan_refreshes_the_dashboard(depup: Depup) -> None:
    fake, number = install(depup)
    refused_everywhere(depup, number, "/depup plan", pull_only=False)
    dashboard = next(i for i in fake.issues(REPO) if DASHBOARD_LABEL in [label.name for label in i.labels])
    reply = say(depup, dashboard.number, WRITER, "/depup plan")
    assert reply is not None and f"the dashboard #{dashboard.number} is up to date: plan " in reply
    assert "current phase all" in reply


def test_help_and_unknown_commands_are_answered_for_anyone_but_bots(depup: Depup) -> None:
    fake, number = install(depup)
    for login in (OUTSIDER, READER, WRITER):
        reply = say(depup, number, login, "/depup help")
        assert reply is not None and "`/depup ignore <package> [major|minor|<version>]`" in reply
    reply = say(depup, plain_issue(fake), OUTSIDER, "/depup frobnicate")
    assert reply is not None and "`frobnicate` is not a depup command" in reply and "<summary>depup commands" in reply
    assert say(depup, number, OTHER_BOT, "/depup help") is None
    assert say(depup, number, f"{fake.app.slug}[bot]", "/depup help") is None
    reply = say(depup, number, WRITER, "```\n/depup pause\n```\n> /depup pause\n`/depup pause`")
    assert reply is None and "**depup is paused**" not in dashboard_body(fake)


def test_several_commands_run_in_order_and_edits_run_only_new_ones_once(depup: Depup) -> None:
    fake, number = install(depup)
    comment = fake.comment(REPO, number, WRITER, "/depup approve\n/depup ignore click minor\n/depup nope")
    depup.run_worker()
    [reply] = [c.body for c in fake.comments(REPO, number) if "<!-- depup:reply" in c.body]
    lines = [line for line in reply.splitlines() if line.startswith("- ")]
    assert "`/depup approve`" in lines[0] and "`/depup ignore click minor`" in lines[1] and "nope" in lines[2]
    assert "1 of 2 approvals (@maint)" in reply

    fake.edit_comment(REPO, comment.id, comment.body + "\n/depup pause")
    depup.run_worker()
    replies = [c.body for c in fake.comments(REPO, number) if "<!-- depup:reply" in c.body]
    assert len(replies) == 2 and "`/depup pause`" in replies[1] and "approve" not in replies[1]
    fake.edit_comment(REPO, comment.id, comment.body + "\nThanks!")  # nothing new: nothing runs, no reply
    depup.run_worker()
    for delivery in fake.events("issue_comment"):
        fake.redeliver(delivery.delivery_id)
    depup.run_worker()
    assert len([c for c in fake.comments(REPO, number) if "<!-- depup:reply" in c.body]) == 2
    assert [e.action for e in audit.latest(depup.redis, REPO, 50)].count("command_approve") == 1


def test_commands_on_a_pull_request_that_is_not_depups(depup: Depup) -> None:
    fake, _ = install(depup)
    fake.push(REPO, "feature", {"app.py": "print(1)\n"}, author=WRITER)
    theirs = fake.open_pull(REPO, "feature", title="A feature", by=WRITER)
    for command in ("/depup approve", "/depup rebase", "/depup recreate", "/depup split"):
        reply = say(depup, theirs.number, SECOND, command)
        assert reply is not None and "works on depup's own pull requests only" in reply


def test_the_audit_log_records_who_what_why_and_depup_audit_prints_it(
    depup: Depup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, number = install(depup)
    say(depup, number, READER, "/depup pause")
    say(depup, number, WRITER, "/depup pause")
    [delivery] = [d.delivery_id for d in fake.events("issue_comment") if d.payload["sender"]["login"] == WRITER]
    monkeypatch.setenv("REDIS_URL", depup.settings.redis_url)
    capsys.readouterr()
    assert main(["audit", REPO, "--json"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert entries[0]["actor"] == WRITER and entries[0]["action"] == "command_pause"
    assert entries[0]["delivery"] == delivery and entries[0]["target"] == f"#{number}"
    assert entries[1]["actor"] == READER and entries[1]["action"] == "command_refused"
    assert "only people with write" in entries[1]["why"]
    assert {"pr_opened"} <= {e["action"] for e in entries}
    assert all(e["at"].endswith("Z") for e in entries)
    assert main(["audit", REPO, "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "command_pause" in out and f"[delivery {delivery}]" in out
    assert "command_pause" in dashboard_body(fake)  # the dashboard shows the latest entries
    assert main(["audit", "not-a-repo"]) == 1


def test_a_failed_reply_is_retried_without_running_the_command_again(depup: Depup) -> None:
    fake, number = install(depup)
    fake.inject("issues/create-comment", kind="status", status=502, times=1)
    fake.comment(REPO, number, WRITER, "/depup approve")
    depup.run_worker()
    [reply] = [c.body for c in fake.comments(REPO, number) if "<!-- depup:reply" in c.body]
    assert "approval recorded: 1 of 2 approvals (@maint)" in reply
    assert [e.action for e in audit.latest(depup.redis, REPO, 50)].count("command_approve") == 1
    assert "1 of 2" in check(fake)[2]


def test_the_first_scan_lists_the_new_pull_request_among_pending_approvals(depup: Depup) -> None:
    fake, number = install(depup)
    body = dashboard_body(fake)
    assert "## Pending approvals" in body and f"#{number} needs 2 more approvals (0 of 2 approvals)" in body
