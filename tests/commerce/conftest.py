"""Storefront fixtures: channels with keys, SKUs with stock, an API client per channel."""

import json

import pytest
from rest_framework.test import APIClient

from retail.catalog.tests.factories import SkuFactory
from retail.channels import services as channels
from retail.channels.models import Channel
from retail.channels.tests.factories import ChannelFactory
from retail.inventory.tests.factories import StockItemFactory


def channel_client(code: str, kind: str = Channel.Kind.WEB) -> APIClient:
    channel = ChannelFactory(code=code, kind=kind)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {channels.api_key_issue(channel=channel)}")
    return client


@pytest.fixture
def web(db) -> APIClient:
    return channel_client("web")


@pytest.fixture
def app(db) -> APIClient:
    return channel_client("app", Channel.Kind.APP)


@pytest.fixture
def stocked_sku(db):
    """``stocked_sku("TEE", price=4990, on_hand=10)``: a sellable SKU with stock."""

    def make(code: str, *, price: int = 1990, on_hand: int = 100):
        sku = SkuFactory(code=code, name=f"Name of {code}", base_price=price)
        StockItemFactory(sku=code, on_hand=on_hand)
        return sku

    return make


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["code"] == code, body
    return body
