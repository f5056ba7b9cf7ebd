"""True reverts of merged upgrades, built through the git data API of the fake GitHub."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from redis import Redis

from bot.github.client import GitHubClients, InstallationClient
from bot.lifecycle.pulls import BOT_AUTHOR
from bot.repos.registry import RepoRecord
from bot.rollback import Revert, RevertRefused, build_revert, push_revert
from bot.rollback.revert import three_way_merge
from tests.fakegithub import FakeGitHub
from tests.support.harness import settings_for

REPO = "acme/app"
REQUIREMENTS = "flask==2.0.1\nclick==8.0.0\nitsdangerous==2.0.0\njinja2==3.0.0\nrequests==2.30.0\n"
PACKAGE = '{\n  "name": "app",\n  "dependencies": {\n    "react": "^17.0.2"\n  }\n}\n'
LOCK = '{\n  "name": "app",\n  "lockfileVersion": 3,\n  "packages": {\n    "node_modules/react": {\n      "version": "17.0.2"\n    }\n  }\n}\n'  # noqa: E501
PACKAGE_UP = PACKAGE.replace("^17.0.2", "^18.3.1")
LOCK_UP = LOCK.replace("17.0.2", "18.3.1")
GIT_WRITES = ("git/create-blob", "git/create-tree", "git/create-commit", "git/create-ref", "git/update-ref")


@dataclass
class Env:
    fake: FakeGitHub
    gh: InstallationClient
    record: RepoRecord

    def upgrade(
        self, files: Mapping[str, str | bytes | None], *, method: str = "squash", branch: str = "depup/x"
    ) -> str:
        """A depup-like pull request with ``files`` merged into main; the merge commit's SHA."""
        self.fake.push(
            REPO, branch, files, message="Upgrade react from 17.0.2 to 18.3.1", author="depup[bot]", emit=False
        )
        pull = self.fake.open_pull(REPO, branch, title="Upgrade react from 17.0.2 to 18.3.1", emit=False)
        return self.fake.merge_pull(REPO, pull.number, method=method, emit=False)

    def push(self, files: Mapping[str, str | bytes | None], branch: str = "main") -> str:
        return self.fake.push(REPO, branch, files, message="Someone else's change", emit=False)

    def main(self) -> str:
        sha = self.fake.branch_sha(REPO, "main")
        assert sha is not None
        return sha

    def text(self, ref: str, path: str) -> str | None:
        return self.fake.read_text(REPO, ref, path)

    def git_writes(self) -> list[str]:
        return [str(c.operation_id) for c in self.fake.calls if c.operation_id in GIT_WRITES]


@pytest.fixture
def env(fake_github: FakeGitHub, redis_url: str, redis_client: Redis) -> Env:
    fake_github.add_user("depup[bot]", type="Bot")
    repo = fake_github.create_repo(
        REPO,
        {
            "requirements.txt": REQUIREMENTS,
            "web/package.json": PACKAGE,
            "web/package-lock.json": LOCK,
            "README.md": "# app\n",
            "setup.cfg": "[metadata]\nname = app\n",
        },
    )
    installation = fake_github.create_installation("acme", [REPO], emit=False)
    gh = GitHubClients(settings_for(fake_github, redis_url), redis_client).installation(installation.id)
    return Env(fake_github, gh, RepoRecord(REPO, repo.id, installation.id, "main"))


def _revert(result: Revert | RevertRefused) -> Revert:
    assert isinstance(result, Revert), result
    return result


def _refused(result: Revert | RevertRefused) -> RevertRefused:
    assert isinstance(result, RevertRefused), result
    return result


def test_squash_merged_manifest_and_lockfile_are_reverted_with_few_requests(env: Env) -> None:
    merge = env.upgrade({"web/package.json": PACKAGE_UP, "web/package-lock.json": LOCK_UP})
    onto = env.push({"README.md": "# app\n\nLater docs.\n"})
    env.fake.reset_calls()

    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert revert.files == ("web/package-lock.json", "web/package.json")
    assert revert.merged_files == ()
    assert revert.onto == onto
    assert env.text(revert.commit, "web/package.json") == PACKAGE
    assert env.text(revert.commit, "web/package-lock.json") == LOCK
    assert env.text(revert.commit, "README.md") == "# app\n\nLater docs.\n"  # the later commit is kept
    commit = env.fake.repo(REPO).store.commit(revert.commit)
    assert list(commit.parents) == [onto] and commit.tree == revert.tree
    assert commit.author.name == BOT_AUTHOR
    assert commit.message == f"Revert Upgrade react from 17.0.2 to 18.3.1 (#1)\n\nThis reverts commit {merge}."
    # One commit read, three tree listings, no blob, one tree, one commit; no ref moved.
    counts = {op: env.fake.count(op) for op in ("git/get-commit", "git/get-tree", "git/get-blob")}
    assert counts == {"git/get-commit": 1, "git/get-tree": 3, "git/get-blob": 0}
    assert env.git_writes() == ["git/create-tree", "git/create-commit"]
    assert env.main() == onto


def test_a_merge_commit_is_reverted_against_its_first_parent(env: Env) -> None:
    env.fake.push(REPO, "depup/x", {"requirements.txt": REQUIREMENTS.replace("2.0.1", "3.1.3")}, emit=False)
    pull = env.fake.open_pull(REPO, "depup/x", title="Upgrade flask", emit=False)
    first_parent = env.push({"README.md": "# app\n\nMain moved on before the merge.\n"})
    merge = env.fake.merge_pull(REPO, pull.number, method="merge", emit=False)
    assert len(env.fake.repo(REPO).store.commit(merge).parents) == 2

    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=merge))

    assert revert.files == ("requirements.txt",)  # not README.md: that came through the first parent
    assert env.text(revert.commit, "requirements.txt") == REQUIREMENTS
    assert env.text(revert.commit, "README.md") == env.text(first_parent, "README.md")
    assert env.fake.repo(REPO).store.commit(revert.commit).message.startswith("Revert Merge pull request #1 from")


def test_later_changes_to_other_lines_of_the_same_file_are_kept_by_a_clean_merge(env: Env) -> None:
    merge = env.upgrade({"requirements.txt": REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3")})
    later = REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3").replace("requests==2.30.0", "requests==2.32.3")
    onto = env.push({"requirements.txt": later + "rich==13.0.0\n", "setup.cfg": "[metadata]\nname = app2\n"})
    env.fake.reset_calls()

    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert revert.files == revert.merged_files == ("requirements.txt",)
    expected = REQUIREMENTS.replace("requests==2.30.0", "requests==2.32.3") + "rich==13.0.0\n"
    assert env.text(revert.commit, "requirements.txt") == expected
    assert env.text(revert.commit, "setup.cfg") == "[metadata]\nname = app2\n"
    assert env.fake.count("git/get-blob") == 3  # the file at the upgrade, now, and before


def test_a_conflicting_later_change_refuses_the_whole_revert_and_writes_nothing(env: Env) -> None:
    merge = env.upgrade(
        {"requirements.txt": REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3"), "web/package.json": PACKAGE_UP}
    )
    onto = env.push({"requirements.txt": "# pinned\n" + REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.4")})
    refs = dict(env.fake.repo(REPO).refs)
    env.fake.reset_calls()

    refused = _refused(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert refused.reasons == (
        f"requirements.txt: changed since the upgrade (commit {merge[:7]}..{onto[:7]}) and the revert conflicts "
        "with those changes at lines 1-2",  # git joins the adjacent "# pinned" line into the conflict
    )
    assert env.git_writes() == []
    assert not [c for c in env.fake.writes() if c.operation_id != "apps/create-installation-access-token"]
    assert env.fake.repo(REPO).refs == refs


def test_binary_and_deleted_files_changed_since_are_refused(env: Env) -> None:
    env.push({"logo.bin": b"\x89PNG\0one", "requirements-dev.txt": "pytest==7.0.0\n"})
    merge = env.upgrade({"logo.bin": b"\x89PNG\0two", "requirements-dev.txt": "pytest==8.0.0\n"})
    onto = env.push({"logo.bin": b"\x89PNG\0three", "requirements-dev.txt": None})

    refused = _refused(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert [r.split(":")[0] for r in refused.reasons] == ["logo.bin", "requirements-dev.txt"]
    assert "binary file changed since the upgrade" in refused.reasons[0]
    assert "deleted since the upgrade" in refused.reasons[1]


def test_added_files_are_deleted_and_deleted_files_restored(env: Env) -> None:
    merge = env.upgrade({"uv.lock": "version = 1\n", "web/extra/package.json": "{}\n", "setup.cfg": None})
    onto = env.push({"README.md": "# app\n\nLater.\n"})

    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert revert.files == ("setup.cfg", "uv.lock", "web/extra/package.json")
    assert env.text(revert.commit, "setup.cfg") == "[metadata]\nname = app\n"
    assert env.text(revert.commit, "uv.lock") is None
    assert env.text(revert.commit, "web/extra/package.json") is None
    assert env.text(revert.commit, "web/package.json") == PACKAGE  # the rest of web/ is untouched


def test_an_added_file_changed_since_is_refused(env: Env) -> None:
    merge = env.upgrade({"uv.lock": "version = 1\n"})
    onto = env.push({"uv.lock": "version = 1\n# edited\n"})

    refused = _refused(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert refused.reasons[0].startswith("uv.lock: added by the upgrade and changed since")


def test_paths_limit_the_revert_to_those_files(env: Env) -> None:
    merge = env.upgrade(
        {"requirements.txt": REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3"), "web/package.json": PACKAGE_UP}
    )
    # A conflicting change to a file left out of the revert does not matter.
    onto = env.push({"requirements.txt": REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.4")})

    revert = _revert(
        build_revert(env.gh, env.record, merge_sha=merge, onto=onto, paths=["web/package.json", "README.md"])
    )

    assert revert.files == ("web/package.json",)
    assert env.text(revert.commit, "web/package.json") == PACKAGE
    assert env.text(revert.commit, "requirements.txt") == REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.4")
    none = _refused(build_revert(env.gh, env.record, merge_sha=merge, onto=onto, paths=["README.md"]))
    assert none.reasons == (f"nothing to revert: commit {merge[:7]} did not change the given files",)


def test_nothing_to_revert_when_every_file_is_back(env: Env) -> None:
    merge = env.upgrade({"web/package.json": PACKAGE_UP, "web/package-lock.json": LOCK_UP})
    onto = env.push({"web/package.json": PACKAGE, "web/package-lock.json": LOCK})
    env.fake.reset_calls()

    refused = _refused(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert refused.reasons == (
        f"nothing to revert: every file commit {merge[:7]} changed is back to its earlier version at {onto[:7]}",
    )
    assert env.git_writes() == []


def test_building_twice_gives_the_same_tree_and_the_blob_cache_saves_reads(env: Env, redis_client: Redis) -> None:
    merge = env.upgrade({"requirements.txt": REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3")})
    onto = env.push({"requirements.txt": REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3") + "rich==13.0.0\n"})
    env.fake.reset_calls()

    first = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto, redis=redis_client))
    assert env.fake.count("git/get-blob") == 3
    second = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto, redis=redis_client, message="again"))

    assert env.fake.count("git/get-blob") == 3  # the second build read its blobs from Redis
    assert second.tree == first.tree and second.commit != first.commit
    assert env.text(first.commit, "requirements.txt") == REQUIREMENTS + "rich==13.0.0\n"


def test_push_revert_creates_then_leaves_alone_then_force_updates(env: Env) -> None:
    merge = env.upgrade(
        {"requirements.txt": REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3"), "web/package.json": PACKAGE_UP}
    )
    onto = env.main()
    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))
    branch = "depup/revert/1"

    assert push_revert(env.gh, env.record, branch, revert) == revert.commit
    assert env.fake.branch_sha(REPO, branch) == revert.commit

    # A retried job: another commit object with the same tree and parent leaves the branch alone.
    again = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto, message="Revert, retried"))
    assert again.commit != revert.commit
    env.fake.reset_calls()
    assert push_revert(env.gh, env.record, branch, again) == revert.commit
    assert push_revert(env.gh, env.record, branch, revert) == revert.commit
    assert env.git_writes() == []

    # Different content (a partial revert now) moves the branch, forced.
    partial = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto, paths=["requirements.txt"]))
    assert push_revert(env.gh, env.record, branch, partial) == partial.commit
    assert env.fake.branch_sha(REPO, branch) == partial.commit


def test_push_revert_updates_a_branch_that_appears_between_reading_and_creating(env: Env) -> None:
    merge = env.upgrade({"web/package.json": PACKAGE_UP})
    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=env.main()))
    branch = "depup/revert/2"
    env.fake.create_branch(REPO, branch, "main", emit=False)
    env.fake.inject("git/get-ref", status=404)  # the read misses it: create answers 422, then update

    assert push_revert(env.gh, env.record, branch, revert) == revert.commit
    assert env.fake.branch_sha(REPO, branch) == revert.commit
    assert env.fake.count("git/create-ref") == 1 and env.fake.count("git/update-ref") == 1


def test_three_way_merge_reports_conflicts_at_the_lines_of_the_current_file() -> None:
    base = b"".join(b"line %d\n" % i for i in range(1, 13))
    # The revert (base -> theirs) changes line 1 cleanly, adds two lines after it, and changes line 10;
    # the current file changed line 10 too, and line 5.
    theirs = base.replace(b"line 1\n", b"LINE 1\nnew a\nnew b\n").replace(b"line 10\n", b"line 10 before\n")
    ours = base.replace(b"line 10\n", b"line 10 now\n").replace(b"line 5\n", b"line 5 now\n")

    _, conflicts = three_way_merge(base, ours, theirs)
    assert conflicts == ("at line 10",)

    clean = ours.replace(b"line 10 now\n", b"line 10\n")
    merged, none = three_way_merge(base, clean, theirs)
    assert none == ()
    assert merged == theirs.replace(b"line 5\n", b"line 5 now\n")
