"""Storefront fixtures: channels with keys, SKUs with stock, an API client per channel."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from retail.catalog.tests.factories import SkuFactory
from retail.inventory.tests.factories import StockItemFactory
from retail.ledger import handlers as ledger_handlers
from retail.ledger.models import JournalEntry
from retail.ledger.tests.support import captured, context
from retail.orders.models import Order


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


VALID_CPF = "123.456.789-09"


def order_body(*lines: tuple[str, int], **overrides) -> dict:
    """A valid POST /api/v1/orders/ body for the given (sku, quantity) lines."""
    body = {
        "customer": {"name": "Ana Souza", "email": "ana@example.com", "cpf": VALID_CPF},
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "payment": {"method": "card", "token": "tok_ok"},
        "shipping_address": {
            "street": "Rua Augusta",
            "number": "1500",
            "city": "São Paulo",
            "state": "SP",
            "postal_code": "01304-001",
        },
    }
    body.update(overrides)
    return body


def place(client, body: dict, key: str = "key-1"):
    return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def emit(event) -> None:
    """Put an event in the outbox as its producer would (inside a transaction)."""
    from django.db import transaction

    from retail.platform import outbox

    with transaction.atomic():
        outbox.emit(event)


def deliver() -> int:
    """Run the relay until the outbox is drained, as the workers would."""
    from retail.platform.relay import relay_drain

    return relay_drain(max_seconds=10)


def outbox_events(event_type: str, aggregate_id: str | None = None) -> list[dict]:
    from retail.platform.models import OutboxMessage

    messages = OutboxMessage.objects.filter(event_type=event_type)
    if aggregate_id is not None:
        messages = messages.filter(aggregate_id=aggregate_id)
    return [message.payload for message in messages.order_by("seq")]


def placed_order(web: Any, stocked_sku: Callable[..., Any]) -> Order:
    """An order placed through the API (pending payment), with its reservation and stock moves."""
    stocked_sku("TEE")
    response = place(web, order_body(("TEE", 2)))
    assert response.status_code == 201, response.content
    return Order.objects.get(pk=response.json()["id"])


def posted_journal_entry() -> JournalEntry:
    """The sale a capture posts, as the ledger's handler writes it."""
    with transaction.atomic():
        ledger_handlers.payment_captured_post(captured(), context())
    return JournalEntry.objects.order_by("pk").first()  # type: ignore[return-value]
