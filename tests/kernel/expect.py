"""Emitting probe events and checking the one property every fault test asserts:
each event's effect happened exactly once, per aggregate in emit order, nothing lost."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from django.db import transaction

from retail.platform import outbox
from retail.platform.models import InboxReceipt, OutboxMessage
from retail.platform.tests.probe import CONSUMER, ProbeHappened, effects
from tests.kernel.procs import wait_for


def emit_committed(*events: ProbeHappened) -> None:
    with transaction.atomic():
        for event in events:
            outbox.emit(event)


def grid(aggregates: int, positions: int, prefix: str = "a") -> list[list[ProbeHappened]]:
    """``positions`` rounds, each one event for every aggregate (round k has position k)."""
    return [
        [ProbeHappened(aggregate_id=f"{prefix}{a}", position=p) for a in range(aggregates)]
        for p in range(positions)
    ]


def pending() -> int:
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()


def wait_all_delivered(timeout: float = 60.0) -> None:
    total = OutboxMessage.objects.count()
    wait_for(
        lambda: pending() == 0 and len(effects()) >= total,
        timeout,
        f"all {total} outbox events to be delivered (pending={pending()})",
    )


def assert_exactly_once_in_order(
    settle_s: float = 1.0, reordered: frozenset[str] | set[str] = frozenset()
) -> None:
    """Every outbox event applied once (after ``settle_s`` more for late duplicates to show),
    each aggregate's effects in its emit (seq) order (the order of aggregates in ``reordered``
    is not checked), every event delivered with one receipt."""
    time.sleep(settle_s)
    applied = effects()
    messages = list(OutboxMessage.objects.order_by("seq"))
    counts = Counter(event_id for event_id, _, _ in applied)
    assert counts == Counter({str(m.event_id): 1 for m in messages}), (
        f"not exactly once: {sorted(counts.values())[-3:]} max, "
        f"{len(counts)} applied of {len(messages)}"
    )
    emitted: dict[str, list[int]] = defaultdict(list)
    for message in messages:
        emitted[message.aggregate_id].append(message.payload["position"])
    in_effect_order: dict[str, list[int]] = defaultdict(list)
    for _, aggregate, position in applied:
        in_effect_order[aggregate].append(position)
    for aggregate in reordered:
        emitted[aggregate].sort()
        in_effect_order[aggregate].sort()
    assert in_effect_order == emitted
    assert {m.status for m in messages} == {OutboxMessage.Status.DELIVERED}
    receipts = InboxReceipt.objects.filter(consumer=CONSUMER)
    assert receipts.count() == len(messages)
