"""Every changing row keeps its history (issue 8): who, why, until when — also when the change
was made by SQL that simple_history does not see (stock counters, customer upserts)."""

import json
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User

from retail.catalog.models import ChannelPrice, Sku
from retail.catalog.tests.factories import SkuFactory
from retail.channels import services as channels
from retail.channels.models import ApiKey, Channel, WebhookSecret
from retail.channels.tests.factories import ChannelFactory
from retail.customers.models import Customer
from retail.fulfillment import services as fulfillment
from retail.fulfillment.models import Shipment
from retail.inventory.models import Reservation, StockItem, StockMove
from retail.orders.models import Order
from retail.payments.models import Payment, Refund
from tests.payments.conftest import capture, committed, drain, place_order

pytestmark = pytest.mark.django_db
LONG_REASON = "; ".join(["the box arrived open and the mug was broken"] * 5)  # > 100 chars


def rows(model, **filters) -> list:
    return list(model.history.filter(**filters).order_by("history_date", "history_id"))


def ten_years_on(row) -> bool:
    return row.retain_until >= date(date.today().year + 9, 12, 31)


def test_a_storefront_order_leaves_history_with_actor_reason_and_retention(web, skus):
    order = place_order(web, lines=[("TEE", 2), ("MUG", 1)])
    customer_id = Order.objects.get(id=order["id"]).customer_id

    created = rows(Order, id=order["id"])
    assert [row.history_type for row in created] == ["+"]
    assert created[0].history_actor == "channel:web"
    assert created[0].history_user is None  # a channel is not a Django user
    assert created[0].history_request_id
    customer = rows(Customer, id=customer_id)
    assert [(row.history_type, row.history_actor) for row in customer] == [("+", "channel:web")]
    assert not hasattr(customer[0], "cpf_encrypted")
    assert not hasattr(customer[0], "cpf_hmac")
    reservation = rows(Reservation, reference=order["id"])
    assert [(row.history_type, row.status) for row in reservation] == [("+", "active")]
    assert not hasattr(rows(Payment, order_id=order["id"])[0], "token")

    payment = capture(order["id"])
    with committed():
        response = web.post(
            f"/api/v1/orders/{order['id']}/refunds",
            {"amount": 1000, "reason": LONG_REASON},
            format="json",
            HTTP_IDEMPOTENCY_KEY="refund-1",
        )
    assert response.status_code in (201, 202), response.content
    refund = Refund.objects.get(id=json.loads(response.content)["id"])
    assert [row.history_change_reason for row in rows(Refund, id=refund.id)] == [LONG_REASON]
    assert rows(Payment, id=payment.id)[-1].status == "captured"
    assert rows(Payment, id=payment.id)[-1].history_change_reason == "PSP reported captured"
    assert [row.status for row in rows(Reservation, reference=order["id"])] == [
        "active",
        "committed",
    ]

    every_row = [
        *rows(Order, id=order["id"]),
        *rows(Customer, id=customer_id),
        *rows(Reservation, reference=order["id"]),
        *rows(Payment, id=payment.id),
        *rows(Refund, id=refund.id),
        *rows(StockItem),
    ]
    assert all(ten_years_on(row) and row.history_actor for row in every_row)


def test_every_stock_move_has_its_history_row_with_the_counters_after_it(web, skus):
    order = place_order(web, lines=[("TEE", 2), ("MUG", 1)])
    with committed():
        response = web.post(
            f"/api/v1/orders/{order['id']}/cancel", {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
        )
    assert response.status_code == 200, response.content
    drain()

    for sku in skus:
        moves = StockMove.objects.filter(sku=sku).order_by("id")
        history = rows(StockItem, sku=sku)
        # the factory's insert, then one row per move: no counter change goes unrecorded
        assert [row.history_type for row in history] == ["+"] + ["~"] * moves.count()
        on_hand, reserved = history[0].on_hand, history[0].reserved
        for move, row in zip(moves, history[1:], strict=True):
            on_hand, reserved = on_hand + move.delta_on_hand, reserved + move.delta_reserved
            assert (row.on_hand, row.reserved) == (on_hand, reserved)
            assert row.history_change_reason == f"{move.reason} {move.reference}"
        item = StockItem.objects.get(sku=sku)
        assert (history[-1].on_hand, history[-1].reserved) == (item.on_hand, item.reserved)
    assert rows(Reservation, reference=order["id"])[-1].status == "released"


def test_revoking_twice_writes_one_history_row_and_rotation_gives_its_reason():
    partner = ChannelFactory(code="mkt", kind=Channel.Kind.MARKETPLACE)
    channels.api_key_issue(channel=partner)
    key = ApiKey.objects.get(channel=partner)
    assert channels.api_key_revoke(api_key=key) is True
    assert channels.api_key_revoke(api_key=key) is False
    assert [(row.history_type, row.history_change_reason) for row in rows(ApiKey, id=key.id)] == [
        ("+", None),
        ("~", "revoked"),
    ]
    assert rows(ApiKey, id=key.id)[-1].history_actor == "system"

    channels.webhook_secret_ensure(partner=partner)
    channels.webhook_secret_rotate(partner=partner)
    reasons = [row.history_change_reason for row in rows(WebhookSecret, channel=partner)]
    assert reasons == [None, "rotated", "rotation"]
    history_fields = {field.name for field in WebhookSecret.history.model._meta.fields}
    assert "secret" not in history_fields  # the secret is never copied


def test_history_pages_load_and_show_no_secret(admin_client):
    partner = ChannelFactory(code="mkt", kind=Channel.Kind.MARKETPLACE)
    channels.api_key_issue(channel=partner)
    secret = channels.webhook_secret_ensure(partner=partner)
    pages = {
        "channel": partner.pk,
        "apikey": ApiKey.objects.get().pk,
        "webhooksecret": WebhookSecret.objects.get().pk,
    }
    for model, pk in pages.items():
        response = admin_client.get(f"/admin/channels/{model}/{pk}/history/")
        assert response.status_code == 200, model
        assert secret not in response.content.decode()


def test_an_admin_edit_keeps_its_reason_and_staff_actor(admin_client):
    partner = ChannelFactory(code="mkt", kind=Channel.Kind.MARKETPLACE, name="Old name")
    response = admin_client.post(
        f"/admin/channels/channel/{partner.pk}/change/",
        {
            "code": "mkt",
            "name": "New name",
            "kind": "marketplace",
            "is_active": "on",
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00:00",
            "change_reason": "partner renamed (ticket 42)",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    last = rows(Channel, id=partner.pk)[-1]
    assert (last.name, last.history_change_reason) == ("New name", "partner renamed (ticket 42)")
    assert last.history_actor == "staff:admin"
    assert last.history_user.username == "admin"


@pytest.mark.parametrize("who", ["superuser", "viewer"])
def test_a_past_version_can_be_seen_but_never_saved_back(admin_client, client, who):
    """django-simple-history's form saves a past version on POST, for viewers too."""
    partner = ChannelFactory(code="mkt", kind=Channel.Kind.MARKETPLACE, name="Old name")
    partner.name = "New name"
    partner.save()
    old = rows(Channel, id=partner.pk)[0]
    if who == "viewer":
        viewer = User.objects.create_user("viewer", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_channel"))
        client.force_login(viewer)
    browser = admin_client if who == "superuser" else client
    page = f"/admin/channels/channel/{partner.pk}/history/{old.history_id}/"
    shown = browser.get(page)
    assert shown.status_code == 200
    assert b"Revert" not in shown.content
    form = {
        "code": "mkt",
        "name": "Old name",
        "kind": "marketplace",
        "is_active": "on",
        "created_at_0": "2026-01-01",
        "created_at_1": "00:00:00",
    }
    assert browser.post(page, form).status_code == 403
    partner.refresh_from_db()
    assert partner.name == "New name"
    assert len(rows(Channel, id=partner.pk)) == 2


def test_a_price_change_in_admin_and_a_shipment_cancellation_keep_their_history(admin_client):
    sku = SkuFactory(code="TEE", name="Tee", base_price=2500)
    response = admin_client.post(
        f"/admin/catalog/sku/{sku.pk}/change/",
        {
            "code": "TEE",
            "product": sku.product_id,
            "name": "Tee",
            "base_price": "2990",
            "is_active": "on",
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00:00",
            "change_reason": "supplier raised costs",
            "channel_prices-TOTAL_FORMS": "1",
            "channel_prices-INITIAL_FORMS": "0",
            "channel_prices-0-channel_code": "app",
            "channel_prices-0-price": "2790",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    last = rows(Sku, id=sku.pk)[-1]
    assert (last.base_price, last.history_change_reason) == (2990, "supplier raised costs")
    assert [(row.price, row.history_actor) for row in rows(ChannelPrice)] == [(2790, "staff:admin")]

    shipment = fulfillment.shipment_create(order_id="ord_1", shipping_address={"city": "SP"})
    assert fulfillment.shipment_cancel(order_id="ord_1") is True
    assert fulfillment.shipment_cancel(order_id="ord_1") is False
    history = rows(Shipment, id=shipment.pk)
    assert [(row.history_type, row.status, row.history_change_reason) for row in history] == [
        ("+", "pending", None),
        ("~", "cancelled", "order cancelled"),
    ]
    assert not hasattr(history[0], "shipping_address")
