"""The one exception hierarchy of depup.

Library and network errors are translated into these at a single seam per boundary
(``bot.github.client`` for GitHub); code above that seam only ever sees ``DepupError``s.
"""

from __future__ import annotations


class DepupError(Exception):
    """Base of every error depup raises on purpose."""


class SettingsError(DepupError):
    """The process environment is missing or has an invalid setting."""


class RedisUnavailable(DepupError):
    """Redis could not be reached or did not answer (``bot.process.runtime.redis_unavailable`` makes one from redis-py's
    errors, naming the server without its credentials)."""


class GitHubError(DepupError):
    """A call to GitHub did not succeed."""

    def __init__(self, message: str, *, method: str = "", url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status


class GitHubUnavailable(GitHubError):
    """GitHub could not be reached, timed out, or answered 5xx: worth retrying later."""


class RateLimited(GitHubError):
    """GitHub refused the call for a (primary or secondary) rate limit."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        secondary: bool,
        method: str = "",
        url: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, status=status)
        self.retry_after = retry_after
        self.secondary = secondary


class GitHubRequestError(GitHubError):
    """GitHub answered 4xx to a well-formed call (permissions, validation, conflicts)."""


class NotFound(GitHubRequestError):
    """GitHub answered 404: the object does not exist or the installation cannot see it."""


class ConfigInvalid(DepupError):
    """A repository configuration file has mistakes; ``problems`` lists each with file, line and column."""

    def __init__(self, problems: tuple[object, ...]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class ValidationInputError(DepupError):
    """A CI output depup reads to validate a pull request (a coverage report, benchmark results, an artifact) is
    malformed, too large, or not one of the known formats. The results comment says so; nothing else fails."""
