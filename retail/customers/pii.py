"""Keys and primitives for CPF pseudonymisation (COMPLIANCE.md, LGPD).

- lookups: HMAC-SHA256 under ``PII_HMAC_KEY`` (a plain hash of 11 digits is brute-forced
  in seconds; a keyed one is not without the key);
- display: AES-256-GCM under ``PII_ENCRYPTION_KEY`` (base64 of 32 bytes), random 96-bit
  nonce, a version byte in front so keys can be rotated later.
Without those settings both keys are derived from SECRET_KEY (fine locally, set them in
deployments).
"""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = b"\x01"
_NONCE_BYTES = 12
_AAD = b"rastro.customers.cpf"


def _derived(purpose: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), purpose.encode(), hashlib.sha256).digest()


def _hmac_key() -> bytes:
    configured = settings.PII_HMAC_KEY
    return configured.encode() if configured else _derived("rastro pii hmac v1")


def _encryption_key() -> bytes:
    configured = settings.PII_ENCRYPTION_KEY
    return base64.b64decode(configured) if configured else _derived("rastro pii aes-gcm v1")


def lookup_hash(value: str) -> str:
    return hmac.new(_hmac_key(), value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(_encryption_key()).encrypt(nonce, value.encode(), _AAD)


def decrypt(blob: bytes) -> str:
    if blob[:1] != _VERSION:
        raise ValueError("unknown PII ciphertext version")
    nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    return AESGCM(_encryption_key()).decrypt(nonce, ciphertext, _AAD).decode()
