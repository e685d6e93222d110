"""Writes: shipments created for paid orders, shipped and delivered by staff (each an event)."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from retail.audit.public import history_reason
from retail.fulfillment.events import ShipmentDelivered, ShipmentShipped
from retail.fulfillment.models import Shipment
from retail.platform import outbox


class ShipmentNotReady(Exception):
    pass


def shipment_create(*, order_id: str, shipping_address: dict[str, Any]) -> Shipment:
    """One shipment per order: a second call returns the first."""
    shipment, _ = Shipment.objects.get_or_create(
        order_id=order_id, defaults={"shipping_address": shipping_address}
    )
    return shipment


def shipment_cancel(*, order_id: str) -> bool:
    """A cancelled order's shipment is not sent (only while it has not left)."""
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update()
            .filter(order_id=order_id, status=Shipment.Status.PENDING)
            .first()
        )
        if shipment is None:
            return False
        shipment.status = Shipment.Status.CANCELLED
        history_reason(shipment, "order cancelled")
        shipment.save(update_fields=["status"])
    return True


def shipment_ship(*, shipment_id: str, carrier: str, tracking_code: str) -> Shipment:
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().get(pk=shipment_id)
        if shipment.status == Shipment.Status.SHIPPED:
            return shipment
        if shipment.status != Shipment.Status.PENDING:
            raise ShipmentNotReady(f"shipment {shipment.pk} is {shipment.status}")
        shipment.status = Shipment.Status.SHIPPED
        shipment.carrier, shipment.tracking_code = carrier, tracking_code
        shipment.shipped_at = timezone.now()
        shipment.save(update_fields=["status", "carrier", "tracking_code", "shipped_at"])
        outbox.emit(
            ShipmentShipped(
                aggregate_id=shipment.pk,
                order_id=shipment.order_id,
                carrier=carrier,
                tracking_code=tracking_code,
            )
        )
    return shipment


def shipment_deliver(*, shipment_id: str) -> Shipment:
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().get(pk=shipment_id)
        if shipment.status == Shipment.Status.DELIVERED:
            return shipment
        if shipment.status != Shipment.Status.SHIPPED:
            raise ShipmentNotReady(f"shipment {shipment.pk} is {shipment.status}, not shipped")
        shipment.status = Shipment.Status.DELIVERED
        shipment.delivered_at = timezone.now()
        shipment.save(update_fields=["status", "delivered_at"])
        outbox.emit(ShipmentDelivered(aggregate_id=shipment.pk, order_id=shipment.order_id))
    return shipment
