"""Fault 8 with real workers and beat: a poison event is dead-lettered, the others keep flowing;
``outbox_status --json`` shows it; after the fix, ``outbox_replay --dead`` delivers it once."""

import json

import pytest

from retail.platform.models import InboxReceipt, OutboxMessage
from retail.platform.tests.probe import CONSUMER, ProbeHappened, effects
from tests.kernel.expect import assert_exactly_once_in_order, emit_committed, wait_all_delivered
from tests.kernel.procs import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
FAST_RETRIES = {
    "OUTBOX_MAX_ATTEMPTS": "3",
    "OUTBOX_RETRY_BASE_S": "0.2",
    "OUTBOX_RETRY_CAP_S": "0.5",
}


def test_a_poison_event_is_dead_lettered_others_flow_and_replay_delivers_it_once(kernel):
    kernel.worker(**FAST_RETRIES)
    kernel.worker(**FAST_RETRIES)
    kernel.beat(**FAST_RETRIES)  # retries after backoff come from the sweep
    emit_committed(
        ProbeHappened(aggregate_id="bad", position=0, poison=True),
        ProbeHappened(aggregate_id="bad", position=1),
        *(ProbeHappened(aggregate_id=f"good{a}", position=p) for p in range(5) for a in range(10)),
    )
    poison = OutboxMessage.objects.get(aggregate_id="bad", payload__position=0)
    wait_for(
        lambda: OutboxMessage.objects.get(seq=poison.seq).status == "dead",
        timeout=30,
        what="the poison event to be dead-lettered",
    )
    poison.refresh_from_db()
    assert poison.attempts == 3
    assert "PoisonError: poison event at position 0" in poison.last_error
    wait_for(lambda: len(effects()) == 51, what="every other event, `bad` 1 included")
    receipts = InboxReceipt.objects.filter(event_id=poison.event_id)
    assert not receipts.filter(consumer=CONSUMER).exists()
    # a lane of its own: the audit trail recorded the event its core neighbour choked on
    assert list(receipts.values_list("consumer", flat=True)) == ["audit.trail"]

    status = kernel.manage("outbox_status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {
        "pending": 0,
        "dead": 1,
        "oldest_pending_age_s": None,
        "by_type": {"ProbeHappened": {"pending": 0, "dead": 1}},
        "lanes": {
            "core": {"pending": 0, "dead": 1, "oldest_pending_age_s": None},
            "compliance": {"pending": 0, "dead": 0, "oldest_pending_age_s": None},
            "audit": {"pending": 0, "dead": 0, "oldest_pending_age_s": None},
        },
    }

    # The consumer's bug is fixed (here: the event no longer poisons it), then replayed.
    OutboxMessage.objects.filter(seq=poison.seq).update(payload={**poison.payload, "poison": False})
    replay = kernel.manage("outbox_replay", "--dead")
    assert replay.returncode == 0, replay.stderr
    assert "replayed 1 dead-lettered event(s)" in replay.stdout
    wait_all_delivered(timeout=30)
    applied = effects()
    assert [e for e in applied if e[0] == str(poison.event_id)] == [
        (str(poison.event_id), "bad", 0)
    ]
    # a dead letter gives up its place: `bad` 1 went first, the replayed `bad` 0 came after
    assert [position for _, aggregate, position in applied if aggregate == "bad"] == [1, 0]
    assert_exactly_once_in_order(reordered={"bad"})
    assert json.loads(kernel.manage("outbox_status", "--json").stdout)["dead"] == 0
