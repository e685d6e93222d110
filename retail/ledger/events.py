"""Events the ledger emits: one per journal entry, so the audit trail can show every posting."""

from dataclasses import dataclass, field
from typing import ClassVar

from retail.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class JournalEntryPosted(DomainEvent):
    """A journal entry was posted (aggregate_id = the entry's id as a string).

    ``postings`` are ``{"account": code, "amount": signed centavos}``, debit positive.
    """

    event_type: ClassVar[str] = "JournalEntryPosted"
    aggregate_type: ClassVar[str] = "ledger_entry"
    source_event_id: str
    purpose: str
    order_id: str
    channel: str
    posted_at: str
    reverses: str | None = None
    postings: list[dict] = field(default_factory=list)
