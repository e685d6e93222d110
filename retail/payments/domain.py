"""Pure payment rules: forward-only state machines for payments and refunds, refundable amounts.

PSP webhooks may arrive late, twice or out of order (``captured`` before ``authorized``). Every
report is folded into the current state by :func:`payment_advance`, which only ever moves
forward and names each state passed through, so every event is emitted exactly once and in order
whatever order the reports came in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class PaymentStatus(StrEnum):
    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    FAILED = "failed"


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# The happy path in order; FAILED ends it from any state before CAPTURED.
_PATH = (PaymentStatus.REQUESTED, PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED)
TERMINAL_PAYMENT = frozenset({PaymentStatus.CAPTURED, PaymentStatus.FAILED})
TERMINAL_REFUND = frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED})

# What the PSP says (webhook types and the statuses of GET /payments/{id}) → our statuses.
PSP_PAYMENT_REPORTS = {
    "payment.authorized": PaymentStatus.AUTHORIZED,
    "payment.captured": PaymentStatus.CAPTURED,
    "payment.failed": PaymentStatus.FAILED,
    "captured": PaymentStatus.CAPTURED,
    "declined": PaymentStatus.FAILED,
}
PSP_REFUND_REPORTS = {
    "refund.succeeded": RefundStatus.SUCCEEDED,
    "refund.failed": RefundStatus.FAILED,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
}


def payment_advance(current: PaymentStatus, reported: PaymentStatus) -> tuple[PaymentStatus, ...]:
    """The states to pass through, in order, to reflect ``reported``; empty when nothing changes.

    ``captured`` while ``requested`` passes through ``authorized`` (a capture implies it);
    a report behind or equal to the current state, or anything after a terminal state, is a no-op.
    """
    if current in TERMINAL_PAYMENT or reported == PaymentStatus.REQUESTED:
        return ()
    if reported == PaymentStatus.FAILED:
        return (PaymentStatus.FAILED,)
    here, there = _PATH.index(current), _PATH.index(reported)
    return _PATH[here + 1 : there + 1]


def payment_fold(reports: Iterable[PaymentStatus]) -> tuple[PaymentStatus, list[PaymentStatus]]:
    """Apply ``reports`` in the order given from ``requested``: (final state, states passed)."""
    state, passed = PaymentStatus.REQUESTED, list[PaymentStatus]()
    for reported in reports:
        steps = payment_advance(state, reported)
        passed.extend(steps)
        if steps:
            state = steps[-1]
    return state, passed


def refund_advance(current: RefundStatus, reported: RefundStatus) -> RefundStatus | None:
    """The new refund state, or None when the report changes nothing (terminal or repeated)."""
    if current in TERMINAL_REFUND or reported == RefundStatus.REQUESTED:
        return None
    return reported


@dataclass(frozen=True)
class RefundExceedsCaptured(Exception):
    """More was asked than is still refundable (captured minus refunds not failed)."""

    requested: int
    refundable: int


def refundable(captured: int, refunds_not_failed: Iterable[int]) -> int:
    """What may still be refunded: pending refunds hold their amount until they fail."""
    return max(captured - sum(refunds_not_failed), 0)


def refund_check(*, amount: int, captured: int, refunds_not_failed: Iterable[int]) -> None:
    """Raise :class:`RefundExceedsCaptured` unless ``amount`` (> 0) fits in what is refundable."""
    still = refundable(captured, refunds_not_failed)
    if amount > still:
        raise RefundExceedsCaptured(requested=amount, refundable=still)
