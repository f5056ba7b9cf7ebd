"""Reading installations and their repositories from GitHub, and reconciling the registry with it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from githubkit_schemas.latest.models import FullRepository, Repository

from bot.errors import NotFound
from bot.github.client import AppClient, GitHubClients, InstallationClient
from bot.repos.registry import RepoRecord, RepoRegistry

log = logging.getLogger(__name__)


def _record(repo: FullRepository | Repository, installation_id: int) -> RepoRecord:
    return RepoRecord(
        full_name=repo.full_name,
        repo_id=repo.id,
        installation_id=installation_id,
        default_branch=repo.default_branch,
        private=repo.private,
        archived=bool(repo.archived),
    )


def fetch_repo_records(gh: InstallationClient, installation_id: int, full_names: Iterable[str]) -> list[RepoRecord]:
    """Read each repository as the installation; repositories it can no longer see are left out."""
    records = []
    for full_name in full_names:
        owner, name = full_name.split("/", 1)
        try:
            repo = gh.rest.repos.get(owner, name).parsed_data
        except NotFound:
            log.warning("repository not visible to the installation; skipped", extra={"repo": full_name})
            continue
        records.append(_record(repo, installation_id))
    return records


def list_installation_repos(gh: InstallationClient, installation_id: int) -> list[RepoRecord]:
    """Every repository the installation can access (paginated through the Link header)."""
    pages = gh.rest.paginate(
        gh.rest.apps.list_repos_accessible_to_installation,
        map_func=lambda response: response.parsed_data.repositories,
        per_page=100,
    )
    return [_record(repo, installation_id) for repo in pages]


def list_installation_ids(app: AppClient) -> list[int]:
    pages = app.rest.paginate(app.rest.apps.list_installations, per_page=100)
    return [installation.id for installation in pages if installation.suspended_at is None]


def reconcile(clients: GitHubClients, registry: RepoRegistry) -> dict[str, int]:
    """Make the registry match GitHub: installations and repositories missed while webhooks were lost."""
    live = list_installation_ids(clients.app())
    for gone in set(registry.installations()) - set(live):
        registry.remove_installation(gone)
    repos = 0
    for installation_id in live:
        records = list_installation_repos(clients.installation(installation_id), installation_id)
        registry.replace_installation(installation_id, records)
        repos += len(records)
    registry.mark_complete(datetime.now(UTC).isoformat(timespec="seconds"))
    log.info("installations reconciled", extra={"installations": len(live), "repos": repos})
    return {"installations": len(live), "repos": repos}
