"""Schemathesis against ``/api/schema/``: every operation, valid and invalid inputs, with the
channel key or staff token its ``security`` names and a fresh ``Idempotency-Key`` each time.
No answer may be a 5xx or differ from what the schema promises (status, content type, body,
headers). In-process against the WSGI application and the real PostgreSQL test database."""

import time
import uuid
from random import Random

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.api.fuzz_kit import SKUS, VALID_CPF, CountingApp, Shop, connection_kept, shop_open

EXAMPLES_PER_OPERATION = 300
REALISTIC = 0.5  # the share of cases given real ids (and, for orders, a valid CPF and SKUs)
MINIMUM_REQUESTS = 3400  # with the webhooks' two 800s: ≥ 5,000 fuzzed requests (issue 14)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def realistic(case, shop: Shop, chance: Random) -> None:
    """Real ids in the path, a valid CPF and known SKUs in an order: past 404 and 422, into the
    code that changes things."""
    for name in list(case.path_parameters or {}):
        if name in shop.known:
            case.path_parameters[name] = chance.choice(shop.known[name])
    body = case.body
    if case.operation.path == "/api/v1/orders/" and isinstance(body, dict):
        if isinstance(body.get("customer"), dict):
            body["customer"]["cpf"] = VALID_CPF
        lines = body.get("lines")
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, dict):
                line["sku"] = chance.choice(list(SKUS))


def fuzzer(operation, shop: Shop):
    """A Hypothesis test of one operation: valid and invalid cases, half of them realistic, with
    the credentials the operation's ``security`` names and a fresh ``Idempotency-Key``."""
    security = operation.definition.raw.get("security") or [{}]
    scheme = next(iter(security[0]), None)
    strategy = st.tuples(
        st.one_of(
            operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
        ),
        st.randoms(use_true_random=False),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(drawn=strategy)
    def fuzz(drawn):
        case, chance = drawn
        if chance.random() < REALISTIC:
            realistic(case, shop, chance)
        case.headers = dict(case.headers or {})
        if scheme is not None:
            case.headers["Authorization"] = shop.bearer(scheme)
        if "Idempotency-Key" in case.headers or operation.method.upper() == "POST":
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
        case.call_and_validate(checks=CHECKS)

    return fuzz


@pytest.mark.fuzz
def test_the_api_answers_every_generated_request_as_its_schema_says(db):
    shop = shop_open()
    app = CountingApp(application)
    with connection_kept():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        app.requests = 0
        failures: list[str] = []
        started = time.monotonic()
        for operation in operations:
            fuzz = fuzzer(operation, shop)
            before = app.requests
            app.statuses.clear()
            try:
                fuzz()
            except Exception as failure:  # noqa: BLE001 - every operation's failure, reported
                failures.append(f"{operation.label}: {failure}")
            print(f"{operation.label}: {app.requests - before} requests {dict(app.statuses)}")
    print(f"{app.requests} requests in {time.monotonic() - started:.1f} s")
    assert failures == []
    assert app.server_errors == 0
    assert app.requests >= MINIMUM_REQUESTS
