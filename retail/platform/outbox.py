"""``emit``: write a domain event into the outbox, in the caller's transaction.

Nothing leaves the process before commit. After commit, a debounced kick wakes the relay;
the periodic sweep (beat) delivers whatever a lost kick missed, so nothing relies on the kick.
"""

import structlog
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from retail.platform.events import DomainEvent
from retail.platform.models import OutboxMessage

log = structlog.get_logger(__name__)
KICK_PENDING_KEY = "outbox:kick-pending"
KICK_PENDING_TTL_S = 30


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
    from retail.platform.tasks import relay_drain

    try:
        if cache.add(KICK_PENDING_KEY, 1, timeout=KICK_PENDING_TTL_S):
            relay_drain.apply_async(retry=False)
    except Exception:  # Redis down must not fail a request that has committed
        log.warning("outbox.kick_failed", exc_info=True)
