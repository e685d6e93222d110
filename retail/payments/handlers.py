"""Reactions of payments to orders' events (inbox-deduped; they write rows, never call the PSP)."""

from retail.orders.events import OrderCancelled, OrderPlaced
from retail.payments import services
from retail.platform.inbox import EventContext, handles


@handles(OrderPlaced, consumer="payments.payment_create")
def payment_create_on_order_placed(event: OrderPlaced, context: EventContext) -> None:
    """A PSP payment for the order (sent to the PSP after commit); partner orders have none."""
    if not event.payment_token:
        return  # the marketplace partner collected the money
    services.payment_create(
        order_id=event.order_id,
        channel=event.channel,
        amount=event.total,
        method=event.payment_method,
        token=event.payment_token,
    )


@handles(OrderCancelled, consumer="payments.refund_on_cancel")
def refund_on_order_cancelled(event: OrderCancelled, context: EventContext) -> None:
    services.payment_cancel_refund(event.order_id)
