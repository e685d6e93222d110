"""Writes: receiving stock, reserving it, releasing or committing reservations.

Every write locks the stock rows it changes with ``SELECT … ORDER BY sku FOR UPDATE``,
so two carts naming the same SKUs in opposite order queue instead of deadlocking, and
closes a reservation only if it is locked in the expected status, so it happens once.
Counters change by one SQL UPDATE, so their history rows are written here (``history_record``).
"""

from collections.abc import Mapping
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from retail.audit.public import history_record
from retail.inventory.models import Reservation, ReservationLine, StockItem, StockMove


class OutOfStock(Exception):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"not enough stock for {', '.join(skus)}")
        self.skus = skus


def _locked_stock(skus: list[str]) -> dict[str, StockItem]:
    rows = StockItem.objects.select_for_update().filter(sku__in=skus).order_by("sku")
    return {row.sku: row for row in rows}


_APPLY_SQL = f"""
    UPDATE {StockItem._meta.db_table} AS item
    SET on_hand = item.on_hand + delta.on_hand,
        reserved = item.reserved + delta.reserved,
        updated_at = %s
    FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[]) AS delta(sku, on_hand, reserved)
    WHERE item.sku = delta.sku
"""  # noqa: S608 - the table name is ours, values are parameters


def _apply(
    items: dict[str, StockItem],
    deltas: Mapping[str, tuple[int, int]],
    reason: str,
    reference: str,
) -> None:
    """Adds ``(delta_on_hand, delta_reserved)`` to locked rows (one UPDATE whatever their
    number) and records one move each."""
    now = timezone.now()
    skus = list(deltas)
    with connection.cursor() as cursor:
        cursor.execute(
            _APPLY_SQL,
            [now, skus, [deltas[sku][0] for sku in skus], [deltas[sku][1] for sku in skus]],
        )
    for sku, (delta_on_hand, delta_reserved) in deltas.items():
        items[sku].on_hand += delta_on_hand
        items[sku].reserved += delta_reserved
        items[sku].updated_at = now
    StockMove.objects.bulk_create(
        StockMove(
            sku=sku,
            delta_on_hand=delta_on_hand,
            delta_reserved=delta_reserved,
            reason=reason,
            reference=reference,
            created_at=now,
        )
        for sku, (delta_on_hand, delta_reserved) in deltas.items()
    )
    history_record([items[sku] for sku in skus], reason=f"{reason} {reference}")


def stock_receive(*, sku: str, quantity: int, reference: str) -> StockItem:
    """Adds goods on hand (creating the SKU's stock row if needed)."""
    if quantity <= 0:
        raise ValueError("received quantity must be positive")
    with transaction.atomic():
        StockItem.objects.get_or_create(sku=sku)
        items = _locked_stock([sku])
        _apply(items, {sku: (quantity, 0)}, StockMove.Reason.RECEIVE, reference)
    return items[sku]


def stock_ensure_available(*, sku: str, at_least: int, reference: str) -> int:
    """Receives whatever is missing for ``at_least`` units to be available; returns available."""
    with transaction.atomic():
        StockItem.objects.get_or_create(sku=sku)
        items = _locked_stock([sku])
        missing = at_least - items[sku].available
        if missing > 0:
            _apply(items, {sku: (missing, 0)}, StockMove.Reason.RECEIVE, reference)
    return items[sku].available


def reservation_create(
    *, lines: Mapping[str, int], reference: str, expires_at: datetime
) -> Reservation:
    """Reserves every line or nothing; :class:`OutOfStock` names every short SKU."""
    skus = sorted(lines)
    if not skus or any(quantity <= 0 for quantity in lines.values()):
        raise ValueError("a reservation needs positive quantities")
    with transaction.atomic():
        # The reservation first, the stock rows last: the hot rows stay locked for less time.
        reservation = Reservation.objects.create(reference=reference, expires_at=expires_at)
        ReservationLine.objects.bulk_create(
            ReservationLine(reservation=reservation, sku=sku, quantity=lines[sku]) for sku in skus
        )
        items = _locked_stock(skus)
        short = [sku for sku in skus if sku not in items or items[sku].available < lines[sku]]
        if short:
            raise OutOfStock(short)
        _apply(items, {sku: (0, lines[sku]) for sku in skus}, StockMove.Reason.RESERVE, reference)
    return reservation


def _reservation_lines(reference: str) -> dict[str, int]:
    return dict(
        ReservationLine.objects.filter(reservation__reference=reference).values_list(
            "sku", "quantity"
        )
    )


def _reservation_move(reference: str, current: str, status: str, **conditions: object) -> bool:
    """Locks the reservation if it is ``current`` (and ``conditions``), moves it to ``status``."""
    reservation = (
        Reservation.objects.select_for_update()
        .filter(reference=reference, status=current, **conditions)
        .first()
    )
    if reservation is None:
        return False
    reservation.status = status
    reservation.closed_at = timezone.now()
    reservation.save(update_fields=["status", "closed_at"])
    return True


def _reservation_close(
    *, reference: str, status: str, reason: str, consume: bool, **conditions: object
) -> bool:
    """Moves an active reservation to ``status`` once; False if it was not active."""
    with transaction.atomic():
        if not _reservation_move(reference, Reservation.Status.ACTIVE, status, **conditions):
            return False
        lines = _reservation_lines(reference)
        items = _locked_stock(sorted(lines))
        deltas = {sku: (-quantity if consume else 0, -quantity) for sku, quantity in lines.items()}
        _apply(items, deltas, reason, reference)
    return True


def reservation_release(*, reference: str) -> bool:
    """Gives the reserved units back (order cancelled or payment failed)."""
    return _reservation_close(
        reference=reference,
        status=Reservation.Status.RELEASED,
        reason=StockMove.Reason.RELEASE,
        consume=False,
    )


def reservation_expire(*, reference: str, now: datetime) -> bool:
    """Gives the reserved units back because the deadline passed (False if it has not)."""
    return _reservation_close(
        reference=reference,
        status=Reservation.Status.EXPIRED,
        reason=StockMove.Reason.EXPIRE,
        consume=False,
        expires_at__lte=now,
    )


def reservation_restock(*, reference: str) -> bool:
    """A committed (sold) reservation's units come back on hand: the order was cancelled."""
    with transaction.atomic():
        if not _reservation_move(
            reference, Reservation.Status.COMMITTED, Reservation.Status.RETURNED
        ):
            return False
        lines = _reservation_lines(reference)
        items = _locked_stock(sorted(lines))
        deltas = {sku: (quantity, 0) for sku, quantity in lines.items()}
        _apply(items, deltas, StockMove.Reason.RETURN, reference)
    return True


def reservation_commit(*, reference: str) -> bool:
    """The order is paid: the reserved units leave the stock (on hand and reserved)."""
    return _reservation_close(
        reference=reference,
        status=Reservation.Status.COMMITTED,
        reason=StockMove.Reason.COMMIT,
        consume=True,
    )
