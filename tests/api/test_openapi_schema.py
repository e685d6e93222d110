"""The OpenAPI document at ``/api/schema/`` tells the truth (issue 14, "Bad input")."""

import json

import pytest
from django.conf import settings
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from retail.compliance.models import Alert, Case
from retail.orders.domain import Status as OrderStatus
from retail.payments.domain import RefundStatus

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def schema() -> dict:
    GENERATOR_STATS.reset()
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(generated, default=str))  # lazy strings → plain JSON


def operation(schema: dict, path: str, method: str) -> dict:
    return schema["paths"][path][method]


def body_schema(schema: dict, content: dict, media_type: str = "application/json") -> dict:
    ref = content[media_type]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def header_names(op: dict) -> set[str]:
    return {param["name"] for param in op.get("parameters", []) if param["in"] == "header"}


def test_generation_emits_no_warning_or_error_and_the_document_is_valid(schema):
    assert not GENERATOR_STATS, "drf-spectacular warned or failed while generating the schema"
    validate_schema(schema)  # OpenAPI 3.1 meta-schema; raises when the document is invalid


def test_the_schema_endpoint_serves_the_same_operations(client, schema):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert set(json.loads(response.content)["paths"]) == set(schema["paths"])


def test_refund_takes_amount_reason_and_the_key_and_answers_201(schema):
    op = operation(schema, "/api/v1/orders/{order_id}/refunds", "post")
    request = body_schema(schema, op["requestBody"]["content"])
    assert op["requestBody"]["required"] is True
    assert set(request["required"]) == {"amount", "reason"}
    assert request["properties"]["amount"]["type"] == "integer"
    key = next(param for param in op["parameters"] if param["name"] == "Idempotency-Key")
    assert key["in"] == "header"
    assert key["required"] is True
    assert op["security"] == [{"channelKey": []}]
    assert "200" not in op["responses"]
    created = body_schema(schema, op["responses"]["201"]["content"])
    status = created["properties"]["status"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][status]["enum"]) == {s.value for s in RefundStatus}
    assert PROBLEM in op["responses"]["422"]["content"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/compliance/alerts", "get"),
        ("/api/v1/compliance/cases", "get"),
        ("/api/v1/compliance/cases/{case_id}", "get"),
        ("/api/v1/compliance/cases/{case_id}/decision", "post"),
        ("/api/v1/ledger/trial-balance", "get"),
        ("/api/v1/ledger/accounts/{code}/statement", "get"),
    ],
)
def test_staff_operations_declare_the_staff_token_and_their_answers(schema, path, method):
    op = operation(schema, path, method)
    assert op["security"] == [{"staffToken": []}]
    success = op["responses"]["201" if method == "post" else "200"]
    assert body_schema(schema, success["content"])["properties"]
    assert PROBLEM in op["responses"]["401"]["content"]
    assert PROBLEM in op["responses"]["403"]["content"]
    assert schema["components"]["securitySchemes"]["staffToken"]["scheme"] == "bearer"


def test_the_case_decision_declares_its_body_and_idempotency_key(schema):
    op = operation(schema, "/api/v1/compliance/cases/{case_id}/decision", "post")
    request = body_schema(schema, op["requestBody"]["content"])
    assert set(request["required"]) == {"decision", "justification"}
    assert "Idempotency-Key" in header_names(op)


def test_every_effecting_post_requires_the_idempotency_key(schema):
    posts = [(path, item["post"]) for path, item in schema["paths"].items() if "post" in item]
    assert len(posts) >= 4
    for path, op in posts:
        assert "Idempotency-Key" in header_names(op), path


def test_trial_balance_totals_and_accounts_are_documented(schema):
    op = operation(schema, "/api/v1/ledger/trial-balance", "get")
    document = body_schema(schema, op["responses"]["200"]["content"])
    assert {"accounts", "total_debit", "total_credit"} <= set(document["required"])


def test_named_status_enums_match_the_code():
    overrides = settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
    assert overrides["OrderStatusEnum"] == [status.value for status in OrderStatus]
    assert overrides["RefundStatusEnum"] == [status.value for status in RefundStatus]
    assert overrides["AlertStatusEnum"] == Alert.Status.values
    assert overrides["CaseStatusEnum"] == Case.Status.values
