"""POST /webhooks/psp/: signatures, dedupe, late/duplicated/out-of-order reports, unknown ones."""

import base64
import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from retail.payments.models import Payment, Refund, UnmatchedWebhook
from retail.payments.tests.factories import PaymentFactory, RefundFactory
from retail.payments.tests.processes import signed_headers
from retail.payments.tests.support import post_webhook, psp_body
from retail.platform.models import OutboxMessage, WebhookReceipt

pytestmark = pytest.mark.django_db
OTHER_SECRET = "whsec_" + base64.b64encode(b"a-previous-psp-secret-32-bytes!!").decode()


def events_of(payment) -> list[str]:
    return list(
        OutboxMessage.objects.filter(aggregate_id=payment.id)
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


def refreshed(payment) -> Payment:
    return Payment.objects.get(id=payment.id)


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"] == code
    return json.loads(response.content)


def test_authorized_then_captured_moves_the_payment_and_emits_each_event(deliver):
    payment = PaymentFactory()
    assert deliver(psp_body("payment.authorized", payment), "msg_a").status_code == 200
    assert refreshed(payment).status == "authorized"
    assert deliver(psp_body("payment.captured", payment), "msg_c").status_code == 200
    payment = refreshed(payment)
    assert (payment.status, payment.psp_reference) == ("captured", "psp_" + payment.id)
    assert events_of(payment) == ["PaymentAuthorized", "PaymentCaptured"]
    captured = OutboxMessage.objects.get(aggregate_id=payment.id, event_type="PaymentCaptured")
    assert captured.payload["order_id"] == payment.order_id
    assert captured.payload["amount"] == payment.amount


def test_captured_before_authorized_ends_captured_and_the_late_one_changes_nothing(deliver):
    payment = PaymentFactory()
    deliver(psp_body("payment.captured", payment), "msg_c")
    assert events_of(payment) == ["PaymentAuthorized", "PaymentCaptured"]
    late = deliver(psp_body("payment.authorized", payment), "msg_a")
    assert late.status_code == 200
    assert refreshed(payment).status == "captured"
    assert events_of(payment) == ["PaymentAuthorized", "PaymentCaptured"]


def test_the_same_webhook_id_again_answers_200_and_has_no_second_effect(deliver):
    payment = PaymentFactory()
    body = psp_body("payment.captured", payment)
    first, second = deliver(body, "msg_1"), deliver(body, "msg_1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert json.loads(second.content) == {"received": True, "duplicate": True}
    assert events_of(payment) == ["PaymentAuthorized", "PaymentCaptured"]


def test_a_failed_payment_emits_payment_failed_and_a_later_capture_cannot_revive_it(deliver):
    payment = PaymentFactory(token="tok_declined")
    deliver(psp_body("payment.failed", payment), "msg_f")
    deliver(psp_body("payment.captured", payment), "msg_c")
    payment = refreshed(payment)
    assert (payment.status, payment.failure_reason) == ("failed", "declined by the PSP")
    assert events_of(payment) == ["PaymentFailed"]


def test_an_unknown_payment_is_422_unknown_reference_and_recorded_for_reconciliation(deliver):
    ghost = Payment(id="pay_GHOST", order_id="ord_GHOST", amount=100)
    for _ in range(2):
        problem(deliver(psp_body("payment.captured", ghost), "msg_ghost"), 422, "unknown_reference")
    unmatched = UnmatchedWebhook.objects.get()
    assert (unmatched.source, unmatched.webhook_id, unmatched.reference) == (
        "psp",
        "msg_ghost",
        "pay_GHOST",
    )
    assert (unmatched.code, unmatched.deliveries) == ("unknown_reference", 2)
    assert not WebhookReceipt.objects.filter(webhook_id="msg_ghost").exists()
    assert OutboxMessage.objects.count() == 0


def test_a_payment_named_with_another_order_is_unknown_and_changes_nothing(deliver):
    payment = PaymentFactory()
    body = psp_body("payment.captured", payment, order_id="ord_SOMEONE_ELSE")
    problem(deliver(body), 422, "unknown_reference")
    assert refreshed(payment).status == "requested"
    assert events_of(payment) == []


def test_an_amount_that_differs_from_ours_is_refused_and_recorded(deliver):
    payment = PaymentFactory(amount=5000)
    body = problem(
        deliver(psp_body("payment.captured", payment, amount=50)), 422, "amount_mismatch"
    )
    assert (body["expected"], body["received"]) == (5000, 50)
    assert refreshed(payment).status == "requested"
    assert UnmatchedWebhook.objects.get().code == "amount_mismatch"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"type": "payment.exploded", "data": {}}',
        b'{"type": "payment.captured", "data": {"payment_id": 7}}',
        b'{"type": "refund.succeeded", "data": {"payment_id": "p", "order_id": "o",'
        b' "amount": 1, "psp_reference": "x"}}',
        b'{"type": "payment.captured", "data": {"payment_id": "p", "order_id": "o",'
        b' "amount": true, "psp_reference": "x"}}',
        "\u00e9\x00".encode(),
        b"[" * 5_000 + b"]" * 5_000,  # past the interpreter's recursion limit
        b'{"a": ' * 3_000 + b"1" + b"}" * 3_000,
        b'{"type": "payment.captured", "data": ' + b"[" * 65 + b"]" * 65 + b"}",  # deeper than 64
        b'{"type": [], "data": 0}',  # an unhashable type was a 500 (found by the fuzzer)
        b'{"type": {"payment.captured": 1}, "data": {}}',
    ],
)
def test_a_well_signed_malformed_body_is_422_never_5xx(deliver, body):
    problem(deliver(body), 422, "invalid_payload")
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "event_type", "reference"),
    [
        (b'{"type": "\\u0000", "data": 0}', "\ufffd", ""),  # NUL was a 500 (the fuzzer)
        (b'{"type": "\\ud800", "data": {"payment_id": "p\\u0000"}}', "?", "p\ufffd"),
    ],
)
def test_a_refused_body_with_text_postgres_cannot_store_is_still_recorded(
    deliver, body, event_type, reference
):
    problem(deliver(body), 422, "invalid_payload")
    recorded = UnmatchedWebhook.objects.get()
    assert (recorded.event_type, recorded.reference) == (event_type, reference)


def test_refund_webhooks_settle_the_refund_once(deliver):
    refund = RefundFactory(payment=PaymentFactory(status="captured"), amount=1200)
    payment = refund.payment
    assert deliver(psp_body("refund.succeeded", payment, refund=refund), "msg_r").status_code == 200
    assert deliver(psp_body("refund.failed", payment, refund=refund), "msg_x").status_code == 200
    refund = Refund.objects.get(id=refund.id)
    assert (refund.status, refund.psp_reference) == ("succeeded", "psp_" + refund.id)
    assert events_of(payment) == ["RefundSucceeded"]
    succeeded = OutboxMessage.objects.get(event_type="RefundSucceeded").payload
    assert (succeeded["refund_id"], succeeded["amount"]) == (refund.id, 1200)


def test_a_refund_webhook_for_an_unknown_refund_is_unknown_reference(deliver):
    payment = PaymentFactory(status="captured")
    ghost = Refund(id="ref_GHOST", payment=payment, order_id=payment.order_id, amount=10)
    problem(deliver(psp_body("refund.succeeded", payment, refund=ghost)), 422, "unknown_reference")
    assert UnmatchedWebhook.objects.get().reference == "ref_GHOST"


# --- signatures -------------------------------------------------------------------------------


def reject(headers, body, code):
    problem(post_webhook(body, headers), 401, code)


def test_bad_missing_and_stale_signatures_are_401_and_change_nothing(settings):
    payment = PaymentFactory()
    body = psp_body("payment.captured", payment)
    good = signed_headers(settings.PSP_WEBHOOK_SECRET, body, "msg_1")
    reject(
        {**good, "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()},
        body,
        "webhook_signature_invalid",
    )
    reject(
        {k: v for k, v in good.items() if k != "webhook-signature"},
        body,
        "webhook_signature_missing",
    )
    reject({}, body, "webhook_signature_missing")
    reject({**good, "webhook-signature": "v1,\u00e9\u00e9"}, body, "webhook_signature_invalid")
    for skew in (-301, 600):
        stale = signed_headers(settings.PSP_WEBHOOK_SECRET, body, "msg_1", int(time.time()) + skew)
        reject(stale, body, "webhook_timestamp_out_of_tolerance")
    reserialized = json.dumps(json.loads(body), indent=1).encode()
    reject(good, reserialized, "webhook_signature_invalid")
    assert refreshed(payment).status == "requested"
    assert OutboxMessage.objects.count() == 0


def test_after_a_secret_rotation_the_retired_secret_is_refused_and_the_current_one_accepted(
    settings,
):
    payment = PaymentFactory()
    body = psp_body("payment.captured", payment)
    retired = signed_headers(OTHER_SECRET, body, "msg_1")
    reject(retired, body, "webhook_signature_invalid")
    current = signed_headers(settings.PSP_WEBHOOK_SECRET, body, "msg_1")
    both = {
        **current,
        "webhook-signature": f"{retired['webhook-signature']} {current['webhook-signature']}",
    }
    assert post_webhook(body, both).status_code == 200
    settings.PSP_WEBHOOK_SECRET = OTHER_SECRET  # rotated: now only the other one is valid
    assert post_webhook(psp_body("payment.authorized", payment), current).status_code == 401
    assert refreshed(payment).status == "captured"


def test_during_a_rotation_the_previous_secret_is_accepted_until_it_is_removed(settings):
    payment = PaymentFactory()
    previous = settings.PSP_WEBHOOK_SECRET
    settings.PSP_WEBHOOK_SECRET, settings.PSP_WEBHOOK_PREVIOUS_SECRETS = OTHER_SECRET, [previous]
    authorized = psp_body("payment.authorized", payment)
    assert post_webhook(authorized, signed_headers(previous, authorized, "m1")).status_code == 200
    captured = psp_body("payment.captured", payment)
    assert post_webhook(captured, signed_headers(OTHER_SECRET, captured, "m2")).status_code == 200
    settings.PSP_WEBHOOK_PREVIOUS_SECRETS = []  # the rotation is over
    late = psp_body("payment.authorized", payment)
    reject(signed_headers(previous, late, "m3"), late, "webhook_signature_invalid")
    assert refreshed(payment).status == "captured"


def test_only_post_is_allowed():
    response = Client().get("/webhooks/psp/")
    problem(response, 405, "method_not_allowed")


# --- races ------------------------------------------------------------------------------------


def concurrently(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_three_times_concurrently_changes_the_payment_once(deliver):
    payment = PaymentFactory()
    body = psp_body("payment.captured", payment)
    responses = concurrently(*[lambda: deliver(body, "msg_race")] * 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert sorted(json.loads(r.content)["duplicate"] for r in responses) == [False, True, True]
    assert events_of(payment) == ["PaymentAuthorized", "PaymentCaptured"]


@pytest.mark.django_db(transaction=True)
def test_a_storm_of_racing_reports_converges_with_each_event_once(deliver):
    payment = PaymentFactory()
    calls = [
        (lambda kind=kind, n=n: deliver(psp_body(kind, payment), f"msg_{kind}_{n % 2}"))
        for n in range(3)
        for kind in ("payment.captured", "payment.authorized")
    ]
    assert {r.status_code for r in concurrently(*calls)} == {200}
    assert refreshed(payment).status == "captured"
    assert events_of(payment) == ["PaymentAuthorized", "PaymentCaptured"]
