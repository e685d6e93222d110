"""``manage.py coaf_export --case ID [--out FILE]``: the SISCOAF XML of a COMMUNICATE case."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retail.compliance import services


class Command(BaseCommand):
    help = "Write the SISCOAF-style XML communication of a case decided COMMUNICATE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", required=True, help="case id (cas_…)")
        parser.add_argument("--out", help="file to write (default: stdout)")
        parser.add_argument("--actor", default="coaf_export", help="who exports (reveal log)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            content = services.communication_export(case_id=options["case"], actor=options["actor"])
        except services.CaseNotCommunicable as error:
            raise CommandError(
                f"case {options['case']} is not decided COMMUNICATE (unknown, open or archived)"
            ) from error
        if options["out"]:
            Path(options["out"]).write_text(content, encoding="utf-8")
        else:
            self.stdout.write(content, ending="")
