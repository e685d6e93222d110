"""Payments fixtures: tasks captured instead of sent, signed PSP webhooks, a real sandbox PSP."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from retail.payments import psp as psp_client
from retail.payments import services
from retail.payments.tests.processes import psp_start, signed_headers

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

    def names(self) -> list[str]:
        return [name for name, _ in self]


@pytest.fixture(autouse=True)
def sent_tasks(monkeypatch) -> SentTasks:
    sent = SentTasks()
    monkeypatch.setattr(
        services, "task_send", lambda name, object_id: sent.append((name, object_id))
    )
    return sent


def psp_body(kind: str, payment, *, refund=None, amount=None, order_id=None) -> bytes:
    data = {
        "payment_id": payment.id,
        "order_id": order_id or payment.order_id,
        "amount": amount if amount is not None else (refund or payment).amount,
        "psp_reference": "psp_" + (refund or payment).id,
    }
    if refund is not None:
        data["refund_id"] = refund.id
    return json.dumps({"type": kind, "timestamp": "2026-01-01T00:00:00Z", "data": data}).encode()


def post_webhook(body: bytes, headers: dict[str, str], client: Client | None = None):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return (client or Client()).post(
        "/webhooks/psp/", data=body, content_type="application/json", **meta
    )


@pytest.fixture
def deliver() -> Callable[..., object]:
    """``deliver(body, webhook_id="msg_1")``: POST it to /webhooks/psp/ signed with our secret."""

    def send(body: bytes, webhook_id: str = "msg_1", client: Client | None = None):
        return post_webhook(
            body, signed_headers(settings.PSP_WEBHOOK_SECRET, body, webhook_id), client
        )

    return send


@pytest.fixture
def psp_url(tmp_path: Path, settings) -> Iterator[str]:
    """A real ``sandbox.psp`` subprocess; settings.PSP_URL points at it. Yields its URL."""
    process, url = psp_start(tmp_path / "psp", tmp_path / "psp.log", settings.PSP_WEBHOOK_SECRET)
    settings.PSP_URL = url
    psp_client._client.cache_clear()
    yield url
    process.stop()
    psp_client._client.cache_clear()
