"""Writes of the event kernel that operators trigger."""

import uuid

from django.db import transaction
from django.utils import timezone

from retail.platform.models import OutboxMessage
from retail.platform.outbox import kick_relay


def outbox_dead_letters_replay(*, event_id: str | None = None) -> int:
    """Dead letters → pending with fresh attempts; ``event_id`` limits it to one event."""
    dead = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD)
    if event_id is not None:
        try:
            dead = dead.filter(event_id=uuid.UUID(event_id))
        except ValueError:
            raise ValueError(f"{event_id!r} is not an event id (uuid)") from None
    with transaction.atomic():
        replayed = dead.update(
            status=OutboxMessage.Status.PENDING,
            attempts=0,
            available_at=timezone.now(),
            last_error="",
        )
        transaction.on_commit(kick_relay)
    return replayed
