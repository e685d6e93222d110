"""The webhooks under generated bodies, each validly signed (Standard Webhooks) with a fresh
``webhook-id``: whatever the body, the answer is a 2xx or a 4xx problem with a stable ``code``,
never a 5xx. Hypothesis mixes arbitrary bytes and JSON with bodies shaped like the real events
about real payments, refunds and SKUs, so that the fuzzer reaches the code behind validation."""

import json
import uuid

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from retail.payments.models import Payment, Refund
from retail.payments.tests.processes import signed_headers
from tests.api.fuzz_kit import SKUS, VALID_CPF, shop_open

EXAMPLES = 850  # per webhook; with the API's ≥ 3,400: ≥ 5,000 fuzzed requests (issue 14)
PSP_TYPES = ["payment.authorized", "payment.captured", "payment.failed"]
PSP_TYPES += ["refund.succeeded", "refund.failed"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=12,
)
anything = st.integers(-(2**70), 2**70) | st.text(max_size=50) | json_values


def maybe(known: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(known, known, anything)


def encoded(body: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    return st.one_of(
        body.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=200),
        json_values.map(lambda value: json.dumps(value).encode()),
    )


# Standard Webhooks leaves the id's form open: any printable ASCII, some too long to keep
webhook_ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=300)


def deliver(path: str, secret: str, body: bytes, webhook_id: str):
    unique = f"{webhook_id}{uuid.uuid4().hex}"  # a fresh id: every delivery reaches the handler
    headers = signed_headers(secret, body, unique)
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client().post(path, data=body, content_type="application/json", **meta)


def assert_answered_as_promised(response, success: set[int]) -> None:
    assert response.status_code < 500, response.content
    assert response.status_code != 401, response.content  # every delivery is validly signed
    body = json.loads(response.content)
    if response.status_code in success:
        assert response["Content-Type"] == "application/json"
    else:
        assert 400 <= response.status_code < 500, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert isinstance(body["code"], str), body
        assert body["code"], body


def fuzzing(examples: int):
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.fuzz
def test_psp_webhook_answers_every_signed_body_without_a_server_error(db):
    shop_open()  # captured payments of real orders, and refunds the fuzzer may settle
    payments = list(Payment.objects.values("id", "order_id", "amount"))
    refund_ids = list(Refund.objects.values_list("id", flat=True)) or ["ref_none"]
    payment = st.sampled_from(payments)
    data = st.fixed_dictionaries(
        {
            "payment_id": maybe(payment.map(lambda p: p["id"])),
            "order_id": maybe(payment.map(lambda p: p["order_id"])),
            "amount": maybe(payment.map(lambda p: p["amount"]) | st.integers(0, 10**9)),
            "psp_reference": maybe(st.text(max_size=100)),
        },
        optional={"refund_id": maybe(st.sampled_from(refund_ids))},
    )
    event = st.fixed_dictionaries(
        {"type": maybe(st.sampled_from(PSP_TYPES)), "data": st.one_of(data, data, anything)}
    )
    requests = []

    @fuzzing(EXAMPLES)
    @given(body=encoded(event), webhook_id=webhook_ids)
    def fuzz(body, webhook_id):
        response = deliver("/webhooks/psp/", settings.PSP_WEBHOOK_SECRET, body, webhook_id)
        requests.append(response.status_code)
        assert_answered_as_promised(response, success={200})

    fuzz()
    assert len(requests) >= EXAMPLES
    assert 200 in requests  # some deliveries got through to the payments


@pytest.mark.fuzz
def test_marketplace_webhook_answers_every_signed_body_without_a_server_error(db):
    shop = shop_open()
    line = st.fixed_dictionaries(
        {
            "sku": maybe(st.sampled_from(list(SKUS))),
            "quantity": maybe(st.integers(-5, 1200)),
        }
    )
    customer = st.just({"name": "Ana Souza", "email": "ana@example.com", "cpf": VALID_CPF})
    customer |= st.fixed_dictionaries(
        {
            "name": maybe(st.text(min_size=1, max_size=210)),
            "email": maybe(st.emails()),
            "cpf": maybe(st.just(VALID_CPF) | st.from_regex(r"\A\d{11}\Z")),
        }
    )
    external_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)

    def partner_order(lines: list) -> st.SearchStrategy:
        charged = sum(
            SKUS.get(line["sku"], 0) * line["quantity"]
            for line in lines
            if isinstance(line.get("sku"), str) and type(line.get("quantity")) is int
        )
        return st.fixed_dictionaries(
            {
                "external_order_id": maybe(external_ids),
                "customer": st.one_of(customer, customer, anything),
                "lines": st.one_of(st.just(lines), st.just(lines), anything),
                "total": st.one_of(st.just(charged), maybe(st.integers(0, 10**7))),
            }
        )

    order = st.lists(line, min_size=1, max_size=5).flatmap(partner_order)
    partners = st.sampled_from([shop.partner, shop.partner, shop.partner, "web", "nobody"])
    requests = []
    sku, price = next(iter(SKUS.items()))
    valid = {
        "external_order_id": "ext-valid",
        "customer": {"name": "Ana Souza", "email": "ana@example.com", "cpf": VALID_CPF},
        "lines": [{"sku": sku, "quantity": 2}],
        "total": 2 * price,
    }

    @fuzzing(EXAMPLES)
    @given(partner=partners, body=encoded(order), webhook_id=webhook_ids)
    @example(partner=shop.partner, body=json.dumps(valid).encode(), webhook_id="valid")
    def fuzz(partner, body, webhook_id):
        path = f"/webhooks/marketplace/{partner}/"
        response = deliver(path, shop.partner_secret, body, webhook_id)
        requests.append(response.status_code)
        assert_answered_as_promised(response, success={200, 201})

    fuzz()
    assert len(requests) >= EXAMPLES
    assert 201 in requests  # a valid partner order is taken (at least the explicit example)
