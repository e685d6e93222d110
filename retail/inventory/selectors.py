"""Reads: available stock, reservations past their deadline."""

from datetime import datetime

from django.db.models import F

from retail.inventory.models import Reservation, StockItem


def stock_available(*, skus: list[str]) -> dict[str, int]:
    """``{sku: on_hand - reserved}``; SKUs without stock are 0 (one query)."""
    found = dict(
        StockItem.objects.filter(sku__in=skus)
        .annotate(units=F("on_hand") - F("reserved"))
        .values_list("sku", "units")
    )
    return {sku: found.get(sku, 0) for sku in skus}


def reservation_due_references(*, now: datetime, limit: int) -> list[str]:
    """References of active reservations whose deadline has passed, oldest first."""
    return list(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("reference", flat=True)[:limit]
    )
