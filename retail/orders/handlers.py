"""Orders reacting to payments and fulfillment: the payments read model and the transitions
those events cause. Each runs once per event (inbox) and copes with late or repeated ones."""

from retail.fulfillment.events import ShipmentDelivered, ShipmentShipped
from retail.orders import services
from retail.orders.domain import Status
from retail.payments.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    PaymentRequested,
    RefundEvent,
    RefundFailed,
    RefundRequested,
    RefundSucceeded,
)
from retail.platform.inbox import EventContext, handles

_PAYMENT_STATUS: dict[type[PaymentEvent], str] = {
    PaymentRequested: "pending",
    PaymentAuthorized: "authorized",
    PaymentCaptured: "captured",
    PaymentFailed: "failed",
}
_REFUND_STATUS: dict[type[RefundEvent], str] = {
    RefundRequested: "pending",
    RefundSucceeded: "succeeded",
    RefundFailed: "failed",
}


def _on_payment_event(event: PaymentEvent, context: EventContext) -> None:
    services.order_payment_update(
        order_id=event.order_id,
        payment_id=event.aggregate_id,
        status=_PAYMENT_STATUS[type(event)],
        amount=event.amount,
        psp_reference=event.psp_reference,
    )


def _on_refund_event(event: RefundEvent, context: EventContext) -> None:
    services.order_refund_update(
        order_id=event.order_id,
        refund_id=event.refund_id,
        status=_REFUND_STATUS[type(event)],
        amount=event.amount,
    )


for payment_event in _PAYMENT_STATUS:
    handles(payment_event, consumer="orders.payment_read_model")(_on_payment_event)
for refund_event in _REFUND_STATUS:
    handles(refund_event, consumer="orders.refund_read_model")(_on_refund_event)


@handles(ShipmentShipped, consumer="orders.fulfil_on_shipment_shipped")
def order_fulfil_on_shipment_shipped(event: ShipmentShipped, context: EventContext) -> None:
    services.order_shipped(order_id=event.order_id)


@handles(ShipmentDelivered, consumer="orders.deliver_on_shipment_delivered")
def order_deliver_on_shipment_delivered(event: ShipmentDelivered, context: EventContext) -> None:
    services.order_event_transition(
        order_id=event.order_id, target=Status.DELIVERED, reason="shipment_delivered"
    )
