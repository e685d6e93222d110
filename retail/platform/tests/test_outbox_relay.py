"""The outbox and the relay in-process on real PostgreSQL (worker-process faults: tests/kernel)."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction

from retail.platform import inbox, outbox
from retail.platform.inbox import CORE_LANE
from retail.platform.models import InboxReceipt, OutboxMessage
from retail.platform.relay import relay_batch, relay_drain
from retail.platform.tests.probe import CONSUMER, ProbeHappened, effect_table_create, effects

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _effect_table():
    effect_table_create()


def emit_committed(*events):
    with transaction.atomic():
        for event in events:
            outbox.emit(event)


def test_emit_outside_a_transaction_is_refused_and_writes_nothing():
    with pytest.raises(outbox.OutboxOutsideTransaction):
        outbox.emit(ProbeHappened(aggregate_id="p1"))
    assert OutboxMessage.objects.count() == 0


def test_an_event_rolled_back_with_its_transaction_is_never_delivered():
    def failing_state_change():
        with transaction.atomic():
            outbox.emit(ProbeHappened(aggregate_id="p1"))
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        failing_state_change()
    assert relay_drain(lane=CORE_LANE) == 0
    assert effects() == []


def test_each_event_is_applied_once_and_redelivery_is_a_no_op():
    emit_committed(*(ProbeHappened(aggregate_id=f"p{i}", position=i) for i in range(5)))
    assert relay_drain(lane=CORE_LANE) == 5
    assert len(effects()) == 5
    # Simulate a relay that crashed after applying but before marking: deliver everything again.
    OutboxMessage.objects.update(status=OutboxMessage.Status.PENDING)
    assert relay_drain(lane=CORE_LANE) == 5
    assert len(effects()) == 5
    assert InboxReceipt.objects.filter(consumer=CONSUMER).count() == 5
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"delivered"}


def test_payload_round_trips_through_jsonb():
    emit_committed(ProbeHappened(aggregate_id="p1", position=42))
    message = OutboxMessage.objects.get()
    assert message.payload == {
        "aggregate_id": "p1",
        "position": 42,
        "poison": False,
        "sleep_s": 0.0,
        "lock_key": 0,
    }
    assert (message.event_type, message.version, message.aggregate_type) == (
        "ProbeHappened",
        1,
        "probe",
    )


def test_one_aggregate_is_applied_in_emit_order_even_across_small_batches():
    emit_committed(*(ProbeHappened(aggregate_id="order-1", position=i) for i in range(7)))
    emit_committed(*(ProbeHappened(aggregate_id="order-2", position=i) for i in range(7)))
    while relay_batch(batch_size=3).claimed:
        pass
    for aggregate in ("order-1", "order-2"):
        positions = [position for _, agg, position in effects() if agg == aggregate]
        assert positions == list(range(7))


def test_a_transaction_committing_after_a_later_one_is_still_delivered():
    """Fault 4: seq is assigned at insert, not at commit; no high-water mark may skip it."""
    slow_inserted, fast_committed = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            outbox.emit(ProbeHappened(aggregate_id="slow", position=1))
            slow_inserted.set()
            fast_committed.wait(10)
        connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    slow_inserted.wait(10)
    emit_committed(ProbeHappened(aggregate_id="fast", position=2))
    # the slow one is not committed yet: invisible, not skipped forever
    assert relay_drain(lane=CORE_LANE) == 1
    fast_committed.set()
    writer.join(10)
    assert relay_drain(lane=CORE_LANE) == 1
    assert sorted(aggregate for _, aggregate, _ in effects()) == ["fast", "slow"]
    fast_seq, slow_seq = (
        OutboxMessage.objects.get(aggregate_id=name).seq for name in ("fast", "slow")
    )
    assert slow_seq < fast_seq  # the slow transaction really did take the lower seq


def test_two_relays_at_once_keep_per_aggregate_order_and_apply_nothing_twice():
    """Fault 5, in threads with their own connections (tests/kernel does it with processes)."""
    for aggregate in range(20):
        emit_committed(
            *(ProbeHappened(aggregate_id=f"a{aggregate}", position=i) for i in range(10))
        )

    def relay():
        while relay_batch(batch_size=7).claimed:
            pass
        connection.close()

    relays = [threading.Thread(target=relay) for _ in range(3)]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join(60)
    applied = effects()
    assert len(applied) == 200
    assert max(Counter(event_id for event_id, _, _ in applied).values()) == 1
    for aggregate in range(20):
        positions = [position for _, agg, position in applied if agg == f"a{aggregate}"]
        assert positions == list(range(10))


def test_a_poison_event_is_dead_lettered_and_the_others_keep_flowing(settings):
    """Fault 8."""
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_S = 0
    emit_committed(
        ProbeHappened(aggregate_id="bad", position=0, poison=True),
        ProbeHappened(aggregate_id="bad", position=1),
        *(ProbeHappened(aggregate_id=f"good{i}") for i in range(5)),
    )
    relay_drain(lane=CORE_LANE)  # with no backoff, one drain retries the poison until it is dead
    poison = OutboxMessage.objects.get(aggregate_id="bad", payload__position=0)
    assert poison.status == "dead"
    assert poison.attempts == 3
    assert "poison event" in poison.last_error
    # the next event of the same aggregate waited for it, then went through
    assert sorted(agg for _, agg, _ in effects()) == ["bad"] + [f"good{i}" for i in range(5)]
    assert not InboxReceipt.objects.filter(consumer=CONSUMER, event_id=poison.event_id).exists()


def test_a_failing_consumer_undoes_only_its_own_effect_and_its_siblings_run_once(settings):
    """Each consumer is applied in its own (sub)transaction with its receipt: the event's other
    consumers keep their effect, and the retries of the failing one do not re-run them."""
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_S = 0
    sibling_calls = []

    @inbox.handles(ProbeHappened, consumer="tests.sibling_probe")
    def sibling(event, context):
        sibling_calls.append(context.event_id)

    try:
        emit_committed(ProbeHappened(aggregate_id="bad", poison=True))
        relay_drain(lane=CORE_LANE)  # with no backoff, it retries the poison until it is dead
    finally:
        inbox.unregister(consumer="tests.sibling_probe")
    poison = OutboxMessage.objects.get()
    assert (poison.status, poison.attempts) == ("dead", 3)
    assert sibling_calls == [poison.event_id]
    receipts = set(InboxReceipt.objects.values_list("consumer", flat=True))
    assert receipts == {"tests.sibling_probe"}  # not the failing consumer's


def test_a_batch_of_slow_consumers_stops_at_its_time_budget_and_leaves_the_rest_untouched(
    settings,
):
    """A relay transaction must not hold its consumers' row locks for a whole slow batch."""
    settings.OUTBOX_BATCH_BUDGET_MS = 50
    emit_committed(*(ProbeHappened(aggregate_id=f"a{i}", sleep_s=0.03) for i in range(10)))
    result = relay_batch()
    assert (result.claimed, result.delivered, result.failed) == (2, 2, 0)  # 30 ms, then 60 ms
    left = OutboxMessage.objects.filter(status="pending")
    assert left.count() == 8
    assert set(left.values_list("attempts", flat=True)) == {0}
    assert len(effects()) == 2
    assert relay_drain(lane=CORE_LANE) == 8
    assert sorted(agg for _, agg, _ in effects()) == sorted(f"a{i}" for i in range(10))


def test_cheap_consumers_take_the_whole_batch_in_one_transaction():
    emit_committed(*(ProbeHappened(aggregate_id=f"a{i}") for i in range(50)))
    assert relay_batch().delivered == 50


def test_a_failing_event_is_retried_with_backoff_not_before():
    emit_committed(ProbeHappened(aggregate_id="bad", poison=True))
    relay_drain(lane=CORE_LANE)
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("pending", 1)
    assert relay_drain(lane=CORE_LANE) == 0  # not available again before its backoff expires
    assert OutboxMessage.objects.get().attempts == 1


def test_a_batch_consumer_of_every_event_sees_each_event_once_beside_the_typed_consumer():
    seen = []

    @inbox.handles_every_event_in_batches(consumer="tests.every_event_probe")
    def record(deliveries):
        seen.extend((event.event_type, context.event_id) for event, context in deliveries)

    try:
        emit_committed(ProbeHappened(aggregate_id="p1"), ProbeHappened(aggregate_id="p2"))
        relay_drain(lane=CORE_LANE)
        OutboxMessage.objects.update(status=OutboxMessage.Status.PENDING)
        relay_drain(lane=CORE_LANE)
    finally:
        inbox.unregister(consumer="tests.every_event_probe")
    assert len(seen) == 2
    assert {event_type for event_type, _ in seen} == {"ProbeHappened"}
    assert len(effects()) == 2


@pytest.fixture
def batch_consumer():
    calls = []
    behaviour = {"fail": False}

    @inbox.handles_every_event_in_batches(consumer="tests.batch_probe")
    def record(deliveries):
        if behaviour["fail"]:
            raise RuntimeError("the batch consumer failed")
        calls.append(([context.event_id for _, context in deliveries], len(effects())))

    yield calls, behaviour
    inbox.unregister(consumer="tests.batch_probe")


def test_batch_consumers_run_once_after_every_per_event_consumer_even_around_a_poison(
    batch_consumer,
):
    calls, _ = batch_consumer
    emit_committed(
        ProbeHappened(aggregate_id="bad", poison=True),
        *(ProbeHappened(aggregate_id=f"good{i}") for i in range(3)),
    )
    relay_batch()
    assert len(calls) == 1  # one call for the batch, in the fallback path too
    delivered_ids, effects_seen = calls[0]
    assert len(delivered_ids) == 3  # the poison event is not handed over
    assert effects_seen == 3  # every per-event consumer had already run


def test_a_failing_batch_consumer_keeps_nothing_of_the_batch(batch_consumer):
    _, behaviour = batch_consumer
    behaviour["fail"] = True
    emit_committed(*(ProbeHappened(aggregate_id=f"p{i}") for i in range(3)))
    result = relay_batch()
    assert (result.delivered, result.failed) == (0, 3)
    assert effects() == []
    assert not InboxReceipt.objects.exists()
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("pending", 1)}


def test_a_relay_never_waits_long_for_a_lock_held_elsewhere(settings):
    """It holds many aggregates' rows at once: it gives up (and retries) instead of waiting."""
    settings.OUTBOX_LOCK_TIMEOUT_MS = 100
    settings.OUTBOX_RETRY_BASE_S = 0
    holder_ready, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(4242)")
            holder_ready.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    holder_ready.wait(10)
    emit_committed(ProbeHappened(aggregate_id="contended", lock_key=4242))
    started = time.monotonic()
    result = relay_batch()
    waited = time.monotonic() - started
    release.set()
    holder.join(10)
    assert (result.delivered, result.failed) == (0, 1)
    assert waited < 2  # the lock is held for 10 s: the relay did not wait for it
    assert "lock timeout" in OutboxMessage.objects.get().last_error
    assert relay_drain(lane=CORE_LANE) == 1  # retried once the holder is gone
    assert len(effects()) == 1
