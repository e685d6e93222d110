"""GET /api/v1/products/: channel prices, availability, cursor pagination, authentication."""

import pytest

from retail.catalog.tests.factories import ChannelPriceFactory, SkuFactory
from retail.inventory import public as inventory
from tests.commerce.conftest import problem

pytestmark = pytest.mark.django_db


def test_lists_sellable_skus_with_the_channels_price_and_available_units(web, app, stocked_sku):
    tee = stocked_sku("TEE", price=4990, on_hand=10)
    stocked_sku("MUG", price=3990, on_hand=5)
    ChannelPriceFactory(sku=tee, channel_code="web", price=4490)
    inventory.reserve({"TEE": 3}, "ord_x", expires_at=tee.created_at)

    web_page = web.get("/api/v1/products/").json()
    app_page = app.get("/api/v1/products/").json()

    assert web_page == {
        "results": [
            {"sku": "MUG", "name": "Name of MUG", "price": 3990, "currency": "BRL", "available": 5},
            {"sku": "TEE", "name": "Name of TEE", "price": 4490, "currency": "BRL", "available": 7},
        ],
        "next": None,
    }
    assert [row["price"] for row in app_page["results"]] == [3990, 4990]


def test_inactive_skus_and_products_are_not_listed(web, stocked_sku):
    stocked_sku("ON")
    SkuFactory(code="OFF", is_active=False)
    SkuFactory(code="GONE", product__is_active=False)
    assert [row["sku"] for row in web.get("/api/v1/products/").json()["results"]] == ["ON"]


def test_a_sku_without_stock_is_listed_as_unavailable(web):
    SkuFactory(code="NOSTOCK")
    assert web.get("/api/v1/products/").json()["results"][0]["available"] == 0


def test_cursor_pagination_walks_every_sku_once(web):
    codes = sorted(SkuFactory.create_batch(7, base_price=100), key=lambda sku: sku.code)
    seen, url, pages = [], "/api/v1/products/?limit=3", 0
    while url:
        page = web.get(url).json()
        seen += [row["sku"] for row in page["results"]]
        url, pages = page["next"], pages + 1
    assert seen == [sku.code for sku in codes]
    assert pages == 3


@pytest.mark.parametrize("cursor", ["garbage", "é", "bz0tMQ=="])
def test_a_cursor_we_did_not_issue_is_400(web, cursor):
    problem(web.get("/api/v1/products/", {"cursor": cursor}), 400, "invalid_cursor")


def test_a_silly_limit_falls_back_to_the_default_page(web):
    SkuFactory()
    for limit in ["-1", "abc", "9" * 5000]:
        assert web.get("/api/v1/products/", {"limit": limit}).status_code == 200


def test_without_a_channel_key_it_is_401(client):
    response = client.get("/api/v1/products/")
    problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem(
        client.get("/api/v1/products/", HTTP_AUTHORIZATION="Bearer nope"), 401, "unauthenticated"
    )
