"""``emit``: write a domain event into the outbox, in the caller's transaction.

Nothing leaves the process before commit. After commit, a debounced kick wakes the relay;
the periodic sweep (beat) delivers whatever a lost kick missed, so nothing relies on the kick.
"""

import contextlib

import structlog
from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from retail.platform.events import DomainEvent
from retail.platform.models import OutboxMessage

log = structlog.get_logger(__name__)
KICK_PENDING_KEY = "outbox:kick-pending"
KICK_PENDING_TTL_S = 30
RELAY_DRAIN_TASK = "platform.relay_drain"  # sent by name: tasks sit above this layer


class OutboxOutsideTransaction(RuntimeError):
    pass


def emit(event: DomainEvent) -> OutboxMessage:
    if not connection.in_atomic_block:
        raise OutboxOutsideTransaction(
            f"{type(event).__name__} must be emitted inside the transaction of its state change"
        )
    now = timezone.now()
    message = OutboxMessage.objects.create(
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        event_type=event.event_type,
        version=event.version,
        payload=event.payload(),
        occurred_at=now,
        available_at=now,
        request_id=structlog.contextvars.get_contextvars().get("request_id", ""),
    )
    transaction.on_commit(kick_relay)
    return message


def kick_relay() -> None:
    """Wake a relay worker, one queued kick at a time. Never raises: the sweep is the net."""
    try:
        if not cache.add(KICK_PENDING_KEY, 1, timeout=KICK_PENDING_TTL_S):
            return  # a kick is queued already
    except Exception:  # Redis down must not fail a request that has committed
        log.warning("outbox.kick_failed", exc_info=True)
        return
    try:
        current_app.send_task(RELAY_DRAIN_TASK, retry=False)
    except Exception:
        log.warning("outbox.kick_failed", exc_info=True)
        # No kick is queued: disarm, or every commit would skip its kick until the TTL ran out.
        with contextlib.suppress(Exception):
            cache.delete(KICK_PENDING_KEY)
