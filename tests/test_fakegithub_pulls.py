"""Pull requests, issues, comments, labels and reactions through githubkit against the fake."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from githubkit.exception import RequestFailed

from tests.fakegithub import FakeGitHub
from tests.fakegithub.clients import installation_client

OWNER, NAME = "octo-org", "app"
REPO = f"{OWNER}/{NAME}"
REQS = "alembic==1.0\nclick==7.0\nflask==1.0\njinja2==2.0\nrequests==2.0\nsqlalchemy==1.3\n"


@pytest.fixture
def gh(fake_github: FakeGitHub):  # type: ignore[no-untyped-def]
    fake_github.create_repo(REPO, files={"requirements.txt": REQS, "web/package.json": "{}\n"})
    inst = fake_github.create_installation(OWNER, [REPO])
    return installation_client(fake_github, inst.id)


def branch_with(fake: FakeGitHub, branch: str, files: dict[str, str | None], base: str = "main") -> str:
    fake.create_branch(REPO, branch, base, emit=False)
    return fake.push(REPO, branch, files, message=f"change on {branch}", emit=False)


def test_create_get_list_and_duplicate(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    head = branch_with(fake_github, "depup/pip/low", {"requirements.txt": REQS.replace("flask==1.0", "flask==1.1")})
    pr = gh.rest.pulls.create(
        OWNER, NAME, title="Upgrade flask", head="depup/pip/low", base="main", body="<!-- depup -->"
    ).parsed_data
    assert pr.number == 1 and pr.user.login == "depup[bot]" and pr.head.sha == head and pr.head.ref == "depup/pip/low"
    assert pr.base.ref == "main" and pr.base.repo.full_name == REPO and not pr.draft
    got = gh.rest.pulls.get(OWNER, NAME, 1).parsed_data
    assert got.mergeable is True and got.mergeable_state == "clean" and got.changed_files == 1
    with pytest.raises(RequestFailed) as dup:
        gh.rest.pulls.create(OWNER, NAME, title="again", head=f"{OWNER}:depup/pip/low", base="main")
    assert dup.value.response.status_code == 422
    assert "A pull request already exists for octo-org:depup/pip/low." in dup.value.response.text
    fake_github.create_branch(REPO, "empty", emit=False)
    with pytest.raises(RequestFailed) as empty:
        gh.rest.pulls.create(OWNER, NAME, title="nothing", head="empty", base="main")
    assert "No commits between main and empty" in empty.value.response.text
    with pytest.raises(RequestFailed) as missing:
        gh.rest.pulls.create(OWNER, NAME, title="missing", head="nope", base="main")
    assert missing.value.response.status_code == 422

    by_head = gh.rest.pulls.list(OWNER, NAME, head=f"{OWNER}:depup/pip/low", state="open").parsed_data
    assert [p.number for p in by_head] == [1]
    assert gh.rest.pulls.list(OWNER, NAME, head=f"{OWNER}:other").parsed_data == []
    issues = gh.rest.issues.list_for_repo(OWNER, NAME).parsed_data
    assert [i.number for i in issues] == [1] and issues[0].pull_request is not None
    assert [p.number for p in fake_github.pulls(REPO)] == [1]


def test_numbers_shared_with_issues_and_issue_features(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    issue = gh.rest.issues.create(OWNER, NAME, title="Dependency dashboard", body="...", labels=["depup"]).parsed_data
    assert issue.number == 1 and [lb.name for lb in issue.labels] == ["depup"]
    branch_with(fake_github, "depup/x", {"a.txt": "a\n"})
    pr = gh.rest.pulls.create(OWNER, NAME, title="t", head="depup/x", base="main").parsed_data
    assert pr.number == 2
    labels = gh.rest.issues.add_labels(OWNER, NAME, 2, labels=["dependencies", "depup"]).parsed_data
    assert sorted(lb.name for lb in labels) == ["dependencies", "depup"]
    assert fake_github.labels_of(REPO, 2) == ["dependencies", "depup"]
    remaining = gh.rest.issues.remove_label(OWNER, NAME, 2, "dependencies").parsed_data
    assert [lb.name for lb in remaining] == ["depup"]
    with pytest.raises(RequestFailed) as no_label:
        gh.rest.issues.remove_label(OWNER, NAME, 2, "nope")
    assert no_label.value.response.status_code == 404
    created = gh.rest.issues.create_label(OWNER, NAME, name="depup/high-risk", color="b60205").parsed_data
    assert created.color == "b60205"
    filtered = gh.rest.issues.list_for_repo(OWNER, NAME, labels="depup", state="all").parsed_data
    assert sorted(i.number for i in filtered) == [1, 2]
    assert gh.rest.issues.list_for_repo(OWNER, NAME, creator="alice").parsed_data == []
    got = gh.rest.issues.get(OWNER, NAME, 2).parsed_data
    assert got.pull_request is not None
    closed = gh.rest.issues.update(OWNER, NAME, 1, state="closed", state_reason="not_planned", body="gone").parsed_data
    assert (closed.state, closed.state_reason, closed.body) == ("closed", "not_planned", "gone")
    assert gh.rest.issues.update(OWNER, NAME, 1, state="open").parsed_data.state_reason == "reopened"


def test_comments_and_reactions(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.set_permission(REPO, "alice", "write")
    issue = fake_github.create_issue(REPO, "dashboard")
    human = fake_github.comment(REPO, issue.number, "alice", "/depup approve")
    mine = gh.rest.issues.create_comment(OWNER, NAME, issue.number, body="On it").parsed_data
    assert mine.user.login == "depup[bot]" and mine.performed_via_github_app is not None
    comments = gh.rest.issues.list_comments(OWNER, NAME, issue.number).parsed_data
    assert [(c.user.login, c.author_association) for c in comments] == [("alice", "MEMBER"), ("depup[bot]", "NONE")]
    edited = gh.rest.issues.update_comment(OWNER, NAME, mine.id, body="Done").parsed_data
    assert edited.body == "Done"
    first = gh.rest.reactions.create_for_issue_comment(OWNER, NAME, human.id, content="eyes")
    second = gh.rest.reactions.create_for_issue_comment(OWNER, NAME, human.id, content="eyes")
    assert (first.status_code, second.status_code) == (201, 200) and first.parsed_data.id == second.parsed_data.id
    assert gh.rest.reactions.create_for_issue(OWNER, NAME, issue.number, content="rocket").status_code == 201
    listed = gh.rest.issues.list_comments(OWNER, NAME, issue.number).parsed_data
    assert listed[0].reactions.eyes == 1


def test_pagination_with_link_header(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    for i in range(7):
        fake_github.create_issue(REPO, f"issue {i}")
    first = gh.rest.issues.list_for_repo(OWNER, NAME, per_page=3)
    assert 'rel="next"' in first.headers["link"] and 'rel="last"' in first.headers["link"]
    numbers = [i.number for i in gh.rest.paginate(gh.rest.issues.list_for_repo, owner=OWNER, repo=NAME, per_page=3)]
    assert sorted(numbers) == list(range(1, 8)) and len(numbers) == 7
    assert fake_github.count("issues/list-for-repo") == 1 + 3


def test_clean_merge_moves_base_and_reports_merged(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    head = branch_with(fake_github, "depup/a", {"requirements.txt": REQS.replace("flask==1.0", "flask==3.1")})
    gh.rest.pulls.create(OWNER, NAME, title="Upgrade flask", head="depup/a", base="main")
    with pytest.raises(RequestFailed) as moved:
        gh.rest.pulls.merge(OWNER, NAME, 1, sha="0" * 40)
    assert moved.value.response.status_code == 409
    assert moved.value.response.json()["message"] == "Head branch was modified. Review and try the merge again."
    merged = gh.rest.pulls.merge(OWNER, NAME, 1, sha=head, merge_method="merge").parsed_data
    assert merged.merged is True
    commit = fake_github.repo(REPO).store.commit(merged.sha)
    assert len(commit.parents) == 2 and commit.parents[1] == head
    assert fake_github.branch_sha(REPO, "main") == merged.sha
    response = gh.rest.pulls.get(OWNER, NAME, 1)
    pr = response.parsed_data
    assert (pr.state, pr.merged, pr.merged_by.login) == ("closed", True, "depup[bot]")
    assert pr.merged_at is not None
    # API version 2026-03-10 (githubkit's models) dropped merge_commit_sha; the 2022-11-28 body has it
    assert response.json()["merge_commit_sha"] == merged.sha
    with pytest.raises(RequestFailed) as twice:
        gh.rest.pulls.merge(OWNER, NAME, 1)
    assert twice.value.response.status_code == 405


def test_line_level_three_way_merge_with_git_merge_file(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    branch_with(fake_github, "depup/b", {"requirements.txt": REQS.replace("alembic==1.0", "alembic==1.13")})
    fake_github.push(REPO, "main", {"requirements.txt": REQS.replace("sqlalchemy==1.3", "sqlalchemy==2.0")})
    gh.rest.pulls.create(OWNER, NAME, title="Upgrade alembic", head="depup/b", base="main")
    assert gh.rest.pulls.get(OWNER, NAME, 1).parsed_data.mergeable_state == "clean"
    sha = gh.rest.pulls.merge(OWNER, NAME, 1, merge_method="squash").parsed_data.sha
    text = fake_github.read_text(REPO, "main", "requirements.txt")
    assert text == REQS.replace("alembic==1.0", "alembic==1.13").replace("sqlalchemy==1.3", "sqlalchemy==2.0")
    squash = fake_github.repo(REPO).store.commit(sha)
    assert len(squash.parents) == 1 and squash.message.startswith("Upgrade alembic (#1)")


def test_conflict_is_dirty_and_merge_answers_405(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    branch_with(fake_github, "depup/c", {"requirements.txt": REQS.replace("flask==1.0", "flask==3.1")})
    gh.rest.pulls.create(OWNER, NAME, title="Upgrade flask", head="depup/c", base="main")
    fake_github.push(REPO, "main", {"requirements.txt": REQS.replace("flask==1.0", "flask==2.0")})
    pr = gh.rest.pulls.get(OWNER, NAME, 1).parsed_data
    assert (pr.mergeable, pr.mergeable_state) == (False, "dirty")
    with pytest.raises(RequestFailed) as conflict:
        gh.rest.pulls.merge(OWNER, NAME, 1)
    assert conflict.value.response.status_code == 405
    assert conflict.value.response.json()["message"] == "Pull Request is not mergeable"


def test_rebase_replays_each_commit(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    branch_with(fake_github, "depup/d", {"a.txt": "a\n"})
    fake_github.push(REPO, "depup/d", {"b.txt": "b\n"}, emit=False)
    fake_github.push(REPO, "main", {"c.txt": "c\n"})
    gh.rest.pulls.create(OWNER, NAME, title="two commits", head="depup/d", base="main")
    assert len(gh.rest.pulls.list_commits(OWNER, NAME, 1).parsed_data) == 2
    files = gh.rest.pulls.list_files(OWNER, NAME, 1).parsed_data
    assert sorted(f.filename for f in files) == ["a.txt", "b.txt"]
    sha = gh.rest.pulls.merge(OWNER, NAME, 1, merge_method="rebase").parsed_data.sha
    store = fake_github.repo(REPO).store
    tip = store.commit(sha)
    assert len(tip.parents) == 1 and store.commit(tip.parents[0]).message == "change on depup/d"
    assert [fake_github.read_file(REPO, "main", p) for p in ("a.txt", "b.txt", "c.txt")] == [b"a\n", b"b\n", b"c\n"]


def test_update_request_reviewers_and_human_merge(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.set_permission(REPO, "alice", "maintain")
    branch_with(fake_github, "depup/e", {"a.txt": "a\n"})
    gh.rest.pulls.create(OWNER, NAME, title="old", head="depup/e", base="main")
    updated = gh.rest.pulls.update(OWNER, NAME, 1, title="new", body="body").parsed_data
    assert (updated.title, updated.body) == ("new", "body")
    reviewed = gh.rest.pulls.request_reviewers(OWNER, NAME, 1, reviewers=["alice"]).parsed_data
    assert [u.login for u in reviewed.requested_reviewers] == ["alice"]
    sha = fake_github.merge_pull(REPO, 1, by="alice", method="merge")
    pr = gh.rest.pulls.get(OWNER, NAME, 1).parsed_data
    assert pr.merged and pr.merged_by.login == "alice"
    assert gh.rest.pulls.get(OWNER, NAME, 1).json()["merge_commit_sha"] == sha
    branch_with(fake_github, "depup/f", {"f.txt": "f\n"})
    gh.rest.pulls.create(OWNER, NAME, title="close me", head="depup/f", base="main")
    assert gh.rest.pulls.update(OWNER, NAME, 2, state="closed").parsed_data.state == "closed"
    assert [p.number for p in gh.rest.pulls.list(OWNER, NAME, state="closed").parsed_data] == [2, 1]


def test_mergeability_lag_reports_unknown_first(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.mergeability_lag = 1
    branch_with(fake_github, "depup/g", {"a.txt": "a\n"})
    gh.rest.pulls.create(OWNER, NAME, title="t", head="depup/g", base="main")
    first = gh.rest.pulls.get(OWNER, NAME, 1).parsed_data
    second = gh.rest.pulls.get(OWNER, NAME, 1).parsed_data
    assert (first.mergeable, first.mergeable_state) == (None, "unknown")
    assert (second.mergeable, second.mergeable_state) == (True, "clean")


def test_concurrent_writes_get_distinct_numbers(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    inst = fake_github.world.installation_for(fake_github.repo(REPO))
    assert inst is not None
    clients = [installation_client(fake_github, inst.id) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [
            pool.submit(lambda i: clients[i % 4].rest.issues.create(OWNER, NAME, title=f"t{i}").parsed_data.number, i)
            for i in range(24)
        ]
        numbers = sorted(f.result() for f in futures)
    assert numbers == list(range(1, 25))
    assert len(fake_github.issues(REPO)) == 24
