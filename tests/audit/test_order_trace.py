"""One real order's trace (issue 8 "Must show"): placed through POST /api/v1/orders/, paid by
PSP webhooks delivered in a storm (each three times, the capture before the authorization),
partly refunded through POST …/refunds, cancelled (the rest is refunded), and the partial
refund's refund.succeeded webhook arrives. (The cancellation comes while the partial refund is
pending, so the order goes paid → cancelled.)

The relay runs in-process (``relay_drain``); no Celery worker runs, so the PSP calls of the
payment and refund tasks are never made (the ``sent_tasks`` fixture keeps them). Every effect
shows once: requests with their Idempotency-Key and actor, transitions, events and ledger
postings. Webhook deliveries are requests too, so each of the three shows (one effect, two
duplicates that change nothing).
"""

import itertools
import json
import time

import pytest
from django.conf import settings
from django.test import Client

from retail.audit.tests.factories import manage, staff_token
from retail.platform.relay import relay_drain
from retail.platform.webhooks import sign
from tests.payments.conftest import order_body

pytestmark = pytest.mark.django_db(transaction=True)
STORM = 3


def psp_storm(client: Client, webhook_id: str, kind: str, data: dict) -> list[int]:
    """Deliver one signed PSP webhook ``STORM`` times, as a retrying PSP does; the statuses."""
    body = json.dumps({"type": kind, "timestamp": "2026-01-01T00:00:00Z", "data": data}).encode()
    statuses = []
    for _ in range(STORM):
        now = int(time.time())
        response = client.post(
            "/webhooks/psp/",
            data=body,
            content_type="application/json",
            HTTP_WEBHOOK_ID=webhook_id,
            HTTP_WEBHOOK_TIMESTAMP=str(now),
            HTTP_WEBHOOK_SIGNATURE=sign(settings.PSP_WEBHOOK_SECRET, webhook_id, now, body),
        )
        statuses.append(response.status_code)
    return statuses


def post(web, path: str, body: dict, key: str) -> dict:
    response = web.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code in (200, 201), response.content
    return json.loads(response.content)


def step(entry: dict) -> tuple:
    """Kind and action; requests and webhooks also by their key (events' keys are ids)."""
    keyed = entry["kind"] in ("request", "webhook")
    return (entry["kind"], entry["action"], *([entry["idempotency_key"]] if keyed else []))


def test_a_real_order_trace_shows_every_step_once_with_hashes_and_verifies(web, skus, client):
    order = post(web, "/api/v1/orders/", order_body(lines=(("TEE", 2), ("MUG", 1))), "place-1")
    order_id = order["id"]
    relay_drain()
    (payment,) = web.get(f"/api/v1/orders/{order_id}/").json()["payments"]
    paid = {"payment_id": payment["id"], "order_id": order_id, "amount": order["total"]}
    webhooks = {"whk_captured": "payment.captured", "whk_authorized": "payment.authorized"}
    for webhook_id, kind in webhooks.items():  # the capture overtakes the authorization
        statuses = psp_storm(client, webhook_id, kind, {**paid, "psp_reference": "psp_1"})
        assert statuses == [200] * STORM
    relay_drain()
    assert web.get(f"/api/v1/orders/{order_id}/").json()["status"] == "paid"

    refund = post(
        web, f"/api/v1/orders/{order_id}/refunds", {"amount": 1000, "reason": "scratched"}, "r-1"
    )
    relay_drain()
    post(web, f"/api/v1/orders/{order_id}/cancel", {}, key="cancel-1")
    relay_drain()
    settled = {**paid, "refund_id": refund["id"], "amount": 1000, "psp_reference": "psp_r1"}
    assert psp_storm(client, "whk_refunded", "refund.succeeded", settled) == [200] * STORM
    relay_drain()
    document = web.get(f"/api/v1/orders/{order_id}/").json()
    assert document["status"] == "cancelled"
    assert {(r["amount"], r["status"]) for r in document["refunds"]} == {
        (1000, "succeeded"),
        (order["total"] - 1000, "pending"),
    }

    response = client.get(
        f"/api/v1/audit/orders/{order_id}/trace",
        HTTP_AUTHORIZATION=f"Bearer {staff_token('auditor1', 'auditor')}",
    )
    assert response.status_code == 200
    entries = response.json()["entries"]

    orders, psp = f"POST /api/v1/orders/{order_id}", "POST /webhooks/psp/"
    assert [step(entry) for entry in entries] == [
        ("request", "POST /api/v1/orders/", "place-1"),
        ("transition", "OrderPlaced"),
        ("event", "PaymentRequested"),
        *[("webhook", psp, "whk_captured")] * STORM,  # one effect, then duplicates
        *[("webhook", psp, "whk_authorized")] * STORM,  # late: nothing left to do
        ("event", "PaymentAuthorized"),
        ("event", "PaymentCaptured"),
        ("transition", "OrderPaid"),
        ("ledger", "JournalEntryPosted"),
        ("ledger", "JournalEntryPosted"),
        ("request", f"{orders}/refunds", "r-1"),
        ("event", "RefundRequested"),
        ("request", f"{orders}/cancel", "cancel-1"),
        ("transition", "OrderCancelled"),
        ("event", "RefundRequested"),  # the rest, refunded because of the cancellation
        *[("webhook", psp, "whk_refunded")] * STORM,
        ("event", "RefundSucceeded"),
        ("ledger", "JournalEntryPosted"),
    ]
    effects = [e["idempotency_key"] for e in entries if e["kind"] != "webhook"]
    assert len(effects) == len(set(effects)), "an effect shows twice"
    requests = [e for e in entries if e["kind"] == "request"]
    assert {(e["actor"], e["channel"]) for e in requests} == {("channel:web", "web")}
    assert [e["data"]["status"] for e in requests] == [201, 201, 200]
    webhooks = [e for e in entries if e["kind"] == "webhook"]
    assert {(e["actor"], e["data"]["status"]) for e in webhooks} == {("webhook:psp", 200)}
    assert [e["data"]["type"] for e in webhooks[::STORM]] == [
        "payment.captured",
        "payment.authorized",
        "refund.succeeded",
    ]
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs)
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in entries)
    assert all(e["actor"] for e in entries)
    for earlier, later in itertools.pairwise(entries):
        if later["seq"] == earlier["seq"] + 1:
            assert later["prev_hash"] == earlier["hash"]
    placed = entries[1]["data"]["payload"]
    assert placed["customer_email"] == placed["payment_token"] == "[redacted]"
    code, output = manage("audit_verify")
    assert code == 0, output
