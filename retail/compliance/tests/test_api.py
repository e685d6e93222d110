"""GET alerts/cases (compliance, auditor), POST decision (compliance only): no tipping off."""

import io
import json

import pytest
from django.core.management import call_command

from retail.compliance.models import Case, CaseDecision, Communication
from retail.compliance.tests.conftest import structuring

pytestmark = pytest.mark.django_db
ALERTS, CASES = "/api/v1/compliance/alerts", "/api/v1/compliance/cases"


def decide(client, bearer, case_id, body, key="k1", role="compliance_officer"):
    return client.post(
        f"{CASES}/{case_id}/decision",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
        **bearer(role),
    )


@pytest.fixture
def case(shop, now):
    structuring(shop, now)
    return Case.objects.get()


@pytest.fixture
def seeded(db):
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("path", [ALERTS, CASES])
def test_compliance_and_auditor_read_alerts_and_cases(client, bearer, case, path):
    for role in ("compliance_analyst", "compliance_officer", "auditor"):
        response = client.get(path, **bearer(role))
        assert response.status_code == 200
        (item,) = response.json()["results"]
        assert item["id"] in {case.id, case.alerts.get().id}
        assert response.json()["next"] is None


def test_an_alert_shows_its_rule_deadline_and_operations(client, bearer, case):
    (alert,) = client.get(ALERTS, **bearer("auditor")).json()["results"]
    assert alert["rule"]["code"] == "structuring"
    assert alert["rule"]["parameters"]["min_count"] == 3
    assert alert["case_id"] == case.id
    assert len(alert["operations"]) == 3
    assert alert["selection_deadline"].endswith("Z")
    assert alert["status"] == "selected"


@pytest.mark.parametrize("path", [ALERTS, CASES, "/api/v1/compliance/cases/cas_x"])
@pytest.mark.parametrize("role", ["finance", "engineer"])
def test_other_staff_roles_get_403_and_see_nothing(client, bearer, case, path, role):
    response = client.get(path, **bearer(role))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "forbidden"
    assert case.id not in response.content.decode()


@pytest.mark.parametrize("path", [ALERTS, CASES])
def test_channel_keys_get_403_and_anonymous_401(client, seeded, case, path):
    for channel in ("web", "pos"):
        key = seeded["channels"][channel]["api_key"]
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 403
    assert client.get(path).status_code == 401
    assert client.get(path, HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_a_channel_key_cannot_decide(client, seeded, case):
    key = seeded["channels"]["web"]["api_key"]
    response = client.post(
        f"{CASES}/{case.id}/decision",
        data=json.dumps({"decision": "ARCHIVE", "justification": "x"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 403
    assert not CaseDecision.objects.exists()


def test_cases_filter_by_status_and_page(client, bearer, shop, now):
    structuring(shop, now)
    structuring(shop, now)
    first, second = Case.objects.order_by("-selected_at", "-id")
    decide(client, bearer, second.id, {"decision": "ARCHIVE", "justification": "Known payroll."})
    headers = bearer("auditor")
    opened = client.get(f"{CASES}?status=open", **headers).json()["results"]
    archived = client.get(f"{CASES}?status=archived", **headers).json()["results"]
    assert [c["id"] for c in opened] == [first.id]
    assert [c["id"] for c in archived] == [second.id]
    page = client.get(f"{CASES}?limit=1", **headers).json()
    assert len(page["results"]) == 1
    assert page["next"]
    rest = client.get(page["next"], **headers).json()
    assert [c["id"] for c in page["results"] + rest["results"]] == [first.id, second.id]
    bad = client.get(f"{CASES}?status=nope", **headers)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_status")
    bad_cursor = client.get(f"{CASES}?cursor=zzz", **headers)
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid_cursor")


def test_the_case_dossier_has_alerts_operations_and_holder(client, bearer, case):
    response = client.get(f"{CASES}/{case.id}", **bearer("compliance_officer"))
    dossier = response.json()["dossier"]
    assert [a["rule"]["code"] for a in dossier["alerts"]] == ["structuring"]
    assert {op["kind"] for op in dossier["operations"]} == {"payment"}
    assert {op["customer_id"] for op in dossier["operations"]} == {case.customer_id}
    missing = client.get(f"{CASES}/cas_nope", **bearer("compliance_officer"))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_compliance_decides_communicate_with_a_due_date(client, bearer, case):
    body = {"decision": "COMMUNICATE", "justification": "Structuring below R$ 10,000."}
    response = decide(client, bearer, case.id, body)
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "communicate"
    assert data["decision"]["justification"] == body["justification"]
    assert data["decision"]["decided_by"] == "staff-compliance_officer"
    assert data["communication"]["due_date"] == str(Communication.objects.get().due_date)
    assert data["communication"]["receipt_number"] == ""


def test_the_same_key_replays_the_decision_byte_for_byte(client, bearer, case):
    body = {"decision": "ARCHIVE", "justification": "Explained by payroll."}
    first = decide(client, bearer, case.id, body)
    again = decide(client, bearer, case.id, body)
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert CaseDecision.objects.count() == 1


def test_a_second_decision_is_409(client, bearer, case):
    decide(client, bearer, case.id, {"decision": "ARCHIVE", "justification": "Payroll."})
    response = decide(
        client, bearer, case.id, {"decision": "COMMUNICATE", "justification": "Oops."}, key="k2"
    )
    assert (response.status_code, response.json()["code"]) == (409, "case_already_decided")
    assert CaseDecision.objects.get().outcome == "archive"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"decision": "ARCHIVE"}, "justification_required"),
        ({"decision": "ARCHIVE", "justification": "   "}, "justification_required"),
        ({"decision": "ARCHIVE", "justification": 7}, "justification_required"),
        ({"decision": "ARCHIVE", "justification": "nul\x00"}, "invalid_justification"),
        ({"decision": "ARCHIVE", "justification": "x" * 20_001}, "invalid_justification"),
        ({"decision": "maybe", "justification": "x"}, "invalid_decision"),
        ({"justification": "x"}, "invalid_decision"),
        ([], "validation_error"),
    ],
)
def test_a_decision_without_justification_or_outcome_is_422(client, bearer, case, body, code):
    response = decide(client, bearer, case.id, body)
    assert (response.status_code, response.json()["code"]) == (422, code)
    case.refresh_from_db()
    assert case.status == "open"
    assert not CaseDecision.objects.exists()


def test_the_auditor_reads_but_cannot_decide(client, bearer, case):
    body = {"decision": "ARCHIVE", "justification": "x"}
    response = decide(client, bearer, case.id, body, role="auditor")
    assert response.status_code == 403
    assert not CaseDecision.objects.exists()


def test_deciding_an_unknown_case_is_404(client, bearer, db):
    response = decide(client, bearer, "cas_nope", {"decision": "ARCHIVE", "justification": "x"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_decision_needs_an_idempotency_key(client, bearer, case):
    response = client.post(
        f"{CASES}/{case.id}/decision",
        data=json.dumps({"decision": "ARCHIVE", "justification": "x"}),
        content_type="application/json",
        **bearer("compliance_officer"),
    )
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_missing")
