"""Pure ledger rules: the chart of accounts, what each money movement posts, reconciliation.

Amounts are signed integer centavos: a debit is positive, a credit negative, so a balanced
entry sums to zero. Balances are shown in the account's normal side (revenue positive when
credited). Nothing here imports Django.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

CURRENCY = "BRL"
_CODE_PART = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


class LedgerRejected(ValueError):
    """An event the ledger cannot post (bad amount, currency, code): retried, then dead-lettered."""


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class Kind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    CONTRA_REVENUE = "contra_revenue"
    EXPENSE = "expense"


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    kind: Kind
    normal_side: Side


PSP_CLEARING = AccountSpec("psp_clearing", "PSP clearing", Kind.ASSET, Side.DEBIT)
SALES_REVENUE = AccountSpec("sales_revenue", "Sales revenue", Kind.REVENUE, Side.CREDIT)
SALES_REFUNDS = AccountSpec(
    "sales_refunds", "Refunds (contra-revenue)", Kind.CONTRA_REVENUE, Side.DEBIT
)
FIXED_ACCOUNTS = (PSP_CLEARING, SALES_REVENUE, SALES_REFUNDS)


def customer_receivable(channel: str) -> AccountSpec:
    return AccountSpec(
        f"customer_receivable.{_code_part(channel)}",
        f"Customer receivables — {channel}",
        Kind.ASSET,
        Side.DEBIT,
    )


def partner_receivable(partner: str) -> AccountSpec:
    return AccountSpec(
        f"partner_receivable.{_code_part(partner)}",
        f"Receivable from partner — {partner}",
        Kind.ASSET,
        Side.DEBIT,
    )


def _code_part(value: str) -> str:
    if not _CODE_PART.match(value):
        raise LedgerRejected(f"{value!r} cannot be part of an account code")
    return value


def balance_in_normal_side(signed_amount: int, normal_side: Side) -> int:
    """A debit-positive sum as the account reads it: credits count up on credit accounts."""
    return signed_amount if normal_side is Side.DEBIT else -signed_amount


@dataclass(frozen=True)
class Leg:
    account: AccountSpec
    amount: int  # signed centavos: debit > 0, credit < 0


@dataclass(frozen=True)
class EntrySource:
    """The event behind an entry and the business fact it reports (payment, refund, order)."""

    event_id: str
    event_type: str
    reference: str
    order_id: str
    channel: str
    occurred_at: datetime


@dataclass(frozen=True)
class EntryDraft:
    """One journal entry to post; ``purpose`` tells apart the entries of one event."""

    purpose: str
    memo: str
    legs: tuple[Leg, ...]


def _debit_credit(
    purpose: str, memo: str, debit: AccountSpec, credit: AccountSpec, amount: int
) -> EntryDraft:
    return EntryDraft(purpose, memo, (Leg(debit, amount), Leg(credit, -amount)))


def _checked_amount(amount: object, currency: object) -> int:
    if currency != CURRENCY:
        raise LedgerRejected(f"the ledger is in {CURRENCY}, not {currency!r}")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerRejected(f"amount must be a positive integer of centavos, not {amount!r}")
    return amount


# Purposes: the journal entries each money movement produces, in posting order.
CAPTURE_SALE = "payment_captured.sale"
CAPTURE_CLEARING = "payment_captured.clearing"
REFUND = "refund_succeeded.refund"
PARTNER_SETTLEMENT = "partner_order_settled.sale"
REVERSAL_SUFFIX = ".reversal"


def capture_entries(*, channel: str, amount: int, currency: str) -> list[EntryDraft]:
    """Sale on the channel's receivable, then the PSP collects that receivable."""
    amount = _checked_amount(amount, currency)
    receivable = customer_receivable(channel)
    return [
        _debit_credit(CAPTURE_SALE, "Sale (payment captured)", receivable, SALES_REVENUE, amount),
        _debit_credit(CAPTURE_CLEARING, "Collected by the PSP", PSP_CLEARING, receivable, amount),
    ]


def refund_entries(*, amount: int, currency: str) -> list[EntryDraft]:
    amount = _checked_amount(amount, currency)
    return [_debit_credit(REFUND, "Refund succeeded", SALES_REFUNDS, PSP_CLEARING, amount)]


def partner_settlement_entries(*, partner: str, amount: int, currency: str) -> list[EntryDraft]:
    amount = _checked_amount(amount, currency)
    return [
        _debit_credit(
            PARTNER_SETTLEMENT,
            "Sale collected by the partner",
            partner_receivable(partner),
            SALES_REVENUE,
            amount,
        )
    ]


def reversal_purpose(purpose: str) -> str:
    if purpose.endswith(REVERSAL_SUFFIX):
        raise LedgerRejected("a reversal is not reversed; post a new correcting entry")
    return purpose + REVERSAL_SUFFIX


def is_balanced(amounts: Iterable[int]) -> bool:
    values = list(amounts)
    return len(values) >= 2 and all(values) and sum(values) == 0


# --- Reconciliation with the payments context ---------------------------------------


MoneyMovements = Mapping[str, Mapping[str, Any]]
"""``retail.payments.public.money_movements()``: order id → ``{"captured", "refunded",
"partner_settled"}`` in centavos, and the partner's code as ``"partner"`` for partner orders."""

BalanceKey = tuple[str, str]  # (order id, "" for none; account code)
ANY_PARTNER_RECEIVABLE = "partner_receivable.*"


def expected_balances(movements: MoneyMovements) -> dict[BalanceKey, int]:
    """Debit-positive balance per (order, account) that the posting rules imply.

    A customer receivable nets to zero per order whatever the channel, so the channel is not
    needed. Without a ``"partner"`` the order's partner receivables are compared as one account.
    """
    expected: dict[BalanceKey, int] = defaultdict(int)
    for order_id, money in movements.items():
        drafts: list[EntryDraft] = []
        if captured := money.get("captured", 0):
            drafts += capture_entries(channel="any", amount=captured, currency=CURRENCY)
        if refunded := money.get("refunded", 0):
            drafts += refund_entries(amount=refunded, currency=CURRENCY)
        if settled := money.get("partner_settled", 0):
            partner = money.get("partner") or "any"
            drafts += partner_settlement_entries(partner=partner, amount=settled, currency=CURRENCY)
        for draft in drafts:
            for leg in draft.legs:
                expected[(order_id, _comparable(leg.account.code, money))] += leg.amount
    return {key: amount for key, amount in expected.items() if amount}


def comparable_actual(
    actual: Mapping[BalanceKey, int], movements: MoneyMovements
) -> dict[BalanceKey, int]:
    """The ledger's balances keyed like :func:`expected_balances` keys them."""
    comparable: dict[BalanceKey, int] = defaultdict(int)
    for (order_id, code), amount in actual.items():
        comparable[(order_id, _comparable(code, movements.get(order_id, {"partner": "-"})))] += (
            amount
        )
    return dict(comparable)


def _comparable(code: str, money: Mapping[str, Any]) -> str:
    if code.startswith("partner_receivable.") and not money.get("partner"):
        return ANY_PARTNER_RECEIVABLE
    return code


def reconciliation_differences(
    expected: Mapping[BalanceKey, int], actual: Mapping[BalanceKey, int]
) -> list[str]:
    """Every (order, account) whose ledger balance is not what payments' totals imply."""
    differences = []
    for order_id, code in sorted(expected.keys() | actual.keys()):
        want, have = expected.get((order_id, code), 0), actual.get((order_id, code), 0)
        if want != have:
            differences.append(
                f"order {order_id or '(none)'} account {code}: ledger {have:+d}, "
                f"payments imply {want:+d} (difference {have - want:+d})"
            )
    return differences
