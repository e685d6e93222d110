"""Writes: posting journal entries (at most once per event and per business fact), reversals.

Services open plain ``transaction.atomic()`` blocks: handlers call them inside the relay's
transaction, which also holds the inbox receipt.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

import structlog
from django.db import connection, transaction
from django.utils import timezone

from retail.audit.public import Kind, audit_record
from retail.ledger import domain
from retail.ledger.domain import AccountSpec, EntryDraft, EntrySource, LedgerRejected, Leg
from retail.ledger.events import JournalEntryPosted
from retail.ledger.models import Account, JournalEntry, Posting
from retail.platform import outbox

log = structlog.get_logger(__name__)

# ON CONFLICT DO NOTHING: a second delivery of the event (or of the same fact under another
# event id) waits for the first transaction, then inserts nothing. No exception, no savepoint.
_ENTRY_INSERT = f"""
    INSERT INTO {JournalEntry._meta.db_table}
        (source_event_id, purpose, source_reference, event_type, order_id, channel, memo,
         occurred_at, posted_at, reverses_id)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT DO NOTHING
    RETURNING id
"""  # noqa: S608 - the table name is ours, values are parameters


def entries_post(*, source: EntrySource, drafts: Sequence[EntryDraft]) -> list[JournalEntry]:
    """Post ``drafts`` for ``source``; entries this event or fact already posted are skipped."""
    with transaction.atomic():
        accounts = _accounts_ensure(leg.account for draft in drafts for leg in draft.legs)
        posted_at = timezone.now()
        posted = []
        for draft in drafts:
            entry = _entry_insert(source, draft, posted_at, accounts)
            if entry is None:
                log.info(
                    "ledger.already_posted",
                    event_id=source.event_id,
                    reference=source.reference,
                    purpose=draft.purpose,
                )
            else:
                posted.append(entry)
        return posted


def journal_entry_reverse(*, entry_id: int, memo: str, actor: str = "") -> JournalEntry:
    """Post the mirror image of an entry (the only correction the ledger knows). Once per entry.

    ``actor`` (``"staff:alice"``): who asked, named by a ``staff`` audit entry committed with it."""
    with transaction.atomic():
        original = JournalEntry.objects.get(pk=entry_id)
        postings = list(original.postings.select_related("account"))
        legs = tuple(Leg(_spec_of(posting.account), -posting.amount) for posting in postings)
        draft = EntryDraft(domain.reversal_purpose(original.purpose), memo[:200], legs)
        source = EntrySource(
            event_id=str(original.source_event_id),
            event_type=original.event_type,
            reference=original.source_reference,
            order_id=original.order_id,
            channel=original.channel,
            occurred_at=original.occurred_at,
        )
        accounts = {posting.account.code: posting.account for posting in postings}
        reversal = _entry_insert(source, draft, timezone.now(), accounts, reverses=original)
        if reversal is None:
            raise LedgerRejected(f"journal entry {entry_id} is already reversed")
        if actor:
            audit_record(
                kind=Kind.STAFF,
                action="ledger.entry_reversed",
                actor=actor,
                subject=original.order_id or f"journal_entry:{original.pk}",
                data={"entry_id": original.pk, "reversal_id": reversal.pk, "memo": memo[:200]},
            )
        return reversal


def _entry_insert(
    source: EntrySource,
    draft: EntryDraft,
    posted_at: datetime,
    accounts: dict[str, Account],
    reverses: JournalEntry | None = None,
) -> JournalEntry | None:
    if not domain.is_balanced(leg.amount for leg in draft.legs):
        raise LedgerRejected(f"entry {draft.purpose} does not balance")  # the database agrees
    with connection.cursor() as cursor:
        cursor.execute(
            _ENTRY_INSERT,
            [
                source.event_id,
                draft.purpose,
                source.reference,
                source.event_type,
                source.order_id,
                source.channel,
                draft.memo,
                source.occurred_at,
                posted_at,
                reverses.pk if reverses else None,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    entry = JournalEntry(
        id=row[0],
        source_event_id=source.event_id,
        purpose=draft.purpose,
        source_reference=source.reference,
        event_type=source.event_type,
        order_id=source.order_id,
        channel=source.channel,
        memo=draft.memo,
        occurred_at=source.occurred_at,
        posted_at=posted_at,
        reverses=reverses,
    )
    entry._state.adding = False  # the row exists: inserted above
    Posting.objects.bulk_create(
        Posting(entry=entry, account=accounts[leg.account.code], amount=leg.amount)
        for leg in draft.legs
    )
    outbox.emit(
        JournalEntryPosted(
            aggregate_id=str(entry.pk),
            source_event_id=source.event_id,
            purpose=draft.purpose,
            order_id=source.order_id,
            channel=source.channel,
            posted_at=posted_at.isoformat(),
            reverses=str(reverses.pk) if reverses else None,
            postings=[{"account": leg.account.code, "amount": leg.amount} for leg in draft.legs],
        )
    )
    return entry


def _accounts_ensure(specs: Iterable[AccountSpec]) -> dict[str, Account]:
    """The accounts by code, creating missing ones (in code order, so concurrent creators agree)."""
    wanted = {spec.code: spec for spec in specs}
    accounts = Account.objects.in_bulk(list(wanted), field_name="code")
    missing = sorted(wanted.keys() - accounts.keys())
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    code=code,
                    name=wanted[code].name,
                    kind=wanted[code].kind,
                    normal_side=wanted[code].normal_side,
                )
                for code in missing
            ],
            ignore_conflicts=True,
        )
        accounts = Account.objects.in_bulk(list(wanted), field_name="code")
    return accounts


def _spec_of(account: Account) -> AccountSpec:
    return AccountSpec(
        account.code, account.name, domain.Kind(account.kind), domain.Side(account.normal_side)
    )
