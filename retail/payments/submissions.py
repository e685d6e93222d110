"""Getting payments and refunds to the PSP as durably as the outbox delivers events.

The row is the to-do list: a payment or refund that is ``requested`` and not yet accepted by
the PSP (``submitted_at`` empty) is due at its ``retry_at``. The after-commit task submits it
at once (the fast path); whatever that task never did (a lost broker message, a killed worker,
a 503) the sweep (beat, every ``PSP_SUBMIT_SWEEP_S``) claims with ``SKIP LOCKED``, leasing it
for ``LEASE_S`` so no two workers ask at once, and submits. A failure moves that row's
``retry_at`` back (doubling, capped) and the sweep goes on with the next: one 503 is one
payment's answer. Only the PSP client's circuit breaker ("the PSP is down") stops a sweep.
Every request carries the row's id as its ``Idempotency-Key``, so asking twice charges once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection, models
from django.db.models import F

from retail.payments import psp, services
from retail.payments.models import Payment, Refund

log = structlog.get_logger(__name__)

LEASE_S = 60.0  # longer than a PSP request can take (connect + read timeouts)
BACKOFF_CAP_S = 60.0
SWEEP_LIMIT = 100

_CLAIM_SQL = """
    UPDATE {table} SET retry_at = %(leased_until)s, submit_attempts = submit_attempts + 1
    WHERE id IN (
        SELECT id FROM {table}
        WHERE status = 'requested' AND submitted_at IS NULL AND retry_at <= %(now)s
        ORDER BY retry_at LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, submit_attempts
"""
_SUBMITTERS: list[tuple[type[models.Model], Callable[[str], None]]] = [
    (Payment, services.payment_submit),
    (Refund, services.refund_submit),
]


def backoff_s(attempts: int) -> float:
    return float(min(settings.PSP_RETRY_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


def submit_sweep(*, now: datetime, limit: int = SWEEP_LIMIT) -> int:
    """Submit every due payment and refund; how many the PSP accepted or refused for good."""
    done = 0
    for model, submit in _SUBMITTERS:
        claimed = _claim(model, now, limit)
        for index, (object_id, attempts) in enumerate(claimed):
            try:
                submit(object_id)
                done += 1
            except psp.PspUnavailable as error:
                retry_at = now + timedelta(seconds=backoff_s(attempts))
                model._default_manager.filter(id=object_id).update(retry_at=retry_at)
                log.warning(
                    "payments.submit_retry", id=object_id, attempts=attempts, error=str(error)
                )
                if psp.circuit_open():  # the PSP is down: the rest wait, their attempt unspent
                    _release(model, [unasked for unasked, _ in claimed[index + 1 :]], now)
                    return done
    return done


def _release(model: type[models.Model], ids: list[str], now: datetime) -> None:
    model._default_manager.filter(id__in=ids).update(
        retry_at=now, submit_attempts=F("submit_attempts") - 1
    )


def _claim(model: type[models.Model], now: datetime, limit: int) -> list[tuple[str, int]]:
    """Lease due rows (autocommit: the lease is visible before the PSP is asked)."""
    leased_until = now + timedelta(seconds=LEASE_S)
    sql = _CLAIM_SQL.format(table=connection.ops.quote_name(model._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "leased_until": leased_until, "limit": limit})
        return [(object_id, attempts) for object_id, attempts in cursor.fetchall()]
