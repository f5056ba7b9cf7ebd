"""githubkit clients pointed at a FakeGitHub, configured the way the app should configure its own."""

from __future__ import annotations

from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy

from .fake import FakeGitHub


def app_client(fake: FakeGitHub, *, auto_retry: bool = False, timeout: float = 10.0) -> GitHub[AppAuthStrategy]:
    """A client authenticated as the app (JWT), with its own token cache (githubkit's default is per process)."""
    app = fake.app
    return GitHub(
        AppAuthStrategy(str(app.id), app.private_key_pem),
        base_url=fake.url,
        cache_strategy=MemCacheStrategy(),
        auto_retry=auto_retry,
        timeout=timeout,
        http_cache=False,
    )


def installation_client(
    fake: FakeGitHub, installation_id: int, *, auto_retry: bool = False, timeout: float = 10.0
) -> GitHub[AppInstallationAuthStrategy]:
    """A client authenticated as the installation (githubkit exchanges the JWT for a token on first use)."""
    gh = app_client(fake, auto_retry=auto_retry, timeout=timeout)
    return gh.with_auth(gh.auth.as_installation(installation_id))
