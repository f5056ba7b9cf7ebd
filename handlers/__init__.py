"""Webhook handlers, one module per concern; ``router`` combines them for the worker."""

from bot.events.router import Router
from handlers import commands, deployments, installation, results, upgrades

router = Router()
router.include(installation.router)
router.include(upgrades.router)
router.include(results.router)
router.include(commands.router)
router.include(deployments.router)

__all__ = ["router"]
