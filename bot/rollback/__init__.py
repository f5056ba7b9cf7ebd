"""Rolling back a merged upgrade: a true revert built with the git data API."""

from bot.rollback.revert import Revert, RevertError, RevertRefused, build_revert, push_revert

__all__ = ["Revert", "RevertError", "RevertRefused", "build_revert", "push_revert"]
