"""Operation records (art. 28) from other contexts' events, then the rules on each new record.

Each handler writes at most one record per event (unique ``source_event_id`` besides the
inbox receipt) and evaluates the rules only for a record it just created, so a redelivered
event changes nothing.
"""

from retail.compliance import services
from retail.compliance.domain import Direction, Kind, Outcome
from retail.compliance.services import OperationFacts
from retail.orders.events import OrderPlaced
from retail.payments.events import (
    PartnerOrderSettled,
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    RefundEvent,
    RefundFailed,
    RefundSucceeded,
)
from retail.platform.inbox import EventContext, handles

# Off the money path: payments, orders and the ledger never wait behind the AML rules, and a
# failing rule delays only the compliance lane (docs/events.md, "Lanes").
LANE = "compliance"


@handles(OrderPlaced, consumer="compliance.operation_record_order", lane=LANE)
def operation_record_order(event: OrderPlaced, context: EventContext) -> None:
    services.operation_record_and_evaluate(
        OperationFacts(
            **_source(event.event_type, context),
            kind=Kind.ORDER,
            direction=Direction.NONE,
            outcome=Outcome.COMPLETED,
            amount=event.total,
            currency=event.currency,
            channel=event.channel,
            order_id=event.order_id,
            customer_id=event.customer_id,
            holder_name=event.customer_name,
            email=event.customer_email.strip().lower(),
            client_ip=event.client_ip,
            payment_method=event.payment_method,
            payment_token=event.payment_token,
            settlement_reference=event.external_order_id,
        )
    )


@handles(PaymentCaptured, consumer="compliance.operation_record_payment_captured", lane=LANE)
def operation_record_payment_captured(event: PaymentCaptured, context: EventContext) -> None:
    _payment(event, context, Outcome.COMPLETED)


@handles(PaymentFailed, consumer="compliance.operation_record_payment_failed", lane=LANE)
def operation_record_payment_failed(event: PaymentFailed, context: EventContext) -> None:
    _payment(event, context, Outcome.REFUSED, reason=event.reason)


@handles(RefundSucceeded, consumer="compliance.operation_record_refund_succeeded", lane=LANE)
def operation_record_refund_succeeded(event: RefundSucceeded, context: EventContext) -> None:
    _refund(event, context, Outcome.COMPLETED, psp_reference=event.psp_reference)


@handles(RefundFailed, consumer="compliance.operation_record_refund_failed", lane=LANE)
def operation_record_refund_failed(event: RefundFailed, context: EventContext) -> None:
    _refund(event, context, Outcome.REFUSED, reason=event.reason)


@handles(PartnerOrderSettled, consumer="compliance.operation_record_partner_order", lane=LANE)
def operation_record_partner_order(event: PartnerOrderSettled, context: EventContext) -> None:
    services.operation_record_and_evaluate(
        OperationFacts(
            **_source(event.event_type, context),
            kind=Kind.PARTNER_ORDER,
            direction=Direction.CREDIT,
            outcome=Outcome.COMPLETED,
            amount=event.amount,
            currency=event.currency,
            channel=event.partner,
            order_id=event.aggregate_id,
            settlement_reference=event.external_order_id,
        )
    )


def _payment(
    event: PaymentEvent, context: EventContext, outcome: Outcome, reason: str = ""
) -> None:
    services.operation_record_and_evaluate(
        OperationFacts(
            **_source(event.event_type, context),
            kind=Kind.PAYMENT,
            direction=Direction.CREDIT,
            outcome=outcome,
            outcome_reason=reason,
            amount=event.amount,
            currency=event.currency,
            channel=event.channel,
            order_id=event.order_id,
            payment_id=event.aggregate_id,
            psp_reference=event.psp_reference,
        )
    )


def _refund(
    event: RefundEvent,
    context: EventContext,
    outcome: Outcome,
    *,
    reason: str = "",
    psp_reference: str = "",
) -> None:
    services.operation_record_and_evaluate(
        OperationFacts(
            **_source(event.event_type, context),
            kind=Kind.REFUND,
            direction=Direction.DEBIT,
            outcome=outcome,
            outcome_reason=reason,
            amount=event.amount,
            currency=event.currency,
            channel=event.channel,
            order_id=event.order_id,
            payment_id=event.aggregate_id,
            refund_id=event.refund_id,
            psp_reference=psp_reference,
        )
    )


def _source(event_type: str, context: EventContext) -> dict:
    return {
        "source_event_id": context.event_id,
        "source_event_type": event_type,
        "occurred_at": context.occurred_at,
    }
