"""Fixtures for payments across contexts: channels with keys, a partner, stocked SKUs, orders."""

import json

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from retail.catalog.tests.factories import SkuFactory
from retail.inventory.tests.factories import StockItemFactory
from retail.payments import services
from retail.payments.models import Payment
from retail.payments.tests.support import SentTasks, deliver_psp, psp_body
from retail.platform.relay import relay_drain

VALID_CPF = "123.456.789-09"


@pytest.fixture(autouse=True)
def sent_tasks(monkeypatch) -> SentTasks:
    sent = SentTasks()
    monkeypatch.setattr(services, "task_send", lambda *task: sent.append(task))
    return sent


@pytest.fixture
def skus(db) -> dict[str, int]:
    """Two sellable SKUs with plenty of stock: ``{code: base price}``."""
    prices = {"TEE": 2500, "MUG": 1250}
    for code, price in prices.items():
        SkuFactory(code=code, name=f"Name of {code}", base_price=price)
        StockItemFactory(sku=code, on_hand=1000)
    return prices


def order_body(lines=(("TEE", 2),), token="tok_ok") -> dict:  # noqa: S107
    return {
        "customer": {"name": "Ana Souza", "email": "ana@example.com", "cpf": VALID_CPF},
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "payment": {"method": "card", "token": token},
        "shipping_address": {
            "street": "Rua Augusta",
            "number": "1500",
            "city": "São Paulo",
            "state": "SP",
            "postal_code": "01304-001",
        },
    }


def committed():
    """Run on-commit callbacks as a real commit would (tests inside one transaction need it)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def drain() -> None:
    with committed():
        relay_drain()


def place_order(client: APIClient, key: str = "order-1", **body) -> dict:
    with committed():
        response = client.post(
            "/api/v1/orders/", order_body(**body), format="json", HTTP_IDEMPOTENCY_KEY=key
        )
    assert response.status_code == 201, response.content
    drain()
    return json.loads(response.content)


def capture(order_id: str) -> Payment:
    """The PSP reports the order's payment captured (a signed webhook); orders reacts."""
    payment = Payment.objects.get(order_id=order_id)
    response = deliver_psp(psp_body("payment.captured", payment), f"msg_cap_{payment.id}")
    assert response.status_code == 200, response.content
    drain()
    return payment


def order_of(client: APIClient, order_id: str) -> dict:
    response = client.get(f"/api/v1/orders/{order_id}/")
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["code"] == code, body
    return body
