"""Back-office screens of the commerce contexts load, and buttons go through services."""

import pytest

from retail.orders.models import Order
from tests.commerce.conftest import order_body, outbox_events, place

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/order/",
        "/admin/catalog/product/",
        "/admin/catalog/sku/",
        "/admin/channels/channel/",
        "/admin/channels/apikey/",
        "/admin/channels/stafftoken/",
        "/admin/channels/webhooksecret/",
        "/admin/customers/customer/",
        "/admin/customers/piiaccesslog/",
        "/admin/inventory/stockitem/",
        "/admin/inventory/reservation/",
        "/admin/inventory/stockmove/",
        "/admin/fulfillment/shipment/",
    ],
)
def test_changelists_load(admin_client, url):
    assert admin_client.get(url).status_code == 200


def test_an_order_page_and_its_history_load(admin_client, web, stocked_sku):
    stocked_sku("TEE")
    order_id = place(web, order_body(("TEE", 1))).json()["id"]
    assert admin_client.get(f"/admin/orders/order/{order_id}/change/").status_code == 200
    assert admin_client.get(f"/admin/orders/order/{order_id}/history/").status_code == 200


def test_the_cancel_action_cancels_through_the_service(admin_client, admin_user, web, stocked_sku):
    stocked_sku("TEE")
    order_id = place(web, order_body(("TEE", 1))).json()["id"]

    admin_client.post("/admin/orders/order/", {"action": "cancel", "_selected_action": [order_id]})

    assert Order.objects.get().status == "cancelled"
    (cancelled,) = outbox_events("OrderCancelled")
    assert cancelled["reason"] == f"cancelled_by_staff:{admin_user.pk}"


def test_issuing_a_key_in_admin_shows_it_once(admin_client, web):
    from retail.channels.models import ApiKey, Channel

    channel = Channel.objects.get(code="web")
    response = admin_client.post(
        "/admin/channels/channel/",
        {"action": "issue_api_key", "_selected_action": [channel.pk]},
        follow=True,
    )
    assert "rk_live_web_" in response.content.decode()
    assert ApiKey.objects.filter(channel=channel).count() == 2


def test_revoking_a_key_in_admin_locks_the_channel_out(admin_client, web):
    from retail.channels.models import ApiKey

    key = ApiKey.objects.get()
    admin_client.post("/admin/channels/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert web.get("/api/v1/products/").status_code == 401
