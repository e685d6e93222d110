"""Checkout under real concurrency: threads, one PostgreSQL connection each, real HTTP stack."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from retail.channels import services as channels
from retail.channels.tests.factories import ChannelFactory
from retail.inventory.models import StockItem, StockMove
from retail.orders.models import Order
from tests.commerce.conftest import order_body, place

pytestmark = pytest.mark.django_db(transaction=True)


def checkout_together(bodies, key):
    """POST every body at the same instant from its own client and connection."""
    channel_key = channels.api_key_issue(channel=ChannelFactory(code="web"))
    barrier = threading.Barrier(len(bodies))
    responses: list = [None] * len(bodies)

    def buy(index, body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {channel_key}")
        try:
            barrier.wait()
            responses[index] = place(client, body, key=f"{key}-{index}")
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=pair) for pair in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def test_n_plus_k_buyers_of_n_units_make_exactly_n_orders(stocked_sku):
    units, buyers = 12, 30
    stocked_sku("HOT", on_hand=units)

    responses = checkout_together([order_body(("HOT", 1))] * buyers, "buyer")

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * units + [409] * (buyers - units)
    assert all(
        response.json()["code"] == "out_of_stock" and response.json()["skus"] == ["HOT"]
        for response in responses
        if response.status_code == 409
    )
    assert Order.objects.count() == units
    item = StockItem.objects.get(sku="HOT")
    assert (item.on_hand, item.reserved, item.on_hand - item.reserved) == (units, units, 0)
    assert StockMove.objects.filter(reason="reserve").count() == units


def test_carts_with_the_same_skus_in_opposite_order_never_deadlock(stocked_sku):
    skus = [stocked_sku(f"S{index:02d}", on_hand=1000).code for index in range(10)]
    bodies = [
        order_body(*[(sku, 1) for sku in (skus if index % 2 else reversed(skus))])
        for index in range(16)
    ]

    responses = checkout_together(bodies, "cart")

    assert [response.status_code for response in responses] == [201] * 16
    assert set(StockItem.objects.values_list("reserved", flat=True)) == {16}
