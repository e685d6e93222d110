"""``manage.py audit_checkpoint``: record the chain head now (beat does it daily)."""

from typing import Any

from django.core.management.base import BaseCommand

from retail.audit import services


class Command(BaseCommand):
    help = "Records the audit chain head (seq, hash) in audit_checkpoint."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = services.checkpoint_create()
        self.stdout.write(f"checkpoint seq={checkpoint.seq} hash={checkpoint.hash}")
