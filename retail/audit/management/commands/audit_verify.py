"""``manage.py audit_verify``: recompute the hash chain; exit 1 naming the first broken entry."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from retail.audit import selectors


class Command(BaseCommand):
    help = "Re-computes the audit hash chain and checks it against the daily checkpoints."

    def handle(self, *args: Any, **options: Any) -> None:
        result = selectors.chain_verify()
        if not result.ok:
            raise CommandError(
                f"BROKEN at entry {result.first_broken}: {result.reason}"
                f" ({result.entries} entries verified before it)",
                returncode=1,
            )
        self.stdout.write(f"OK {result.entries} entries head={result.head}")
