"""One TLS context per process, shared by every HTTPS client depup makes (GitHub, the registries, OSV).

Building a context loads the CA bundle: some 20 ms of CPU, which each new client would otherwise pay (a client
per installation per job, one per registry lookup batch). A context is read-only once made and safe to share
between threads; the worker makes it before it forks, so every job process inherits it. It trusts what httpx's
own default trusts: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's bundle.
"""

from __future__ import annotations

import os
import ssl
from functools import lru_cache


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
