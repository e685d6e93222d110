"""Reads of the payments context."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Sum

from retail.payments.domain import PaymentStatus, RefundStatus
from retail.payments.models import PartnerOrder, Payment, Refund

UNSETTLED = (PaymentStatus.REQUESTED, PaymentStatus.AUTHORIZED)


def payment_get(payment_id: str) -> Payment | None:
    return Payment.objects.filter(id=payment_id).first()


def refund_get(refund_id: str) -> Refund | None:
    return Refund.objects.filter(id=refund_id).first()


def payment_list_for_order(order_id: str) -> list[Payment]:
    return list(Payment.objects.filter(order_id=order_id).order_by("created_at", "id"))


def refund_list_for_order(order_id: str) -> list[Refund]:
    return list(Refund.objects.filter(order_id=order_id).order_by("created_at", "id"))


def refund_amounts_holding(payment_id: str) -> list[int]:
    """Amounts of the payment's refunds that are pending or done (a failed one holds nothing)."""
    return list(
        Refund.objects.filter(payment_id=payment_id)
        .exclude(status=RefundStatus.FAILED)
        .values_list("amount", flat=True)
    )


def partner_order_get(partner: str, external_order_id: str) -> PartnerOrder | None:
    return PartnerOrder.objects.filter(partner=partner, external_order_id=external_order_id).first()


def payment_ids_unsettled_since(before: datetime, limit: int) -> list[str]:
    """Payments still waiting for the PSP's outcome, untouched since ``before``, oldest first."""
    return list(
        Payment.objects.filter(status__in=UNSETTLED, updated_at__lt=before)
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )


def refund_ids_pending_since(before: datetime, limit: int) -> list[str]:
    return list(
        Refund.objects.filter(status=RefundStatus.REQUESTED, updated_at__lt=before)
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )


def money_movements() -> dict[str, dict[str, Any]]:
    """Per order: centavos captured, refunded (succeeded) and settled by a partner, exactly what
    PaymentCaptured, RefundSucceeded and PartnerOrderSettled were emitted for; partner orders
    also name their ``"partner"``."""
    movements: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"captured": 0, "refunded": 0, "partner_settled": 0}
    )
    captured = (
        Payment.objects.filter(status=PaymentStatus.CAPTURED)
        .values("order_id")
        .annotate(total=Sum("amount"))
    )
    refunded = (
        Refund.objects.filter(status=RefundStatus.SUCCEEDED)
        .values("order_id")
        .annotate(total=Sum("amount"))
    )
    for rows, kind in ((captured, "captured"), (refunded, "refunded")):
        for row in rows:
            movements[row["order_id"]][kind] = row["total"]
    for order_id, partner, amount in PartnerOrder.objects.values_list(
        "order_id", "partner", "amount"
    ):
        movements[order_id]["partner_settled"] = amount
        movements[order_id]["partner"] = partner
    return dict(movements)
