"""Reads: the route table for the workers' cache, its stamp, shadow match rates."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q

from strangler.domain import Mode, RouteRule, RouteTable
from strangler.models import Route, ShadowComparison

Stamp = tuple[int, datetime]
_STAMP_SQL = "SELECT version, changed_at FROM strangler_routetablestamp WHERE id = 1"


def route_table_stamp() -> Stamp | None:
    """The trigger-maintained version of the route table; None before its first write."""
    with connection.cursor() as cursor:
        cursor.execute(_STAMP_SQL)
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), row[1])


def default_rules() -> list[RouteRule]:
    return [
        RouteRule(route_id=None, prefix=prefix, mode=Mode(mode))
        for prefix, mode in settings.STRANGLER_DEFAULT_ROUTES
    ]


def route_table_load() -> RouteTable:
    """The enabled routes. A table never written to (a fresh database) means the defaults."""
    routes = list(Route.objects.all())
    if not routes:
        return RouteTable(default_rules())
    return RouteTable(
        RouteRule(
            route_id=route.pk,
            prefix=route.prefix,
            mode=Mode(route.mode),
            methods=frozenset(route.methods),
            canary_percent=route.canary_percent,
            shadow_ignore_fields=frozenset(route.shadow_ignore_fields),
        )
        for route in routes
        if route.enabled
    )


def shadow_match_rates(since: datetime) -> dict[int, tuple[int, int]]:
    """Route id → (matching, total) shadow comparisons since ``since``."""
    rows = (
        ShadowComparison.objects.filter(created_at__gte=since)
        .values("route_id")
        .annotate(total=Count("id"), matching=Count("id", filter=Q(matched=True)))
    )
    return {row["route_id"]: (row["matching"], row["total"]) for row in rows}
