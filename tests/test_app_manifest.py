"""app.yml asks for the permissions and events SPEC needs, and no more; the Procfile runs the three processes."""

from __future__ import annotations

from pathlib import Path

import yaml

import handlers

ROOT = Path(__file__).resolve().parent.parent
# SPEC section 3: the events depup reacts to (installation events reach every App without subscribing).
SPEC_EVENTS = {
    "check_run",
    "check_suite",
    "deployment",
    "deployment_status",
    "issue_comment",
    "pull_request",
    "push",
    "status",
    "workflow_run",
}
ALWAYS_SENT = {"installation", "installation_repositories"}


def manifest() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "app.yml").read_text())


def test_manifest_has_probots_fields() -> None:
    app = manifest()
    assert set(app) == {
        "name",
        "description",
        "url",
        "public",
        "hook_attributes",
        "redirect_url",
        "default_permissions",
        "default_events",
    }
    assert app["hook_attributes"]["url"].endswith("/api/github/webhooks")
    assert app["public"] is False


def test_permissions_are_the_ones_spec_needs() -> None:
    assert manifest()["default_permissions"] == {
        "contents": "write",  # branches and commits through the git data API
        "pull_requests": "write",  # upgrade and revert PRs, merges
        "issues": "write",  # dashboard issue, comments, labels, reactions
        "checks": "write",  # depup/risk, depup/approval, depup/config; reading CI check runs
        "statuses": "read",  # CI commit statuses
        "deployments": "read",  # deployment and deployment_status
        "actions": "read",  # workflow_run
        "metadata": "read",  # mandatory; collaborator permission for command authorisation
    }


def test_events_are_the_ones_spec_handles_and_cover_every_handler() -> None:
    events = set(manifest()["default_events"])
    assert events == SPEC_EVENTS
    assert handlers.router.events <= events | ALWAYS_SENT


def test_procfile_runs_web_worker_and_cron() -> None:
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line and not line.startswith("#")
    )
    assert {name: command.strip() for name, command in lines.items()} == {
        "web": "depup web",
        "worker": "depup worker",
        "cron": "depup cron",
    }
