"""Standard Webhooks 1.0 sending, as the PSP and the marketplace partner do it.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{raw body}"``; the key is the
base64-decoded part of a ``whsec_<base64>`` secret; the signature header is ``v1,<base64>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format marker, not a secret
# Public local default, the same as config/settings.py; real deployments set PSP_WEBHOOK_SECRET.
DEFAULT_PSP_SECRET = "whsec_bG9jYWwtcHNwLXNhbmRib3gtc2VjcmV0LWtleQ=="  # noqa: S105
RETRYABLE_4XX = frozenset({409, 429})  # "busy with it" and "slow down": try again later


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_…`` secret (ValueError if it is not one)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret looks like whsec_<base64>")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one delivery attempt."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, webhook_id: str, body: bytes) -> dict[str, str]:
    """Headers for one delivery attempt, timestamped now (every retry is signed afresh)."""
    timestamp = int(time.time())
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, webhook_id, timestamp, body),
    }


def new_message_id() -> str:
    """A fresh ``webhook-id`` for a new message (redeliveries reuse the old one)."""
    return "msg_" + secrets.token_hex(12)


def is_final(status: int | None) -> bool:
    """Stop delivering? 2xx is done and a 4xx the receiver's final word, except 409 and 429;
    5xx and no answer at all (``None``) are retried."""
    if status is None:
        return False
    return 200 <= status < 300 or (400 <= status < 500 and status not in RETRYABLE_4XX)
