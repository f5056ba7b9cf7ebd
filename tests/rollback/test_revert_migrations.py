"""`/depup rollback` of an upgrade PR with a migration commit: the revert undoes the migration and the upgrade
together, whichever way the PR was merged (squash and merge commits compare with the first parent; a rebase
merge puts both commits on main, and the revert goes back past depup's migration commits to the upgrade's)."""

from __future__ import annotations

import pytest

from bot.rollback import build_revert
from tests.rollback.test_revert import REPO, REQUIREMENTS, Env, _revert, env  # noqa: F401

CODE = "import flask\n\nfrom flask import Markup\n\nhtml = Markup('<b>x</b>')\n"
MIGRATED = "import flask\n\nfrom markupsafe import Markup\n\nhtml = Markup('<b>x</b>')\n"
UPGRADED = REQUIREMENTS.replace("flask==2.0.1", "flask==3.1.3")


@pytest.mark.parametrize("method", ["squash", "merge", "rebase"])
def test_the_migration_commit_is_reverted_with_the_upgrade(env: Env, method: str) -> None:  # noqa: F811
    env.push({"app/views.py": CODE})
    branch = "depup/python/flask"
    env.fake.push(REPO, branch, {"requirements.txt": UPGRADED}, message="Upgrade flask from 2.0.1 to 3.1.3",
                  author="depup[bot]", emit=False)  # fmt: skip
    env.fake.push(REPO, branch, {"app/views.py": MIGRATED}, author="depup[bot]", emit=False,
                  message="Migrate code for flask 3.1 (flask-rewriter): 1 file\n")  # fmt: skip
    pull = env.fake.open_pull(REPO, branch, title="Upgrade flask from 2.0.1 to 3.1.3", emit=False)
    merge = env.fake.merge_pull(REPO, pull.number, method=method, emit=False)
    assert env.text(merge, "app/views.py") == MIGRATED and env.text(merge, "requirements.txt") == UPGRADED
    onto = env.push({"README.md": "# app\n\nLater docs.\n"})

    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=onto))

    assert revert.files == ("app/views.py", "requirements.txt")
    assert env.text(revert.commit, "requirements.txt") == REQUIREMENTS
    assert env.text(revert.commit, "app/views.py") == CODE
    assert env.text(revert.commit, "README.md") == "# app\n\nLater docs.\n"


def test_a_rebase_merged_upgrade_without_migration_reverts_only_itself(env: Env) -> None:  # noqa: F811
    env.push({"app/views.py": CODE})
    env.push({"app/views.py": MIGRATED})  # a person's change just before, not depup's
    merge = env.upgrade({"requirements.txt": UPGRADED}, method="rebase")

    revert = _revert(build_revert(env.gh, env.record, merge_sha=merge, onto=merge))

    assert revert.files == ("requirements.txt",)
    assert env.text(revert.commit, "app/views.py") == MIGRATED
