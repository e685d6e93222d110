"""Domain events: typed, versioned, immutable; the payload is the dataclass's fields.

Every context declares its events in its own ``events.py`` by subclassing ``DomainEvent``;
subclasses register themselves so the relay can rebuild them from the outbox's jsonb payload.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

_REGISTRY: dict[tuple[str, int], type[DomainEvent]] = {}


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    aggregate_type: ClassVar[str]
    aggregate_id: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            return  # an abstract intermediate class
        identity = (cls.event_type, cls.version)
        known = _REGISTRY.get(identity)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"event {identity} is declared twice: {known} and {cls}")
        _REGISTRY[identity] = cls

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def event_class(event_type: str, version: int) -> type[DomainEvent]:
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise LookupError(f"no event class for {event_type} v{version}") from None


def event_from_payload(event_type: str, version: int, payload: dict[str, Any]) -> DomainEvent:
    return event_class(event_type, version)(**payload)
