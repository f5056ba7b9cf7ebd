"""Code migrations: allow-listed static code rewriters (django-upgrade, bump-pydantic, ruff's NumPy 2 and
pyupgrade fixes, React codemods run by jscodeshift) run on a confined copy of the upgraded repository; their
edits become the upgrade PR's second commit."""
