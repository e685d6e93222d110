"""``manage.py route_set PREFIX MODE --reason WHY``: flip a route from a shell (recorded like
an admin change, actor ``cli:<user>``). ``--defaults`` applies STRANGLER_DEFAULT_ROUTES
idempotently; ``--rollback PREFIX`` undoes a route's latest change; ``--list`` prints the table.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler import services
from strangler.domain import Mode, describe
from strangler.models import Route
from strangler.services import Actor, RouteChangeRefused


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix", nargs="?", help="path prefix, e.g. /api/v1/orders/")
        parser.add_argument("mode", nargs="?", choices=[m.value for m in Mode])
        parser.add_argument("--reason", default="", help="why (required for every change)")
        parser.add_argument("--percent", type=int, dest="canary_percent", help="canary share")
        parser.add_argument("--methods", type=_csv, help="e.g. GET,HEAD (empty: all)")
        parser.add_argument("--ignore-fields", type=_csv, dest="shadow_ignore_fields")
        parser.add_argument("--note")
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--enable", action="store_true", default=None, dest="enabled")
        enabled.add_argument("--disable", action="store_false", dest="enabled")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--defaults", action="store_true", help="apply the default routes")
        action.add_argument("--rollback", action="store_true", help="undo PREFIX's last change")
        action.add_argument("--list", action="store_true", help="print the route table")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.cli()
        try:
            if options["list"]:
                self._list()
            elif options["defaults"]:
                reason = options["reason"] or "defaults (STRANGLER_DEFAULT_ROUTES)"
                changes = services.routes_ensure_defaults(actor=actor, reason=reason)
                self.stdout.write(f"default routes applied, {len(changes)} changed")
            elif options["rollback"]:
                route = Route.objects.filter(prefix=options["prefix"]).first()
                if route is None:
                    raise CommandError(f"no route {options['prefix']!r}")
                change = services.route_rollback(route.pk, actor=actor, reason=options["reason"])
                self.stdout.write(f"{route.prefix} rolled back to {describe(change.to_state)}")
            else:
                self._set(actor, options)
        except (RouteChangeRefused, ValidationError) as refused:
            raise CommandError(str(refused)) from refused

    def _set(self, actor: Actor, options: dict[str, Any]) -> None:
        if not options["prefix"]:
            raise CommandError("give PREFIX [MODE], or --defaults, or --list")
        toggles = {
            field: options[field]
            for field in (
                "canary_percent",
                "methods",
                "enabled",
                "note",
                "shadow_ignore_fields",
            )
            if options[field] is not None
        }
        change = services.route_ensure(
            options["prefix"], options["mode"], actor=actor, reason=options["reason"], **toggles
        )
        if change is None:
            self.stdout.write(f"{options['prefix']}: unchanged")
        else:
            self.stdout.write(
                f"{options['prefix']}: {describe(change.from_state)} → {describe(change.to_state)}"
            )

    def _list(self) -> None:
        for route in Route.objects.all():
            self.stdout.write(f"{route.prefix:30} {describe(route.state())}  {route.note}")
