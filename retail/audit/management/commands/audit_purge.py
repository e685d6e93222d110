"""``manage.py audit_purge --before DATE --by SUPERUSER``: remove audit entries past retention.

Only entries whose ``retain_until`` is before DATE (and before today) go, and only as a prefix
of the chain; the database function ``audit_purge_expired`` is the one path that may delete,
and the purge itself is recorded (``audit_purge`` row and a ``staff`` entry).
"""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from retail.audit import services


class Command(BaseCommand):
    help = "Purges audit entries whose retain_until is before DATE (never anything younger)."

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
        purge = services.entries_purge(before=before, actor=f"staff:{user.get_username()}")
        if purge is None:
            self.stdout.write(f"nothing to purge: no entry is retained only until before {before}")
        else:
            self.stdout.write(
                f"purged {purge.deleted} entries through seq {purge.through_seq}"
                f" (expired before {before})"
            )
