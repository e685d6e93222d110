"""Writes of the event kernel that operators trigger."""

import uuid

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from retail.platform.inbox import CORE_LANE
from retail.platform.models import LaneDelivery, OutboxMessage
from retail.platform.outbox import kick_after_commit


def outbox_dead_letters_replay(*, event_id: str | None = None) -> int:
    """Dead letters of every lane → pending with fresh attempts; ``event_id`` limits it to one
    event. Returns the deliveries replayed (an event dead in two lanes counts twice)."""
    core = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD)
    side = LaneDelivery.objects.filter(status=OutboxMessage.Status.DEAD)
    if event_id is not None:
        try:
            wanted = uuid.UUID(event_id)
        except ValueError:
            raise ValueError(f"{event_id!r} is not an event id (uuid)") from None
        core = core.filter(event_id=wanted)
        side = side.filter(message__event_id=wanted)
    with transaction.atomic():
        lanes = {CORE_LANE} if core.exists() else set()
        lanes.update(side.values_list("lane", flat=True).distinct())
        replayed = _pending_again(core) + _pending_again(side)
        for lane in lanes:
            kick_after_commit(lane)
    return replayed


def _pending_again(dead: QuerySet) -> int:
    return dead.update(
        status=OutboxMessage.Status.PENDING,
        attempts=0,
        available_at=timezone.now(),
        last_error="",
    )
