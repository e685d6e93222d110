"""What each money movement posts, and that nothing posts twice or where no money moved."""

import threading
import uuid

import pytest
from django.db import connection, transaction

from retail.ledger import handlers
from retail.ledger.domain import LedgerRejected
from retail.ledger.models import JournalEntry, Posting
from retail.ledger.tests.support import (
    balances,
    captured,
    check_deferred_constraints,
    context,
    deliver,
    refunded,
    settled,
)
from retail.payments.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentFailed,
    PaymentRequested,
    RefundFailed,
    RefundRequested,
)
from retail.platform.models import OutboxMessage
from retail.platform.relay import relay_drain

pytestmark = pytest.mark.django_db


def journal():
    """Every posting as (purpose, account, amount), in posting order."""
    return list(
        Posting.objects.order_by("entry_id", "id").values_list(
            "entry__purpose", "account__code", "amount"
        )
    )


def test_a_capture_posts_the_sale_and_the_psp_collecting_it():
    deliver(captured(channel="app", amount=10_000))
    posted = OutboxMessage.objects.filter(event_type="JournalEntryPosted").order_by("seq")
    assert [message.payload["postings"] for message in posted] == [
        [
            {"account": "customer_receivable.app", "amount": 10_000},
            {"account": "sales_revenue", "amount": -10_000},
        ],
        [
            {"account": "psp_clearing", "amount": 10_000},
            {"account": "customer_receivable.app", "amount": -10_000},
        ],
    ]
    assert journal() == [
        ("payment_captured.sale", "customer_receivable.app", 10_000),
        ("payment_captured.sale", "sales_revenue", -10_000),
        ("payment_captured.clearing", "psp_clearing", 10_000),
        ("payment_captured.clearing", "customer_receivable.app", -10_000),
    ]
    entry = JournalEntry.objects.get(purpose="payment_captured.sale")
    assert (entry.order_id, entry.channel, entry.source_reference) == ("ord_1", "app", "pay_1")
    assert balances() == {"psp_clearing": 10_000, "sales_revenue": 10_000}
    check_deferred_constraints()


def test_a_refund_posts_contra_revenue_against_psp_clearing():
    deliver(captured(amount=10_000), refunded(amount=2_500))
    assert journal()[-2:] == [
        ("refund_succeeded.refund", "sales_refunds", 2_500),
        ("refund_succeeded.refund", "psp_clearing", -2_500),
    ]
    assert balances()["psp_clearing"] == 7_500
    assert balances()["sales_refunds"] == 2_500


def test_a_partner_settlement_posts_a_receivable_from_the_partner():
    deliver(settled(partner="acme", amount=7_000))
    assert journal() == [
        ("partner_order_settled.sale", "partner_receivable.acme", 7_000),
        ("partner_order_settled.sale", "sales_revenue", -7_000),
    ]
    assert JournalEntry.objects.get().order_id == "ord_p1"


def test_requests_authorisations_and_failures_move_no_money_and_post_nothing():
    common = {"aggregate_id": "pay_1", "order_id": "ord_1", "channel": "web", "amount": 10_000}
    refund = {**common, "refund_id": "ref_1"}
    deliver(
        PaymentRequested(**common, method="card"),
        PaymentAuthorized(**common),
        PaymentFailed(**common, reason="declined"),
        RefundRequested(**refund, reason="customer asked"),
        RefundFailed(**refund, reason="psp said no"),
    )
    assert JournalEntry.objects.count() == 0
    assert balances() == {}


def test_the_same_event_handled_twice_without_the_inbox_posts_once():
    event, event_context = captured(), context()
    handlers.payment_captured_post(event, event_context)
    before = journal()
    handlers.payment_captured_post(event, event_context)
    assert journal() == before
    assert JournalEntry.objects.count() == 2

    refund, refund_context = refunded(), context()
    handlers.refund_succeeded_post(refund, refund_context)
    handlers.refund_succeeded_post(refund, refund_context)
    settlement, settlement_context = settled(), context()
    handlers.partner_order_settled_post(settlement, settlement_context)
    handlers.partner_order_settled_post(settlement, settlement_context)
    assert JournalEntry.objects.count() == 4
    check_deferred_constraints()


def test_the_same_fact_under_a_new_event_id_posts_once():
    """A PSP storm that made payments emit PaymentCaptured twice still moved the money once."""
    deliver(captured(), captured(), refunded(), refunded(), settled(), settled())
    assert OutboxMessage.objects.filter(event_type="PaymentCaptured").count() == 2
    assert JournalEntry.objects.count() == 4
    assert OutboxMessage.objects.filter(event_type="JournalEntryPosted").count() == 4
    assert balances()["psp_clearing"] == 10_000 - 2_500


def test_redelivery_by_the_relay_posts_nothing_more():
    deliver(captured(), refunded())
    before = journal()
    OutboxMessage.objects.update(
        status=OutboxMessage.Status.PENDING
    )  # a relay crashed before marking
    relay_drain()
    assert journal() == before


def test_a_refund_arriving_before_its_capture_is_posted_and_balances_once_both_are_in():
    deliver(refunded(amount=2_500))
    assert balances()["psp_clearing"] == -2_500
    deliver(captured(amount=10_000))
    assert balances()["psp_clearing"] == 7_500
    assert "customer_receivable.web" not in balances()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (captured(amount=0), "positive integer"),
        (captured(amount=-5), "positive integer"),
        (refunded(amount=0), "positive integer"),
        (captured(channel="Web Store"), "account code"),
        (settled(partner="../acme"), "account code"),
    ],
)
def test_a_movement_the_ledger_cannot_post_is_refused_and_posts_nothing(event, message):
    handler = {
        "PaymentCaptured": handlers.payment_captured_post,
        "RefundSucceeded": handlers.refund_succeeded_post,
        "PartnerOrderSettled": handlers.partner_order_settled_post,
    }[event.event_type]
    with pytest.raises(LedgerRejected, match=message):
        handler(event, context())
    assert JournalEntry.objects.count() == 0


def test_a_foreign_currency_is_refused_and_left_to_the_relay_to_retry_and_dead_letter():
    deliver(PaymentCaptured(**{**captured().payload(), "currency": "USD"}))
    assert JournalEntry.objects.count() == 0
    message = OutboxMessage.objects.get(event_type="PaymentCaptured")
    assert message.status == OutboxMessage.Status.PENDING
    assert "LedgerRejected" in message.last_error


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_deliveries_of_one_event_post_once():
    """Three workers apply the same event at once, inbox bypassed: the unique index decides."""
    event, event_context = captured(payment=f"pay_{uuid.uuid4().hex[:8]}"), context()
    barrier = threading.Barrier(3)
    errors = []

    def apply():
        try:
            barrier.wait()
            with transaction.atomic():
                handlers.payment_captured_post(event, event_context)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert JournalEntry.objects.filter(source_reference=event.aggregate_id).count() == 2
    assert Posting.objects.filter(entry__source_reference=event.aggregate_id).count() == 4


def test_posting_a_capture_stays_lean(django_assert_max_num_queries):
    """Accounts (1); per entry insert, postings, outbox (3 each); one savepoint pair (2)."""
    handlers.payment_captured_post(captured(channel="pos"), context())  # creates the accounts
    with django_assert_max_num_queries(9):
        handlers.payment_captured_post(captured(payment="pay_2", channel="pos"), context())
    assert JournalEntry.objects.count() == 4
