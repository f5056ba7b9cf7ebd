"""The upgrade pull-request lifecycle: the scan reconciler (``scan``, a pipeline of ``steps``), the phase gate,
pull requests, approvals, the dashboard issue, and scan requests."""
