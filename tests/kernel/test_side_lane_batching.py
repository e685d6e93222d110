"""A side lane's relay starts ``OUTBOX_LANE_KICK_DELAY_S`` after its kick, so the events
committed meanwhile share one relay transaction (for the audit lane: one chain lock), while
the core lane delivers each commit at once. Real worker, real Redis."""

import pytest

from retail.platform.models import LaneDelivery, OutboxMessage
from retail.platform.tests.probe import ProbeHappened
from tests.kernel.expect import assert_exactly_once_in_order, emit_committed, wait_all_delivered
from tests.kernel.procs import wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]
COMMITS = 20  # on as many aggregates: a relay transaction takes one event per aggregate


def test_the_commits_of_a_kick_delay_share_one_audit_lane_transaction(kernel, settings):
    settings.OUTBOX_LANE_KICK_DELAY_S = {**settings.OUTBOX_LANE_KICK_DELAY_S, "audit": 2.0}
    kernel.worker(concurrency=2)
    for number in range(COMMITS):  # a transaction and a kick of each lane each
        emit_committed(ProbeHappened(aggregate_id=f"batched{number}", position=0))

    wait_all_delivered(timeout=30)
    assert_exactly_once_in_order()
    audit = LaneDelivery.objects.filter(lane="audit")
    wait_for(
        lambda: audit.filter(status=OutboxMessage.Status.DELIVERED).count() == COMMITS,
        timeout=30,
        what="the audit lane to deliver every event",
    )
    # the relay marks a transaction's deliveries with one timestamp
    assert len(set(audit.values_list("delivered_at", flat=True))) == 1
