"""Property: whatever captures, refunds and partner settlements arrive, in whatever order and
however often, the ledger balances and says exactly what moved: captured - refunded at the PSP."""

from collections import Counter
from contextlib import contextmanager

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retail.ledger import selectors
from retail.ledger.models import JournalEntry
from retail.ledger.tests.support import (
    balances,
    captured,
    check_deferred_constraints,
    emit,
    money_movements_of,
    refunded,
    settled,
)
from retail.payments.events import PaymentAuthorized, PaymentCaptured, RefundSucceeded
from retail.platform.models import OutboxMessage
from retail.platform.relay import relay_drain

pytestmark = pytest.mark.django_db

CHANNELS = ["web", "app", "pos"]
PARTNERS = ["acme", "beta"]
AMOUNTS = st.integers(min_value=1, max_value=5_000_000)


@st.composite
def psp_order(draw, number):
    channel, amount = draw(st.sampled_from(CHANNELS)), draw(AMOUNTS)
    ids = {"payment": f"pay_{number}", "order": f"ord_{number}", "channel": channel}
    facts = [captured(**ids, amount=amount)]
    remaining = amount
    for index, wanted in enumerate(draw(st.lists(AMOUNTS, max_size=3))):
        refund = min(wanted, remaining)
        if refund:
            facts.append(refunded(refund=f"ref_{number}_{index}", **ids, amount=refund))
            remaining -= refund
    return facts


@st.composite
def partner_order(draw, number):
    partner, amount = draw(st.sampled_from(PARTNERS)), draw(AMOUNTS)
    return [settled(order=f"ord_{number}", partner=partner, amount=amount)]


@st.composite
def scenarios(draw):
    """Distinct facts, then how they arrive: shuffled, some twice, drained at random points."""
    facts = []
    for number in range(draw(st.integers(min_value=1, max_value=4))):
        facts += draw(st.one_of(psp_order(number), partner_order(number)))
    noise = [
        PaymentAuthorized(
            aggregate_id=event.aggregate_id,
            order_id=event.order_id,
            channel=event.channel,
            amount=event.amount,
        )
        for event in facts
        if isinstance(event, PaymentCaptured)
    ]
    duplicates = draw(st.lists(st.sampled_from(facts), max_size=4))
    arrivals = draw(st.permutations(facts + noise + duplicates))
    drain_after = draw(st.lists(st.booleans(), min_size=len(arrivals), max_size=len(arrivals)))
    return facts, list(zip(arrivals, drain_after, strict=True)), draw(st.booleans())


@contextmanager
def rolled_back():
    """Each example starts from the same database: its writes are rolled back afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def expected_balances(facts):
    totals = Counter()
    for event in facts:
        if isinstance(event, PaymentCaptured):
            totals["captured"] += event.amount
        elif isinstance(event, RefundSucceeded):
            totals["refunded"] += event.amount
        else:
            totals["settled"] += event.amount
            totals[f"partner_receivable.{event.partner}"] += event.amount
    expected = {
        "psp_clearing": totals["captured"] - totals["refunded"],
        "sales_revenue": totals["captured"] + totals["settled"],
        "sales_refunds": totals["refunded"],
        **{code: amount for code, amount in totals.items() if code.startswith("partner_")},
    }
    return {code: amount for code, amount in expected.items() if amount}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_any_arrival_order_and_duplicates_keep_the_ledger_balanced_and_exact(scenario):
    facts, arrivals, redeliver_everything = scenario
    with rolled_back():
        for event, drain_now in arrivals:
            emit(event)
            if drain_now:
                relay_drain()
        relay_drain()
        if redeliver_everything:  # a relay that crashed before marking anything delivered
            OutboxMessage.objects.update(status=OutboxMessage.Status.PENDING)
            relay_drain()
        check_deferred_constraints()  # what COMMIT would check: every entry sums to zero

        trial_balance = selectors.trial_balance()
        total_debit = sum(line.debit for line in trial_balance)
        assert total_debit == sum(line.credit for line in trial_balance)
        assert balances() == expected_balances(facts)
        captures = sum(isinstance(event, PaymentCaptured) for event in facts)
        assert JournalEntry.objects.count() == len(facts) + captures  # capture = 2 entries
        assert selectors.ledger_differences(money_movements_of(facts)) == []
