"""POST /api/v1/orders/{id}/refunds, and the order's journey through payments and refunds."""

import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from retail.payments.models import Payment, Refund
from retail.payments.tests.support import deliver_psp, psp_body
from retail.platform.models import OutboxMessage
from tests.payments.conftest import capture, committed, drain, order_of, place_order, problem

pytestmark = pytest.mark.django_db


def refund(client, order_id, amount, key="refund-1", reason="damaged"):
    with committed():
        return client.post(
            f"/api/v1/orders/{order_id}/refunds",
            {"amount": amount, "reason": reason},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )


def settle_refund(refund_id, kind="refund.succeeded"):
    item = Refund.objects.get(id=refund_id)
    response = deliver_psp(psp_body(kind, item.payment, refund=item), f"msg_{kind}_{refund_id}")
    assert response.status_code == 200, response.content
    drain()


def test_a_placed_order_gets_a_payment_and_its_capture_makes_it_paid(web, skus, sent_tasks):
    order = place_order(web)
    payment = Payment.objects.get(order_id=order["id"])
    assert (payment.amount, payment.channel, payment.token) == (5000, "web", "tok_ok")
    assert sent_tasks == [("payments.payment_submit", payment.id)]
    capture(order["id"])
    shown = order_of(web, order["id"])
    assert shown["status"] == "paid"
    assert [(p["id"], p["status"]) for p in shown["payments"]] == [(payment.id, "captured")]


def test_a_declined_payment_fails_the_order(web, skus):
    order = place_order(web, token="tok_declined")
    payment = Payment.objects.get(order_id=order["id"])
    deliver_psp(psp_body("payment.failed", payment), "msg_fail")
    drain()
    assert order_of(web, order["id"])["status"] == "payment_failed"


def test_partial_then_full_refund_moves_the_order_and_more_is_refused(web, skus, sent_tasks):
    order = place_order(web)
    capture(order["id"])
    first = refund(web, order["id"], 2000)
    assert first.status_code == 201, first.content
    body = json.loads(first.content)
    assert body["id"].startswith("ref_")
    assert (body["status"], body["amount"]) == ("requested", 2000)
    assert sent_tasks[-1] == ("payments.refund_submit", body["id"])
    problem(refund(web, order["id"], 3001, key="refund-2"), 422, "refund_exceeds_captured")

    settle_refund(body["id"])
    assert order_of(web, order["id"])["status"] == "partially_refunded"
    rest = json.loads(refund(web, order["id"], 3000, key="refund-3").content)
    settle_refund(rest["id"])
    shown = order_of(web, order["id"])
    assert shown["status"] == "refunded"
    assert sorted((r["amount"], r["status"]) for r in shown["refunds"]) == [
        (2000, "succeeded"),
        (3000, "succeeded"),
    ]
    problem(refund(web, order["id"], 1, key="refund-4"), 422, "refund_exceeds_captured")


def test_the_same_key_replays_the_refund_and_never_refunds_twice(web, skus):
    order = place_order(web)
    capture(order["id"])
    first, again = refund(web, order["id"], 1000), refund(web, order["id"], 1000)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Refund.objects.count() == 1
    problem(refund(web, order["id"], 999), 422, "idempotency_key_reused")


def test_another_channels_order_is_404_and_unknown_orders_too(web, app, skus):
    order = place_order(web)
    capture(order["id"])
    problem(refund(app, order["id"], 100), 404, "not_found")
    problem(refund(web, "ord_NOPE", 100), 404, "not_found")
    assert Refund.objects.count() == 0


def test_an_unpaid_order_has_nothing_to_refund(web, skus):
    order = place_order(web)
    problem(refund(web, order["id"], 1), 422, "refund_exceeds_captured")


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "100", "reason": "x"},
        {"amount": 0, "reason": "x"},
        {"amount": -5, "reason": "x"},
        {"amount": 1.5, "reason": "x"},
        {"amount": True, "reason": "x"},
        {"amount": 100},
        {"amount": 100, "reason": ""},
        {"amount": 100, "reason": 7},
        {"amount": 10**30, "reason": "x"},
        [],
    ],
)
def test_bad_bodies_are_4xx_problems_never_5xx(web, skus, body):
    order = place_order(web)
    capture(order["id"])
    response = web.post(
        f"/api/v1/orders/{order['id']}/refunds", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    problem(response, 422, "validation_error")
    assert Refund.objects.count() == 0


def test_missing_key_and_missing_auth_are_refused(web, skus):
    order = place_order(web)
    response = web.post(
        f"/api/v1/orders/{order['id']}/refunds", {"amount": 1, "reason": "x"}, format="json"
    )
    problem(response, 400, "idempotency_key_missing")
    anonymous = APIClient().post(
        f"/api/v1/orders/{order['id']}/refunds",
        {"amount": 1, "reason": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert anonymous.status_code == 401


def test_cancelling_a_paid_order_refunds_it_in_full(web, skus, sent_tasks):
    order = place_order(web)
    capture(order["id"])
    cancelled = web.post(
        f"/api/v1/orders/{order['id']}/cancel", format="json", HTTP_IDEMPOTENCY_KEY="cancel-1"
    )
    assert cancelled.status_code == 200, cancelled.content
    drain()
    [made] = Refund.objects.filter(order_id=order["id"])
    assert (made.amount, made.reason) == (5000, "order cancelled")
    assert sent_tasks[-1] == ("payments.refund_submit", made.id)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refunds_with_different_keys_never_exceed_the_capture(web, skus):
    order = place_order(web)  # 5000 captured; 20 refunds of 1000 at once → exactly 5 accepted
    capture(order["id"])
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def ask(n: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=web._credentials["HTTP_AUTHORIZATION"])
        barrier.wait()
        try:
            statuses.append(refund(client, order["id"], 1000, key=f"concurrent-{n}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [201] * 5 + [422] * 15
    assert sum(Refund.objects.values_list("amount", flat=True)) == 5000
    assert OutboxMessage.objects.filter(event_type="RefundRequested").count() == 5
