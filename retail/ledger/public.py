"""The ledger facade for other contexts (the audit trail shows an order's postings)."""

from dataclasses import dataclass
from datetime import datetime

from retail.ledger import selectors


@dataclass(frozen=True)
class LedgerPosting:
    entry_id: int
    posted_at: datetime
    purpose: str
    source_event_id: str
    account: str
    amount: int  # signed centavos, debit positive


def order_postings(order_id: str) -> list[LedgerPosting]:
    """Every posting made for an order, in posting order (one query)."""
    return [
        LedgerPosting(
            entry_id=row.entry_id,
            posted_at=row.entry.posted_at,
            purpose=row.entry.purpose,
            source_event_id=str(row.entry.source_event_id),
            account=row.account.code,
            amount=row.amount,
        )
        for row in selectors.order_postings(order_id)
    ]
