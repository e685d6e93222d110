"""An order's life through events: payments → paid → shipment → fulfilled → delivered,
failures, refunds, duplicates and late events; payment expiry."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from retail.fulfillment import services as fulfillment
from retail.fulfillment.models import Shipment
from retail.inventory.models import StockItem, StockMove
from retail.orders import services as orders
from retail.orders.models import Order
from retail.payments.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentFailed,
    PaymentRequested,
    RefundSucceeded,
)
from tests.commerce.conftest import deliver, emit, order_body, outbox_events, place


def payment(event_class, order, payment_id="pay_1", **extra):
    fields = {
        "aggregate_id": payment_id,
        "order_id": order["id"],
        "channel": order["channel"],
        "amount": order["total"],
        "psp_reference": "psp_123",
    }
    return event_class(**fields | extra)


def refund(order, amount, refund_id="ref_1"):
    return RefundSucceeded(
        aggregate_id="pay_1",
        refund_id=refund_id,
        order_id=order["id"],
        channel=order["channel"],
        amount=amount,
    )


def entry(entries, entry_id):
    """One payment/refund of the read model (payments' own handler adds the real payment too)."""
    (found,) = [item for item in entries if item["id"] == entry_id]
    return found


def status_of(order):
    return Order.objects.get(pk=order["id"]).status


def stock_of(sku):
    item = StockItem.objects.get(sku=sku)
    return item.on_hand, item.reserved


@pytest.fixture
def order(web, stocked_sku):
    stocked_sku("TEE", price=5000, on_hand=10)
    return place(web, order_body(("TEE", 2))).json()


@pytest.mark.django_db
class TestHappyPath:
    def test_capture_pays_ships_and_delivers_with_one_event_and_history_row_each(self, web, order):
        emit(payment(PaymentRequested, order, method="card", psp_reference=""))
        emit(payment(PaymentAuthorized, order))
        emit(payment(PaymentCaptured, order))
        deliver()

        assert status_of(order) == "paid"
        assert stock_of("TEE") == (8, 0)
        shipment = Shipment.objects.get(order_id=order["id"])
        assert shipment.shipping_address["city"] == "São Paulo"
        body = web.get(f"/api/v1/orders/{order['id']}/").json()
        assert entry(body["payments"], "pay_1") == {
            "id": "pay_1",
            "status": "captured",
            "amount": 10000,
            "psp_reference": "psp_123",
        }

        fulfillment.shipment_ship(shipment_id=shipment.pk, carrier="Correios", tracking_code="BR1")
        deliver()
        assert status_of(order) == "fulfilled"
        fulfillment.shipment_deliver(shipment_id=shipment.pk)
        deliver()
        assert status_of(order) == "delivered"

        for event_type in ("OrderPaid", "OrderFulfilled", "OrderDelivered"):
            assert len(outbox_events(event_type, order["id"])) == 1
        statuses = list(
            Order.objects.get(pk=order["id"])
            .history.order_by("history_date")
            .values_list("status", flat=True)
        )
        assert statuses == ["pending_payment", "paid", "fulfilled", "delivered"]

    def test_a_capture_before_its_authorization_still_ends_captured(self, web, order):
        emit(payment(PaymentCaptured, order))
        emit(payment(PaymentAuthorized, order, psp_reference=""))
        deliver()
        body = web.get(f"/api/v1/orders/{order['id']}/").json()
        assert body["status"] == "paid"
        assert entry(body["payments"], "pay_1")["status"] == "captured"
        assert entry(body["payments"], "pay_1")["psp_reference"] == "psp_123"

    def test_the_same_capture_twice_pays_once(self, order):
        emit(payment(PaymentCaptured, order))
        emit(payment(PaymentCaptured, order))
        deliver()
        assert status_of(order) == "paid"
        assert len(outbox_events("OrderPaid")) == 1
        assert StockMove.objects.filter(reason="commit").count() == 1
        assert Shipment.objects.count() == 1


@pytest.mark.django_db
class TestUnhappyPaths:
    def test_a_failed_payment_releases_the_stock_and_a_late_capture_changes_nothing(self, order):
        emit(payment(PaymentFailed, order, reason="declined"))
        deliver()
        assert status_of(order) == "payment_failed"
        assert stock_of("TEE") == (10, 0)
        assert outbox_events("OrderPaymentFailed")[0]["reason"] == "payment_failed"

        emit(payment(PaymentCaptured, order))
        deliver()
        assert status_of(order) == "payment_failed"
        assert stock_of("TEE") == (10, 0)
        assert not outbox_events("OrderPaid")
        assert not Shipment.objects.exists()

    def test_refunds_make_the_order_partially_then_fully_refunded(self, web, order):
        emit(payment(PaymentCaptured, order))
        emit(refund(order, 3000, "ref_1"))
        deliver()
        assert status_of(order) == "partially_refunded"
        emit(refund(order, 7000, "ref_2"))
        deliver()
        assert status_of(order) == "refunded"
        assert outbox_events("OrderRefunded")[0]["refunded"] == 10000
        assert [
            r["status"] for r in web.get(f"/api/v1/orders/{order['id']}/").json()["refunds"]
        ] == [
            "succeeded",
            "succeeded",
        ]

    def test_cancelling_a_paid_order_restocks_and_cancels_its_shipment(self, web, order):
        emit(payment(PaymentCaptured, order))
        deliver()
        assert stock_of("TEE") == (8, 0)

        response = web.post(f"/api/v1/orders/{order['id']}/cancel", HTTP_IDEMPOTENCY_KEY="c")
        deliver()

        assert response.json()["status"] == "cancelled"
        assert stock_of("TEE") == (10, 0)
        assert Shipment.objects.get().status == "cancelled"
        with pytest.raises(fulfillment.ShipmentNotReady):
            fulfillment.shipment_ship(
                shipment_id=Shipment.objects.get().pk, carrier="X", tracking_code="Y"
            )
        emit(refund(order, 10000))  # payments refunds the capture: the order stays cancelled
        deliver()
        assert status_of(order) == "cancelled"

    def test_a_partially_refunded_order_not_yet_shipped_can_still_be_cancelled(self, web, order):
        emit(payment(PaymentCaptured, order))
        emit(refund(order, 3000))
        deliver()
        assert status_of(order) == "partially_refunded"
        response = web.post(f"/api/v1/orders/{order['id']}/cancel", HTTP_IDEMPOTENCY_KEY="c")
        deliver()
        assert (response.status_code, response.json()["status"]) == (200, "cancelled")
        assert stock_of("TEE") == (10, 0)
        assert len(outbox_events("OrderCancelled", order["id"])) == 1

    def test_a_shipped_order_is_never_cancelled_even_once_partially_refunded(self, web, order):
        emit(payment(PaymentCaptured, order))
        deliver()
        fulfillment.shipment_ship(
            shipment_id=Shipment.objects.get().pk, carrier="X", tracking_code="Y"
        )
        deliver()
        emit(refund(order, 3000))
        deliver()
        assert status_of(order) == "partially_refunded"
        response = web.post(f"/api/v1/orders/{order['id']}/cancel", HTTP_IDEMPOTENCY_KEY="c")
        assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
        assert status_of(order) == "partially_refunded"
        assert outbox_events("OrderCancelled", order["id"]) == []

    def test_events_about_unknown_orders_are_ignored_not_retried_forever(self, order):
        emit(payment(PaymentCaptured, {**order, "id": "ord_unknown"}))
        deliver()
        from retail.platform.models import OutboxMessage

        assert not OutboxMessage.objects.exclude(status="delivered").exists()


@pytest.mark.django_db
class TestExpiry:
    def test_an_unpaid_order_expires_once_however_often_the_task_runs(self, order):
        later = timezone.now() + orders.PAYMENT_TIMEOUT + timedelta(seconds=1)
        assert orders.order_expire_unpaid(now=timezone.now()) == 0

        assert orders.order_expire_unpaid(now=later) == 1
        assert orders.order_expire_unpaid(now=later) == 0

        assert status_of(order) == "payment_failed"
        assert stock_of("TEE") == (10, 0)
        assert StockMove.objects.filter(reason="expire").count() == 1
        assert [e["reason"] for e in outbox_events("OrderPaymentFailed")] == ["payment_timeout"]

    def test_a_paid_order_never_expires(self, order):
        emit(payment(PaymentCaptured, order))
        deliver()
        later = timezone.now() + orders.PAYMENT_TIMEOUT * 2
        assert orders.order_expire_unpaid(now=later) == 0
        assert status_of(order) == "paid"


@pytest.mark.django_db(transaction=True)
def test_expiry_runs_racing_each_other_release_the_stock_exactly_once(web, stocked_sku):
    stocked_sku("TEE", on_hand=10)
    ids = [place(web, order_body(("TEE", 1)), key=f"k{i}").json()["id"] for i in range(5)]
    later = timezone.now() + orders.PAYMENT_TIMEOUT + timedelta(seconds=1)
    barrier, expired = threading.Barrier(4), []

    def run():
        barrier.wait()
        try:
            expired.append(orders.order_expire_unpaid(now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(expired) == 5
    assert set(Order.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "payment_failed"
    }
    assert stock_of("TEE") == (10, 0)
    assert StockMove.objects.filter(reason="expire").count() == 5
    assert len(outbox_events("OrderPaymentFailed")) == 5
