"""``manage.py ledger_check``: exit 0 when the ledger is right, else 1 listing every difference.

Checks that every journal entry balances (two or more postings summing to zero), that debits
equal credits overall, and that every order's postings per account are exactly what the posting
rules make of the payments context's totals (captured, refunded, partner-settled). Balances are
derived from postings on every read (no stored balance that could drift), so "balance = sum of
postings" holds by construction. Events still in the outbox show up as differences: run it when
``outbox_status`` shows nothing pending.
"""

import importlib
from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from retail.ledger import selectors
from retail.ledger.domain import OrderMoneyMovements
from retail.ledger.models import Account, JournalEntry


def payments_money_movements() -> Iterable[OrderMoneyMovements]:
    """``retail.payments.public.money_movements()``: payments' totals per order (the truth)."""
    # Looked up at run time: payments is being built alongside (see /work/notes/REQUESTS.md);
    # once its facade has money_movements this becomes a plain import.
    try:
        money_movements = importlib.import_module("retail.payments.public").money_movements
    except (ImportError, AttributeError) as error:
        raise CommandError(
            "retail.payments.public.money_movements() is not available, so the ledger cannot be "
            "compared with payments"
        ) from error
    movements: Iterable[OrderMoneyMovements] = money_movements()
    return movements


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
