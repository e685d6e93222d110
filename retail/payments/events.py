"""Events the payments context emits. Money moves here, so these are what the ledger posts from.

Aggregate: the payment (``pay_…``) or, for partner orders, the order the partner paid for.
All amounts are integer centavos (BRL).
"""

from dataclasses import dataclass
from typing import ClassVar

from retail.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PaymentEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "payment"
    order_id: str
    channel: str
    amount: int
    currency: str = "BRL"
    psp_reference: str = ""


@dataclass(frozen=True, kw_only=True)
class PaymentRequested(PaymentEvent):
    """A payment attempt exists and will be sent to the PSP (aggregate_id = payment id)."""

    event_type: ClassVar[str] = "PaymentRequested"
    method: str


@dataclass(frozen=True, kw_only=True)
class PaymentAuthorized(PaymentEvent):
    event_type: ClassVar[str] = "PaymentAuthorized"


@dataclass(frozen=True, kw_only=True)
class PaymentCaptured(PaymentEvent):
    """Money was taken: the ledger posts receivable → revenue and PSP clearing ← receivable."""

    event_type: ClassVar[str] = "PaymentCaptured"


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(PaymentEvent):
    event_type: ClassVar[str] = "PaymentFailed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class RefundEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "payment"  # ordered with the payment it refunds
    refund_id: str
    order_id: str
    channel: str
    amount: int
    currency: str = "BRL"


@dataclass(frozen=True, kw_only=True)
class RefundRequested(RefundEvent):
    event_type: ClassVar[str] = "RefundRequested"
    reason: str


@dataclass(frozen=True, kw_only=True)
class RefundSucceeded(RefundEvent):
    """Money went back to the customer: the ledger posts contra-revenue ← PSP clearing."""

    event_type: ClassVar[str] = "RefundSucceeded"
    psp_reference: str = ""


@dataclass(frozen=True, kw_only=True)
class RefundFailed(RefundEvent):
    event_type: ClassVar[str] = "RefundFailed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class PartnerOrderSettled(DomainEvent):
    """A marketplace partner collected an order's money and owes it to us (aggregate: order).

    The ledger posts a receivable from the partner against revenue.
    """

    event_type: ClassVar[str] = "PartnerOrderSettled"
    aggregate_type: ClassVar[str] = "order"
    partner: str
    external_order_id: str
    amount: int
    currency: str = "BRL"
