"""Errors raised on purpose by the Python manifest code."""

from __future__ import annotations

from bot.errors import DepupError


class ManifestEditError(DepupError, ValueError):
    """An edit cannot be applied safely: the file changed since it was parsed, spans overlap, or the
    re-parsed result is not exactly the intended change."""


class ConstraintRewriteError(DepupError, ValueError):
    """A constraint cannot be rewritten to admit the chosen version (e.g. ``!=`` excludes it)."""
