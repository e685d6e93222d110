"""Reads: balances are always derived from postings (SUM on read), never stored."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from retail.ledger import domain
from retail.ledger.domain import BalanceKey, MoneyMovements, Side, balance_in_normal_side
from retail.ledger.models import Account, JournalEntry, Posting


@dataclass(frozen=True)
class AccountBalance:
    code: str
    name: str
    normal_side: str
    debit: int  # the net balance when it is a debit, else 0
    credit: int  # the net balance when it is a credit, else 0
    balance: int  # in the account's normal side: positive when on its normal side


def trial_balance(*, as_of: datetime | None = None) -> list[AccountBalance]:
    """Every account with its net balance, counting entries posted at or before ``as_of``."""
    accounts = Account.objects.all()
    posted = Q()
    if as_of is not None:
        accounts = accounts.filter(created_at__lte=as_of)
        posted = Q(postings__entry__posted_at__lte=as_of)
    rows = accounts.annotate(signed=Coalesce(Sum("postings__amount", filter=posted), 0)).order_by(
        "code"
    )
    return [
        AccountBalance(
            code=account.code,
            name=account.name,
            normal_side=account.normal_side,
            debit=max(account.signed, 0),
            credit=max(-account.signed, 0),
            balance=balance_in_normal_side(account.signed, Side(account.normal_side)),
        )
        for account in rows
    ]


def account_get(code: str) -> Account | None:
    return Account.objects.filter(code=code).first()


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    entry_id: int
    posted_at: datetime
    occurred_at: datetime
    purpose: str
    order_id: str
    source_event_id: str
    memo: str
    debit: int
    credit: int
    balance: int  # running, in the account's normal side


@dataclass(frozen=True)
class Statement:
    opening_balance: int
    lines: list[StatementLine]
    has_more: bool


StatementPosition = tuple[datetime, int]  # (posted_at, posting id): postings are ordered so


def account_statement(
    account: Account,
    *,
    posted_from: datetime | None,
    posted_to: datetime | None,
    after: StatementPosition | None,
    limit: int,
) -> Statement:
    """Postings of ``account`` in [from, to] in posting order, with the running balance.

    ``after`` continues a previous page; the opening balance is the account's balance just
    before the first line (all postings before it, whatever ``from`` says).
    """
    postings = Posting.objects.filter(account=account)
    if after is not None:
        before_first = Q(entry__posted_at__lt=after[0]) | Q(
            entry__posted_at=after[0], id__lte=after[1]
        )
    elif posted_from is not None:
        before_first = Q(entry__posted_at__lt=posted_from)
    else:
        before_first = Q(pk__in=[])
    opening_signed = postings.filter(before_first).aggregate(total=Coalesce(Sum("amount"), 0))[
        "total"
    ]
    window = postings.exclude(before_first)
    if posted_from is not None:
        window = window.filter(entry__posted_at__gte=posted_from)
    if posted_to is not None:
        window = window.filter(entry__posted_at__lte=posted_to)
    rows = list(window.select_related("entry").order_by("entry__posted_at", "id")[: limit + 1])
    side = Side(account.normal_side)
    running = opening_signed
    lines = []
    for posting in rows[:limit]:
        running += posting.amount
        entry = posting.entry
        lines.append(
            StatementLine(
                posting_id=posting.pk,
                entry_id=entry.pk,
                posted_at=entry.posted_at,
                occurred_at=entry.occurred_at,
                purpose=entry.purpose,
                order_id=entry.order_id,
                source_event_id=str(entry.source_event_id),
                memo=entry.memo,
                debit=max(posting.amount, 0),
                credit=max(-posting.amount, 0),
                balance=balance_in_normal_side(running, side),
            )
        )
    return Statement(
        opening_balance=balance_in_normal_side(opening_signed, side),
        lines=lines,
        has_more=len(rows) > limit,
    )


def order_postings(order_id: str) -> list[Posting]:
    return list(
        Posting.objects.filter(entry__order_id=order_id)
        .select_related("entry", "account")
        .order_by("entry__posted_at", "entry_id", "id")
    )


def entries_unbalanced() -> list[str]:
    """Entries with fewer than two postings or not summing to zero per currency (should be none:
    the database refuses them; this checks that nobody disabled the triggers)."""
    sql = f"""
        SELECT e.id, e.purpose, count(p.id), coalesce(sum(p.amount), 0)
        FROM {JournalEntry._meta.db_table} e
        LEFT JOIN {Posting._meta.db_table} p ON p.entry_id = e.id
        LEFT JOIN {Account._meta.db_table} a ON a.id = p.account_id
        GROUP BY e.id, e.purpose, a.currency
        HAVING count(p.id) < 2 OR coalesce(sum(p.amount), 0) <> 0
        ORDER BY e.id
    """  # noqa: S608 - table names are ours
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [
            f"journal entry {entry_id} ({purpose}): {legs} posting(s) summing to {total:+d}"
            for entry_id, purpose, legs, total in cursor.fetchall()
        ]


def balances_by_order_and_account() -> dict[BalanceKey, int]:
    """Debit-positive balance of every (order id, account code) with postings."""
    rows = (
        Posting.objects.values_list("entry__order_id", "account__code")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(order_id, code): total for order_id, code, total in rows if total}


def ledger_differences(movements: MoneyMovements) -> list[str]:
    """Everything wrong with the ledger: unbalanced entries, and every (order, account) whose
    balance is not what the posting rules make of payments' totals (``movements``)."""
    actual = balances_by_order_and_account()
    differences = entries_unbalanced()
    if total := sum(actual.values()):
        differences.append(f"trial balance: debits exceed credits by {total:+d}")
    try:
        expected = domain.expected_balances(movements)
    except domain.LedgerRejected as error:
        return [*differences, f"payments reported a total the ledger cannot post: {error}"]
    comparable = domain.comparable_actual(actual, movements)
    return differences + domain.reconciliation_differences(expected, comparable)
