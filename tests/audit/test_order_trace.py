"""One order's trace: placed, paid via PSP webhooks, partly refunded, cancelled.

Until the orders API lands, the steps are the contexts' real event classes emitted through the
outbox and delivered by the relay, plus real signed webhook requests through the middleware.
Other contexts react to these events (e.g. the ledger posts); their entries may join the trace,
but every step appears exactly once, in order, with its key, actor and a linked hash.
"""

import itertools
import json
import time

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from retail.audit.tests.factories import manage, staff_token
from retail.orders.events import OrderCancelled, OrderPaid, OrderPartiallyRefunded, OrderPlaced
from retail.payments.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentRequested,
    RefundRequested,
    RefundSucceeded,
)
from retail.platform import outbox
from retail.platform.relay import relay_drain
from retail.platform.webhooks import sign

pytestmark = pytest.mark.django_db(transaction=True)
ORDER, PAYMENT, REFUND = "ord_01TRACE", "pay_01TRACE", "ref_01TRACE"
ORDER_FIELDS = {"order_id": ORDER, "number": "R-1", "channel": "web", "customer_id": "cus_1"}
PAYMENT_FIELDS = {"aggregate_id": PAYMENT, "order_id": ORDER, "channel": "web"}
REFUND_FIELDS = {**PAYMENT_FIELDS, "refund_id": REFUND}


def emit(*events: object) -> list[str]:
    with transaction.atomic():
        ids = [str(outbox.emit(event).event_id) for event in events]  # type: ignore[arg-type]
    relay_drain()
    return ids


def psp_webhook(client: Client, webhook_id: str, kind: str, amount: int) -> None:
    body = json.dumps(
        {"type": kind, "data": {"payment_id": PAYMENT, "order_id": ORDER, "amount": amount}}
    ).encode()
    now = int(time.time())
    client.post(
        "/webhooks/psp/",
        data=body,
        content_type="application/json",
        HTTP_WEBHOOK_ID=webhook_id,
        HTTP_WEBHOOK_TIMESTAMP=str(now),
        HTTP_WEBHOOK_SIGNATURE=sign(settings.PSP_WEBHOOK_SECRET, webhook_id, now, body),
    )


def test_the_trace_shows_every_step_once_in_order(client: Client):
    placed = emit(
        OrderPlaced(
            aggregate_id=ORDER, **ORDER_FIELDS, total=10000, payment_method="card",
            payment_token="tok_ok", lines=[{"sku": "S", "quantity": 1, "unit_price": 10000}],
            customer_name="Ana Souza", customer_email="ana@example.com", client_ip="203.0.113.9",
        ),
        PaymentRequested(**PAYMENT_FIELDS, amount=10000, method="card"),
    )  # fmt: skip
    psp_webhook(client, "msg_authorized", "payment.authorized", 10000)
    psp_webhook(client, "msg_captured", "payment.captured", 10000)
    paid = emit(
        PaymentAuthorized(**PAYMENT_FIELDS, amount=10000),
        PaymentCaptured(**PAYMENT_FIELDS, amount=10000),
        OrderPaid(aggregate_id=ORDER, **ORDER_FIELDS, total=10000),
    )
    refunded_and_cancelled = emit(
        RefundRequested(**REFUND_FIELDS, amount=3000, reason="damaged"),
        RefundSucceeded(**REFUND_FIELDS, amount=3000),
        OrderPartiallyRefunded(aggregate_id=ORDER, **ORDER_FIELDS, total=10000, refunded=3000),
        OrderCancelled(aggregate_id=ORDER, **ORDER_FIELDS, total=10000, reason="customer asked"),
    )  # fmt: skip
    # Each phase completes before the next; inside a phase the relay keeps each aggregate's
    # order (payment events, order events) but may interleave the two aggregates.
    phases = [placed, ["msg_authorized", "msg_captured"], paid, refunded_and_cancelled]
    steps = [key for phase in phases for key in phase]

    response = client.get(
        f"/api/v1/audit/orders/{ORDER}/trace",
        HTTP_AUTHORIZATION=f"Bearer {staff_token('auditor1', 'auditor')}",
    )
    entries = response.json()["entries"]
    keys = [entry["idempotency_key"] for entry in entries]
    assert len(keys) == len(set(keys)), "a step appears twice"
    assert sorted(key for key in keys if key in steps) == sorted(steps), "a step is missing"
    position = {key: keys.index(key) for key in steps}
    for earlier, later in itertools.pairwise(phases):
        assert max(position[key] for key in earlier) < min(position[key] for key in later)
    payment_keys = [paid[0], paid[1], refunded_and_cancelled[0], refunded_and_cancelled[1]]
    order_keys = [placed[0], paid[2], refunded_and_cancelled[2], refunded_and_cancelled[3]]
    for aggregate_keys in (payment_keys, order_keys):
        assert [position[key] for key in aggregate_keys] == sorted(
            position[key] for key in aggregate_keys
        )
    by_key = {entry["idempotency_key"]: entry for entry in entries}
    assert by_key[steps[0]]["kind"] == "transition"
    assert by_key[steps[0]]["action"] == "OrderPlaced"
    assert by_key[steps[1]]["kind"] == "event"
    assert by_key["msg_captured"]["kind"] == "webhook"
    assert by_key["msg_captured"]["actor"] == "webhook:psp"
    assert by_key["msg_captured"]["data"]["type"] == "payment.captured"
    assert by_key[steps[-1]]["action"] == "OrderCancelled"
    assert all(entry["actor"] and len(entry["hash"]) == 64 for entry in entries)
    assert [entry["seq"] for entry in entries] == sorted(entry["seq"] for entry in entries)
    payload = by_key[steps[0]]["data"]["payload"]
    for personal in ("payment_token", "customer_email", "customer_name"):
        assert payload[personal] == "[redacted]"
    assert by_key["msg_captured"]["data"]["status"] in (200, 422)  # unknown payment: recorded
    code, output = manage("audit_verify")
    assert code == 0, output
