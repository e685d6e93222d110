"""The inventory facade: availability, and reserve → commit | release | expire by reference."""

from collections.abc import Mapping
from datetime import datetime

from retail.inventory import selectors, services
from retail.inventory.services import OutOfStock

__all__ = [
    "OutOfStock",
    "available",
    "commit",
    "due_references",
    "expire",
    "release",
    "reserve",
    "restock",
    "stock_ensure_available",
]


def available(skus: list[str]) -> dict[str, int]:
    """Units that can still be sold per SKU (0 for SKUs without stock)."""
    return selectors.stock_available(skus=skus)


def reserve(lines: Mapping[str, int], reference: str, *, expires_at: datetime) -> None:
    """Holds ``{sku: quantity}`` for ``reference``, all or nothing; raises :class:`OutOfStock`.

    Runs in the caller's transaction; a constant number of queries whatever the line count.
    """
    services.reservation_create(lines=lines, reference=reference, expires_at=expires_at)


def release(reference: str) -> bool:
    """Returns the held units; True only for the call that actually released them."""
    return services.reservation_release(reference=reference)


def expire(reference: str, *, now: datetime) -> bool:
    """Like :func:`release`, for a reservation whose deadline has passed."""
    return services.reservation_expire(reference=reference, now=now)


def commit(reference: str) -> bool:
    """Paid: the held units leave on-hand stock; True only for the call that did it."""
    return services.reservation_commit(reference=reference)


def restock(reference: str) -> bool:
    """A committed reservation's units come back on hand (a paid order was cancelled)."""
    return services.reservation_restock(reference=reference)


def due_references(*, now: datetime, limit: int = 500) -> list[str]:
    """References of reservations whose deadline has passed and that are still held."""
    return selectors.reservation_due_references(now=now, limit=limit)


def stock_ensure_available(*, sku: str, at_least: int, reference: str) -> int:
    return services.stock_ensure_available(sku=sku, at_least=at_least, reference=reference)
