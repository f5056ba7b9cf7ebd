"""One TLS context per process, shared by every HTTPS client depup makes (GitHub, the registries, OSV).

Building a context loads the CA bundle: some 20 ms of CPU, which each new client would otherwise pay (a client
per installation per job, one per registry lookup batch). A context is read-only once made and safe to share
between threads; the worker makes it before it forks, so every job process inherits it. It honours
``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` as httpx's own default does.
"""

from __future__ import annotations

import ssl
from functools import lru_cache

import httpx


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
