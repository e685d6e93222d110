"""``manage.py audit_purge --before DATE --by SUPERUSER``: remove audit entries and history rows
past retention.

Only rows whose ``retain_until`` is before DATE (and before today) go. Audit entries go only as
a prefix of the chain, through the database function ``audit_purge_expired`` (the one path that
may delete them); the purge itself is recorded (``audit_purge`` row and a ``staff`` entry
naming the history rows removed per table).
"""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from retail.audit import services


class Command(BaseCommand):
    help = (
        "Purges audit entries and history rows whose retain_until is before DATE "
        "(never anything younger)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--by", required=True, help="username of the superuser purging")

    def handle(self, *args: Any, **options: Any) -> None:
        before: date = options["before"]
        if before > timezone.now().date():
            raise CommandError(
                f"--before {before} is in the future: nothing younger than its "
                "retain_until may be purged",
                returncode=2,
            )
        user = (
            get_user_model()
            .objects.filter(username=options["by"], is_superuser=True, is_active=True)
            .first()
        )
        if user is None:
            raise CommandError(f"{options['by']!r} is not an active superuser", returncode=2)
        purged = services.retention_purge(before=before, actor=f"staff:{user.get_username()}")
        if purged.entries is None:
            self.stdout.write(f"nothing to purge: no entry is retained only until before {before}")
        else:
            self.stdout.write(
                f"purged {purged.entries.deleted} entries through seq {purged.entries.through_seq}"
                f" (expired before {before})"
            )
        for table, count in sorted(purged.history.items()):
            self.stdout.write(f"purged {count} history rows of {table}")
