"""Faults 5 and 10: several relay worker processes at once, on the same events."""

import pytest
from django.core.cache import cache
from django.db import connection

from retail.platform.inbox import CORE_LANE
from retail.platform.models import OutboxMessage
from retail.platform.outbox import kick_pending_key
from retail.platform.tests.probe import EFFECT_TABLE
from tests.kernel.expect import (
    assert_exactly_once_in_order,
    emit_committed,
    grid,
    wait_all_delivered,
)

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
SWEEP = "platform.relay_sweep"


def backends_that_applied() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT pid FROM {EFFECT_TABLE}")  # noqa: S608
        return {pid for (pid,) in cursor.fetchall()}


def test_two_worker_processes_keep_per_aggregate_order_and_apply_nothing_twice(kernel):
    """Fault 5: 2 workers x 2 processes drain 50 aggregates x 20 events while they are written."""
    small_batches = {"OUTBOX_BATCH_SIZE": "7"}
    kernel.worker(concurrency=2, **small_batches)
    kernel.worker(concurrency=2, **small_batches)
    for events in grid(aggregates=50, positions=20):
        emit_committed(*events)
        kernel.send(SWEEP, times=2)  # besides the kick: keep all four processes draining
    wait_all_delivered()
    assert_exactly_once_in_order()
    assert len(backends_that_applied()) >= 2  # the relays really did run at the same time


def test_the_same_events_relayed_by_three_processes_at_once_apply_once(kernel):
    """Fault 10: three workers race for the same 300 events, twice over."""
    for _ in range(3):
        kernel.worker()
    # no kick: the three sweeps start together
    cache.set(kick_pending_key(CORE_LANE), 1, timeout=None)
    emit_committed(*(e for events in grid(aggregates=100, positions=3) for e in events))
    kernel.send(SWEEP, times=3)
    wait_all_delivered()
    assert_exactly_once_in_order(settle_s=0)
    # Every event is delivered again (a replay, or a relay that crashed before marking), to
    # all three at once: the inbox receipts make the second delivery a no-op.
    OutboxMessage.objects.update(status=OutboxMessage.Status.PENDING)
    kernel.send(SWEEP, times=3)
    wait_all_delivered()
    assert_exactly_once_in_order()
    starts = {pid for what, pid, _ in kernel.runs(SWEEP) if what == "start"}
    assert len(starts) == 3  # each of the three processes ran a sweep
