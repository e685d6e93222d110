"""The payments facade: what other contexts may read (orders' GET body, ledger reconciliation)."""

from typing import Any

from retail.payments import selectors


def payments_for_order(order_id: str) -> list[dict[str, Any]]:
    """``[{"id": "pay_…", "status", "amount", "psp_reference"}]``, oldest first."""
    return [
        {
            "id": payment.id,
            "status": payment.status,
            "amount": payment.amount,
            "psp_reference": payment.psp_reference,
        }
        for payment in selectors.payment_list_for_order(order_id)
    ]


def refunds_for_order(order_id: str) -> list[dict[str, Any]]:
    """``[{"id": "ref_…", "status", "amount"}]``, oldest first."""
    return [
        {"id": refund.id, "status": refund.status, "amount": refund.amount}
        for refund in selectors.refund_list_for_order(order_id)
    ]


def money_movements() -> dict[str, dict[str, Any]]:
    """Per order id: ``{"captured", "refunded", "partner_settled"}`` in centavos, plus
    ``"partner"`` (its code) for partner orders: what the ledger must agree with."""
    return selectors.money_movements()
