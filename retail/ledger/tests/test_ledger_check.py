"""``manage.py ledger_check``: exit 0 on a right ledger; exit 1 naming every difference, also a
balanced pair planted by raw SQL that no event explains."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from retail.ledger import services
from retail.ledger.management.commands import ledger_check
from retail.ledger.models import Account, JournalEntry
from retail.ledger.tests.support import (
    captured,
    check_deferred_constraints,
    deliver,
    emit,
    money_movements_of,
    refunded,
    settled,
)

pytestmark = pytest.mark.django_db

FACTS = [
    captured(payment="pay_1", order="ord_1", channel="web", amount=10_000),
    refunded(refund="ref_1", payment="pay_1", order="ord_1", channel="web", amount=2_500),
    captured(payment="pay_2", order="ord_2", channel="app", amount=4_000),
    settled(order="ord_3", partner="acme", amount=7_000),
]


@pytest.fixture
def payments_truth(monkeypatch):
    """Payments' totals for FACTS, as ``retail.payments.public.money_movements()`` gives them."""
    truth = {"movements": money_movements_of(FACTS)}
    monkeypatch.setattr(ledger_check, "payments_money_movements", lambda: truth["movements"])
    return truth


def run_check():
    """(exit code, stdout lines)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ledger_check", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue().splitlines()


def account_ensure(code):
    defaults = {"name": code, "kind": "asset", "normal_side": "debit"}
    return Account.objects.get_or_create(code=code, defaults=defaults)[0]


def plant(order_id, debit_code, credit_code, amount):
    """A balanced entry that no event explains, inserted like any legitimate row."""
    debit, credit = (
        Account.objects.get_or_create(
            code=code, defaults={"name": code, "kind": "asset", "normal_side": "debit"}
        )[0]
        for code in (debit_code, credit_code)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journal_entry (source_event_id, purpose, source_reference,"
            " event_type, order_id, channel, memo, occurred_at, posted_at) VALUES"
            " (gen_random_uuid(), 'payment_captured.sale', 'pay_ghost', 'PaymentCaptured', %s,"
            " 'web', '', now(), now()) RETURNING id",
            [order_id],
        )
        (entry_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO ledger_posting (entry_id, account_id, amount)"
            " VALUES (%s, %s, %s), (%s, %s, %s)",
            [entry_id, debit.pk, amount, entry_id, credit.pk, -amount],
        )
    check_deferred_constraints()  # the database has nothing against it: it balances
    return entry_id


def test_a_clean_ledger_exits_0(payments_truth):
    deliver(*FACTS)
    code, lines = run_check()
    assert code == 0
    assert lines[-1].startswith("OK 6 entries")


def test_an_empty_ledger_with_nothing_moved_exits_0(payments_truth):
    payments_truth["movements"] = {}
    assert run_check()[0] == 0


def test_a_balanced_pair_no_event_explains_is_found_and_exits_1(payments_truth):
    deliver(*FACTS)
    plant("", "psp_clearing", "sales_revenue", 500)
    code, lines = run_check()
    assert code == 1
    assert lines == [
        "order (none) account psp_clearing: ledger +500, payments imply +0 (difference +500)",
        "order (none) account sales_revenue: ledger -500, payments imply +0 (difference -500)",
    ]


def test_an_inflated_order_is_found_account_by_account(payments_truth):
    deliver(*FACTS)
    plant("ord_2", "psp_clearing", "sales_revenue", 1)
    code, lines = run_check()
    assert code == 1
    assert lines == [
        "order ord_2 account psp_clearing: ledger +4001, payments imply +4000 (difference +1)",
        "order ord_2 account sales_revenue: ledger -4001, payments imply -4000 (difference -1)",
    ]


def test_money_moved_between_channels_receivables_is_found(payments_truth):
    deliver(*FACTS)
    plant("ord_1", "customer_receivable.web", "customer_receivable.app", 300)
    code, lines = run_check()
    assert code == 1
    assert [line.split(":")[0] for line in lines] == [
        "order ord_1 account customer_receivable.app",
        "order ord_1 account customer_receivable.web",
    ]


def test_a_movement_the_ledger_never_received_is_found(payments_truth):
    deliver(*FACTS[:3])
    emit(FACTS[3])  # still in the outbox: the relay has not run
    code, lines = run_check()
    assert code == 1
    assert lines == [
        "order ord_3 account partner_receivable.acme: ledger +0, payments imply +7000"
        " (difference -7000)",
        "order ord_3 account sales_revenue: ledger +0, payments imply -7000 (difference +7000)",
    ]


def test_payments_without_partner_codes_still_reconciles_partner_orders(payments_truth):
    payments_truth["movements"] = money_movements_of(FACTS, with_partner=False)
    deliver(*FACTS)
    assert run_check()[0] == 0
    plant("ord_3", "partner_receivable.acme", "sales_revenue", 10)
    assert run_check()[1][0].startswith("order ord_3 account partner_receivable.*: ledger +7010")


def test_a_reversing_entry_corrects_the_planted_pair(payments_truth):
    deliver(*FACTS)
    planted = plant("", "psp_clearing", "sales_revenue", 500)
    assert run_check()[0] == 1
    reversal = services.journal_entry_reverse(entry_id=planted, memo="not explained by any event")
    check_deferred_constraints()
    assert run_check()[0] == 0
    assert JournalEntry.objects.filter(pk=planted).exists()  # the mistake stays on the record
    assert reversal.reverses_id == planted
