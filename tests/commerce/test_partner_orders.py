"""Marketplace partners' orders (orders.public.partner_order_place, used by the webhook)."""

import pytest

from retail.channels.models import Channel
from retail.inventory.models import StockItem
from retail.orders import public as orders
from retail.orders.models import Order
from retail.platform.problems import Problem
from tests.commerce.conftest import VALID_CPF, outbox_events
from tests.conftest import channel_client

pytestmark = pytest.mark.django_db


def checkout(*lines):
    return orders.Checkout(
        channel="acme",
        customer_name="Bia",
        customer_email="bia@example.com",
        customer_cpf=VALID_CPF,
        lines=list(lines),
        payment_method="marketplace",
        payment_token="",
    )


@pytest.fixture
def acme(db):
    return channel_client("acme", Channel.Kind.MARKETPLACE)


def test_a_partner_order_starts_paid_with_its_stock_sold(acme, stocked_sku):
    stocked_sku("TEE", price=5000, on_hand=10)

    order_id, created = orders.partner_order_place(
        checkout(("TEE", 2)), external_order_id="A-1", charged_total=10000
    )

    assert created
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.channel_code, order.total) == ("paid", "acme", 10000)
    item = StockItem.objects.get(sku="TEE")
    assert (item.on_hand, item.reserved) == (8, 0)
    (placed,) = outbox_events("OrderPlaced", order_id)
    assert (placed["payment_token"], placed["external_order_id"]) == ("", "A-1")
    assert len(outbox_events("OrderPaid", order_id)) == 1
    assert acme.get(f"/api/v1/orders/{order_id}/").json() == orders.order_document(order_id)


def test_the_same_external_order_is_always_the_same_order(stocked_sku):
    stocked_sku("TEE", price=5000)
    first, _ = orders.partner_order_place(
        checkout(("TEE", 1)), external_order_id="A-1", charged_total=5000
    )
    again, created = orders.partner_order_place(
        checkout(("TEE", 1)), external_order_id="A-1", charged_total=5000
    )
    assert (again, created) == (first, False)
    assert Order.objects.count() == 1


def test_partner_orders_are_priced_at_base_prices_and_a_different_total_is_refused(stocked_sku):
    stocked_sku("TEE", price=5000, on_hand=10)
    with pytest.raises(Problem) as refused:
        orders.partner_order_place(
            checkout(("TEE", 2)), external_order_id="A-1", charged_total=9000
        )
    assert (refused.value.status, refused.value.code) == (422, "total_mismatch")
    assert refused.value.extra["expected_total"] == 10000
    assert not Order.objects.exists()
    assert StockItem.objects.get(sku="TEE").on_hand == 10
    assert not outbox_events("OrderPlaced")


@pytest.mark.parametrize(
    ("lines", "status", "code"),
    [([("NOPE", 1)], 422, "unknown_sku"), ([("TEE", 11)], 409, "out_of_stock")],
)
def test_partner_orders_are_validated_like_storefront_orders(stocked_sku, lines, status, code):
    stocked_sku("TEE", price=5000, on_hand=10)
    with pytest.raises(Problem) as refused:
        orders.partner_order_place(checkout(*lines), external_order_id="A-1", charged_total=1)
    assert (refused.value.status, refused.value.code) == (status, code)


def test_order_document_of_an_unknown_order_is_none():
    assert orders.order_document("ord_nope") is None
