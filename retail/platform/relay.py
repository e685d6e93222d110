"""The outbox relay: claims pending events and applies them to their consumers.

Each lane (``retail.platform.inbox``) is relayed on its own: ``core`` from the outbox rows
themselves, every side lane from its ``LaneDelivery`` rows, each applying only its own
consumers. Within a lane, correctness rests on three rules, none of them on a high-water mark:
- rows are claimed with ``FOR UPDATE SKIP LOCKED``, so any number of relays can run at once
  and a row committed late (a lower ``seq`` than rows already delivered) is still claimed;
- only the oldest pending event of each aggregate is claimable, so one aggregate's events
  are applied in order whatever the number of relays (writers lock the aggregate row before
  emitting, so ``seq`` order is commit order within one aggregate);
- each consumer's receipt is written with its effect, so redelivery after a crash is a no-op.

A batch is applied in one transaction (fast path), for at most ``OUTBOX_BATCH_BUDGET_MS``
(claimed events left over stay pending for the next batch). If any handler raises, the batch
is rolled back to a savepoint and re-applied consumer by consumer, each (event, consumer) pair
in its own savepoint with its receipt: a failing consumer undoes only its own effect, the
event's other consumers keep theirs, and one poison event delays only its own aggregate. The
event is retried with exponential backoff and jitter (consumers that went through find their
receipts) and dead-lettered after ``OUTBOX_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from retail.platform import metrics
from retail.platform.events import DomainEvent, event_from_payload
from retail.platform.inbox import CORE_LANE, Consumer, EventContext, consumers_of, side_lanes
from retail.platform.models import LaneDelivery, OutboxMessage

log = structlog.get_logger(__name__)

_CORE_CLAIM_SQL = """
    SELECT o.seq, o.event_id, o.event_type, o.version, o.payload, o.occurred_at,
           o.attempts, o.request_id
    FROM platform_outbox o
    WHERE o.status = 'pending' AND o.available_at <= %(now)s
      AND NOT EXISTS (
          SELECT 1 FROM platform_outbox older
          WHERE older.status = 'pending'
            AND older.aggregate_type = o.aggregate_type
            AND older.aggregate_id = o.aggregate_id
            AND older.seq < o.seq)
    ORDER BY o.seq
    LIMIT %(size)s
    FOR UPDATE OF o SKIP LOCKED
"""
_SIDE_LANE_CLAIM_SQL = """
    SELECT o.seq, o.event_id, o.event_type, o.version, o.payload, o.occurred_at,
           d.attempts, o.request_id
    FROM platform_lane_delivery d JOIN platform_outbox o ON o.seq = d.seq
    WHERE d.lane = %(lane)s AND d.status = 'pending' AND d.available_at <= %(now)s
      AND NOT EXISTS (
          SELECT 1 FROM platform_lane_delivery older
          WHERE older.lane = d.lane AND older.status = 'pending'
            AND older.aggregate_type = d.aggregate_type
            AND older.aggregate_id = d.aggregate_id
            AND older.seq < d.seq)
    ORDER BY d.seq
    LIMIT %(size)s
    FOR UPDATE OF d SKIP LOCKED
"""
_RECEIPT_SQL = """
    INSERT INTO platform_inbox_receipt (consumer, event_id, handled_at)
    SELECT consumer, event_id, now() FROM unnest(%s::text[], %s::uuid[]) AS r(consumer, event_id)
    ON CONFLICT (consumer, event_id) DO NOTHING
    RETURNING consumer, event_id
"""


@dataclass(frozen=True)
class ClaimedEvent:
    seq: int
    event_id: uuid.UUID
    event_type: str
    version: int
    payload: dict[str, Any]
    occurred_at: datetime
    attempts: int
    request_id: str


@dataclass(frozen=True)
class BatchResult:
    claimed: int
    delivered: int
    failed: int


def relay_batch(batch_size: int | None = None, lane: str = CORE_LANE) -> BatchResult:
    """Claim up to ``batch_size`` events of ``lane``, apply its consumers, record the outcome.
    One transaction.

    Events are applied only while the transaction is younger than ``OUTBOX_BATCH_BUDGET_MS``:
    consumers lock rows that requests wait for (an order paid consumes its stock rows), and a
    transaction must not keep them for a whole batch of slow consumers. Claimed events left
    over stay pending, untouched, for the next batch. ``claimed`` counts the events taken up.
    """
    size = batch_size or settings.OUTBOX_BATCH_SIZE
    with transaction.atomic():
        _limit_lock_waits()
        claimed = _claim(size, lane)
        if not claimed:
            return BatchResult(0, 0, 0)
        deadline = time.monotonic() + settings.OUTBOX_BATCH_BUDGET_MS / 1000
        taken: list[ClaimedEvent] = []
        try:
            with transaction.atomic():
                _run_batch_consumers(_apply_within_budget(claimed, taken, deadline, lane))
            failures: dict[int, Exception] = {}
        except Exception:  # noqa: BLE001 - any handler failure: isolate it event by event
            taken, failures = _apply_one_by_one(claimed, deadline, lane)
        delivered = [event for event in taken if event.seq not in failures]
        handled_at = timezone.now()
        _mark_delivered(delivered, handled_at, lane)
        for event in taken:
            if event.seq in failures:
                _mark_failed(event, failures[event.seq], lane)
    metrics.record_delivered(delivered, handled_at, lane)
    return BatchResult(len(taken), len(delivered), len(failures))


def _apply_within_budget(
    claimed: list[ClaimedEvent], taken: list[ClaimedEvent], deadline: float, lane: str
) -> BatchDeliveries:
    """Apply a prefix of ``claimed`` (appending each event to ``taken`` before applying it) in
    chunks sized from the time per event so far: one event first, then as many as the rest of
    the budget fits (cheap consumers: the whole batch in one more chunk, one receipt INSERT)."""
    started = time.monotonic()
    owed: BatchDeliveries = {}
    chunk = 1
    while len(taken) < len(claimed):
        part = claimed[len(taken) : len(taken) + chunk]
        taken.extend(part)
        _owed_add(owed, _apply(_deliveries_of(part, lane)))
        now = time.monotonic()
        if now >= deadline:
            break
        per_event = (now - started) / len(taken)
        chunk = max(1, int((deadline - now) / per_event)) if per_event else len(claimed)
    return owed


def relay_drain(max_seconds: float = 30.0, lane: str | None = None) -> int:
    """Apply batches of ``lane`` until nothing is claimable (or the time budget is spent).

    Without a lane, every lane in turn until none has anything claimable: what a test or a
    command running the whole event path in one process wants. The side lanes go first, so
    the audit trail reads in cause-and-effect order (an event's entry before the entries of
    what its core consumers did). Returns the events taken up (an event counts once per lane
    it went through)."""
    deadline = time.monotonic() + max_seconds
    lanes = [lane] if lane is not None else [*side_lanes(), CORE_LANE]
    total = 0
    while time.monotonic() < deadline:
        claimed = sum(_lane_drain(one, deadline) for one in lanes)
        total += claimed
        if claimed == 0 or lane is not None:
            break
    return total


def _lane_drain(lane: str, deadline: float) -> int:
    total = 0
    while time.monotonic() < deadline:
        result = relay_batch(lane=lane)
        total += result.claimed
        if result.claimed == 0:
            break
    return total


def _limit_lock_waits() -> None:
    """A relay transaction holds rows of many aggregates at once (stock rows of several orders,
    in no global order), so it must not be the one that waits: past ``OUTBOX_LOCK_TIMEOUT_MS``
    its handler fails and the event is retried, instead of a checkout dying in a deadlock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{settings.OUTBOX_LOCK_TIMEOUT_MS}ms"]
        )


def _claim(size: int, lane: str) -> list[ClaimedEvent]:
    sql = _CORE_CLAIM_SQL if lane == CORE_LANE else _SIDE_LANE_CLAIM_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": timezone.now(), "size": size, "lane": lane})
        rows = cursor.fetchall()
    # Django has psycopg hand jsonb over as text (JSONField decodes it); so do we here.
    return [
        ClaimedEvent(seq, event_id, event_type, version, json.loads(payload), *rest)
        for seq, event_id, event_type, version, payload, *rest in rows
    ]


BatchDeliveries = dict[str, tuple[Consumer, list[tuple[DomainEvent, EventContext]]]]


def _lane_consumers(event_type: str, lane: str) -> list[Consumer]:
    return [consumer for consumer in consumers_of(event_type) if consumer.lane == lane]


def _deliveries_of(events: list[ClaimedEvent], lane: str) -> list[tuple[Consumer, ClaimedEvent]]:
    return [
        (consumer, event)
        for event in events
        for consumer in _lane_consumers(event.event_type, lane)
    ]


def _apply(pairs: list[tuple[Consumer, ClaimedEvent]]) -> BatchDeliveries:
    """Write the receipts, run the per-event consumers; return what batch consumers still owe.

    Batch consumers (the audit chain and its global lock) run after every per-event consumer
    of the whole batch, so that lock is the last one a relay transaction takes: checkouts and
    webhooks lock rows and then, in their own transactions, the chain — never the reverse.
    """
    batches: BatchDeliveries = {}
    if not pairs:
        return batches
    with connection.cursor() as cursor:
        cursor.execute(
            _RECEIPT_SQL,
            [[consumer.name for consumer, _ in pairs], [event.event_id for _, event in pairs]],
        )
        first_time = {(name, event_id) for name, event_id in cursor.fetchall()}
    for consumer, event in pairs:
        if (consumer.name, event.event_id) not in first_time:
            continue  # this consumer already applied this event: a redelivery
        delivery = (
            event_from_payload(event.event_type, event.version, event.payload),
            EventContext(
                event_id=event.event_id,
                occurred_at=event.occurred_at,
                attempt=event.attempts + 1,
                request_id=event.request_id,
            ),
        )
        if consumer.handler is not None:
            consumer.handler(*delivery)
        else:
            batches.setdefault(consumer.name, (consumer, []))[1].append(delivery)
    return batches


def _owed_add(owed: BatchDeliveries, more: BatchDeliveries) -> None:
    for name, (consumer, deliveries) in more.items():
        owed.setdefault(name, (consumer, []))[1].extend(deliveries)


def _run_batch_consumers(batches: BatchDeliveries) -> None:
    for consumer, deliveries in batches.values():
        assert consumer.batch_handler is not None
        consumer.batch_handler(deliveries)


def _apply_one_by_one(
    claimed: list[ClaimedEvent], deadline: float, lane: str
) -> tuple[list[ClaimedEvent], dict[int, Exception]]:
    """Each (event, consumer) pair in its own savepoint (a failure undoes only that consumer's
    effect and fails its event), event after event until ``deadline`` (at least one), then
    batch consumers once for every event that went through; if those fail, every event taken
    up is retried. Returns the events taken up and the failures."""
    taken: list[ClaimedEvent] = []
    failures: dict[int, Exception] = {}
    owed: BatchDeliveries = {}
    savepoint = transaction.savepoint()
    for event in claimed:
        if taken and time.monotonic() >= deadline:
            break
        taken.append(event)
        for consumer in _lane_consumers(event.event_type, lane):  # per-event consumers first
            if consumer.batch_handler is not None and event.seq in failures:
                break  # batch consumers get the event on the attempt that goes through
            try:
                with transaction.atomic():
                    _owed_add(owed, _apply([(consumer, event)]))
            except Exception as error:  # noqa: BLE001 - recorded on the event, retried later
                failures.setdefault(event.seq, error)
    try:
        with transaction.atomic():
            _run_batch_consumers(owed)
    except Exception as error:  # noqa: BLE001 - nothing of this batch is kept
        transaction.savepoint_rollback(savepoint)
        return taken, {event.seq: failures.get(event.seq, error) for event in taken}
    transaction.savepoint_commit(savepoint)
    return taken, failures


def _deliveries(lane: str, events: list[ClaimedEvent]) -> QuerySet[Any]:
    """The rows ``lane`` records the outcome of ``events`` in."""
    seqs = [event.seq for event in events]
    if lane == CORE_LANE:
        return OutboxMessage.objects.filter(seq__in=seqs)
    return LaneDelivery.objects.filter(lane=lane, message_id__in=seqs)


def _mark_delivered(events: list[ClaimedEvent], handled_at: datetime, lane: str) -> None:
    if events:
        _deliveries(lane, events).update(
            status=OutboxMessage.Status.DELIVERED,
            delivered_at=handled_at,
            attempts=F("attempts") + 1,
        )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(
        settings.OUTBOX_RETRY_CAP_S, settings.OUTBOX_RETRY_BASE_S * 2 ** max(attempts - 1, 0)
    )
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not crypto


def _mark_failed(event: ClaimedEvent, error: Exception, lane: str) -> None:
    attempts = event.attempts + 1
    dead = attempts >= settings.OUTBOX_MAX_ATTEMPTS
    _deliveries(lane, [event]).update(
        attempts=attempts,
        status=OutboxMessage.Status.DEAD if dead else OutboxMessage.Status.PENDING,
        available_at=timezone.now() + retry_delay(attempts),
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )
    log.warning(
        "outbox.dead_lettered" if dead else "outbox.delivery_failed",
        lane=lane,
        event_id=str(event.event_id),
        event_type=event.event_type,
        attempts=attempts,
        error=repr(error),
    )
    if dead:
        metrics.DEAD_LETTERS.labels(event.event_type, lane).inc()
