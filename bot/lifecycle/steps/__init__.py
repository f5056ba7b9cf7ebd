"""The steps of a scan, one module each; ``bot.lifecycle.scan.STEPS`` names them in order."""
