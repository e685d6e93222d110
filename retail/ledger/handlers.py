"""The ledger's only inputs: money movements reported by the payments context.

Each handler is safe without the inbox too: entries are unique per (event, purpose) and per
(fact, purpose), so a second call with the same event posts nothing. Authorisations, requests
and failures move no money and post nothing; a cancellation after capture arrives as a refund.
"""

from retail.ledger import domain, services
from retail.ledger.domain import EntrySource
from retail.payments.events import PartnerOrderSettled, PaymentCaptured, RefundSucceeded
from retail.platform.inbox import EventContext, handles


@handles(PaymentCaptured, consumer="ledger.payment_captured_post")
def payment_captured_post(event: PaymentCaptured, context: EventContext) -> None:
    drafts = domain.capture_entries(
        channel=event.channel, amount=event.amount, currency=event.currency
    )
    services.entries_post(
        source=_source(
            context, event.event_type, event.aggregate_id, event.order_id, event.channel
        ),
        drafts=drafts,
    )


@handles(RefundSucceeded, consumer="ledger.refund_succeeded_post")
def refund_succeeded_post(event: RefundSucceeded, context: EventContext) -> None:
    drafts = domain.refund_entries(amount=event.amount, currency=event.currency)
    services.entries_post(
        source=_source(context, event.event_type, event.refund_id, event.order_id, event.channel),
        drafts=drafts,
    )


@handles(PartnerOrderSettled, consumer="ledger.partner_order_settled_post")
def partner_order_settled_post(event: PartnerOrderSettled, context: EventContext) -> None:
    drafts = domain.partner_settlement_entries(
        partner=event.partner, amount=event.amount, currency=event.currency
    )
    order_id = event.aggregate_id
    services.entries_post(
        source=_source(context, event.event_type, order_id, order_id, event.partner),
        drafts=drafts,
    )


def _source(
    context: EventContext, event_type: str, reference: str, order_id: str, channel: str
) -> EntrySource:
    return EntrySource(
        event_id=str(context.event_id),
        event_type=event_type,
        reference=reference,
        order_id=order_id,
        channel=channel,
        occurred_at=context.occurred_at,
    )
