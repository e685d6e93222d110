"""Order rules (pure Python): the status machine, line merging and totals, order numbers.

Statuses only move forward: every allowed transition raises the status's rank, so no
sequence of events can bring an order back to where it was. Asking for the current status
again is a no-op (redelivered events are harmless); asking for a status the order has
already gone past is *stale* (late events are harmless); anything else is illegal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

MAX_LINES = 100
MAX_QUANTITY = 999


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    PAYMENT_FAILED = "payment_failed"
    CANCELLED = "cancelled"


RANK = {
    Status.PENDING_PAYMENT: 0,
    Status.PAID: 1,
    Status.FULFILLED: 2,
    Status.DELIVERED: 3,
    Status.PARTIALLY_REFUNDED: 4,
    Status.REFUNDED: 5,
    Status.PAYMENT_FAILED: 5,
    Status.CANCELLED: 5,
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING_PAYMENT: frozenset({Status.PAID, Status.PAYMENT_FAILED, Status.CANCELLED}),
    Status.PAID: frozenset(
        {
            Status.FULFILLED,
            Status.DELIVERED,
            Status.CANCELLED,
            Status.PARTIALLY_REFUNDED,
            Status.REFUNDED,
        }
    ),
    Status.FULFILLED: frozenset({Status.DELIVERED, Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
    Status.DELIVERED: frozenset({Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
    # Not shipped yet (the service checks): cancelling refunds the rest.
    Status.PARTIALLY_REFUNDED: frozenset({Status.REFUNDED, Status.CANCELLED}),
    Status.REFUNDED: frozenset(),
    Status.PAYMENT_FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# The event each transition emits (orders/events.py has the classes of the same names).
EVENT_FOR = {
    Status.PAID: "OrderPaid",
    Status.PAYMENT_FAILED: "OrderPaymentFailed",
    Status.CANCELLED: "OrderCancelled",
    Status.FULFILLED: "OrderFulfilled",
    Status.DELIVERED: "OrderDelivered",
    Status.REFUNDED: "OrderRefunded",
    Status.PARTIALLY_REFUNDED: "OrderPartiallyRefunded",
}


class InvalidTransition(Exception):
    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"an order in {current} cannot become {target}")
        self.current = current
        self.target = target


class Outcome(StrEnum):
    APPLY = "apply"
    ALREADY = "already"  # the order is in that status: nothing to do
    STALE = "stale"  # the order went past that status: a late event, nothing to do


def reachable(current: Status) -> set[Status]:
    """Every status some sequence of transitions leads to from ``current`` (not itself)."""
    seen: set[Status] = set()
    frontier = [current]
    while frontier:
        for following in TRANSITIONS[frontier.pop()]:
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return seen


def plan(current: Status, target: Status) -> Outcome:
    """What moving an order from ``current`` to ``target`` means; raises if illegal."""
    if target == current:
        return Outcome.ALREADY
    if target in TRANSITIONS[current]:
        return Outcome.APPLY
    if current in reachable(target):
        return Outcome.STALE
    raise InvalidTransition(current, target)


def status_after_refund(*, refunded: int, captured: int) -> Status:
    return Status.REFUNDED if refunded >= captured else Status.PARTIALLY_REFUNDED


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price: int

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price


class TooManyUnits(ValueError):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"more than {MAX_QUANTITY} units of {', '.join(skus)}")
        self.skus = skus


def merge_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Lines naming the same SKU are one line with the summed quantity (first-seen order)."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    too_many = [sku for sku, quantity in merged.items() if quantity > MAX_QUANTITY]
    if too_many:
        raise TooManyUnits(too_many)
    return merged


def order_total(lines: Iterable[PricedLine]) -> int:
    return sum(line.total for line in lines)


def retain_until(operation_day: date) -> date:
    """10 years from 1 January of the year after the operation (Circular 3.978, art. 67)."""
    return date(operation_day.year + 11, 1, 1)


def order_number(year: int, sequence: int) -> str:
    """Human-readable and unique while the sequence is: ``R-2026-000123``."""
    return f"R-{year}-{sequence:06d}"
