from dataclasses import dataclass
from typing import ClassVar

import pytest

from retail.platform.events import DomainEvent, event_class, event_from_payload
from retail.platform.tests.probe import ProbeHappened


def test_events_rebuild_from_their_payload():
    event = ProbeHappened(aggregate_id="p1", position=3)
    assert event_from_payload("ProbeHappened", 1, event.payload()) == event


def test_an_unknown_event_type_or_version_is_a_lookup_error():
    with pytest.raises(LookupError):
        event_class("ProbeHappened", 99)


def test_two_classes_cannot_claim_the_same_type_and_version():
    with pytest.raises(TypeError, match="declared twice"):

        @dataclass(frozen=True, kw_only=True)
        class Impostor(DomainEvent):
            event_type: ClassVar[str] = "ProbeHappened"
            aggregate_type: ClassVar[str] = "probe"
