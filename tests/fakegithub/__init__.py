"""A stateful fake of GitHub (REST API + webhooks) for testing a GitHub App.

    fake = FakeGitHub().start()                       # or the fake_github fixture (pytest_plugin.py)
    app = fake.register_app(app_id=4242, slug="depup", name="depup")
    fake.create_repo("octo-org/app", files={"requirements.txt": "flask==1.0\n"})
    inst = fake.create_installation("octo-org", ["octo-org/app"])
    fake.set_webhook_target("http://127.0.0.1:8000/api/github/webhooks")   # secret: app.webhook_secret
    gh = GitHub(AppAuthStrategy(app.id, app.private_key_pem), base_url=fake.url)   # see clients.py
    ...
    fake.wait_for_deliveries(); fake.assert_no_violations(); fake.stop()

Modules: fake (the facade), server (routing, validation, auth, faults, recording), spec (the OpenAPI
description), auth, world/world_* (state and operations), state (dataclasses), git and merge (git's object
model, diffs, three-way merges), responses (REST bodies), payloads (webhook bodies), webhooks (delivery),
faults, templates (GitHub's published examples), endpoints/ (one module per API area), clients, keys.
"""

from .fake import FakeGitHub, b64
from .faults import Fault
from .server import Call
from .state import (
    ApiError,
    App,
    CheckRun,
    CheckSuite,
    Comment,
    Deployment,
    DeploymentStatus,
    Installation,
    Issue,
    Label,
    Pull,
    Repo,
    Status,
    User,
)
from .webhooks import SentDelivery

__all__ = [
    "ApiError",
    "App",
    "Call",
    "CheckRun",
    "CheckSuite",
    "Comment",
    "Deployment",
    "DeploymentStatus",
    "FakeGitHub",
    "Fault",
    "Installation",
    "Issue",
    "Label",
    "Pull",
    "Repo",
    "SentDelivery",
    "Status",
    "User",
    "b64",
]
