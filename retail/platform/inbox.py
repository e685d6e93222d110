"""Consumers of domain events: a registry of handlers per event type.

A handler is applied at most once per event: its ``(consumer, event_id)`` receipt is written
in the same transaction as its effect, and a redelivered event finds the receipt and skips it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

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


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None


_CONSUMERS: dict[str, list[Consumer]] = defaultdict(list)
_EVERY_EVENT = "*"


def handles(
    event_class: type[E], *, consumer: str
) -> Callable[[Callable[[E, EventContext], None]], Callable[[E, EventContext], None]]:
    """Register the decorated function as consumer ``consumer`` of ``event_class``."""

    def register(
        handler: Callable[[E, EventContext], None],
    ) -> Callable[[E, EventContext], None]:
        _register(event_class.event_type, Consumer(consumer, handler=handler))
        return handler

    return register


def handles_every_event_in_batches(*, consumer: str) -> Callable[[BatchHandler], BatchHandler]:
    """Register a consumer of every event type that takes a relay batch's events in one call.

    For consumers whose per-call cost dominates (the audit chain takes one lock and reads one
    head per call): ``handler([(event, context), …])``, in the relay's order, all or nothing.
    """

    def register(handler: BatchHandler) -> BatchHandler:
        _register(_EVERY_EVENT, Consumer(consumer, batch_handler=handler))
        return handler

    return register


def _register(event_type: str, new: Consumer) -> None:
    registered = _CONSUMERS[event_type]
    if any(existing.name == new.name for existing in registered):
        raise ValueError(f"consumer {new.name} already handles {event_type}")
    registered.append(new)


def consumers_of(event_type: str) -> list[Consumer]:
    """The consumers of ``event_type``: its own first, then the consumers of every event."""
    return [*_CONSUMERS.get(event_type, ()), *_CONSUMERS.get(_EVERY_EVENT, ())]


def unregister(*, consumer: str) -> None:
    """Remove a consumer from every event type (tests register throw-away ones and clean up)."""
    for event_type, registered in _CONSUMERS.items():
        _CONSUMERS[event_type] = [existing for existing in registered if existing.name != consumer]
