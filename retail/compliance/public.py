"""The compliance facade. Deliberately small: alerts and cases never leave this context
(no tipping off, Lei 9.613), so nothing here reveals them, e.g. to an LGPD access report.
"""

from dataclasses import dataclass
from datetime import date, datetime

from retail.compliance import selectors

__all__ = ["OperationRecordView", "operation_records_of_customer"]


@dataclass(frozen=True)
class OperationRecordView:
    """One art. 28 record as the customer may be shown it (their own operation)."""

    id: str
    kind: str
    outcome: str
    amount: int
    currency: str
    occurred_at: datetime
    channel: str
    order_id: str
    retain_until: date


def operation_records_of_customer(customer_id: str) -> list[OperationRecordView]:
    """The customer's operation records (for a data-subject access report); no AML data."""
    return [
        OperationRecordView(
            id=record.id,
            kind=record.kind,
            outcome=record.outcome,
            amount=record.amount,
            currency=record.currency,
            occurred_at=record.occurred_at,
            channel=record.channel,
            order_id=record.order_id,
            retain_until=record.retain_until,
        )
        for record in selectors.operation_records_of_customer(customer_id)
    ]
