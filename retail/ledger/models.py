"""Accounts, journal entries and postings. Entries and postings are append-only in the database.

Migration 0002 installs the triggers: an entry's postings must sum to zero per currency and be
at least two (checked at commit), and UPDATE or DELETE of entries and postings is refused.
"""

from django.db import models
from django.db.models import Q

from retail.ledger.domain import CURRENCY, Kind, Side


class Account(models.Model):
    code = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=[(kind.value, kind.name) for kind in Kind])
    normal_side = models.CharField(max_length=6, choices=[(side.value, side.name) for side in Side])
    currency = models.CharField(max_length=3, default=CURRENCY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ledger_account"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class JournalEntry(models.Model):
    """What one event (``source_event_id``) caused; ``purpose`` tells its entries apart.

    ``source_reference`` is the business fact (payment, refund or order id): a fact delivered
    again under another event id cannot post twice either.
    """

    source_event_id = models.UUIDField()
    purpose = models.CharField(max_length=64)
    source_reference = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    order_id = models.CharField(max_length=64, blank=True, db_index=True)
    channel = models.CharField(max_length=64, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(help_text="when the money moved, per the event")
    posted_at = models.DateTimeField(db_index=True, help_text="when the ledger recorded it")
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )

    class Meta:
        db_table = "ledger_journal_entry"
        verbose_name_plural = "journal entries"
        permissions = [("reverse_journalentry", "Can post a reversing entry (admin action)")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_event_id", "purpose"], name="ledger_entry_once_per_event"
            ),
            models.UniqueConstraint(
                fields=["source_reference", "purpose"], name="ledger_entry_once_per_fact"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.purpose} {self.order_id}"


class Posting(models.Model):
    """One leg of an entry: signed centavos, debit positive, credit negative, never zero."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField()

    class Meta:
        db_table = "ledger_posting"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_posting_nonzero")
        ]
        indexes = [models.Index(fields=["account", "entry"], name="ledger_posting_by_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d}"
