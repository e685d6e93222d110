"""Consumers of domain events: a registry of handlers per event type.

A handler is applied at most once per event: its ``(consumer, event_id)`` receipt is written
in the same transaction as its effect, and a redelivered event finds the receipt and skips it.

Every consumer runs in a *lane*: the ``core`` lane is the money path (payments, orders, ledger,
fulfillment) and is delivered straight from the outbox; any other lane (``compliance``,
``audit``) has its own delivery rows, relay and Celery queue, so a slow or failing consumer
there only delays its own lane (``retail.platform.relay``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings

from retail.platform.events import DomainEvent

E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class EventContext:
    event_id: uuid.UUID
    occurred_at: datetime
    attempt: int
    request_id: str


Handler = Callable[[Any, EventContext], None]
BatchHandler = Callable[[list[tuple[DomainEvent, EventContext]]], None]


CORE_LANE = "core"


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None
    lane: str = CORE_LANE


_CONSUMERS: dict[str, list[Consumer]] = defaultdict(list)
_EVERY_EVENT = "*"


def handles(
    event_class: type[E], *, consumer: str, lane: str = CORE_LANE
) -> Callable[[Callable[[E, EventContext], None]], Callable[[E, EventContext], None]]:
    """Register the decorated function as consumer ``consumer`` of ``event_class``."""

    def register(
        handler: Callable[[E, EventContext], None],
    ) -> Callable[[E, EventContext], None]:
        _register(event_class.event_type, Consumer(consumer, handler=handler, lane=lane))
        return handler

    return register


def handles_every_event_in_batches(
    *, consumer: str, lane: str = CORE_LANE
) -> Callable[[BatchHandler], BatchHandler]:
    """Register a consumer of every event type that takes a relay batch's events in one call.

    For consumers whose per-call cost dominates (the audit chain takes one lock and reads one
    head per call): ``handler([(event, context), …])``, in the relay's order, all or nothing.
    """

    def register(handler: BatchHandler) -> BatchHandler:
        _register(_EVERY_EVENT, Consumer(consumer, batch_handler=handler, lane=lane))
        return handler

    return register


def _register(event_type: str, new: Consumer) -> None:
    if new.lane not in settings.OUTBOX_LANE_QUEUES:
        raise ValueError(f"consumer {new.name}: lane {new.lane!r} is not in OUTBOX_LANE_QUEUES")
    registered = _CONSUMERS[event_type]
    if any(existing.name == new.name for existing in registered):
        raise ValueError(f"consumer {new.name} already handles {event_type}")
    registered.append(new)


def consumers_of(event_type: str) -> list[Consumer]:
    """The consumers of ``event_type``: its own first, then the consumers of every event."""
    return [*_CONSUMERS.get(event_type, ()), *_CONSUMERS.get(_EVERY_EVENT, ())]


def side_lanes_of(event_type: str) -> list[str]:
    """The lanes besides ``core`` that have a consumer of ``event_type``, in a stable order."""
    return sorted({c.lane for c in consumers_of(event_type) if c.lane != CORE_LANE})


def side_lanes() -> list[str]:
    """Every lane besides ``core`` that some consumer runs in."""
    lanes = {c.lane for registered in _CONSUMERS.values() for c in registered}
    return sorted(lanes - {CORE_LANE})


def unregister(*, consumer: str) -> None:
    """Remove a consumer from every event type (tests register throw-away ones and clean up)."""
    for event_type, registered in _CONSUMERS.items():
        _CONSUMERS[event_type] = [existing for existing in registered if existing.name != consumer]
