"""Writes: checkout, status transitions with their stock effects and events, payment expiry,
and the payments/refunds read model. Every write locks the order row before emitting, so one
order's events enter the outbox in commit order."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import connection, transaction
from django.utils import timezone

from retail.audit.public import Kind, audit_record, history_reason
from retail.catalog import public as catalog
from retail.customers import public as customers
from retail.inventory import public as inventory
from retail.orders import domain, events
from retail.orders.domain import InvalidTransition, Outcome, Status
from retail.orders.models import NUMBER_SEQUENCE, Order, OrderLine
from retail.platform import outbox
from retail.platform.ids import new_id
from retail.platform.problems import Problem

log = structlog.get_logger(__name__)

PAYMENT_TIMEOUT = timedelta(minutes=15)
EVENT_CLASSES: dict[Status, type[events.OrderEvent]] = {
    Status.PAID: events.OrderPaid,
    Status.PAYMENT_FAILED: events.OrderPaymentFailed,
    Status.CANCELLED: events.OrderCancelled,
    Status.FULFILLED: events.OrderFulfilled,
    Status.DELIVERED: events.OrderDelivered,
    Status.REFUNDED: events.OrderRefunded,
    Status.PARTIALLY_REFUNDED: events.OrderPartiallyRefunded,
}
_WITH_REASON = {Status.PAYMENT_FAILED, Status.CANCELLED}


@dataclass(frozen=True)
class Checkout:
    channel: str
    customer_name: str
    customer_email: str
    customer_cpf: str
    lines: list[tuple[str, int]]
    payment_method: str
    payment_token: str
    shipping_address: dict[str, Any] = field(default_factory=dict)
    client_ip: str = ""
    client_user_agent: str = ""


def _event_fields(order: Order) -> dict[str, Any]:
    return {
        "aggregate_id": order.pk,
        "order_id": order.pk,
        "number": order.number,
        "channel": order.channel_code,
        "customer_id": order.customer_id,
        "total": order.total,
        "currency": order.currency,
    }


def _next_number(now: datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [NUMBER_SEQUENCE])
        (sequence,) = cursor.fetchone()
    return domain.order_number(now.year, sequence)


def _order_create(
    checkout: Checkout, *, price_channel: str | None, external_order_id: str
) -> tuple[Order, list[OrderLine]]:
    """Prices, reserves, upserts the customer and writes the order; caller's transaction."""
    try:
        quantities = domain.merge_lines(checkout.lines)
    except domain.TooManyUnits as error:
        raise Problem(
            422,
            "validation_error",
            f"At most {domain.MAX_QUANTITY} units per SKU.",
            errors={
                "lines": [f"more than {domain.MAX_QUANTITY} units of {sku}" for sku in error.skus]
            },
        ) from error
    prices = catalog.sku_prices(list(quantities), channel_code=price_channel)
    unknown = [sku for sku in quantities if sku not in prices]
    if unknown:
        raise Problem(422, "unknown_sku", f"Unknown SKU: {', '.join(unknown)}.", skus=unknown)
    order_id = new_id("ord")
    now = timezone.now()
    try:
        customer = customers.customer_upsert(
            name=checkout.customer_name, email=checkout.customer_email, cpf=checkout.customer_cpf
        )
    except customers.InvalidCpf as error:
        raise Problem(422, "invalid_cpf", str(error)) from error
    priced = [
        domain.PricedLine(sku, quantity, prices[sku].price) for sku, quantity in quantities.items()
    ]
    order = Order.objects.create(
        id=order_id,
        number=_next_number(now),
        channel_code=checkout.channel,
        external_order_id=external_order_id,
        customer_id=customer.id,
        status=Status.PENDING_PAYMENT,
        total=domain.order_total(priced),
        payment_method=checkout.payment_method,
        shipping_address=checkout.shipping_address,
        created_at=now,
        updated_at=now,
        retain_until=domain.retain_until(now.date()),
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=line.sku,
            name=prices[line.sku].name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.total,
        )
        for line in priced
    )
    outbox.emit(
        events.OrderPlaced(
            **_event_fields(order),
            payment_method=checkout.payment_method,
            payment_token=checkout.payment_token,
            lines=[
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "total": line.total,
                }
                for line in priced
            ],
            customer_name=customer.name,
            customer_email=customer.email,
            client_ip=checkout.client_ip,
            client_user_agent=checkout.client_user_agent,
            external_order_id=external_order_id,
        )
    )
    # Last, so the stock rows (the hot rows every checkout of a SKU queues for) stay locked
    # only until the commit, not while the order is written.
    try:
        inventory.reserve(quantities, order_id, expires_at=now + PAYMENT_TIMEOUT)
    except inventory.OutOfStock as error:
        raise Problem(
            409, "out_of_stock", f"Not enough stock: {', '.join(error.skus)}.", skus=error.skus
        ) from error
    return order, lines


def order_place(checkout: Checkout) -> tuple[Order, list[OrderLine]]:
    """Checkout: a ``pending_payment`` order with its stock reserved, and ``OrderPlaced``.

    A constant number of queries whatever the number of lines; no network call (payment
    starts from the event). Raises :class:`Problem` for unknown SKUs, missing stock, bad CPF.
    """
    with transaction.atomic():
        return _order_create(checkout, price_channel=checkout.channel, external_order_id="")


def partner_order_place(
    checkout: Checkout, *, external_order_id: str, charged_total: int
) -> tuple[Order, bool]:
    """A marketplace partner's order, ``paid`` from the start; the same external id always
    gives the same order (``created`` False then). Priced at base prices: the partner's
    ``charged_total`` must match (else 422 ``total_mismatch``); a twin delivery still running
    gets 409 ``webhook_in_progress``."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"partner-order\n{checkout.channel}\n{external_order_id}"],
            )
            (locked,) = cursor.fetchone()
        if not locked:
            raise Problem(409, "webhook_in_progress", "This partner order is being processed.")
        existing = Order.objects.filter(
            channel_code=checkout.channel, external_order_id=external_order_id
        ).first()
        if existing is not None:
            return existing, False
        order, _ = _order_create(checkout, price_channel=None, external_order_id=external_order_id)
        if order.total != charged_total:
            raise Problem(
                422,
                "total_mismatch",
                f"The lines at base prices total {order.total}, not {charged_total}.",
                expected_total=order.total,
            )
        _transition_locked(order, Status.PAID, "paid_to_partner")
    return order, True


def _stock_effect(order: Order, target: Status) -> None:
    if target is Status.PAID and not inventory.commit(order.pk):
        log.warning("orders.paid_without_active_reservation", order_id=order.pk)
    if target in (Status.PAYMENT_FAILED, Status.CANCELLED):
        inventory.release(order.pk) or inventory.restock(order.pk)


def _transition_locked(order: Order, target: Status, reason: str, **event_fields: Any) -> Outcome:
    """Applies a transition to a row the caller has locked: stock, status, history, event."""
    outcome = domain.plan(Status(order.status), target)
    if outcome is not Outcome.APPLY:
        return outcome
    _stock_effect(order, target)
    order.status = target
    order.status_reason = reason[:200]
    order.updated_at = timezone.now()
    history_reason(order, reason)
    order.save(update_fields=["status", "status_reason", "updated_at", "shipped_at"])
    if target in _WITH_REASON:
        event_fields["reason"] = reason
    outbox.emit(EVENT_CLASSES[target](**_event_fields(order), **event_fields))
    return outcome


def order_cancel(
    *, channel_code: str, order_id: str, reason: str = "cancelled_by_channel", actor: str = ""
) -> Order:
    """Cancels a channel's order until it ships (409 ``invalid_transition`` after).

    ``actor`` (``"staff:alice"``): a staff member cancels it, named by a ``staff`` audit entry
    committed with the cancellation."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update().filter(pk=order_id, channel_code=channel_code).first()
        )
        if order is None:
            raise Problem(404, "not_found", "No such order.")
        if order.shipped_at is not None:
            raise Problem(
                409,
                "invalid_transition",
                "The order has shipped; it can no longer be cancelled.",
                order_status=order.status,
            )
        try:
            outcome = _transition_locked(order, Status.CANCELLED, reason)
        except InvalidTransition as error:
            raise Problem(
                409, "invalid_transition", str(error), order_status=order.status
            ) from error
        if actor and outcome is Outcome.APPLY:
            audit_record(
                kind=Kind.STAFF,
                action="order.cancelled",
                actor=actor,
                subject=order.pk,
                data={"reason": reason},
            )
    return order


def order_payment_timeout(*, order_id: str, now: datetime) -> bool:
    """Expires an unpaid order whose reservation deadline passed (once, however often run)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:  # a reservation no order owns: just give the stock back
            return inventory.expire(order_id, now=now)
        if order.status != Status.PENDING_PAYMENT or not inventory.expire(order_id, now=now):
            return False
        _transition_locked(order, Status.PAYMENT_FAILED, "payment_timeout")
    return True


def order_expire_unpaid(*, now: datetime) -> int:
    """The beat task's body: every order whose payment did not arrive in time fails."""
    return sum(
        order_payment_timeout(order_id=reference, now=now)
        for reference in inventory.due_references(now=now)
    )


_PAYMENT_PROGRESS = {"pending": 0, "authorized": 1, "captured": 2, "failed": 2}
_REFUND_PROGRESS = {"pending": 0, "succeeded": 1, "failed": 1}


def _merged(
    entries: list[dict[str, Any]], entry: dict[str, Any], progress: dict[str, int]
) -> list[dict[str, Any]]:
    """``entries`` with ``entry`` added or updated by id; a status never goes backwards."""
    for index, known in enumerate(entries):
        if known["id"] == entry["id"]:
            if progress[entry["status"]] < progress[known["status"]]:
                entry = {**entry, "status": known["status"]}
            return [*entries[:index], {**known, **entry}, *entries[index + 1 :]]
    return [*entries, entry]


def _locked_order(order_id: str) -> Order | None:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        log.warning("orders.event_for_unknown_order", order_id=order_id)
    return order


def _try_transition(order: Order, target: Status, reason: str, **event_fields: Any) -> bool:
    """For events from elsewhere: an illegal move is logged and ignored, never retried.
    True when the order moved."""
    try:
        return _transition_locked(order, target, reason, **event_fields) is Outcome.APPLY
    except InvalidTransition:
        log.info("orders.transition_ignored", order_id=order.pk, status=order.status, to=target)
        return False


def order_payment_update(
    *, order_id: str, payment_id: str, status: str, amount: int, psp_reference: str
) -> None:
    """Records what payments says about one payment; captured → paid, failed → payment_failed."""
    with transaction.atomic():
        order = _locked_order(order_id)
        if order is None:
            return
        entry = {"id": payment_id, "status": status, "amount": amount}
        if psp_reference or all(known["id"] != payment_id for known in order.payments):
            entry["psp_reference"] = psp_reference  # never blanks a reference already known
        order.payments = _merged(order.payments, entry, _PAYMENT_PROGRESS)
        Order.objects.filter(pk=order.pk).update(payments=order.payments)
        if status == "captured":
            _try_transition(order, Status.PAID, "payment_captured")
        elif status == "failed":
            _try_transition(order, Status.PAYMENT_FAILED, "payment_failed")


def order_refund_update(*, order_id: str, refund_id: str, status: str, amount: int) -> None:
    """Records one refund; once it succeeded the order is (partially) refunded."""
    with transaction.atomic():
        order = _locked_order(order_id)
        if order is None:
            return
        entry = {"id": refund_id, "status": status, "amount": amount}
        order.refunds = _merged(order.refunds, entry, _REFUND_PROGRESS)
        Order.objects.filter(pk=order.pk).update(refunds=order.refunds)
        if status != "succeeded":
            return
        refunded = sum(item["amount"] for item in order.refunds if item["status"] == "succeeded")
        captured = sum(item["amount"] for item in order.payments if item["status"] == "captured")
        target = domain.status_after_refund(refunded=refunded, captured=captured or order.total)
        _try_transition(order, target, "refund_succeeded", refunded=refunded)


def order_shipped(*, order_id: str) -> None:
    """Its shipment left: remember it (cancelling ends here) and fulfil the order if it can."""
    with transaction.atomic():
        order = _locked_order(order_id)
        if order is None:
            return
        first_news = order.shipped_at is None
        order.shipped_at = order.shipped_at or timezone.now()
        fulfilled = _try_transition(order, Status.FULFILLED, "shipment_shipped")
        if first_news and not fulfilled:  # e.g. partially refunded: the status stays
            order.save(update_fields=["shipped_at"])


def order_event_transition(*, order_id: str, target: Status, reason: str) -> None:
    """A transition another context's event asks for; illegal or stale ones change nothing."""
    with transaction.atomic():
        order = _locked_order(order_id)
        if order is not None:
            _try_transition(order, target, reason)
