"""Faults 3, 4, 6 and 14: kicks that never arrive, late commits, a relay that was down a day.

Nothing may rely on the on-commit kick: the periodic sweep (a real ``celery beat``) delivers
whatever a crash, a lost broker or a long outage left pending.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from retail.platform import outbox
from retail.platform.models import OutboxMessage
from retail.platform.outbox import KICK_PENDING_PREFIX, RELAY_DRAIN_TASK
from retail.platform.selectors import outbox_status
from retail.platform.tests.probe import ProbeHappened, effects
from tests.kernel.expect import (
    assert_exactly_once_in_order,
    emit_committed,
    grid,
    pending,
    wait_all_delivered,
)
from tests.kernel.procs import free_port, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
SWEEP = "platform.relay_sweep"

# Run by `manage.py shell -c`: commits five events, then the process dies in the first
# on-commit callback, before the outbox's kick (registered after it) can run.
CRASH_AFTER_COMMIT = """
import os
from django.db import transaction
from retail.platform import outbox
from retail.platform.tests.probe import ProbeHappened
with transaction.atomic():
    transaction.on_commit(lambda: os._exit(17))
    for position in range(5):
        outbox.emit(ProbeHappened(aggregate_id="crashed-writer", position=position))
"""


def queued_tasks(kernel) -> int:
    with kernel.redis.client() as client:
        return int(client.llen("celery"))


def test_a_writer_that_dies_between_commit_and_kick_is_covered_by_the_sweep(kernel):
    """Fault 3."""
    kernel.worker()
    crashed = kernel.manage("shell", "-c", CRASH_AFTER_COMMIT)
    assert crashed.returncode == 17, crashed.stderr
    assert pending() == 5  # committed ...
    assert queued_tasks(kernel) == 0  # ... but never kicked
    with kernel.redis.client() as client:
        assert client.keys(f"*{KICK_PENDING_PREFIX}*") == []
    time.sleep(1.0)  # a running worker, and nothing wakes it
    assert effects() == []
    kernel.beat()
    wait_all_delivered(timeout=30)
    assert_exactly_once_in_order()
    assert kernel.runs(SWEEP)  # delivered by the sweep, not by a kick
    assert not kernel.runs(RELAY_DRAIN_TASK)


def test_a_transaction_committing_after_a_later_one_is_delivered_by_real_workers(kernel):
    """Fault 4: the slow transaction takes the lower seq but commits last."""
    kernel.worker()
    slow_inserted, fast_delivered = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                outbox.emit(ProbeHappened(aggregate_id="slow", position=0))
                slow_inserted.set()
                fast_delivered.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert slow_inserted.wait(10)
        emit_committed(ProbeHappened(aggregate_id="fast", position=0))
        wait_for(lambda: len(effects()) == 1, what="the later transaction's event")
        assert [aggregate for _, aggregate, _ in effects()] == ["fast"]
    finally:
        fast_delivered.set()
        writer.join(30)
    wait_all_delivered(timeout=30)
    assert_exactly_once_in_order()
    slow, fast = (OutboxMessage.objects.get(aggregate_id=name).seq for name in ("slow", "fast"))
    assert slow < fast  # the slow transaction really did take the lower seq


def test_tasks_queued_in_a_redis_that_restarts_are_lost_and_the_sweep_delivers(kernel):
    """Fault 6: the broker has no persistence; a restart drops every queued kick."""
    for events in grid(aggregates=10, positions=5):
        emit_committed(*events)
    kernel.send(SWEEP, times=3)
    assert queued_tasks(kernel) >= 2  # kicks and sweeps wait for a worker that is not there
    kernel.redis.restart()
    assert queued_tasks(kernel) == 0  # lost with the restart
    emit_committed(*(ProbeHappened(aggregate_id="after-restart", position=p) for p in range(3)))
    kernel.worker()
    kernel.beat()
    wait_all_delivered(timeout=30)
    assert_exactly_once_in_order()


def test_a_relay_down_for_a_day_delivers_everything_when_it_returns(kernel):
    """Fault 14."""
    for events in grid(aggregates=20, positions=10):
        emit_committed(*events)
    a_day_ago = timezone.now() - timedelta(days=1)
    OutboxMessage.objects.update(occurred_at=a_day_ago, available_at=a_day_ago)
    with kernel.redis.client() as client:
        client.flushall()  # the day's kicks are long gone too
    status = outbox_status()
    assert status["pending"] == 200
    assert status["oldest_pending_age_s"] >= 24 * 3600
    kernel.worker()
    kernel.beat()
    wait_all_delivered(timeout=30)
    assert_exactly_once_in_order()
    assert outbox_status()["oldest_pending_age_s"] is None


def test_a_kick_that_fails_to_send_does_not_silence_the_next_commits_kicks(kernel):
    """The kick is debounced by a Redis key; a failed send must not leave it set (no sweep
    runs here: only kicks can deliver)."""
    kernel.worker()
    kernel.broker_use(f"redis://127.0.0.1:{free_port()}/0")  # the broker is unreachable
    emit_committed(ProbeHappened(aggregate_id="unkicked", position=0))  # commits; kick fails
    time.sleep(1.0)
    assert effects() == []
    kernel.broker_use(kernel.redis.url)
    emit_committed(ProbeHappened(aggregate_id="kicked", position=0))
    wait_all_delivered(timeout=10)  # one kick drains both
    assert_exactly_once_in_order()
