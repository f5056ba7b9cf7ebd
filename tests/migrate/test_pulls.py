"""The upgrade PR's branch with migration commits, written through the fake GitHub's git data API: the upgrade
commit, one commit per migration, and nothing written again for a branch that already holds exactly that."""

from __future__ import annotations

from pathlib import Path

from bot.lifecycle.pulls import BOT_AUTHOR, Content, push_commit
from bot.lifecycle.snapshot import Snapshot
from bot.migrate.model import Migration
from tests.rollback.test_revert import REPO, REQUIREMENTS, Env, env  # noqa: F401

GIT_WRITES = ("git/create-tree", "git/create-commit", "git/create-ref", "git/update-ref")
UPGRADED = REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3")
CODE = "from flask import Markup\n"
MIGRATED = "from markupsafe import Markup\n"


def snapshot(repo: Env) -> Snapshot:
    main = repo.main()
    store = repo.fake.repo(REPO).store
    tree = store.commit(main).tree
    files = {path: entry.sha for path, entry in store.flatten(tree).items()}
    return Snapshot(main, tree, Path("/nonexistent"), files, True, False)


def migration(text: str = MIGRATED, rewriter: str = "flask-fixer") -> Migration:
    return Migration(rewriter, f"{rewriter} 1.0", "flask", "3.1.3", {"app/views.py": text})


def writes(repo: Env) -> list[str]:
    return [str(c.operation_id) for c in repo.fake.calls if c.operation_id in GIT_WRITES]


def test_the_branch_gets_the_upgrade_then_each_migration_and_is_left_alone_when_it_holds_them(
    env: Env,  # noqa: F811
) -> None:
    env.push({"app/views.py": CODE})
    snap = snapshot(env)
    content = Content({"requirements.txt": UPGRADED}, (), (migration(), migration(MIGRATED + "# 2\n", "second")))
    head = push_commit(env.gh, env.record, snap, "depup/python/flask", content, "Upgrade flask\n")
    store = env.fake.repo(REPO).store
    last = store.commit(head)
    middle = store.commit(last.parents[0])
    upgrade = store.commit(middle.parents[0])
    assert list(upgrade.parents) == [snap.commit]
    assert [c.message for c in (upgrade, middle, last)] == [
        "Upgrade flask\n",
        "Migrate code for flask 3.1 (flask-fixer): 1 file\n",
        "Migrate code for flask 3.1 (second): 1 file\n",
    ]
    assert {c.author.name for c in (upgrade, middle, last)} == {BOT_AUTHOR}
    assert env.text(upgrade.sha, "app/views.py") == CODE and env.text(upgrade.sha, "requirements.txt") == UPGRADED
    assert env.text(middle.sha, "app/views.py") == MIGRATED
    assert env.text(head, "app/views.py") == MIGRATED + "# 2\n" and env.text(head, "requirements.txt") == UPGRADED
    assert content.final == {"requirements.txt": UPGRADED, "app/views.py": MIGRATED + "# 2\n"}

    env.fake.reset_calls()
    again = push_commit(env.gh, env.record, snap, "depup/python/flask", content, "Upgrade flask\n")
    assert again == head and writes(env) == []

    # Another migration (a rewriter's new release, a config change) and none at all: pushed anew.
    changed = Content(content.files, (), (migration(MIGRATED + "# other\n"),))
    other = push_commit(env.gh, env.record, snap, "depup/python/flask", changed, "Upgrade flask\n", branch_exists=True)
    assert other != head and env.text(other, "app/views.py") == MIGRATED + "# other\n"
    bare = Content(content.files, ())
    single = push_commit(env.gh, env.record, snap, "depup/python/flask", bare, "Upgrade flask\n", branch_exists=True)
    assert list(store.commit(single).parents) == [snap.commit] and env.text(single, "app/views.py") == CODE
    env.fake.reset_calls()
    assert push_commit(env.gh, env.record, snap, "depup/python/flask", bare, "Upgrade flask\n") == single
    assert writes(env) == []
