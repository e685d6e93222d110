"""The PSP stand-in, black-box: a real subprocess, a real callback receiver."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from sandbox.tests.conftest import TEST_SECRET, Psp, Receiver, valid_signature, wait_for

QUIET = 1.5  # seconds without more webhooks that count as "nothing else arrives"


def payment(receiver: Receiver, payment_id: str, token: str, amount: int = 12_345) -> dict:
    return {
        "payment_id": payment_id,
        "order_id": "ord_" + payment_id,
        "amount": amount,
        "token": token,
        "callback_url": receiver.url,
    }


def types_for(receiver: Receiver, payment_id: str) -> list[str]:
    return [
        d.json["type"] for d in receiver.deliveries if d.json["data"]["payment_id"] == payment_id
    ]


def test_tok_ok_is_authorized_then_captured_with_valid_signatures(start_psp, receiver):
    psp: Psp = start_psp()
    started = time.monotonic()
    response = psp.pay("key-1", **payment(receiver, "pay_1", "tok_ok"))
    assert response.status_code == 202
    assert time.monotonic() - started < 1.0
    reference = response.json()["psp_reference"]
    assert reference.startswith("psp_")

    wait_for(lambda: len(receiver.deliveries) >= 2, what="two webhooks")
    time.sleep(QUIET)
    assert types_for(receiver, "pay_1") == ["payment.authorized", "payment.captured"]
    for delivery in receiver.deliveries:
        assert valid_signature(TEST_SECRET, delivery.headers, delivery.body)
        assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 30
        assert delivery.json["data"] == {
            "payment_id": "pay_1",
            "order_id": "ord_pay_1",
            "amount": 12_345,
            "psp_reference": reference,
        }
    assert len({d.webhook_id for d in receiver.deliveries}) == 2
    assert psp.charges() == [
        {
            "psp_reference": reference,
            "payment_id": "pay_1",
            "order_id": "ord_pay_1",
            "amount": 12_345,
            "status": "captured",
            "refunded": 0,
            "requests": 1,
        }
    ]
    assert "payment pay_1 captured" in psp.log()


def test_a_signature_under_another_secret_does_not_verify(start_psp, receiver):
    psp = start_psp()
    psp.pay("key-1", **payment(receiver, "pay_1", "tok_ok"))
    delivery = wait_for(lambda: receiver.deliveries, what="a webhook")[0]
    other = "whsec_" + TEST_SECRET.removeprefix("whsec_")[::-1]
    assert not valid_signature(other, delivery.headers, delivery.body)
    assert not valid_signature(TEST_SECRET, delivery.headers, delivery.body + b" ")


def test_same_idempotency_key_is_one_charge(start_psp, receiver):
    psp = start_psp()
    body = payment(receiver, "pay_1", "tok_ok")
    first = psp.pay("key-1", **body)
    second = psp.pay("key-1", **body)
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers

    wait_for(lambda: len(receiver.deliveries) >= 2, what="webhooks")
    time.sleep(QUIET)
    assert types_for(receiver, "pay_1") == ["payment.authorized", "payment.captured"]
    [charge] = psp.charges()
    assert charge["requests"] == 2
    assert charge["psp_reference"] == first.json()["psp_reference"]


def test_idempotency_key_rules(start_psp, receiver):
    psp = start_psp()
    body = payment(receiver, "pay_1", "tok_ok")
    missing = psp.pay(None, **body)
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"
    assert missing.headers["content-type"] == "application/problem+json"
    assert psp.pay("", **body).json()["code"] == "idempotency_key_invalid"
    assert psp.pay("k" * 256, **body).json()["code"] == "idempotency_key_invalid"

    assert psp.pay("key-1", **body).status_code == 202
    reused = psp.pay("key-1", **{**body, "amount": 1})
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    other_key = psp.pay("key-2", **body)
    assert other_key.status_code == 409
    assert other_key.json()["code"] == "payment_exists"
    [charge] = psp.charges()
    assert charge["amount"] == body["amount"]
    assert charge["requests"] == 6  # every POST /payments for pay_1 counts, rejected ones too


def test_bad_input_is_a_4xx_problem(start_psp, receiver):
    psp = start_psp()
    assert (
        psp.pay("k", **{**payment(receiver, "pay_1", "tok_ok"), "amount": "10"}).status_code == 422
    )
    assert psp.pay("k", **{**payment(receiver, "pay_1", "tok_ok"), "amount": 0}).status_code == 422
    assert (
        psp.pay("k", **{**payment(receiver, "pay_1", "tok_ok"), "amount": True}).status_code == 422
    )
    assert (
        psp.pay("k", **{**payment(receiver, "pay_1", "tok_ok"), "callback_url": "x"}).status_code
        == 422
    )
    not_json = psp.client.post("/payments", content=b"{", headers={"Idempotency-Key": "k"})
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "invalid_json"
    assert psp.client.get("/payments/pay_nope").status_code == 404
    assert psp.client.get("/nowhere").status_code == 404
    assert psp.client.get("/healthz").json() == {"status": "ok"}
    assert psp.charges() == []


def test_tok_flaky_fails_twice_then_charges_once(start_psp, receiver):
    psp = start_psp()
    body = payment(receiver, "pay_1", "tok_flaky")
    statuses = [psp.pay("key-1", **body).status_code for _ in range(4)]
    assert statuses == [503, 503, 202, 202]

    wait_for(lambda: len(receiver.deliveries) >= 2, what="webhooks")
    time.sleep(QUIET)
    assert types_for(receiver, "pay_1") == ["payment.authorized", "payment.captured"]
    [charge] = psp.charges()
    assert charge["status"] == "captured"
    assert charge["requests"] == 4


@pytest.mark.parametrize("token", ["tok_declined", "tok_unheard_of"])
def test_declined_and_unknown_tokens_fail(start_psp, receiver, token):
    psp = start_psp()
    reference = psp.pay("key-1", **payment(receiver, "pay_1", token)).json()["psp_reference"]
    wait_for(lambda: receiver.deliveries, what="a webhook")
    time.sleep(QUIET)
    assert types_for(receiver, "pay_1") == ["payment.failed"]
    assert receiver.deliveries[0].json["data"]["psp_reference"] == reference
    assert psp.charge("pay_1")["status"] == "declined"


def test_tok_slow_webhooks_arrive_3_s_late(start_psp, receiver):
    psp = start_psp()
    sent = time.monotonic()
    assert psp.pay("key-1", **payment(receiver, "pay_1", "tok_slow")).status_code == 202
    assert psp.charge("pay_1")["status"] == "pending"
    wait_for(lambda: len(receiver.deliveries) >= 2, timeout=8, what="slow webhooks")
    assert min(d.at for d in receiver.deliveries) - sent >= 3.0
    assert types_for(receiver, "pay_1") == ["payment.authorized", "payment.captured"]
    assert psp.charge("pay_1")["status"] == "captured"


def test_storm_delivers_each_event_three_times_out_of_order(start_psp, receiver):
    psp = start_psp("--storm")
    psp.pay("key-1", **payment(receiver, "pay_1", "tok_ok"))
    wait_for(lambda: len(receiver.deliveries) >= 6, what="six deliveries")
    time.sleep(QUIET + 1)
    by_id = Counter(d.webhook_id for d in receiver.deliveries)
    assert sorted(by_id.values()) == [3, 3]
    for event_type in ("payment.authorized", "payment.captured"):
        copies = receiver.of_type(event_type)
        assert len({d.webhook_id for d in copies}) == 1
        assert len({d.body for d in copies}) == 1
        assert all(valid_signature(TEST_SECRET, d.headers, d.body) for d in copies)
    assert receiver.deliveries[0].json["type"] == "payment.captured"  # captured overtakes
    spread = receiver.deliveries[-1].at - receiver.deliveries[0].at
    assert 0.2 < spread <= 2.5
    assert psp.charge("pay_1")["requests"] == 1


def test_refunds_succeed_up_to_the_captured_amount(start_psp, receiver):
    psp = start_psp()
    psp.pay("pay-key", **payment(receiver, "pay_1", "tok_ok", amount=10_000))
    wait_for(lambda: len(receiver.of_type("payment.captured")) == 1, what="capture")

    def refund(refund_id: str, amount: int) -> dict:
        body = {"payment_id": "pay_1", "refund_id": refund_id, "amount": amount}
        response = psp.refund("key-" + refund_id, **body, callback_url=receiver.url)
        assert response.status_code == 202, response.text
        return wait_for(
            lambda: [
                d for d in receiver.deliveries if d.json["data"].get("refund_id") == refund_id
            ],
            what=f"the webhook of {refund_id}",
        )[0].json

    first = refund("ref_1", 6_000)
    assert first["type"] == "refund.succeeded"
    assert first["data"]["amount"] == 6_000
    assert first["data"]["payment_id"] == "pay_1"
    assert psp.charge("pay_1")["refunded"] == 6_000

    over = refund("ref_2", 4_001)
    assert over["type"] == "refund.failed"
    assert psp.charge("pay_1")["refunded"] == 6_000

    rest = refund("ref_3", 4_000)
    assert rest["type"] == "refund.succeeded"
    assert psp.charge("pay_1")["refunded"] == 10_000
    assert psp.client.get("/refunds/ref_2").json()["status"] == "failed"


def test_refund_of_a_declined_charge_fails_and_unknown_payment_is_404(start_psp, receiver):
    psp = start_psp()
    psp.pay("pay-key", **payment(receiver, "pay_1", "tok_declined", amount=500))
    wait_for(lambda: receiver.of_type("payment.failed"), what="the decline")
    body = {
        "payment_id": "pay_1",
        "refund_id": "ref_1",
        "amount": 100,
        "callback_url": receiver.url,
    }
    assert psp.refund("r-1", **body).status_code == 202
    wait_for(lambda: receiver.of_type("refund.failed"), what="refund.failed")
    unknown = psp.refund("r-2", **{**body, "payment_id": "pay_nope", "refund_id": "ref_2"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "payment_not_found"
    assert psp.charge("pay_1")["refunded"] == 0


def test_records_and_idempotency_survive_a_restart(start_psp, receiver):
    psp = start_psp()
    ok = psp.pay("key-1", **payment(receiver, "pay_1", "tok_ok")).json()
    psp.pay("key-2", **payment(receiver, "pay_2", "tok_declined"))
    wait_for(lambda: len(receiver.deliveries) >= 3, what="webhooks")
    before = psp.charges()
    assert len(before) == 2
    psp.stop()
    with (psp.data_dir / "psp-journal.jsonl").open("a") as journal:
        journal.write('["charges", "pay_torn", {"psp_refer')  # a write cut short by a crash

    psp.start()
    assert psp.charges() == before
    again = psp.pay("key-1", **payment(receiver, "pay_1", "tok_ok"))
    assert again.json() == ok
    assert again.headers["idempotent-replayed"] == "true"
    assert psp.charge("pay_1")["requests"] == 2
    time.sleep(QUIET)
    assert len(receiver.deliveries) == 3
    files = sorted(f.name for f in psp.data_dir.iterdir())
    assert files == ["psp-journal.jsonl", "psp-state.json"]  # no temp files left behind


def test_a_killed_psp_finishes_its_pending_payments_after_restart(start_psp, receiver):
    psp = start_psp()
    psp.pay("key-1", **payment(receiver, "pay_1", "tok_slow"))
    psp.stop(kill=True)
    psp.start()
    wait_for(lambda: len(receiver.deliveries) >= 2, timeout=8, what="the resumed webhooks")
    assert types_for(receiver, "pay_1") == ["payment.authorized", "payment.captured"]
    assert psp.charge("pay_1")["status"] == "captured"


def test_a_failed_delivery_is_redelivered_with_the_same_webhook_id(start_psp, receiver):
    receiver.script = [500]
    psp = start_psp()
    psp.pay("key-1", **payment(receiver, "pay_1", "tok_declined"))
    wait_for(lambda: len(receiver.deliveries) >= 2, what="the redelivery")
    first, second = receiver.deliveries[:2]
    assert [first.status, second.status] == [500, 200]
    assert first.webhook_id == second.webhook_id
    assert first.body == second.body
    assert second.at - first.at >= 0.9
    assert valid_signature(TEST_SECRET, second.headers, second.body)
    time.sleep(QUIET)
    assert len(receiver.deliveries) == 2


def test_a_4xx_answer_is_final_but_409_is_retried(start_psp, receiver):
    receiver.script = [422, 409]
    psp = start_psp()
    psp.pay("key-1", **payment(receiver, "pay_1", "tok_ok"))
    wait_for(lambda: len(receiver.deliveries) >= 3, what="deliveries")
    time.sleep(QUIET)
    assert [(d.json["type"], d.status) for d in receiver.deliveries] == [
        ("payment.authorized", 422),
        ("payment.captured", 409),
        ("payment.captured", 200),
    ]
