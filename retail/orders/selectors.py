"""Reads: orders as a channel may see them."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet

from retail.orders.models import Order, OrderLine


def order_list_for_channel(*, channel_code: str) -> QuerySet[Order]:
    return Order.objects.filter(channel_code=channel_code).prefetch_related("lines")


def order_get_for_channel(*, channel_code: str, order_id: str) -> Order | None:
    """The order if this channel placed it; another channel's order is as good as absent."""
    return order_list_for_channel(channel_code=channel_code).filter(pk=order_id).first()


def channel_has_orders(channel_code: str) -> bool:
    return Order.objects.filter(channel_code=channel_code).exists()


def order_get(order_id: str) -> Order | None:
    return Order.objects.filter(pk=order_id).prefetch_related("lines").first()


def order_document(order: Order, lines: Iterable[OrderLine] | None = None) -> dict[str, Any]:
    """The order as the API shows it (CONTRACT.md, ``GET /api/v1/orders/{id}/``); ``lines``
    when the caller has just written them (saves reading them back)."""
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "channel": order.channel_code,
        "total": order.total,
        "currency": order.currency,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "total": line.total,
            }
            for line in sorted(
                order.lines.all() if lines is None else lines, key=lambda line: line.pk
            )
        ],
        "payments": [
            {key: payment[key] for key in ("id", "status", "amount", "psp_reference")}
            for payment in order.payments
        ],
        "refunds": [
            {key: refund[key] for key in ("id", "status", "amount")} for refund in order.refunds
        ],
        "created_at": _rfc3339(order.created_at),
        "updated_at": _rfc3339(order.updated_at),
    }


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
