"""POST /webhooks/marketplace/{partner}/: signed partner orders, paid from the start, once each."""

import base64
import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from retail.channels import services as channels
from retail.channels.models import Channel
from retail.channels.tests.factories import ChannelFactory
from retail.payments.models import PartnerOrder, Payment
from retail.payments.tests.processes import signed_headers
from retail.payments.tests.support import post_webhook
from retail.platform.models import OutboxMessage
from tests.payments.conftest import VALID_CPF, committed, drain, problem

pytestmark = pytest.mark.django_db
PATH = "/webhooks/marketplace/acme/"


@pytest.fixture
def acme(db) -> dict:
    partner = ChannelFactory(code="acme", kind=Channel.Kind.MARKETPLACE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {channels.api_key_issue(channel=partner)}")
    return {
        "channel": partner,
        "secret": channels.webhook_secret_ensure(partner=partner),
        "client": client,
    }


def partner_order(external_order_id="acme-1", total=6250, lines=(("TEE", 2), ("MUG", 1))):
    return json.dumps(
        {
            "external_order_id": external_order_id,
            "customer": {"name": "Bia Lima", "email": "bia@example.com", "cpf": VALID_CPF},
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
            "total": total,
        }
    ).encode()


def send(secret, body, webhook_id="msg_1", path=PATH, client=None):
    with committed():
        return post_webhook(body, signed_headers(secret, body, webhook_id), client, path)


def settled(order_id):
    return [
        message.payload
        for message in OutboxMessage.objects.filter(
            event_type="PartnerOrderSettled", aggregate_id=order_id
        )
    ]


def test_a_partner_order_is_created_paid_and_settled_once(acme, skus):
    first = send(acme["secret"], partner_order())
    assert first.status_code == 201, first.content
    order = json.loads(first.content)
    assert (order["status"], order["channel"], order["total"]) == ("paid", "acme", 6250)
    assert {(line["sku"], line["quantity"]) for line in order["lines"]} == {("TEE", 2), ("MUG", 1)}
    assert settled(order["id"]) == [
        {
            "aggregate_id": order["id"],
            "partner": "acme",
            "external_order_id": "acme-1",
            "amount": 6250,
            "currency": "BRL",
        }
    ]
    drain()
    assert Payment.objects.count() == 0  # the partner collected: no PSP payment
    shown = acme["client"].get(f"/api/v1/orders/{order['id']}/")
    assert shown.status_code == 200
    assert json.loads(shown.content)["id"] == order["id"]


def test_a_partner_key_reads_its_orders_but_cannot_cancel_refund_or_place_them(acme, skus):
    order = json.loads(send(acme["secret"], partner_order()).content)
    client = acme["client"]
    cancel = client.post(
        f"/api/v1/orders/{order['id']}/cancel", {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    problem(cancel, 403, "forbidden")
    refund = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        {"amount": 100, "reason": "why not"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="r-1",
    )
    problem(refund, 403, "forbidden")
    placed = client.post("/api/v1/orders/", {}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    problem(placed, 403, "forbidden")
    shown = client.get(f"/api/v1/orders/{order['id']}/")
    assert json.loads(shown.content)["status"] == "paid"
    assert OutboxMessage.objects.filter(event_type="OrderCancelled").count() == 0


def test_the_same_order_again_is_200_with_the_same_order_by_new_or_repeated_webhook_id(acme, skus):
    first = json.loads(send(acme["secret"], partner_order(), "msg_1").content)
    for webhook_id in ("msg_1", "msg_2"):
        again = send(acme["secret"], partner_order(), webhook_id)
        assert again.status_code == 200, again.content
        assert json.loads(again.content)["id"] == first["id"]
    assert PartnerOrder.objects.count() == 1
    assert len(settled(first["id"])) == 1


def test_a_total_that_is_not_the_lines_at_base_prices_is_422_and_creates_nothing(acme, skus):
    body = problem(send(acme["secret"], partner_order(total=6000)), 422, "total_mismatch")
    assert body["expected_total"] == 6250
    assert PartnerOrder.objects.count() == 0
    assert not OutboxMessage.objects.filter(event_type="PartnerOrderSettled").exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"[" * 5_000 + b"]" * 5_000, 400, "malformed_json"),
        (b'{"a": ' * 3_000 + b"1" + b"}" * 3_000, 400, "malformed_json"),
        (b"[]", 422, "validation_error"),
        (b'{"external_order_id": "x", "lines": [], "total": 1}', 422, "validation_error"),
        (partner_order(total="6250"), 422, "validation_error"),
        (partner_order(lines=(("TEE", 0),)), 422, "validation_error"),
        (partner_order(lines=(("NOPE", 1),)), 422, "unknown_sku"),
    ],
)
def test_bad_partner_bodies_are_4xx_problems(acme, skus, body, status, code):
    problem(send(acme["secret"], body), status, code)
    assert PartnerOrder.objects.count() == 0


def test_signatures_are_checked_with_the_partners_secrets_including_a_rotation(acme, skus):
    body = partner_order()
    other = "whsec_" + base64.b64encode(b"not-the-partner-secret-32-bytes!").decode()
    problem(send(other, body), 401, "webhook_signature_invalid")
    stale = signed_headers(acme["secret"], body, "msg_1", int(time.time()) - 400)
    problem(post_webhook(body, stale, path=PATH), 401, "webhook_timestamp_out_of_tolerance")
    problem(post_webhook(body, {}, path=PATH), 401, "webhook_signature_missing")
    problem(
        send(acme["secret"], body, path="/webhooks/marketplace/nobody/"), 404, "unknown_partner"
    )
    new_secret = channels.webhook_secret_rotate(partner=acme["channel"])
    old = send(acme["secret"], partner_order("acme-old"), "msg_old")  # still valid: overlap
    new = send(new_secret, partner_order("acme-new"), "msg_new")
    assert (old.status_code, new.status_code) == (201, 201)


def test_only_post_is_allowed(acme):
    problem(Client().get(PATH), 405, "method_not_allowed")


@pytest.mark.django_db(transaction=True)
def test_the_same_partner_order_three_times_concurrently_makes_one_order(acme, skus):
    body = partner_order("acme-race")
    barrier = threading.Barrier(3)
    answers: list = []

    def deliver(webhook_id):
        barrier.wait()
        try:
            answers.append(send(acme["secret"], body, webhook_id))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=deliver, args=(webhook_id,))
        for webhook_id in ("msg_a", "msg_b", "msg_a")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}
    [order_id] = {json.loads(a.content)["id"] for a in answers if a.status_code in (200, 201)}
    assert PartnerOrder.objects.get().order_id == order_id
    assert len(settled(order_id)) == 1
    for answer in answers:  # the partner retries its 409s: same order
        if answer.status_code == 409:
            retried = send(acme["secret"], body, "msg_retry")
            assert json.loads(retried.content)["id"] == order_id
