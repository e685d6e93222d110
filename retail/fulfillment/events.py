"""Events the fulfillment context emits (aggregate: the shipment)."""

from dataclasses import dataclass
from typing import ClassVar

from retail.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ShipmentEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "shipment"
    order_id: str


@dataclass(frozen=True, kw_only=True)
class ShipmentShipped(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentShipped"
    carrier: str
    tracking_code: str


@dataclass(frozen=True, kw_only=True)
class ShipmentDelivered(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentDelivered"
