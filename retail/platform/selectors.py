"""Reads of the event kernel's tables."""

from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from retail.platform.models import OutboxMessage

PENDING = OutboxMessage.Status.PENDING
DEAD = OutboxMessage.Status.DEAD


def outbox_status() -> dict[str, Any]:
    """Pending / dead counts per event type and the age of the oldest pending event."""
    rows = (
        OutboxMessage.objects.filter(status__in=[PENDING, DEAD])
        .values("event_type")
        .annotate(
            pending=Count("seq", filter=Q(status=PENDING)),
            dead=Count("seq", filter=Q(status=DEAD)),
            oldest=Min("occurred_at", filter=Q(status=PENDING)),
        )
    )
    by_type = {row["event_type"]: {"pending": row["pending"], "dead": row["dead"]} for row in rows}
    oldest = min((row["oldest"] for row in rows if row["oldest"]), default=None)
    return {
        "pending": sum(counts["pending"] for counts in by_type.values()),
        "dead": sum(counts["dead"] for counts in by_type.values()),
        "oldest_pending_age_s": (timezone.now() - oldest).total_seconds() if oldest else None,
        "by_type": by_type,
    }
