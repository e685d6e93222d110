"""Lanes in-process on real PostgreSQL: a side lane's consumers never hold up the core lane, and
within a lane each aggregate's events still apply once and in order (workers: tests/kernel)."""

import pytest
from django.db import transaction

from retail.platform import inbox, outbox
from retail.platform.inbox import CORE_LANE
from retail.platform.models import InboxReceipt, LaneDelivery, OutboxMessage
from retail.platform.relay import relay_batch, relay_drain
from retail.platform.selectors import outbox_status
from retail.platform.services import outbox_dead_letters_replay
from retail.platform.tests.probe import ProbeHappened, effect_table_create, effects

pytestmark = pytest.mark.django_db(transaction=True)
SIDE = "compliance"
SIDE_CONSUMER = "tests.side_lane_probe"


@pytest.fixture
def side_calls():
    """A consumer of ``ProbeHappened`` in the compliance lane that fails on position 0 of the
    aggregate ``bad`` (the core lane's probe consumer applies it)."""
    effect_table_create()
    calls: list[tuple[str, int]] = []

    @inbox.handles(ProbeHappened, consumer=SIDE_CONSUMER, lane=SIDE)
    def side(event, context):
        if (event.aggregate_id, event.position) == ("bad", 0):
            raise RuntimeError("side lane poison")
        calls.append((event.aggregate_id, event.position))

    yield calls
    inbox.unregister(consumer=SIDE_CONSUMER)


def emit_committed(*events):
    with transaction.atomic():
        for event in events:
            outbox.emit(event)


def side_rows(status):
    return LaneDelivery.objects.filter(lane=SIDE, status=status).count()


def test_an_event_gets_one_delivery_row_per_side_lane_and_the_core_lane_skips_them(side_calls):
    emit_committed(*(ProbeHappened(aggregate_id="a", position=p) for p in range(3)))
    assert side_rows("pending") == 3
    assert relay_drain(lane=CORE_LANE) == 3
    assert [position for _, _, position in effects()] == [0, 1, 2]  # the core consumer ran
    assert side_calls == []  # … and the side lane's did not
    assert outbox_status()["lanes"][SIDE]["pending"] == 3
    assert relay_drain(lane=SIDE) == 3
    assert side_calls == [("a", 0), ("a", 1), ("a", 2)]
    assert side_rows("delivered") == 3
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_failing_side_consumer_never_fails_or_retries_the_core_lane(side_calls, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_S = 0
    emit_committed(
        ProbeHappened(aggregate_id="bad", position=0),
        ProbeHappened(aggregate_id="bad", position=1),
        ProbeHappened(aggregate_id="good", position=0),
    )
    relay_drain()  # every lane, until nothing is claimable
    core = OutboxMessage.objects.order_by("seq")
    assert [(m.status, m.attempts) for m in core] == [("delivered", 1)] * 3
    assert len(effects()) == 3  # core effects once each, never re-run by the side lane's retries
    poison = LaneDelivery.objects.get(lane=SIDE, status="dead")
    assert (poison.status, poison.attempts) == ("dead", 3)
    assert "side lane poison" in poison.last_error
    # the side lane's next event of that aggregate waited for it, the other aggregate did not
    assert side_calls == [("bad", 1), ("good", 0)] or side_calls == [("good", 0), ("bad", 1)]
    assert outbox_status()["lanes"][SIDE]["dead"] == 1
    assert outbox_status()["dead"] == 0  # the core lane has no dead letter


def test_a_side_lane_waits_for_its_oldest_pending_event_per_aggregate(side_calls, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 5
    settings.OUTBOX_RETRY_BASE_S = 60  # a failed delivery is not retried within this test
    emit_committed(
        ProbeHappened(aggregate_id="bad", position=0),
        ProbeHappened(aggregate_id="bad", position=1),
    )
    relay_drain()
    assert side_calls == []  # position 1 waits behind position 0's backoff
    assert side_rows("pending") == 2
    assert len(effects()) == 2  # the core lane went through regardless


def test_a_dead_side_delivery_is_replayed_into_its_lane_alone(side_calls, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    emit_committed(ProbeHappened(aggregate_id="bad"))
    relay_drain()
    assert side_rows("dead") == 1
    event_id = str(OutboxMessage.objects.get().event_id)
    assert outbox_dead_letters_replay(event_id=event_id) == 1
    assert side_rows("pending") == 1
    assert OutboxMessage.objects.get().status == "delivered"  # core untouched
    relay_batch(lane=CORE_LANE)
    assert len(effects()) == 1  # the replay did not re-run the core consumer


def test_a_redelivered_side_lane_event_is_applied_once(side_calls):
    emit_committed(ProbeHappened(aggregate_id="a"))
    relay_drain()
    LaneDelivery.objects.update(status="pending")  # a side relay crashed before marking
    relay_drain(lane=SIDE)
    assert side_calls == [("a", 0)]
    assert InboxReceipt.objects.filter(consumer=SIDE_CONSUMER).count() == 1


def test_a_consumer_in_an_unknown_lane_is_refused():
    with pytest.raises(ValueError, match="OUTBOX_LANE_QUEUES"):
        inbox.handles(ProbeHappened, consumer="tests.nowhere", lane="nowhere")(lambda e, c: None)


def test_a_transaction_kicks_each_lane_once_however_many_events_it_emits(
    side_calls, django_capture_on_commit_callbacks, monkeypatch
):
    kicked: list[str] = []
    monkeypatch.setattr(outbox, "kick_relay", kicked.append)
    monkeypatch.setattr(outbox, "_KICKS", {})
    with django_capture_on_commit_callbacks(execute=True):
        emit_committed(*(ProbeHappened(aggregate_id=f"a{n}", position=0) for n in range(5)))
    assert sorted(kicked) == sorted({CORE_LANE, SIDE, *inbox.side_lanes_of("ProbeHappened")})
