"""Authentication like GitHub's, request validation against the OpenAPI description, call recording."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from githubkit.exception import RequestFailed

from tests.fakegithub import FakeGitHub
from tests.fakegithub.clients import app_client, installation_client
from tests.fakegithub.keys import keypair

OWNER, NAME = "octo-org", "app"
REPO = f"{OWNER}/{NAME}"


def make_jwt(private_pem: str, iss: str | int, *, iat: float | None = None, exp: float | None = None) -> str:
    """An RS256 JWT signed by hand (PyJWT refuses an integer iss, which GitHub accepts)."""
    now = time.time()
    iat = now - 60 if iat is None else iat
    exp = iat + 600 if exp is None else exp

    def part(value: object) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part({"alg": "RS256", "typ": "JWT"}) + b"." + part({"iss": iss, "iat": int(iat), "exp": int(exp)})
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


@pytest.fixture
def installed(fake_github: FakeGitHub) -> int:
    fake_github.create_repo(REPO)
    fake_github.create_repo("octo-org/secret", private=True)
    return fake_github.create_installation(OWNER, [REPO]).id


def test_token_exchange_and_app_endpoints(fake_github: FakeGitHub, installed: int) -> None:
    gh = app_client(fake_github)
    assert gh.rest.apps.get_authenticated().parsed_data.slug == "depup"
    installs = gh.rest.apps.list_installations().parsed_data
    assert [i.id for i in installs] == [installed] and installs[0].account.login == OWNER
    token = gh.rest.apps.create_installation_access_token(installed).parsed_data
    assert token.token.startswith("ghs_") and len(token.token) == 40
    assert time.strptime(token.expires_at, "%Y-%m-%dT%H:%M:%SZ")
    assert token.permissions.contents == "write" and token.repository_selection == "selected"

    inst = installation_client(fake_github, installed)
    repos = inst.rest.apps.list_repos_accessible_to_installation().parsed_data
    assert [r.full_name for r in repos.repositories] == [REPO]
    calls = [c for c in fake_github.calls if c.operation_id == "apps/list-repos-accessible-to-installation"]
    assert calls[0].auth == "installation" and calls[0].installation_id == installed
    assert [c.auth for c in fake_github.calls[:2]] == ["app", "app"]


def test_bad_jwts_are_401(fake_github: FakeGitHub, installed: int) -> None:
    app = fake_github.app
    url = f"{fake_github.url}/app"
    other_key, _ = keypair(999_999)
    cases = {
        "wrong key": make_jwt(other_key, app.id),
        "wrong iss": make_jwt(app.private_key_pem, 1),
        "expired": make_jwt(app.private_key_pem, app.id, iat=time.time() - 1200, exp=time.time() - 600),
        "too long": make_jwt(app.private_key_pem, app.id, exp=time.time() + 3600),
        "garbage": "not.a.jwt",
    }
    for name, token in cases.items():
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["message"] == "A JSON web token could not be decoded"
    assert httpx.get(url, headers={"Authorization": f"Bearer {make_jwt(app.private_key_pem, str(app.id))}"}).is_success
    assert httpx.get(url, headers={"Authorization": f"Bearer {make_jwt(app.private_key_pem, app.id)}"}).is_success


def test_installation_tokens_401_and_404(fake_github: FakeGitHub, installed: int) -> None:
    gh = installation_client(fake_github, installed)
    assert gh.rest.repos.get(OWNER, NAME).parsed_data.full_name == REPO
    with pytest.raises(RequestFailed) as outside:
        gh.rest.repos.get(OWNER, "secret")
    assert outside.value.response.status_code == 404
    with pytest.raises(RequestFailed) as unknown:
        gh.rest.repos.get(OWNER, "nope")
    assert unknown.value.response.status_code == 404
    anonymous = httpx.get(f"{fake_github.url}/repos/{REPO}/pulls")
    assert anonymous.status_code == 401
    bogus = httpx.get(f"{fake_github.url}/repos/{REPO}/pulls", headers={"Authorization": "token ghs_" + "x" * 36})
    assert bogus.status_code == 401 and bogus.json()["message"] == "Bad credentials"
    fake_github.expire_tokens()
    with pytest.raises(RequestFailed) as expired:
        gh.rest.repos.get(OWNER, NAME)  # githubkit still holds the (now expired) token
    assert expired.value.response.status_code == 401
    fresh = installation_client(fake_github, installed)
    assert fresh.rest.repos.get(OWNER, NAME).status_code == 200
    fake_github.delete_installation(installed)
    with pytest.raises(RequestFailed) as revoked:
        fresh.rest.repos.get(OWNER, NAME)
    assert revoked.value.response.status_code == 401


def test_missing_permission_is_403(fake_github: FakeGitHub) -> None:
    fake_github.create_repo(REPO)
    inst = fake_github.create_installation(OWNER, [REPO], permissions={"metadata": "read", "contents": "read"})
    gh = installation_client(fake_github, inst.id)
    with pytest.raises(RequestFailed) as denied:
        gh.rest.issues.create(OWNER, NAME, title="x")
    assert denied.value.response.status_code == 403
    assert denied.value.response.json()["message"] == "Resource not accessible by integration"


def test_rate_limit_headers_count_down_per_token(fake_github: FakeGitHub, installed: int) -> None:
    gh = installation_client(fake_github, installed)
    first = gh.rest.repos.get(OWNER, NAME)
    second = gh.rest.repos.get(OWNER, NAME)
    assert int(first.headers["x-ratelimit-remaining"]) - 1 == int(second.headers["x-ratelimit-remaining"])
    for header in (
        "x-ratelimit-limit",
        "x-ratelimit-used",
        "x-ratelimit-reset",
        "x-ratelimit-resource",
        "x-github-request-id",
    ):
        assert header in second.headers
    assert second.headers["content-type"].startswith("application/json")
    limits = gh.rest.rate_limit.get().parsed_data
    assert limits.resources.core.used == int(second.headers["x-ratelimit-used"])


def test_invalid_body_is_a_violation_and_422(fake_github: FakeGitHub, installed: int) -> None:
    headers = {"Authorization": f"token {fake_github.installation_token(installed)}"}
    bad = httpx.post(f"{fake_github.url}/repos/{REPO}/git/refs", json={"ref": 5}, headers=headers)
    assert bad.status_code == 422 and bad.json()["message"].startswith("Invalid request.\n\n")
    assert any("git/create-ref" in v and "'sha' is a required property" in v for v in fake_github.violations)
    malformed = httpx.post(f"{fake_github.url}/repos/{REPO}/issues", content=b"{nope", headers=headers)
    assert malformed.status_code == 400 and malformed.json()["message"] == "Problems parsing JSON"
    unknown = httpx.get(f"{fake_github.url}/repos/{REPO}/branches", headers=headers)
    assert unknown.status_code == 404
    assert any("GET /repos/octo-org/app/branches" in v for v in fake_github.violations)
    with pytest.raises(AssertionError, match="requests GitHub would reject"):
        fake_github.assert_no_violations()
    fake_github.server.violations.clear()


def test_call_recording_and_counting(fake_github: FakeGitHub, installed: int) -> None:
    gh = installation_client(fake_github, installed)
    gh.rest.issues.create(OWNER, NAME, title="one", labels=["a"])
    gh.rest.issues.list_for_repo(OWNER, NAME, state="all")
    assert fake_github.count("issues/create") == 1 and fake_github.count(method="GET") == 1
    writes = fake_github.writes()
    assert [c.operation_id for c in writes] == ["apps/create-installation-access-token", "issues/create"]
    assert writes[1].body == {"title": "one", "labels": ["a"]} and writes[1].status == 201
    listing = fake_github.calls[-1]
    assert listing.query == {"state": "all"} and listing.path == f"/repos/{REPO}/issues"
    fake_github.reset_calls()
    assert fake_github.calls == []
