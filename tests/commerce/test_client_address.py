"""POST /api/v1/orders/ records the shopper's device, never the calling server's address."""

import pytest
from django.test import override_settings

from retail.orders.events import OrderPlaced
from retail.platform.events import event_from_payload
from retail.platform.models import OutboxMessage
from tests.commerce.conftest import order_body, outbox_events, place, problem

pytestmark = pytest.mark.django_db

FORGED = {"HTTP_X_FORWARDED_FOR": "198.51.100.66"}


def placed(web, body: dict, **headers) -> dict:
    response = web.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k", **headers)
    assert response.status_code == 201, response.content
    (event,) = outbox_events("OrderPlaced", response.json()["id"])
    return event


def test_the_bodys_client_is_recorded_normalised(web, stocked_sku):
    stocked_sku("TEE")
    client = {"ip": "2001:0DB8::0001", "user_agent": "Mozilla/5.0 (iPhone)"}

    event = placed(web, order_body(("TEE", 1), client=client), **FORGED)

    assert (event["client_ip"], event["client_user_agent"]) == ("2001:db8::1", client["user_agent"])


@pytest.mark.parametrize(
    "client",
    [
        {"ip": "203.0.113.256"},
        {"ip": "storefront"},
        {"ip": ""},
        {"ip": 3405803785},
        {"ip": "fe80::1%eth0"},
        {"user_agent": "x" * 513},
        {"user_agent": 5},
        "203.0.113.9",
        None,
    ],
    ids=[
        "ip-range",
        "ip-name",
        "ip-empty",
        "ip-number",
        "ip-zone",
        "ua-long",
        "ua-number",
        "str",
        "null",
    ],
)
def test_a_bad_client_is_422_and_writes_nothing(web, stocked_sku, client):
    stocked_sku("TEE")
    body = problem(place(web, order_body(("TEE", 1), client=client)), 422, "validation_error")
    assert "client" in body["errors"]
    assert not OutboxMessage.objects.exists()


def test_an_untrusted_callers_forwarded_for_and_address_are_not_recorded(web, stocked_sku):
    stocked_sku("TEE")
    event = placed(web, order_body(("TEE", 1)), **FORGED)  # REMOTE_ADDR 127.0.0.1
    assert (event["client_ip"], event["client_user_agent"]) == ("", "")


@override_settings(TRUSTED_PROXIES=["127.0.0.1/32", "10.0.0.0/8"])
def test_behind_trusted_proxies_the_forwarded_client_is_recorded(web, stocked_sku):
    stocked_sku("TEE")
    forwarded = {"HTTP_X_FORWARDED_FOR": "198.51.100.66, 203.0.113.9, 10.2.3.4"}
    event = placed(web, order_body(("TEE", 1), client={"user_agent": "okhttp/4"}), **forwarded)
    assert (event["client_ip"], event["client_user_agent"]) == ("203.0.113.9", "okhttp/4")


def test_payloads_stored_before_client_user_agent_still_load(web, stocked_sku):
    stocked_sku("TEE")
    payload = placed(web, order_body(("TEE", 1)))
    del payload["client_user_agent"]

    event = event_from_payload("OrderPlaced", 1, payload)

    assert isinstance(event, OrderPlaced)
    assert event.client_user_agent == ""
