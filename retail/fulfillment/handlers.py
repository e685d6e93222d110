"""Fulfillment reacting to orders: a paid order gets a shipment; a cancelled one loses it."""

from retail.fulfillment import services
from retail.orders.events import OrderCancelled, OrderPaid
from retail.orders.public import order_shipping_address
from retail.platform.inbox import EventContext, handles


@handles(OrderPaid, consumer="fulfillment.shipment_create")
def shipment_create_on_order_paid(event: OrderPaid, context: EventContext) -> None:
    services.shipment_create(
        order_id=event.order_id, shipping_address=order_shipping_address(event.order_id)
    )


@handles(OrderCancelled, consumer="fulfillment.shipment_cancel")
def shipment_cancel_on_order_cancelled(event: OrderCancelled, context: EventContext) -> None:
    services.shipment_cancel(order_id=event.order_id)
