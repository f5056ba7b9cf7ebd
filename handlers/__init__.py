"""Webhook handlers, one module per concern; ``router`` combines them for the worker."""

from bot.router import Router
from handlers import installation

router = Router()
router.include(installation.router)

__all__ = ["router"]
