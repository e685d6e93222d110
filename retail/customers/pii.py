"""Keys and primitives for CPF pseudonymisation (COMPLIANCE.md, LGPD).

- lookups: HMAC-SHA256 under ``PII_HMAC_KEY`` (a plain hash of 11 digits is brute-forced
  in seconds; a keyed one is not without the key). Changing it means re-hashing every row
  (and the AML aggregates keyed by it), so it has no rotation of its own.
- display: AES-256-GCM under ``PII_ENCRYPTION_KEYS`` (``key-id:base64 of 32 bytes``, the
  first one encrypts), random 96-bit nonce. A ciphertext names its key id, so a key is
  rotated by putting a new one first: rows written under the old one stay readable as long
  as it is listed.
Both are settings of their own (config/deployment.py), never derived from SECRET_KEY.
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = b"\x02"  # version byte, key id length byte, key id, nonce, ciphertext+tag
_NONCE_BYTES = 12
_AAD = b"rastro.customers.cpf"


@dataclass(frozen=True)
class EncryptionKey:
    key_id: bytes
    key: bytes


def parse_encryption_key(configured: str) -> EncryptionKey:
    """``key-id:base64`` → EncryptionKey (ValueError on anything else)."""
    key_id, separator, encoded = configured.partition(":")
    if not separator or not 0 < len(key_id) < 256 or not key_id.isascii():
        raise ValueError("a PII encryption key looks like key-id:base64-of-32-bytes")
    key = base64.b64decode(encoded, validate=True)
    if len(key) != 32:
        raise ValueError(f"PII encryption key {key_id!r} is not 32 bytes")
    return EncryptionKey(key_id=key_id.encode(), key=key)


def _encryption_keys() -> list[EncryptionKey]:
    return [parse_encryption_key(configured) for configured in settings.PII_ENCRYPTION_KEYS]


def lookup_hash(value: str) -> str:
    return hmac.new(settings.PII_HMAC_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str, key: EncryptionKey | None = None) -> bytes:
    key = key or _encryption_keys()[0]
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key.key).encrypt(nonce, value.encode(), _AAD + key.key_id)
    return _VERSION + bytes([len(key.key_id)]) + key.key_id + nonce + sealed


def key_id(blob: bytes) -> str:
    """The id of the key a ciphertext was written under (ValueError if it has none)."""
    if blob[:1] != _VERSION or len(blob) < 2:
        raise ValueError("unknown PII ciphertext version")
    return blob[2 : 2 + blob[1]].decode()


def decrypt(blob: bytes) -> str:
    wanted = key_id(blob).encode()
    key = next((key for key in _encryption_keys() if key.key_id == wanted), None)
    if key is None:
        raise ValueError(f"PII key {wanted.decode()!r} is not in PII_ENCRYPTION_KEYS")
    start = 2 + len(wanted)
    nonce, sealed = blob[start : start + _NONCE_BYTES], blob[start + _NONCE_BYTES :]
    return AESGCM(key.key).decrypt(nonce, sealed, _AAD + key.key_id).decode()
