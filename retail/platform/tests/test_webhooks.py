"""Standard Webhooks 1.0 verification and webhook-id deduplication (faults 10 and 11)."""

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from retail.platform import outbox, webhooks
from retail.platform.models import OutboxMessage, WebhookReceipt
from retail.platform.problems import Problem, problem_response
from retail.platform.tests.probe import ProbeHappened

OLD_SECRET = "whsec_" + base64.b64encode(b"old-secret-key-material-32-bytes").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"new-secret-key-material-32-bytes").decode()


def reference_signature(secret, webhook_id, timestamp, body):
    """Computed independently of the code under test, straight from the spec."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(body, secret=NEW_SECRET, webhook_id="msg_1", timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": reference_signature(secret, webhook_id, timestamp, body),
    }


BODY = json.dumps({"type": "payment.captured", "data": {"amount": 1000}}).encode()


def verify(headers, body=BODY, secrets=(NEW_SECRET,)):
    return webhooks.verify(secrets=secrets, headers=headers, body=body)


def rejection(headers, body=BODY, secrets=(NEW_SECRET,)):
    with pytest.raises(Problem) as caught:
        verify(headers, body, secrets)
    assert caught.value.status == 401
    return caught.value.code


def test_our_signer_matches_the_spec():
    assert webhooks.sign(NEW_SECRET, "msg_1", 1700000000, BODY) == reference_signature(
        NEW_SECRET, "msg_1", 1700000000, BODY
    )


def test_a_well_signed_fresh_message_verifies():
    assert verify(signed_headers(BODY)) == "msg_1"


def test_a_bad_signature_is_refused():
    headers = signed_headers(BODY)
    headers["webhook-signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
    assert rejection(headers) == "webhook_signature_invalid"


def test_a_missing_signature_is_refused():
    headers = signed_headers(BODY)
    del headers["webhook-signature"]
    assert rejection(headers) == "webhook_signature_missing"


@pytest.mark.parametrize("skew", [-601, 301, 600])
def test_a_timestamp_more_than_300_seconds_off_is_refused_even_when_signed(skew):
    headers = signed_headers(BODY, timestamp=int(time.time()) + skew)
    assert rejection(headers) == "webhook_timestamp_out_of_tolerance"


def test_a_re_serialized_body_is_refused():
    reserialized = json.dumps(json.loads(BODY), indent=2).encode()
    assert rejection(signed_headers(BODY), body=reserialized) == "webhook_signature_invalid"


def test_during_rotation_old_and_new_secrets_both_verify_and_a_retired_one_does_not():
    both = (NEW_SECRET, OLD_SECRET)
    assert verify(signed_headers(BODY, secret=OLD_SECRET), secrets=both) == "msg_1"
    assert verify(signed_headers(BODY, secret=NEW_SECRET), secrets=both) == "msg_1"
    assert rejection(signed_headers(BODY, secret=OLD_SECRET)) == "webhook_signature_invalid"


def test_any_of_several_space_separated_signatures_may_match():
    headers = signed_headers(BODY, secret=NEW_SECRET)
    old = signed_headers(BODY, secret=OLD_SECRET)["webhook-signature"]
    headers["webhook-signature"] = f"{old} v2,ignored {headers['webhook-signature']}"
    assert verify(headers) == "msg_1"


# --- receive(): dedupe by webhook-id in the same transaction as the effect -------------------


@csrf_exempt
def probe_receiver(request):
    def apply(webhook_id):
        time.sleep(0.2)  # widen the race window
        outbox.emit(ProbeHappened(aggregate_id=webhook_id))
        return HttpResponse(status=202)

    try:
        return webhooks.receive(request, source="probe", secrets=[NEW_SECRET], apply=apply)
    except webhooks.WebhookDuplicate:
        return HttpResponse(status=200)
    except Problem as problem:
        return problem_response(problem.status, problem.code, problem.detail)


urlpatterns = [path("webhooks/probe/", probe_receiver)]


def deliver(client, headers):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.post("/webhooks/probe/", data=BODY, content_type="application/json", **meta)


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_three_times_concurrently_has_one_effect():
    """Fault 10, at the receiver: three racing deliveries → one 202, two 200, one effect."""
    headers = signed_headers(BODY, webhook_id="msg_race")
    barrier = threading.Barrier(3)
    statuses = []

    def delivery():
        barrier.wait()
        statuses.append(deliver(Client(), headers).status_code)
        connection.close()

    threads = [threading.Thread(target=delivery) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 200, 202]
    assert OutboxMessage.objects.filter(aggregate_id="msg_race").count() == 1
    assert WebhookReceipt.objects.filter(source="probe", webhook_id="msg_race").count() == 1


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_a_rejected_webhook_leaves_no_receipt_and_no_effect(client):
    headers = signed_headers(BODY, webhook_id="msg_bad", timestamp=int(time.time()) - 600)
    response = deliver(client, headers)
    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "webhook_timestamp_out_of_tolerance"
    assert not WebhookReceipt.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_receive_reads_the_raw_bytes_not_parsed_json():
    request = RequestFactory().post(
        "/webhooks/probe/",
        data=BODY,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers(BODY).items()},
    )
    with transaction.atomic():
        assert (
            webhooks.receive(request, source="probe", secrets=[NEW_SECRET], apply=lambda i: i)
            == "msg_1"
        )


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_id_longer_than_the_receipt_holds_is_400_and_applies_nothing(client):
    response = deliver(client, signed_headers(BODY, webhook_id="m" * 256))

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_id_too_long"
    assert not WebhookReceipt.objects.exists()
    assert not OutboxMessage.objects.exists()
