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


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler


_CONSUMERS: dict[str, list[Consumer]] = defaultdict(list)


def handles(
    event_class: type[E], *, consumer: str
) -> Callable[[Callable[[E, EventContext], None]], Callable[[E, EventContext], None]]:
    """Register the decorated function as consumer ``consumer`` of ``event_class``."""

    def register(
        handler: Callable[[E, EventContext], None],
    ) -> Callable[[E, EventContext], None]:
        registered = _CONSUMERS[event_class.event_type]
        if any(existing.name == consumer for existing in registered):
            raise ValueError(f"consumer {consumer} already handles {event_class.event_type}")
        registered.append(Consumer(consumer, handler))
        return handler

    return register


def consumers_of(event_type: str) -> list[Consumer]:
    return list(_CONSUMERS.get(event_type, ()))


def unregister(event_class: type[DomainEvent], consumer: str) -> None:
    """Remove one consumer (tests register throw-away consumers and clean up after)."""
    _CONSUMERS[event_class.event_type] = [
        existing for existing in _CONSUMERS[event_class.event_type] if existing.name != consumer
    ]
