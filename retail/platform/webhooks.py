"""Incoming webhooks per Standard Webhooks 1.0: verification and ``webhook-id`` deduplication.

The signature is ``v1,<base64 HMAC-SHA256("{id}.{timestamp}.{raw body}")>`` keyed with the
base64-decoded part of a ``whsec_…`` secret. Several signatures may be sent (space-separated)
and several secrets may be valid at once (rotation); any match verifies. Always the raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connection, transaction
from django.http import HttpRequest

from retail.platform import metrics
from retail.platform.problems import Problem

TOLERANCE_S = 300
MAX_WEBHOOK_ID = 255  # platform_webhook_receipt.webhook_id
SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
T = TypeVar("T")


class WebhookDuplicate(Exception):
    """This ``webhook-id`` was already accepted from this source: answer 200, do nothing."""


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    *, secrets: Sequence[str], headers: dict[str, str], body: bytes, now: float | None = None
) -> str:
    """The ``webhook-id`` of a well-signed, fresh message; ``Problem(401)`` otherwise."""
    webhook_id = headers.get("webhook-id", "")
    timestamp_text = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "").split()
    if not (webhook_id and timestamp_text and signatures):
        raise Problem(
            401, "webhook_signature_missing", "webhook-id, -timestamp and -signature are required."
        )
    if len(webhook_id) > MAX_WEBHOOK_ID:
        raise Problem(
            400, "webhook_id_too_long", f"webhook-id is longer than {MAX_WEBHOOK_ID} characters."
        )
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise Problem(
            401, "webhook_timestamp_invalid", "webhook-timestamp is not an integer."
        ) from None
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_S:
        raise Problem(
            401, "webhook_timestamp_out_of_tolerance", "webhook-timestamp is more than 300 s off."
        )
    offered = {signature for signature in signatures if signature.startswith("v1,")}
    for secret in secrets:
        expected = sign(secret, webhook_id, timestamp, body)
        if any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in offered):
            return webhook_id
    raise Problem(401, "webhook_signature_invalid", "No signature matches a current secret.")


def receive(
    request: HttpRequest, *, source: str, secrets: Sequence[str], apply: Callable[[str], T]
) -> T:
    """Verify ``request`` and run ``apply(webhook_id)`` once per ``webhook-id`` from ``source``.

    ``apply`` runs in the same transaction as the receipt, so a racing duplicate waits for the
    first delivery's commit and then finds the receipt (``WebhookDuplicate``), or, if the first
    one failed, gets to apply it itself. ``apply`` should only write rows and emit events.
    """
    try:
        webhook_id = verify(secrets=secrets, headers=_lower(request.headers), body=request.body)
    except Problem as rejection:
        metrics.WEBHOOK_REJECTS.labels(source, rejection.code).inc()
        raise
    with transaction.atomic():
        if not _record_receipt(source, webhook_id):
            raise WebhookDuplicate(webhook_id)
        return apply(webhook_id)


def _record_receipt(source: str, webhook_id: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO platform_webhook_receipt (source, webhook_id, received_at)"
            " VALUES (%s, %s, now()) ON CONFLICT (source, webhook_id) DO NOTHING RETURNING id",
            [source, webhook_id],
        )
        return cursor.fetchone() is not None


def _secret_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None


def _lower(headers: object) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}  # type: ignore[attr-defined]
