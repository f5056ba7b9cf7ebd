"""Post-deploy health probes (see docs/health.md).

- ``bot.core.netguard``: the SSRF guard (``NetPolicy``, ``check_address``);
- ``bot.health.probe``: one probe of a configured URL (``probe`` -> ``ProbeResult``);
- ``bot.health.store``: the probe rounds of a deployment in Redis and the soak verdict they add up to.

Nothing is re-exported here, so that ``bot.health.probe`` always names the module (tests patch it).
"""
