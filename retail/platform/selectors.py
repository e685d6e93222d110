"""Reads of the event kernel's tables."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from retail.platform.inbox import CORE_LANE, side_lanes
from retail.platform.models import LaneDelivery, OutboxMessage

PENDING = OutboxMessage.Status.PENDING
DEAD = OutboxMessage.Status.DEAD


def outbox_status() -> dict[str, Any]:
    """Pending / dead counts per event type and the age of the oldest pending event (the
    ``core`` lane: the outbox rows themselves), and the same per lane (consumer lag)."""
    rows = _backlog(OutboxMessage.objects.all(), "event_type", "occurred_at")
    by_type = {row["event_type"]: {"pending": row["pending"], "dead": row["dead"]} for row in rows}
    oldest = min((row["oldest"] for row in rows if row["oldest"]), default=None)
    core = {
        "pending": sum(counts["pending"] for counts in by_type.values()),
        "dead": sum(counts["dead"] for counts in by_type.values()),
        "oldest_pending_age_s": _age(oldest),
    }
    return {**core, "by_type": by_type, "lanes": {CORE_LANE: core, **_side_lanes_status()}}


def _side_lanes_status() -> dict[str, dict[str, Any]]:
    rows = _backlog(LaneDelivery.objects.all(), "lane", "message__occurred_at")
    found = {row["lane"]: row for row in rows}
    return {lane: _lane_status(found.get(lane)) for lane in side_lanes()}


def _backlog(deliveries: QuerySet[Any], group: str, occurred_at: str) -> QuerySet[Any]:
    """Pending and dead ``deliveries`` counted per ``group``, with the oldest pending one's
    ``occurred_at``."""
    return (
        deliveries.filter(status__in=[PENDING, DEAD])
        .values(group)
        .annotate(
            pending=Count("pk", filter=Q(status=PENDING)),
            dead=Count("pk", filter=Q(status=DEAD)),
            oldest=Min(occurred_at, filter=Q(status=PENDING)),
        )
    )


def _lane_status(row: Mapping[str, Any] | None) -> dict[str, Any]:
    if row is None:  # nothing pending or dead in the lane
        return {"pending": 0, "dead": 0, "oldest_pending_age_s": None}
    return {
        "pending": row["pending"],
        "dead": row["dead"],
        "oldest_pending_age_s": _age(row["oldest"]),
    }


def _age(oldest: datetime | None) -> float | None:
    return (timezone.now() - oldest).total_seconds() if oldest else None
