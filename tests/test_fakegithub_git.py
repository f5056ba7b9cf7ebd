"""The fake's git object model against the real git binary, and the git data / contents / commits APIs."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
from githubkit.exception import RequestFailed

from tests.fakegithub import FakeGitHub, b64
from tests.fakegithub.clients import installation_client
from tests.fakegithub.git import ObjectStore, Signature, TreeEntry

OWNER, NAME = "octo-org", "app"
REPO = f"{OWNER}/{NAME}"


def git(cwd: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True, env={**os.environ, **(env or {})}
    )
    return proc.stdout.decode().strip()


@pytest.fixture
def real_repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    return tmp_path


@pytest.fixture
def gh(fake_github: FakeGitHub):  # type: ignore[no-untyped-def]
    fake_github.create_repo(REPO, files={"requirements.txt": "flask==1.0\n", "web/package.json": '{"a": 1}\n'})
    inst = fake_github.create_installation(OWNER, [REPO])
    return installation_client(fake_github, inst.id)


# -- object ids equal real git's ---------------------------------------------------------------------------
def test_blob_ids_match_git_hash_object(real_repo: Path) -> None:
    store = ObjectStore()
    for data in (b"", b"flask==1.0\n", "héllo\n".encode(), bytes(range(256))):
        assert store.add_blob(data) == git(real_repo, "hash-object", "--stdin", stdin=data)


def test_tree_ids_and_order_match_git_mktree(real_repo: Path) -> None:
    store = ObjectStore()
    blob = store.add_blob(b"x\n")
    sub = store.add_tree([TreeEntry("100644", "inner.txt", blob)])
    entries = [
        TreeEntry("100644", "foo.txt", blob),
        TreeEntry("040000", "foo", sub),
        TreeEntry("100644", "foo-bar", blob),
        TreeEntry("100755", "run.sh", blob),
        TreeEntry("120000", "link", blob),
        TreeEntry("160000", "vendor", "1" * 40),
        TreeEntry("100644", "Zeta", blob),
    ]
    ours = store.add_tree(entries)
    git(real_repo, "hash-object", "-w", "--stdin", stdin=b"x\n")
    git(real_repo, "mktree", stdin=f"100644 blob {blob}\tinner.txt\n".encode())
    lines = "".join(
        f"{e.mode} {e.type} {e.sha}\t{e.name}\n"
        for e in reversed(entries)  # unsorted input: mktree sorts
    )
    assert ours == git(real_repo, "mktree", "--missing", stdin=lines.encode())
    listed = git(real_repo, "ls-tree", ours).splitlines()
    assert [line.split("\t")[1] for line in listed] == [e.name for e in store.tree(ours)]


def test_commit_ids_match_git_commit_tree(real_repo: Path) -> None:
    store = ObjectStore()
    tree = store.tree_from_paths({"a/b/c.txt": ("100644", store.add_blob(b"c\n"))})
    author = Signature("Alice", "alice@example.com", 1_700_000_000, "+0100")
    committer = Signature("GitHub", "noreply@github.com", 1_700_000_100)
    root = store.add_commit(tree, [], "Initial commit\n\nbody line\n", author, committer)
    child = store.add_commit(tree, [root], "second", author, committer)
    git(real_repo, "hash-object", "-w", "--stdin", stdin=b"c\n")
    b = git(real_repo, "mktree", stdin=f"100644 blob {store.flatten(tree)['a/b/c.txt'].sha}\tc.txt\n".encode())
    a = git(real_repo, "mktree", stdin=f"040000 tree {b}\tb\n".encode())
    top = git(real_repo, "mktree", stdin=f"040000 tree {a}\ta\n".encode())
    assert top == tree
    env = {
        "GIT_AUTHOR_NAME": "Alice",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_AUTHOR_DATE": "1700000000 +0100",
        "GIT_COMMITTER_NAME": "GitHub",
        "GIT_COMMITTER_EMAIL": "noreply@github.com",
        "GIT_COMMITTER_DATE": "1700000100 +0000",
    }
    real_root = git(real_repo, "commit-tree", tree, stdin=b"Initial commit\n\nbody line\n", env=env)
    assert root == real_root
    assert child == git(real_repo, "commit-tree", tree, "-p", real_root, stdin=b"second", env=env)


# -- git data API ------------------------------------------------------------------------------------------------
def test_multi_file_commit_through_the_git_data_api_reads_back(fake_github: FakeGitHub, gh, real_repo: Path) -> None:  # type: ignore[no-untyped-def]
    ref = gh.rest.git.get_ref(OWNER, NAME, "heads/main").parsed_data
    base = gh.rest.git.get_commit(OWNER, NAME, ref.object_.sha).parsed_data
    blob = gh.rest.git.create_blob(OWNER, NAME, content=b64("binary\0data"), encoding="base64").parsed_data
    tree = gh.rest.git.create_tree(
        OWNER,
        NAME,
        base_tree=base.tree.sha,
        tree=[
            {"path": "requirements.txt", "mode": "100644", "type": "blob", "content": "flask==3.1.3\n"},
            {"path": "web/package-lock.json", "mode": "100644", "type": "blob", "content": "{}\n"},
            {"path": "deep/a/b/c.txt", "mode": "100644", "type": "blob", "content": "nested\n"},
            {"path": "bin/data", "mode": "100755", "type": "blob", "sha": blob.sha},
            {"path": "web/package.json", "mode": "100644", "type": "blob", "sha": None},
        ],
    ).parsed_data
    commit = gh.rest.git.create_commit(
        OWNER,
        NAME,
        message="Upgrade flask",
        tree=tree.sha,
        parents=[base.sha],
        author={"name": "depup", "email": "depup@example.com", "date": "2024-01-02T03:04:05Z"},
    ).parsed_data
    assert commit.author.name == "depup" and commit.parents[0].sha == base.sha
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/depup/pip/low", sha=commit.sha)

    content = gh.rest.repos.get_content(OWNER, NAME, "requirements.txt", ref="depup/pip/low").parsed_data
    assert base64.b64decode(content.content) == b"flask==3.1.3\n"
    assert content.encoding == "base64" and content.size == len(b"flask==3.1.3\n")
    nested = gh.rest.repos.get_content(OWNER, NAME, "deep/a/b/c.txt", ref="refs/heads/depup/pip/low").parsed_data
    assert base64.b64decode(nested.content) == b"nested\n"
    listing = gh.rest.repos.get_content(OWNER, NAME, "web", ref=commit.sha).parsed_data
    assert [item.name for item in listing] == ["package-lock.json"]
    with pytest.raises(RequestFailed) as missing:
        gh.rest.repos.get_content(OWNER, NAME, "web/package.json", ref="depup/pip/low")
    assert missing.value.response.status_code == 404
    assert fake_github.read_file(REPO, "main", "web/package.json") == b'{"a": 1}\n'  # main untouched

    # the same files committed with real git give the same tree
    for path, data in {
        "requirements.txt": b"flask==3.1.3\n",
        "web/package-lock.json": b"{}\n",
        "deep/a/b/c.txt": b"nested\n",
        "README.md": f"# {NAME}\n".encode(),
        "bin/data": b"binary\0data",
    }.items():
        (real_repo / path).parent.mkdir(parents=True, exist_ok=True)
        (real_repo / path).write_bytes(data)
    (real_repo / "README.md").unlink()
    os.chmod(real_repo / "bin/data", 0o755)
    git(real_repo, "add", "-A")
    real_tree = git(real_repo, "write-tree")
    ours = fake_github.repo(REPO).store
    flat = {p: e for p, e in ours.flatten(tree.sha).items() if p != "README.md"}
    assert ours.tree_from_paths({p: (e.mode, e.sha) for p, e in flat.items()}) == real_tree

    recursive = gh.rest.git.get_tree(OWNER, NAME, tree.sha, recursive="1").parsed_data
    paths = {item.path: item.type for item in recursive.tree}
    assert paths["deep/a/b"] == "tree" and paths["deep/a/b/c.txt"] == "blob" and paths["bin/data"] == "blob"
    assert {i.path: i.mode for i in recursive.tree}["bin/data"] == "100755"
    top = gh.rest.git.get_tree(OWNER, NAME, tree.sha).parsed_data
    assert "deep/a/b/c.txt" not in {i.path for i in top.tree}
    got_blob = gh.rest.git.get_blob(OWNER, NAME, blob.sha).parsed_data
    assert base64.b64decode(got_blob.content) == b"binary\0data"


def test_tree_modes_symlink_submodule_and_directory_delete(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    base = fake_github.branch_sha(REPO, "main")
    assert base is not None
    tree_sha = fake_github.repo(REPO).store.commit(base).tree
    tree = gh.rest.git.create_tree(
        OWNER,
        NAME,
        base_tree=tree_sha,
        tree=[
            {"path": "latest", "mode": "120000", "type": "blob", "content": "requirements.txt"},
            {"path": "vendor/lib", "mode": "160000", "type": "commit", "sha": "a" * 40},
            {"path": "web", "mode": "040000", "type": "tree", "sha": None},
        ],
    ).parsed_data
    modes = {item.path: (item.mode, item.type) for item in tree.tree}
    assert modes["latest"] == ("120000", "blob") and "web" not in modes and modes["vendor"][1] == "tree"
    with pytest.raises(RequestFailed) as bad:
        gh.rest.git.create_tree(OWNER, NAME, tree=[{"path": "x", "mode": "100644", "type": "blob", "sha": "b" * 40}])
    assert bad.value.response.status_code == 422


def test_refs_fast_forward_force_and_delete(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    main = fake_github.branch_sha(REPO, "main")
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/a/b", sha=main)
    assert gh.rest.git.get_ref(OWNER, NAME, "heads/a/b").parsed_data.object_.sha == main
    with pytest.raises(RequestFailed) as exists:
        gh.rest.git.create_ref(OWNER, NAME, ref="refs/heads/a/b", sha=main)
    assert exists.value.response.status_code == 422
    ahead = fake_github.push(REPO, "a/b", {"x.txt": "1\n"})
    other = fake_github.push(REPO, "side", {"y.txt": "2\n"})
    with pytest.raises(RequestFailed) as not_ff:
        gh.rest.git.update_ref(OWNER, NAME, "heads/a/b", sha=other)
    assert not_ff.value.response.status_code == 422
    assert not_ff.value.response.json()["message"] == "Update is not a fast forward"
    assert fake_github.branch_sha(REPO, "a/b") == ahead
    updated = gh.rest.git.update_ref(OWNER, NAME, "heads/a/b", sha=other, force=True).parsed_data
    assert updated.object_.sha == other and fake_github.branch_sha(REPO, "a/b") == other
    gh.rest.git.delete_ref(OWNER, NAME, "heads/a/b")
    assert fake_github.branch_sha(REPO, "a/b") is None
    with pytest.raises(RequestFailed) as gone:
        gh.rest.git.get_ref(OWNER, NAME, "heads/a/b")
    assert gone.value.response.status_code == 404
    gh.rest.git.create_ref(OWNER, NAME, ref="refs/tags/v1", sha=main)
    assert gh.rest.git.get_ref(OWNER, NAME, "tags/v1").parsed_data.ref == "refs/tags/v1"


def test_contents_put_creates_updates_and_checks_sha(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    created = gh.rest.repos.create_or_update_file_contents(
        OWNER, NAME, ".github/depup.yml", message="Add config", content=b64("enabled: true\n")
    )
    assert created.status_code == 201
    sha = created.parsed_data.content.sha
    assert fake_github.read_file(REPO, "main", ".github/depup.yml") == b"enabled: true\n"
    with pytest.raises(RequestFailed) as stale:
        gh.rest.repos.create_or_update_file_contents(
            OWNER, NAME, ".github/depup.yml", message="x", content=b64("enabled: false\n"), sha="0" * 40
        )
    assert stale.value.response.status_code == 409
    updated = gh.rest.repos.create_or_update_file_contents(
        OWNER, NAME, ".github/depup.yml", message="Disable", content=b64("enabled: false\n"), sha=sha
    )
    assert updated.status_code == 200
    assert updated.parsed_data.commit.message == "Disable"
    assert fake_github.branch_sha(REPO, "main") == updated.parsed_data.commit.sha
    file = gh.rest.repos.get_content(OWNER, NAME, ".github/depup.yml").parsed_data
    lines = file.content.split("\n")
    assert all(len(line) <= 60 for line in lines)


def test_content_base64_has_a_newline_every_60_chars(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    fake_github.push(REPO, "main", {"big.txt": "x" * 200})
    raw = gh.rest.repos.get_content(OWNER, NAME, "big.txt").json()
    assert raw["content"].split("\n")[0] == base64.b64encode(b"x" * 200).decode()[:60]
    assert raw["content"].endswith("\n")


def test_get_commit_compare_and_merges(fake_github: FakeGitHub, gh) -> None:  # type: ignore[no-untyped-def]
    base = fake_github.branch_sha(REPO, "main")
    head = fake_github.push(REPO, "feature/x", {"requirements.txt": "flask==2.0\nrequests==2.0\n", "new.txt": "n\n"})
    commit = gh.rest.repos.get_commit(OWNER, NAME, "feature/x").parsed_data
    assert commit.sha == head and commit.stats.additions == 3 and commit.stats.deletions == 1
    assert {f.filename: f.status for f in commit.files} == {"requirements.txt": "modified", "new.txt": "added"}

    ahead = gh.rest.repos.compare_commits(OWNER, NAME, "main...feature/x").parsed_data
    assert (ahead.status, ahead.ahead_by, ahead.behind_by) == ("ahead", 1, 0)
    assert ahead.merge_base_commit.sha == base and [c.sha for c in ahead.commits] == [head]
    behind = gh.rest.repos.compare_commits(OWNER, NAME, f"{OWNER}:feature/x...main").parsed_data
    assert (behind.status, behind.behind_by) == ("behind", 1)
    same = gh.rest.repos.compare_commits(OWNER, NAME, f"{base}...main").parsed_data
    assert same.status == "identical" and same.files == []
    fake_github.push(REPO, "main", {"other.txt": "o\n"})
    diverged = gh.rest.repos.compare_commits(OWNER, NAME, "main...feature/x").parsed_data
    assert (diverged.status, diverged.ahead_by, diverged.behind_by) == ("diverged", 1, 1)
    assert {f.filename for f in diverged.files} == {"requirements.txt", "new.txt"}

    merged = gh.rest.repos.merge(OWNER, NAME, base="main", head="feature/x", commit_message="Merge x")
    assert merged.status_code == 201
    assert len(merged.parsed_data.parents) == 2
    assert fake_github.read_file(REPO, "main", "new.txt") == b"n\n"
    assert fake_github.read_file(REPO, "main", "other.txt") == b"o\n"
    again = gh.rest.repos.merge(OWNER, NAME, base="main", head="feature/x")
    assert again.status_code == 204
    fake_github.push(REPO, "c1", {"requirements.txt": "flask==9\n"})
    fake_github.push(REPO, "main", {"requirements.txt": "flask==8\n"})
    with pytest.raises(RequestFailed) as conflict:
        gh.rest.repos.merge(OWNER, NAME, base="main", head="c1")
    assert conflict.value.response.status_code == 409
