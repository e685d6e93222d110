"""What feeds the trail: outbox events, effecting requests, admin changes, ``audit_record``."""

import json
import time

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client

from retail.audit.middleware import MAX_PATH
from retail.audit.models import AuditEntry
from retail.audit.public import audit_record
from retail.audit.tests.factories import staff_token, staff_user
from retail.payments.events import PaymentCaptured
from retail.platform import outbox, webhooks
from retail.platform.models import OutboxMessage
from retail.platform.relay import relay_drain

pytestmark = pytest.mark.django_db(transaction=True)


def captured(order_id: str = "ord_1") -> PaymentCaptured:
    return PaymentCaptured(
        aggregate_id="pay_1", order_id=order_id, channel="web", amount=1000, psp_reference="psp_1"
    )


def test_each_event_becomes_one_entry_even_when_redelivered():
    with transaction.atomic():
        message = outbox.emit(captured())
    relay_drain()
    OutboxMessage.objects.update(status=OutboxMessage.Status.PENDING)  # a relay crashed
    relay_drain()
    entry = AuditEntry.objects.get(action="PaymentCaptured")  # others' reactions have their own
    assert (entry.kind, entry.action, entry.order_id) == ("event", "PaymentCaptured", "ord_1")
    assert (entry.actor, entry.channel) == ("channel:web", "web")
    assert entry.idempotency_key == str(message.event_id)
    assert entry.data["payload"]["amount"] == 1000


def test_an_event_rolled_back_with_its_operation_leaves_no_entry():
    def failing_state_change() -> None:
        with transaction.atomic():
            outbox.emit(captured())
            raise RuntimeError("state change failed")

    with pytest.raises(RuntimeError):
        failing_state_change()
    relay_drain()
    assert not AuditEntry.objects.exists()


def test_an_effecting_request_is_recorded_after_its_response(client: Client):
    token = staff_token("fin", "finance")
    response = client.post(
        "/api/v1/audit/verify",
        data={"x": 1},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_IDEMPOTENCY_KEY="key-1",
        HTTP_X_REQUEST_ID="req-1",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 403
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.action) == ("request", "POST /api/v1/audit/verify")
    assert (entry.actor, entry.idempotency_key, entry.request_id) == ("staff:fin", "key-1", "req-1")
    assert entry.data["status"] == 403
    assert entry.data["ip"] == "203.0.113.9"


def test_reads_and_other_paths_are_not_recorded(client: Client):
    client.get("/api/v1/audit/verify")
    client.post("/admin/login/", {"username": "x", "password": "y"})
    client.get("/healthz")
    assert not AuditEntry.objects.exists()


def test_a_signed_webhook_request_names_its_source_key_and_order(client: Client):
    body = json.dumps(
        {"type": "payment.captured", "data": {"order_id": "ord_9", "payment_id": "pay_9"}}
    ).encode()
    now = int(time.time())
    response = client.post(
        "/webhooks/psp/",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": "msg_1",
            "webhook-timestamp": str(now),
            "webhook-signature": webhooks.sign(settings.PSP_WEBHOOK_SECRET, "msg_1", now, body),
        },
    )
    assert response.status_code < 500
    entry = AuditEntry.objects.get(kind="webhook")
    assert (entry.actor, entry.idempotency_key) == ("webhook:psp", "msg_1")
    assert entry.order_id == "ord_9"
    assert entry.data["type"] == "payment.captured"
    assert entry.data["status"] == response.status_code


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/webhooks/psp/", {"HTTP_WEBHOOK_ID": "msg_1"}),  # unsigned
        ("/api/v1/orders/", {}),  # no key
        ("/api/v1/orders/", {"HTTP_AUTHORIZATION": "Bearer rk_live_web_forged"}),
        ("/api/v1/" + "x" * 5000, {}),  # no route
    ],
)
def test_anonymous_junk_never_enters_the_ten_year_log(client: Client, path, headers):
    response = client.post(path, data={"a": 1}, content_type="application/json", **headers)

    assert 400 <= response.status_code < 500
    assert not AuditEntry.objects.exists()


def test_a_stored_path_is_bounded(client: Client):
    token = staff_token("carla", "compliance_officer")
    client.post(
        "/api/v1/compliance/cases/" + "c" * 3000 + "/decision",
        data={},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    entry = AuditEntry.objects.get(kind="request")
    assert len(entry.data["path"]) == MAX_PATH
    assert len(entry.action) <= 200


def test_an_admin_change_is_a_staff_entry_in_the_same_transaction(client: Client):
    client.force_login(staff_user("root", superuser=True))
    response = client.post("/admin/auth/group/add/", {"name": "ops"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.action, entry.actor) == (
        "staff",
        "admin.added auth.group",
        "staff:root",
    )
    assert entry.data["object_id"] == str(Group.objects.get(name="ops").pk)


def test_audit_record_for_a_pii_reveal():
    with transaction.atomic():
        seq = audit_record(
            kind="staff",
            action="pii.revealed",
            actor=staff_user("ana"),
            subject="cus_1",
            data={"reason": "customer call", "fields": ["cpf"], "cpf": "12345678909"},
        )
    entry = AuditEntry.objects.get(seq=seq)
    assert (entry.actor, entry.order_id) == ("staff:ana", None)
    assert entry.data == {
        "subject": "cus_1",
        "reason": "customer call",
        "fields": ["cpf"],
        "cpf": "[redacted]",
    }


def test_a_nul_in_a_signed_body_is_recorded_not_lost(client: Client):
    body = json.dumps({"type": "payment.\u0000captured", "data": {"order_id": "ord_\u00009"}})
    now = int(time.time())
    response = client.post(
        "/webhooks/psp/",
        data=body.encode(),
        content_type="application/json",
        headers={
            "webhook-id": "msg_nul",
            "webhook-timestamp": str(now),
            "webhook-signature": webhooks.sign(
                settings.PSP_WEBHOOK_SECRET, "msg_nul", now, body.encode()
            ),
        },
    )
    assert 400 <= response.status_code < 500
    entry = AuditEntry.objects.get(kind="webhook")
    assert entry.data["type"] == "payment.\ufffdcaptured"
    assert entry.idempotency_key == "msg_nul"
