"""Writes of the payments context: payments, PSP outcomes, refunds, reconciliation.

Everything the PSP tells us (webhook or reconciliation poll) goes through one function per
kind, :func:`_payment_move` and :func:`_refund_settle`, applied to a row locked ``FOR UPDATE``;
the payment row is always locked before any of its refunds, so writers never deadlock and the
events of one payment (its aggregate) are emitted in commit order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from retail.audit.public import Kind, audit_record, history_reason
from retail.orders import public as orders
from retail.payments import psp, selectors
from retail.payments.domain import (
    PSP_PAYMENT_REPORTS,
    PSP_REFUND_REPORTS,
    TERMINAL_PAYMENT,
    PaymentStatus,
    RefundExceedsCaptured,
    RefundStatus,
    payment_advance,
    refund_advance,
    refund_check,
    refundable,
)
from retail.payments.events import (
    PartnerOrderSettled,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    PaymentRequested,
    RefundFailed,
    RefundRequested,
    RefundSucceeded,
)
from retail.payments.models import PartnerOrder, Payment, Refund, UnmatchedWebhook
from retail.platform import outbox
from retail.platform.problems import Problem

log = structlog.get_logger(__name__)

PAYMENT_SUBMIT_TASK = "payments.payment_submit"
REFUND_SUBMIT_TASK = "payments.refund_submit"
CANCEL_REFUND_REASON = "order cancelled"


# --- payments ----------------------------------------------------------------------------------


def payment_create(*, order_id: str, channel: str, amount: int, method: str, token: str) -> Payment:
    """The order's payment attempt (one per order); sent to the PSP once this commits."""
    with transaction.atomic():
        payment, created = Payment.objects.get_or_create(
            order_id=order_id,
            defaults={"channel": channel, "amount": amount, "method": method, "token": token},
        )
        if created:
            outbox.emit(
                PaymentRequested(
                    aggregate_id=payment.id,
                    order_id=order_id,
                    channel=channel,
                    amount=amount,
                    method=method,
                )
            )
            _enqueue_on_commit(PAYMENT_SUBMIT_TASK, payment.id)
    return payment


def payment_submit(payment_id: str) -> None:
    """Ask the PSP to collect. Raises :class:`psp.PspUnavailable` when a retry is due."""
    payment = selectors.payment_get(payment_id)
    if payment is None or payment.status != PaymentStatus.REQUESTED or payment.submitted_at:
        return  # unknown here, already accepted by the PSP, or already settled by a webhook
    try:
        reference = psp.payment_request(
            payment_id=payment.id,
            order_id=payment.order_id,
            amount=payment.amount,
            token=payment.token,
        )
    except psp.PspRejected as rejection:
        payment_report(payment_id, PaymentStatus.FAILED, reason=str(rejection))
        return
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(id=payment_id)
        payment.submitted_at = timezone.now()
        payment.psp_reference = payment.psp_reference or reference
        payment.save(update_fields=["submitted_at", "psp_reference", "updated_at"])


def payment_report(
    payment_id: str, reported: PaymentStatus, *, psp_reference: str = "", reason: str = ""
) -> tuple[PaymentStatus, ...]:
    """Fold what the PSP reported into the payment; the states it passed through."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(id=payment_id)
        return _payment_move(payment, reported, psp_reference=psp_reference, reason=reason)


def payment_cancel_refund(order_id: str) -> Refund | None:
    """The order was cancelled: refund what was captured, or refund it when the capture comes."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(order_id=order_id).first()
        if payment is None or payment.status == PaymentStatus.FAILED:
            return None
        if payment.status != PaymentStatus.CAPTURED:
            payment.refund_when_captured = True
            history_reason(payment, "order cancelled before the capture")
            payment.save(update_fields=["refund_when_captured", "updated_at"])
            return None
        return _refund_rest(payment)


def _payment_move(
    payment: Payment, reported: PaymentStatus, *, psp_reference: str, reason: str
) -> tuple[PaymentStatus, ...]:
    """The one place a payment changes state (``payment`` is locked). Forward only."""
    steps = payment_advance(PaymentStatus(payment.status), reported)
    if not steps and (payment.psp_reference or not psp_reference):
        return steps  # a duplicate, late or stale report: nothing to do
    payment.psp_reference = payment.psp_reference or psp_reference
    for step in steps:
        payment.status = step
        if step == PaymentStatus.FAILED:
            payment.failure_reason = reason[:200] or "declined"
        outbox.emit(_payment_event(payment, step))
    history_reason(payment, _reported(reported, payment.failure_reason))
    payment.save()
    if steps and steps[-1] == PaymentStatus.CAPTURED and payment.refund_when_captured:
        _refund_rest(payment)
    return steps


def _reported(status: str, failure_reason: str) -> str:
    """The history reason of a payment or refund the PSP moved (and why it failed)."""
    return f"PSP reported {status}" + (f": {failure_reason}" if failure_reason else "")


_PAYMENT_EVENTS: dict[PaymentStatus, type[PaymentEvent]] = {
    PaymentStatus.AUTHORIZED: PaymentAuthorized,
    PaymentStatus.CAPTURED: PaymentCaptured,
}


def _payment_event(payment: Payment, status: PaymentStatus) -> PaymentEvent:
    common: dict[str, Any] = {
        "aggregate_id": payment.id,
        "order_id": payment.order_id,
        "channel": payment.channel,
        "amount": payment.amount,
        "currency": payment.currency,
        "psp_reference": payment.psp_reference,
    }
    if status == PaymentStatus.FAILED:
        return PaymentFailed(**common, reason=payment.failure_reason)
    return _PAYMENT_EVENTS[status](**common)


# --- refunds -----------------------------------------------------------------------------------


def refund_request(*, order_id: str, amount: int, reason: str) -> Refund:
    """A refund of the order's captured payment; :class:`RefundExceedsCaptured` if too much.

    The payment row is locked first, so concurrent requests are checked one after the other
    against everything already asked for (a pending refund holds its amount until it fails).
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(order_id=order_id).first()
        if payment is None:
            raise RefundExceedsCaptured(requested=amount, refundable=0)
        return _refund_create(payment, amount=amount, reason=reason)


def refund_submit(refund_id: str) -> None:
    """Send the refund to the PSP. Raises :class:`psp.PspUnavailable` when a retry is due."""
    refund = selectors.refund_get(refund_id)
    if refund is None or refund.status != RefundStatus.REQUESTED or refund.submitted_at:
        return
    try:
        reference = psp.refund_request(
            refund_id=refund.id, payment_id=refund.payment_id, amount=refund.amount
        )
    except psp.PspRejected as rejection:
        refund_report(refund_id, RefundStatus.FAILED, reason=str(rejection))
        return
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(id=refund_id)
        refund.submitted_at = timezone.now()
        refund.psp_reference = refund.psp_reference or reference
        refund.save(update_fields=["submitted_at", "psp_reference", "updated_at"])


def refund_report(
    refund_id: str, reported: RefundStatus, *, psp_reference: str = "", reason: str = ""
) -> RefundStatus | None:
    with transaction.atomic():
        payment_id = Refund.objects.values_list("payment_id", flat=True).get(id=refund_id)
        payment = Payment.objects.select_for_update().get(id=payment_id)  # the payment first
        refund = Refund.objects.select_for_update().get(id=refund_id)
        refund.payment = payment
        return _refund_settle(refund, reported, psp_reference=psp_reference, reason=reason)


def _refund_rest(payment: Payment) -> Refund | None:
    """Refund whatever is still refundable of a locked, captured payment (cancellations)."""
    rest = refundable(payment.amount, selectors.refund_amounts_holding(payment.id))
    if rest == 0:
        return None
    return _refund_create(payment, amount=rest, reason=CANCEL_REFUND_REASON)


def _refund_create(payment: Payment, *, amount: int, reason: str) -> Refund:
    captured = payment.amount if payment.status == PaymentStatus.CAPTURED else 0
    refund_check(
        amount=amount,
        captured=captured,
        refunds_not_failed=selectors.refund_amounts_holding(payment.id),
    )
    refund = Refund(payment=payment, order_id=payment.order_id, amount=amount, reason=reason)
    history_reason(refund, reason)
    refund.save(force_insert=True)
    outbox.emit(
        RefundRequested(
            aggregate_id=payment.id,
            refund_id=refund.id,
            order_id=payment.order_id,
            channel=payment.channel,
            amount=amount,
            currency=payment.currency,
            reason=reason,
        )
    )
    _enqueue_on_commit(REFUND_SUBMIT_TASK, refund.id)
    return refund


def _refund_settle(
    refund: Refund, reported: RefundStatus, *, psp_reference: str, reason: str
) -> RefundStatus | None:
    """The one place a refund changes state (its payment and it are locked)."""
    new = refund_advance(RefundStatus(refund.status), reported)
    if new is None:
        return None
    payment = refund.payment
    refund.status = new
    refund.psp_reference = refund.psp_reference or psp_reference
    common: dict[str, Any] = {
        "aggregate_id": payment.id,
        "refund_id": refund.id,
        "order_id": refund.order_id,
        "channel": payment.channel,
        "amount": refund.amount,
        "currency": payment.currency,
    }
    if new == RefundStatus.SUCCEEDED:
        outbox.emit(RefundSucceeded(**common, psp_reference=refund.psp_reference))
    else:
        refund.failure_reason = reason[:200] or "declined"
        outbox.emit(RefundFailed(**common, reason=refund.failure_reason))
    history_reason(refund, _reported(new, refund.failure_reason))
    refund.save()
    return new


# --- PSP webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PspWebhook:
    """A verified PSP webhook, already checked for shape (see ``api/psp_webhook.py``)."""

    type: str
    payment_id: str
    order_id: str
    amount: int
    psp_reference: str
    refund_id: str = ""


def psp_webhook_apply(webhook: PspWebhook) -> None:
    """Apply a PSP webhook in the caller's transaction; ``Problem(422)`` if it matches nothing."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(id=webhook.payment_id).first()
        if payment is None or payment.order_id != webhook.order_id:
            raise Problem(
                422,
                "unknown_reference",
                "No payment with this payment_id for this order_id.",
                payment_id=webhook.payment_id,
                order_id=webhook.order_id,
            )
        if webhook.type in PSP_REFUND_REPORTS:
            refund = (
                Refund.objects.select_for_update()
                .filter(id=webhook.refund_id, payment=payment)
                .first()
            )
            if refund is None:
                raise Problem(
                    422,
                    "unknown_reference",
                    "No refund with this refund_id for this payment.",
                    refund_id=webhook.refund_id,
                )
            _amount_check(webhook, refund.amount)
            refund.payment = payment
            _refund_settle(
                refund,
                PSP_REFUND_REPORTS[webhook.type],
                psp_reference=webhook.psp_reference,
                reason="declined by the PSP",
            )
        else:
            _amount_check(webhook, payment.amount)
            _payment_move(
                payment,
                PSP_PAYMENT_REPORTS[webhook.type],
                psp_reference=webhook.psp_reference,
                reason="declined by the PSP",
            )


def _amount_check(webhook: PspWebhook, expected: int) -> None:
    if webhook.amount != expected:
        raise Problem(
            422,
            "amount_mismatch",
            "The amount does not match ours.",
            expected=expected,
            received=webhook.amount,
        )


def unmatched_webhook_record(
    *, source: str, webhook_id: str, code: str, event_type: str, reference: str, body: str
) -> None:
    """Keep a well-signed webhook we refused, for reconciliation (one row per webhook-id)."""
    with transaction.atomic():
        record, created = UnmatchedWebhook.objects.select_for_update().get_or_create(
            source=source,
            webhook_id=webhook_id,
            defaults={
                "code": code,
                "event_type": event_type[:60],
                "reference": reference[:255],
                "body": body,
            },
        )
        if not created:
            record.deliveries += 1
            record.save(update_fields=["deliveries", "last_received_at"])


# --- marketplace partners ----------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerOrderRequest:
    external_order_id: str
    customer_name: str
    customer_email: str
    customer_cpf: str
    lines: list[tuple[str, int]]
    total: int  # what the partner charged, centavos


def partner_order_settle(*, partner: str, order: PartnerOrderRequest) -> tuple[str, bool]:
    """``(order_id, created)``: the partner's order, paid to the partner, created once.

    Orders creates it under an advisory lock on ``(partner, external_order_id)`` (409
    ``webhook_in_progress`` for a racing twin, 422 ``total_mismatch``); the settlement row and
    ``PartnerOrderSettled`` commit with it, and a unique constraint backs the lock.
    """
    with transaction.atomic():
        order_id, created = orders.partner_order_place(
            orders.Checkout(
                channel=partner,
                customer_name=order.customer_name,
                customer_email=order.customer_email,
                customer_cpf=order.customer_cpf,
                lines=order.lines,
                payment_method="marketplace",
                payment_token="",
            ),
            external_order_id=order.external_order_id,
            charged_total=order.total,
        )
        if created:
            PartnerOrder.objects.create(
                partner=partner,
                external_order_id=order.external_order_id,
                order_id=order_id,
                amount=order.total,
            )
            outbox.emit(
                PartnerOrderSettled(
                    aggregate_id=order_id,
                    partner=partner,
                    external_order_id=order.external_order_id,
                    amount=order.total,
                )
            )
    return order_id, created


def unmatched_webhooks_resolve(*, ids: list[int], actor: str) -> int:
    """``actor`` reconciled these refused webhooks by hand; how many changed. Each row is saved
    (its history names the staff user) with a ``staff`` audit entry about what it named."""
    with transaction.atomic():
        open_rows = UnmatchedWebhook.objects.filter(pk__in=ids, resolved=False)
        resolving = list(open_rows.select_for_update().order_by("pk"))
        for row in resolving:
            row.resolved = True
            history_reason(row, "resolved by hand")
            row.save(update_fields=["resolved"])
            audit_record(
                kind=Kind.STAFF,
                action="payments.unmatched_webhook_resolved",
                actor=actor,
                subject=row.reference,
                data={"source": row.source, "webhook_id": row.webhook_id, "code": row.code},
            )
    return len(resolving)


# --- reconciliation ----------------------------------------------------------------------------


def payment_reconcile(payment_id: str, *, now: datetime, actor: str = "") -> None:
    """Ask the PSP about a payment that never heard back and apply its answer (as a webhook).

    ``actor`` (``"staff:alice"``): a staff member asked, named by a ``staff`` audit entry."""
    payment = selectors.payment_get(payment_id)
    if payment is None or payment.status in TERMINAL_PAYMENT:
        return
    record = psp.payment_status(payment_id)
    if actor:
        audit_record(
            kind=Kind.STAFF,
            action="payment.reconciled",
            actor=actor,
            subject=payment.order_id,
            data={"payment_id": payment_id, "psp_status": (record or {}).get("status")},
        )
    if record is None:  # the PSP never got it: send it again (same key), or give up
        if payment.created_at < now - timedelta(seconds=settings.PAYMENT_ABANDON_AFTER_S):
            payment_report(payment_id, PaymentStatus.FAILED, reason="never reached the PSP")
        else:
            payment_submit(payment_id)
        return
    reported = PSP_PAYMENT_REPORTS.get(str(record.get("status")))
    if reported is not None:
        payment_report(
            payment_id,
            reported,
            psp_reference=str(record.get("psp_reference") or ""),
            reason="declined by the PSP",
        )


def refund_reconcile(refund_id: str, *, now: datetime) -> None:
    refund = selectors.refund_get(refund_id)
    if refund is None or refund.status != RefundStatus.REQUESTED:
        return
    record = psp.refund_status(refund_id)
    if record is None:
        if refund.created_at < now - timedelta(seconds=settings.PAYMENT_ABANDON_AFTER_S):
            refund_report(refund_id, RefundStatus.FAILED, reason="never reached the PSP")
        else:
            refund_submit(refund_id)
        return
    reported = PSP_REFUND_REPORTS.get(str(record.get("status")))
    if reported is not None:
        refund_report(
            refund_id,
            reported,
            psp_reference=str(record.get("psp_reference") or ""),
            reason="declined by the PSP",
        )


def stale_reconcile(*, now: datetime, limit: int = 200) -> int:
    """Reconcile payments and refunds silent for ``PAYMENT_RECONCILE_AFTER_S``; how many asked."""
    before = now - timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_S)
    asked = 0
    for reconcile, ids in (
        (payment_reconcile, selectors.payment_ids_unsettled_since(before, limit)),
        (refund_reconcile, selectors.refund_ids_pending_since(before, limit)),
    ):
        for object_id in ids:
            try:
                reconcile(object_id, now=now)
                asked += 1
            except psp.PspUnavailable:  # this one's answer: the next run asks again
                log.warning("payments.reconcile_psp_unavailable", id=object_id)
                if psp.circuit_open():
                    return asked  # the PSP is down: the breaker's verdict, not one 503
    return asked


# --- tasks after commit ------------------------------------------------------------------------


def _enqueue_on_commit(task_name: str, object_id: str) -> None:
    transaction.on_commit(lambda: task_send(task_name, object_id))


def task_send(task_name: str, object_id: str) -> None:
    """Send a task by name. Never raises: reconciliation re-sends what gets lost here."""
    try:
        current_app.send_task(task_name, args=[object_id], retry=False)
    except Exception:  # Redis down must not fail what has committed
        log.warning("payments.task_send_failed", task=task_name, id=object_id, exc_info=True)
