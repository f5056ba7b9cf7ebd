"""RSA keys for registered apps, generated once per app id per process.

githubkit caches an app's JWT process-wide for 8 minutes, keyed only by the app id; a later fake with
the same app id must accept that JWT, so it must have the same key.
"""

from __future__ import annotations

import string
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN_ALPHABET = string.ascii_letters + string.digits

_lock = threading.Lock()
_keys: dict[int, tuple[str, str]] = {}


def keypair(app_id: int) -> tuple[str, str]:
    """(private key PEM, public key PEM) for app_id, RSA 2048."""
    with _lock:
        if app_id not in _keys:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private_pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode()
            public_pem = (
                key.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
            _keys[app_id] = (private_pem, public_pem)
        return _keys[app_id]
