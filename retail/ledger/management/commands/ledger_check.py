"""``manage.py ledger_check``: exit 0 when the ledger is right, else 1 listing every difference.

Checks that every journal entry balances (two or more postings summing to zero), that debits
equal credits overall, and that every order's postings per account are exactly what the posting
rules make of the payments context's totals (captured, refunded, partner-settled). Balances are
derived from postings on every read (no stored balance that could drift), so "balance = sum of
postings" holds by construction. Events still in the outbox show up as differences: run it when
``outbox_status`` shows nothing pending.
"""

from typing import Any

from django.core.management.base import BaseCommand

from retail.ledger import selectors
from retail.ledger.domain import MoneyMovements
from retail.ledger.models import Account, JournalEntry
from retail.payments import public as payments


def payments_money_movements() -> MoneyMovements:
    """Payments' totals per order: what the ledger must agree with."""
    return payments.money_movements()


class Command(BaseCommand):
    help = "Verify the ledger: balanced entries, and agreement with payments, order by order."

    def handle(self, *args: Any, **options: Any) -> None:
        differences = selectors.ledger_differences(payments_money_movements())
        for difference in differences:
            self.stdout.write(difference)
        if differences:
            self.stderr.write(f"ledger_check: {len(differences)} difference(s)")
            raise SystemExit(1)
        self.stdout.write(
            f"OK {JournalEntry.objects.count()} entries, {Account.objects.count()} accounts: "
            "balanced, agrees with payments"
        )
