"""Release notes read through the fake GitHub's contents API, as the registry links them."""

from __future__ import annotations

from redis import Redis

from bot.deps.model import Ecosystem, PackageInfo
from bot.github.client import GitHubClients
from bot.risk.changelog import ChangelogReader
from tests.fakegithub import FakeGitHub
from tests.support.harness import settings_for

CHANGES = """Version 3.1.0
-------------

-   Add a flag.

Version 3.0.0
-------------

-   Remove previously deprecated code. Breaking change for extensions.

Version 2.3.3
-------------

-   Fix.
"""


def _reader(fake: FakeGitHub, redis_url: str, redis_client: Redis) -> ChangelogReader:
    fake.create_repo("acme/app", {"requirements.txt": "flask==2.3.3\n"})
    installation = fake.create_installation("acme", ["acme/app"], emit=False)
    clients = GitHubClients(settings_for(fake, redis_url), redis_client)
    return ChangelogReader(clients.installation(installation.id))


def _info(*urls: tuple[str, str]) -> PackageInfo:
    return PackageInfo(Ecosystem.PYTHON, "flask", (), urls=urls)


def test_a_changelog_link_to_a_file_is_read_at_its_ref(
    fake_github: FakeGitHub, redis_url: str, redis_client: Redis
) -> None:
    fake_github.create_repo("pallets/flask", {"CHANGES.rst": CHANGES, "README.md": "# flask\n"})
    reader = _reader(fake_github, redis_url, redis_client)
    info = _info(("Changes", "https://github.com/pallets/flask/blob/main/CHANGES.rst"))
    notes = reader(info, "2.3.3", "3.1.0")
    assert notes is not None
    assert notes.source == "https://github.com/pallets/flask/blob/main/CHANGES.rst"
    assert notes.versions == 2
    assert notes.markers == ("3.0.0: Remove previously deprecated code. Breaking change for extensions.",)
    # Read once per survey, however many updates ask.
    before = fake_github.count("repos/get-content")
    reader(info, "2.3.3", "3.0.0")
    assert fake_github.count("repos/get-content") == before


def test_a_source_repository_link_finds_the_changelog_at_its_root(
    fake_github: FakeGitHub, redis_url: str, redis_client: Redis
) -> None:
    fake_github.create_repo("psf/requests", {"HISTORY.md": "## 2.32.0\n- Dropped support for Python 3.7\n", "a.py": ""})
    reader = _reader(fake_github, redis_url, redis_client)
    notes = reader(_info(("Source", "https://github.com/psf/requests")), "2.31.0", "2.32.0")
    assert notes is not None and notes.markers == ("2.32.0: Dropped support for Python 3.7",)
    assert notes.source.endswith("/psf/requests/blob/HEAD/HISTORY.md")


def test_missing_repository_or_foreign_host_is_unknown_not_an_error(
    fake_github: FakeGitHub, redis_url: str, redis_client: Redis
) -> None:
    fake_github.create_repo("someone/nochangelog", {"README.md": "hi\n"})
    reader = _reader(fake_github, redis_url, redis_client)
    assert reader(_info(("Source", "https://github.com/nobody/gone")), "1.0", "2.0") is None
    assert reader(_info(("Source", "https://github.com/someone/nochangelog")), "1.0", "2.0") is None
    assert reader(_info(("Changelog", "https://gitlab.example/x/y/blob/main/CHANGES.md")), "1.0", "2.0") is None
    assert reader(_info(("Changelog", "http://github.com/x/y/blob/main/CHANGES.md")), "1.0", "2.0") is None


def test_a_missing_changelog_is_remembered_across_readers(
    fake_github: FakeGitHub, redis_url: str, redis_client: Redis
) -> None:
    fake_github.create_repo("acme/app", {"requirements.txt": "flask==2.3.3\n"})
    installation = fake_github.create_installation("acme", ["acme/app"], emit=False)
    clients = GitHubClients(settings_for(fake_github, redis_url), redis_client)
    info = _info(("Source", "https://github.com/nobody/gone"))
    assert ChangelogReader(clients.installation(installation.id), redis=redis_client)(info, "1.0", "2.0") is None
    calls = fake_github.count("repos/get-content")
    second = ChangelogReader(clients.installation(installation.id), redis=redis_client)
    assert second(info, "1.0", "2.0") is None
    assert fake_github.count("repos/get-content") == calls
