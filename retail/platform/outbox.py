"""``emit``: write a domain event into the outbox, in the caller's transaction.

Nothing leaves the process before commit. The event's row is the ``core`` lane's delivery; a
row per side lane with consumers of the event is written with it (``LaneDelivery``). After
commit, a debounced kick per lane wakes that lane's relay on its own Celery queue; the
periodic sweep (beat) delivers whatever a lost kick missed, so nothing relies on the kick.
"""

import contextlib
import json
import uuid
from functools import partial
from typing import Any

import structlog
from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from retail.platform.events import DomainEvent
from retail.platform.inbox import CORE_LANE, side_lanes_of
from retail.platform.models import OutboxMessage

log = structlog.get_logger(__name__)
KICK_PENDING_PREFIX = "outbox:kick-pending"
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
    message = OutboxMessage(
        event_id=uuid.uuid4(),
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        event_type=event.event_type,
        version=event.version,
        payload=event.payload(),
        occurred_at=now,
        available_at=now,
        request_id=structlog.contextvars.get_contextvars().get("request_id", ""),
    )
    lanes = side_lanes_of(event.event_type)
    with connection.cursor() as cursor:
        cursor.execute(_EMIT_SQL, {**_columns(message), "lanes": lanes})
        (message.seq,) = cursor.fetchone()
    message._state.adding, message._state.db = False, connection.alias  # as if loaded
    for lane in (CORE_LANE, *lanes):
        kick_after_commit(lane)
    return message


_KICKS: dict[str, partial[None]] = {}  # one callable per lane, so a transaction can find it


def kick_after_commit(lane: str) -> None:
    """Kick ``lane`` once this transaction commits: once per lane per transaction, however
    many events it emits (a relay batch emits dozens), each kick being a round trip to Redis."""
    kick = _KICKS.setdefault(lane, partial(kick_relay, lane))
    if not any(entry[1] is kick for entry in connection.run_on_commit):
        transaction.on_commit(kick)


# The event's row and its side lanes' rows in one statement (one round trip per event).
_EMIT_SQL = """
    WITH message AS (
        INSERT INTO platform_outbox (event_id, aggregate_type, aggregate_id, event_type, version,
            payload, occurred_at, available_at, request_id, status, attempts, last_error)
        VALUES (%(event_id)s, %(aggregate_type)s, %(aggregate_id)s, %(event_type)s, %(version)s,
            %(payload)s, %(occurred_at)s, %(available_at)s, %(request_id)s, 'pending', 0, '')
        RETURNING seq
    ), lanes AS (
        INSERT INTO platform_lane_delivery (lane, seq, aggregate_type, aggregate_id, status,
            attempts, available_at, last_error)
        SELECT lane, message.seq, %(aggregate_type)s, %(aggregate_id)s, 'pending', 0,
            %(available_at)s, ''
        FROM message, unnest(%(lanes)s::text[]) AS lane
    )
    SELECT seq FROM message
"""


def _columns(message: OutboxMessage) -> dict[str, Any]:
    return {
        "event_id": message.event_id,
        "aggregate_type": message.aggregate_type,
        "aggregate_id": message.aggregate_id,
        "event_type": message.event_type,
        "version": message.version,
        "payload": json.dumps(message.payload),
        "occurred_at": message.occurred_at,
        "available_at": message.available_at,
        "request_id": message.request_id,
    }


def kick_pending_key(lane: str) -> str:
    return f"{KICK_PENDING_PREFIX}:{lane}"


def kick_relay(lane: str = CORE_LANE) -> None:
    """Wake one relay of ``lane``, one queued kick at a time (after the lane's
    ``OUTBOX_LANE_KICK_DELAY_S``: the commits meanwhile ride on it). Never raises: the sweep is
    the net."""
    try:
        if not cache.add(kick_pending_key(lane), 1, timeout=KICK_PENDING_TTL_S):
            return  # a kick is queued already
    except Exception:  # Redis down must not fail a request that has committed
        log.warning("outbox.kick_failed", lane=lane, exc_info=True)
        return
    try:
        current_app.send_task(
            RELAY_DRAIN_TASK,
            args=[lane],
            queue=settings.OUTBOX_LANE_QUEUES[lane],
            countdown=settings.OUTBOX_LANE_KICK_DELAY_S.get(lane) or None,
            retry=False,
        )
    except Exception:
        log.warning("outbox.kick_failed", lane=lane, exc_info=True)
        # No kick is queued: disarm, or every commit would skip its kick until the TTL ran out.
        with contextlib.suppress(Exception):
            cache.delete(kick_pending_key(lane))
