"""Payments against the real sandbox PSP (subprocess), with tasks and the relay run in-process.

PUBLIC_URL points at a closed port here, so the PSP's webhooks never arrive: every outcome
comes through reconciliation (``GET /payments/{id}``), the same code path as the webhook.
"""

from datetime import timedelta

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from retail.orders.events import OrderCancelled, OrderPlaced
from retail.payments import psp, public, services
from retail.payments.domain import RefundExceedsCaptured
from retail.payments.models import Payment, Refund
from retail.payments.tests.factories import PaymentFactory
from retail.platform import outbox
from retail.platform.models import OutboxMessage
from retail.platform.relay import relay_drain
from tests.kernel.procs import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _webhooks_go_nowhere(settings):
    settings.PUBLIC_URL = "http://127.0.0.1:9"


def order_placed(order_id="ord_1", token="tok_ok", total=5000, method="card"):  # noqa: S107
    return OrderPlaced(
        aggregate_id=order_id,
        order_id=order_id,
        number="R-1",
        channel="web",
        customer_id="cus_1",
        customer_name="Ana Souza",
        customer_email="ana@example.com",
        client_ip="",
        total=total,
        payment_method=method,
        payment_token=token,
        lines=[{"sku": "TEE", "quantity": 1, "unit_price": total, "total": total}],
    )


def publish(*events):
    with transaction.atomic():
        for event in events:
            outbox.emit(event)
    relay_drain()


def events_of(aggregate_id):
    return list(
        OutboxMessage.objects.filter(aggregate_id=aggregate_id)
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


def settle(payment_id, expected):
    """Reconcile until the PSP has decided (it takes ~0.1 s) and the payment shows it."""

    def settled():
        services.payment_reconcile(payment_id, now=timezone.now())
        return Payment.objects.get(id=payment_id).status == expected

    wait_for(settled, what=f"{payment_id} to be {expected}")


def charges(psp_url):
    return httpx.get(psp_url + "/charges").json()


def test_order_placed_creates_one_payment_and_asks_the_psp_once(psp_url, sent_tasks):
    event = order_placed()
    publish(event)
    payment = Payment.objects.get(order_id="ord_1")
    assert (payment.amount, payment.token, payment.status) == (5000, "tok_ok", "requested")
    assert events_of(payment.id) == ["PaymentRequested"]
    assert sent_tasks == [(services.PAYMENT_SUBMIT_TASK, payment.id)]
    # The relay delivers the same event again (a crash before marking it): no second payment.
    OutboxMessage.objects.filter(event_type="OrderPlaced").update(status="pending")
    relay_drain()
    assert Payment.objects.count() == 1
    assert len(sent_tasks) == 1

    sent_tasks.run()
    sent_tasks.run()
    services.payment_submit(payment.id)  # a task delivered twice asks nothing more
    payment.refresh_from_db()
    assert payment.submitted_at is not None
    assert payment.psp_reference.startswith("psp_")
    settle(payment.id, "captured")
    assert events_of(payment.id) == ["PaymentRequested", "PaymentAuthorized", "PaymentCaptured"]
    [charge] = charges(psp_url)
    assert (charge["payment_id"], charge["status"], charge["requests"]) == (
        payment.id,
        "captured",
        1,
    )
    assert public.payments_for_order("ord_1") == [
        {
            "id": payment.id,
            "status": "captured",
            "amount": 5000,
            "psp_reference": payment.psp_reference,
        }
    ]


def test_a_partner_order_has_no_psp_payment(psp_url, sent_tasks):
    publish(order_placed(token="", method="marketplace"))
    assert Payment.objects.count() == 0
    assert sent_tasks == []


def test_a_declined_token_fails_the_payment(psp_url, sent_tasks):
    publish(order_placed(token="tok_declined"))
    sent_tasks.run()
    payment = Payment.objects.get()
    settle(payment.id, "failed")
    assert events_of(payment.id) == ["PaymentRequested", "PaymentFailed"]
    assert [c["status"] for c in charges(psp_url)] == ["declined"]


def test_a_flaky_psp_is_retried_with_the_same_key_and_charges_once(psp_url):
    payment = PaymentFactory(token="tok_flaky")
    for _ in range(2):
        with pytest.raises(psp.PspUnavailable):
            services.payment_submit(payment.id)
    services.payment_submit(payment.id)
    settle(payment.id, "captured")
    [charge] = charges(psp_url)
    assert (charge["requests"], charge["status"]) == (3, "captured")


def test_a_final_4xx_fails_the_payment_without_retrying(psp_url, settings):
    settings.PUBLIC_URL = "ftp://not-a-callback"  # the PSP refuses it: 422 invalid_request
    payment = PaymentFactory()
    services.payment_submit(payment.id)
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (
        "failed",
        "psp_rejected_422_invalid_request",
    )
    assert events_of(payment.id) == ["PaymentFailed"]


def test_an_unreachable_psp_is_retryable_and_changes_nothing(settings):
    settings.PSP_URL = "http://127.0.0.1:9"
    psp._client.cache_clear()
    payment = PaymentFactory()
    with pytest.raises(psp.PspUnavailable):
        services.payment_submit(payment.id)
    payment.refresh_from_db()
    assert (payment.status, payment.submitted_at) == ("requested", None)
    psp._client.cache_clear()


def test_reconciliation_resends_a_payment_the_psp_never_got_then_applies_its_outcome(psp_url):
    payment = PaymentFactory()  # the submit task was lost: the PSP knows nothing
    Payment.objects.filter(id=payment.id).update(updated_at=timezone.now() - timedelta(hours=1))
    assert services.stale_reconcile(now=timezone.now()) == 1
    assert charges(psp_url)[0]["payment_id"] == payment.id
    settle(payment.id, "captured")


def test_reconciliation_leaves_fresh_payments_alone_and_gives_up_on_abandoned_ones(
    psp_url, settings
):
    fresh = PaymentFactory()
    assert services.stale_reconcile(now=timezone.now()) == 0
    assert charges(psp_url) == []
    old = timezone.now() - timedelta(seconds=settings.PAYMENT_ABANDON_AFTER_S + 60)
    Payment.objects.filter(id=fresh.id).update(created_at=old, updated_at=old)
    services.payment_reconcile(fresh.id, now=timezone.now())
    fresh.refresh_from_db()
    assert (fresh.status, fresh.failure_reason) == ("failed", "never reached the PSP")


# --- refunds ---------------------------------------------------------------------------------


def captured_payment(amount=5000):
    payment = PaymentFactory(amount=amount)
    services.payment_submit(payment.id)
    settle(payment.id, "captured")
    return Payment.objects.get(id=payment.id)


def settle_refund(refund_id, expected):
    def settled():
        services.refund_reconcile(refund_id, now=timezone.now())
        return Refund.objects.get(id=refund_id).status == expected

    wait_for(settled, what=f"{refund_id} to be {expected}")


def test_a_refund_goes_to_the_psp_and_succeeds_and_more_than_captured_is_refused(
    psp_url, sent_tasks
):
    payment = captured_payment()
    refund = services.refund_request(order_id=payment.order_id, amount=3000, reason="damaged")
    assert sent_tasks == [(services.REFUND_SUBMIT_TASK, refund.id)]
    with pytest.raises(RefundExceedsCaptured) as refused:
        services.refund_request(order_id=payment.order_id, amount=2001, reason="greedy")
    assert refused.value.refundable == 2000
    sent_tasks.run()
    settle_refund(refund.id, "succeeded")
    assert events_of(payment.id)[-2:] == ["RefundRequested", "RefundSucceeded"]
    [charge] = charges(psp_url)
    assert charge["refunded"] == 3000
    assert public.refunds_for_order(payment.order_id) == [
        {"id": refund.id, "status": "succeeded", "amount": 3000}
    ]
    assert public.money_movements()[payment.order_id] == {
        "captured": 5000,
        "refunded": 3000,
        "partner_settled": 0,
    }


def test_a_failed_refund_gives_its_amount_back_to_what_is_refundable(psp_url):
    payment = captured_payment()
    refund = services.refund_request(order_id=payment.order_id, amount=5000, reason="x")
    services.refund_report(refund.id, "failed", reason="declined by the PSP")
    services.refund_report(refund.id, "succeeded")  # too late: a refund never changes its mind
    assert Refund.objects.get(id=refund.id).status == "failed"
    again = services.refund_request(order_id=payment.order_id, amount=5000, reason="x")
    assert again.status == "requested"
    assert events_of(payment.id).count("RefundFailed") == 1


def test_nothing_is_refundable_before_the_capture_or_for_an_unknown_order(psp_url):
    payment = PaymentFactory()
    for order_id in (payment.order_id, "ord_UNKNOWN"):
        with pytest.raises(RefundExceedsCaptured):
            services.refund_request(order_id=order_id, amount=1, reason="x")
    assert Refund.objects.count() == 0


def test_cancelling_a_paid_order_refunds_the_capture_in_full_once(psp_url, sent_tasks):
    payment = captured_payment()
    services.refund_request(order_id=payment.order_id, amount=1000, reason="partial first")
    cancelled = cancel_event(payment.order_id)
    publish(cancelled)
    OutboxMessage.objects.filter(event_type="OrderCancelled").update(status="pending")
    relay_drain()  # redelivered: still one refund of the rest
    refunds = Refund.objects.filter(order_id=payment.order_id).order_by("created_at")
    assert [(r.amount, r.reason) for r in refunds] == [
        (1000, "partial first"),
        (4000, "order cancelled"),
    ]


def test_a_capture_after_the_cancellation_is_refunded_when_it_arrives(psp_url, sent_tasks):
    payment = PaymentFactory()
    publish(cancel_event(payment.order_id))
    assert Refund.objects.count() == 0
    services.payment_report(payment.id, "captured", psp_reference="psp_x")
    [refund] = Refund.objects.all()
    assert (refund.amount, refund.reason) == (payment.amount, "order cancelled")
    assert events_of(payment.id)[-3:] == ["PaymentAuthorized", "PaymentCaptured", "RefundRequested"]


def test_cancelling_a_failed_payment_refunds_nothing(psp_url):
    payment = PaymentFactory(status="failed")
    publish(cancel_event(payment.order_id))
    assert Refund.objects.count() == 0


def cancel_event(order_id):
    return OrderCancelled(
        aggregate_id=order_id,
        order_id=order_id,
        number="R-1",
        channel="web",
        customer_id="cus_1",
        total=5000,
        reason="customer asked",
    )
