"""The repository configuration file (``.github/depup.yml``): its JSON Schema, its defaults and the loader
that merges a repository's file over the defaults and reports errors with file, line and column.

Process settings (environment variables) are not here: they live in ``bot.core.settings``.
"""
