"""Helpers shared by the payments tests here and in tests/payments/."""

import json

from django.conf import settings
from django.test import Client

from retail.payments import services
from retail.payments.tests.processes import signed_headers

TASKS = {
    services.PAYMENT_SUBMIT_TASK: services.payment_submit,
    services.REFUND_SUBMIT_TASK: services.refund_submit,
}


class SentTasks(list):
    """Tasks the code under test sent after commit, runnable in-process."""

    def run(self) -> None:
        while self:
            name, object_id = self.pop(0)
            TASKS[name](object_id)


def psp_body(kind: str, payment, *, refund=None, amount=None, order_id=None) -> bytes:
    """A PSP webhook body about ``payment`` (or its ``refund``), as sandbox.psp sends it."""
    data = {
        "payment_id": payment.id,
        "order_id": order_id or payment.order_id,
        "amount": amount if amount is not None else (refund or payment).amount,
        "psp_reference": "psp_" + (refund or payment).id,
    }
    if refund is not None:
        data["refund_id"] = refund.id
    return json.dumps({"type": kind, "timestamp": "2026-01-01T00:00:00Z", "data": data}).encode()


def post_webhook(body: bytes, headers: dict[str, str], client: Client | None = None, path=None):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return (client or Client()).post(
        path or "/webhooks/psp/", data=body, content_type="application/json", **meta
    )


def deliver_psp(body: bytes, webhook_id: str = "msg_1", client: Client | None = None):
    """POST ``body`` to /webhooks/psp/ signed with the PSP's secret."""
    headers = signed_headers(settings.PSP_WEBHOOK_SECRET, body, webhook_id)
    return post_webhook(body, headers, client)
