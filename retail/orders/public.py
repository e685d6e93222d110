"""The orders facade: partner orders (for the marketplace webhook), order documents, what
fulfillment needs to ship, and whether a channel has orders."""

from typing import Any

from retail.orders import selectors, services
from retail.orders.services import Checkout

__all__ = [
    "Checkout",
    "channel_has_orders",
    "order_document",
    "order_shipping_address",
    "partner_order_place",
]


def channel_has_orders(channel_code: str) -> bool:
    """Whether any order names this channel (its code and kind are then fixed)."""
    return selectors.channel_has_orders(channel_code)


def order_document(order_id: str) -> dict[str, Any] | None:
    """The order exactly as ``GET /api/v1/orders/{id}/`` shows it, or None."""
    order = selectors.order_get(order_id)
    return None if order is None else selectors.order_document(order)


def order_shipping_address(order_id: str) -> dict[str, Any]:
    order = selectors.order_get(order_id)
    return {} if order is None else dict(order.shipping_address)


def partner_order_place(
    checkout: Checkout, *, external_order_id: str, charged_total: int
) -> tuple[str, bool]:
    """``(order_id, created)`` for a marketplace partner's order (``checkout.channel`` is the
    partner code, ``payment_method`` "marketplace"); see ``services.partner_order_place``.
    Raises ``Problem`` (422 unknown_sku / invalid_cpf / total_mismatch, 409 out_of_stock /
    webhook_in_progress) in the caller's transaction."""
    order, created = services.partner_order_place(
        checkout, external_order_id=external_order_id, charged_total=charged_total
    )
    return order.pk, created
