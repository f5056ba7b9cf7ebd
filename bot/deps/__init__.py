"""The dependency engine: find dependencies in a checkout, look up what exists, choose versions, edit files."""
