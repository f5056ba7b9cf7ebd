"""Plumbing every layer uses: settings, logging, metrics, TLS, the job serializer and queue, progress."""
