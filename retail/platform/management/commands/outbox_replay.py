from django.core.management.base import BaseCommand, CommandError

from retail.platform.services import outbox_dead_letters_replay


class Command(BaseCommand):
    help = "Put dead-lettered outbox events back for delivery (consumers stay idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dead", action="store_true", required=True, help="replay dead letters"
        )
        parser.add_argument("--id", dest="event_id", help="only this event id (uuid)")

    def handle(self, *args, **options):
        try:
            replayed = outbox_dead_letters_replay(event_id=options["event_id"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"replayed {replayed} dead-lettered event(s)")
