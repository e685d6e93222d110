import json

from django.core.management.base import BaseCommand

from retail.platform.selectors import outbox_status


class Command(BaseCommand):
    help = "Pending and dead-lettered outbox events per type and per lane, and their lag."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        status = outbox_status()
        if options["json"]:
            self.stdout.write(json.dumps(status, sort_keys=True))
            return
        age = status["oldest_pending_age_s"]
        self.stdout.write(
            f"pending={status['pending']} dead={status['dead']} "
            f"oldest_pending_age_s={'-' if age is None else f'{age:.1f}'}"
        )
        for event_type, counts in sorted(status["by_type"].items()):
            self.stdout.write(f"  {event_type}: pending={counts['pending']} dead={counts['dead']}")
        for lane, counts in sorted(status["lanes"].items()):
            lag = counts["oldest_pending_age_s"]
            self.stdout.write(
                f"lane {lane}: pending={counts['pending']} dead={counts['dead']} "
                f"oldest_pending_age_s={'-' if lag is None else f'{lag:.1f}'}"
            )
